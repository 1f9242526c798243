package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"alliance/internal/demosite"
)

// contentWindow is the length of the runs of content bytes the zero-content
// scan looks for: any stored run this long or longer is found.
const contentWindow = 64

// contentScanner finds runs of contentWindow bytes of given contents.
type contentScanner struct {
	windows map[string]string // window -> name of the content it is from
}

func newContentScanner(contents map[string][]byte) *contentScanner {
	s := &contentScanner{windows: map[string]string{}}
	for name, b := range contents {
		for i := 0; i+contentWindow <= len(b); i++ {
			s.windows[string(b[i:i+contentWindow])] = name
		}
	}
	return s
}

// find returns the name of the content a run of b comes from, and where
// in b the run starts; "" when b holds none.
func (s *contentScanner) find(b []byte) (string, int) {
	for i := 0; i+contentWindow <= len(b); i++ {
		if name, ok := s.windows[string(b[i:i+contentWindow])]; ok {
			return name, i
		}
	}
	return "", 0
}

// scanTree reads every regular file under root and reports the files that
// hold a run of the content.
func (s *contentScanner) scanTree(t *testing.T, root string) (files int, found []string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if name, at := s.find(b); name != "" {
			found = append(found, fmt.Sprintf("%s (bytes of %s at offset %d)", path, name, at))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", root, err)
	}
	return files, found
}

// TestZeroContent reports a page of generated images and an image to a
// running node, lets the fetch job fetch, hash and match them, stops the
// node, and then searches the database files, the temporary directory the
// node used and everything it logged (at debug level) for any run of 64
// bytes of the images. It must find none: the content was hashed in memory
// and dropped. The scanner is checked first on a file that does hold an
// image, so the test can fail.
func TestZeroContent(t *testing.T) {
	images := map[string][]byte{}
	for seed := range uint64(4) {
		images[fmt.Sprintf("noise %d", 100+seed)] = demosite.NoisePNG(100 + seed)
	}
	scan := newContentScanner(images)

	// The scanner finds an image stored in a file, even embedded.
	probe := t.TempDir()
	if err := os.WriteFile(filepath.Join(probe, "stored"), append([]byte("prefix"), images["noise 101"][200:400]...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, found := scan.scanTree(t, probe); len(found) != 1 || !strings.Contains(found[0], "noise 101") {
		t.Fatalf("the scanner does not find stored content: %v", found)
	}

	site := httptest.NewServer(demosite.Handler())
	defer site.Close()
	port := site.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":")+1:]

	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp) // the in-process node's os.TempDir
	dbPath := filepath.Join(dir, "db", "alliance.db")
	if err := os.Mkdir(filepath.Dir(dbPath), 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALLIANCE_DB": dbPath}
	hosts := writeFile(t, dir, "site.hosts", "127.0.0.1 images.example.test\n")
	cli(t, env, "", "migrate")
	c := apiClient{t: t, token: createToken(t, env, "analyst@se.example.org", "SE-HOTLINE", "analyst")}
	node := startMain(t, env, "serve", "--hosts", hosts, "--allow-private-fetch", "--log-level", "debug")
	c.base = node.base

	base := "http://images.example.test:" + port
	var rep struct {
		Items []apiItem `json:"items"`
	}
	urls := []string{base + "/page?img=/noise/100.png&img=/noise/101.png&img=/noise/102.png", base + "/noise/103.png"}
	if code := c.do("POST", "/api/v1/reports", map[string]any{"urls": urls}, &rep); code != http.StatusCreated || len(rep.Items) != 2 {
		t.Fatalf("POST /api/v1/reports: %d %+v", code, rep)
	}
	media := 0
	for _, it := range rep.Items {
		var item struct {
			Fetch *struct {
				Status string `json:"status"`
			} `json:"fetch"`
			Media []struct {
				Status string `json:"status"`
				SHA256 string `json:"sha256"`
			} `json:"media"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if code := c.do("GET", fmt.Sprintf("/api/v1/items/%d", it.ID), nil, &item); code != http.StatusOK {
				t.Fatalf("GET item %d: %d", it.ID, code)
			}
			if item.Fetch != nil && item.Fetch.Status != "pending" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("item %d not fetched after 30s: %+v\n%s", it.ID, item, node.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if item.Fetch.Status != "fetched" {
			t.Fatalf("item %d: fetch %+v", it.ID, item.Fetch)
		}
		for _, m := range item.Media {
			if m.Status == "hashed" && m.SHA256 != "" {
				media++
			}
		}
	}
	if media != len(images) {
		t.Fatalf("%d media hashed, want %d", media, len(images))
	}
	node.stop()

	files, found := scan.scanTree(t, dir)
	if files < 2 {
		t.Fatalf("scanned %d files under %s; the database is missing", files, dir)
	}
	for _, f := range found {
		t.Errorf("content stored: %s", f)
	}
	if name, at := scan.find([]byte(node.logs.String())); name != "" {
		t.Errorf("content logged: bytes of %s at offset %d of the log", name, at)
	}
	if !strings.Contains(node.logs.String(), "fetch") {
		t.Errorf("the log says nothing of the fetch job; was it scanned at all?\n%s", node.logs.String())
	}
}
