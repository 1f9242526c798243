package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"alliance/internal/store"
	"alliance/internal/trace"
)

// writeFile writes body to a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeBadTraceFiles checks that a bad --hosts or --ip-ranges file stops
// serve with one line naming the file and the line at fault.
func TestServeBadTraceFiles(t *testing.T) {
	dir := t.TempDir()
	goodHosts := writeFile(t, dir, "good.hosts", "192.0.2.1 lab.example.test\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bad hosts address", []string{"--hosts", writeFile(t, dir, "bad.hosts", "# lab\n192.0.2.1 a.example.test\n192.0.2.x b.example.test\n")},
			[]string{"bad.hosts", "line 3", "192.0.2.x"}},
		{"hosts without a name", []string{"--hosts", writeFile(t, dir, "noname.hosts", "192.0.2.1\n")},
			[]string{"noname.hosts", "line 1"}},
		{"missing hosts file", []string{"--hosts", filepath.Join(dir, "none.hosts")},
			[]string{"--hosts", "none.hosts", "no such file"}},
		{"bad range", []string{"--hosts", goodHosts, "--ip-ranges", writeFile(t, dir, "bad.csv", "cidr,country,asn,org\n10.0.0.0/8,NL,64500,Lab\n10.1.2.3/8,SE,,\n")},
			[]string{"bad.csv", "line 3", "host bits"}},
		{"bad country", []string{"--ip-ranges", writeFile(t, dir, "country.csv", "10.0.0.0/8,Sweden,,\n")},
			[]string{"country.csv", "line 1", "country"}},
		{"missing ranges file", []string{"--ip-ranges", filepath.Join(dir, "none.csv")},
			[]string{"--ip-ranges", "none.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The database is never opened: the files are checked first.
			env := map[string]string{"ALLIANCE_DB": filepath.Join(dir, "unused.db")}
			code, _, errOut := cli(t, env, "", append([]string{"serve"}, tt.args...)...)
			if code != exitFail {
				t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 {
				t.Errorf("want one line, got %d:\n%s", lines, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %s", w, errOut)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "unused.db")); err == nil {
				t.Error("the database was created although a trace file was bad")
			}
		})
	}
}

// apiClient calls the JSON API of a test server with a token.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd.Reset(b)
	}
	req, err := http.NewRequest(method, c.base+path, &rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		c.t.Fatalf("%s %s: %d, body is not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// apiItem is the part of the API's item JSON these tests read.
type apiItem struct {
	ID          int64  `json:"id"`
	URL         string `json:"url"`
	Status      string `json:"status"`
	DuplicateOf *int64 `json:"duplicate_of"`
	Trace       *struct {
		Status   string `json:"status"`
		IP       string `json:"ip"`
		Country  string `json:"country"`
		ASN      uint32 `json:"asn"`
		ASOrg    string `json:"as_org"`
		DataDate string `json:"data_date"`
	} `json:"trace"`
	Route *struct {
		Kind         string `json:"kind"`
		Organisation string `json:"organisation"`
	} `json:"route"`
}

// createToken adds a user to the database at env's ALLIANCE_DB through the
// CLI and returns a token of theirs.
func createToken(t *testing.T, env map[string]string, email, org, role string) string {
	t.Helper()
	if code, _, errOut := cli(t, env, "", "user", "add", "--email", email, "--org", org, "--role", role); code != exitOK &&
		!strings.Contains(errOut, "already exists") {
		t.Fatalf("user add: exit %d: %s", code, errOut)
	}
	code, out, errOut := cli(t, env, "", "token", "create", "--email", email)
	if code != exitOK {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// waitItems lists the items visible to c until every one has been traced
// once: routed, a duplicate, or waiting to retry a failed trace.
func waitItems(t *testing.T, c apiClient) []apiItem {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page struct {
			Items []apiItem `json:"items"`
		}
		if code := c.do("GET", "/api/v1/items?limit=500", nil, &page); code != http.StatusOK {
			t.Fatalf("GET /api/v1/items: %d", code)
		}
		waiting := 0
		for _, it := range page.Items {
			if it.Status == "new" && it.Trace == nil {
				waiting++
			}
		}
		if waiting == 0 && len(page.Items) > 0 {
			return page.Items
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d items still wait for their trace after 30s: %+v", waiting, len(page.Items), page.Items)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeTraceFiles serves with a hosts file and an operator range: a
// reported name listed in the hosts file is traced to the file's address,
// which the range places in the Netherlands, so a report received by
// SE-HOTLINE is forwarded to NL-HOTLINE.
func TestServeTraceFiles(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"ALLIANCE_DB": dsn, "ALLIANCE_IP_RANGES": writeFile(t, dir, "lab.csv", "cidr,country,asn,org\n10.20.0.0/16,NL,64500,\"Lab network, test\"\n")}
			hosts := writeFile(t, dir, "lab.hosts", "10.20.30.40 lab.example.test\n"+"# IPv6 too\n2001:db8::1 lab.example.test\n")
			cli(t, env, "", "migrate")
			c := apiClient{t: t, token: createToken(t, env, "analyst@se.example.org", "SE-HOTLINE", "analyst")}
			c.base = serveMain(t, env, "serve", "--hosts", hosts)

			var rep struct {
				Items []apiItem `json:"items"`
			}
			code := c.do("POST", "/api/v1/reports", map[string]any{"urls": []string{"https://lab.example.test/page", "https://[2001:db8::1]/other"}}, &rep)
			if code != http.StatusCreated || len(rep.Items) != 2 {
				t.Fatalf("POST /api/v1/reports: %d, %+v", code, rep)
			}
			items := waitItems(t, c)
			byURL := map[string]apiItem{}
			for _, it := range items {
				byURL[it.URL] = it
			}
			lab := byURL["https://lab.example.test/page"]
			if lab.Trace == nil || lab.Trace.IP != "10.20.30.40" || lab.Trace.Country != "NL" || lab.Trace.ASN != 64500 || lab.Trace.ASOrg != "Lab network, test" || lab.Trace.DataDate == "" {
				t.Errorf("trace of the hosts-file name: %+v", lab.Trace)
			}
			if lab.Route == nil || lab.Route.Kind != "forward" || lab.Route.Organisation != "NL-HOTLINE" {
				t.Errorf("route of the hosts-file name: %+v, want forward to NL-HOTLINE", lab.Route)
			}
			// 2001:db8::/32 is documentation space: in no country, so no-hotline.
			v6 := byURL["https://[2001:db8::1]/other"]
			if v6.Route == nil || v6.Route.Kind != "no-hotline" || v6.Route.Organisation != "SE-HOTLINE" {
				t.Errorf("route of an address in no country: %+v", v6.Route)
			}
		})
	}
}

// TestDemoIntake starts the demo and checks through the API that its
// synthetic reports are traced and routed every way, with a duplicate, and
// that seeding again adds nothing.
func TestDemoIntake(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "demo.db")
	env := map[string]string{"ALLIANCE_DB": dsn}
	node := startMain(t, env, "demo", "--demo-site", "127.0.0.1:0", "--police-grace", "1s", "--recheck-interval", "1s")
	c := apiClient{t: t, base: node.base, token: createToken(t, env, "analyst@se-hotline.example.org", "SE-HOTLINE", "analyst")}
	items := waitItems(t, c)
	site := regexp.MustCompile(`Demo site of generated images: (http://media\.demo\.test:(\d+))`).FindStringSubmatch(node.logs.String())
	if site == nil {
		t.Fatalf("the demo banner names no demo site:\n%s", node.logs.String())
	}
	sitePort, err := strconv.ParseUint(site[2], 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(node.logs.String(), "Federation: this node is node-") {
		t.Errorf("the demo banner does not show the node's identity")
	}
	testDemoReport(t, c, items, append(slices.Clone(demoReports), demoMediaReports(site[1], uint16(sitePort))...))
	testDemoMedia(t, c, site[1])
	testDemoSeries(t, env, node.base, site[1])
	testDemoTakedown(t, c, site[1])

	routes := map[string]string{}
	duplicates := 0
	for _, it := range items {
		if it.DuplicateOf != nil {
			duplicates++
			continue
		}
		if it.Route != nil {
			routes[it.URL] = it.Route.Kind + " " + it.Route.Organisation
		}
	}
	want := map[string]string{
		"https://shop.se.example.test/listing/1": "national SE-HOTLINE",
		"https://files.nl.example.test/f/2":      "forward NL-HOTLINE",
		"https://cdn.ru.example.test/a/3":        "no-hotline SE-HOTLINE",
		"http://192.36.125.18/demo/5":            "national SE-HOTLINE",
		// Received by NL-HOTLINE and forwarded here.
		"https://shop.se.example.test/listing/7": "forward SE-HOTLINE",
	}
	for url, route := range want {
		if routes[url] != route {
			t.Errorf("%s: route %q, want %q", url, routes[url], route)
		}
	}
	// An unresolvable name is retried with backoff before it is routed
	// no-hotline as untraceable.
	for _, it := range items {
		if it.URL == "https://gone.example.invalid/x/4" {
			if it.Trace == nil || it.Trace.Status != "nxdomain" || (it.Route != nil && it.Route.Kind != "no-hotline") {
				t.Errorf("unresolvable item: trace %+v, route %+v; want nxdomain, no route yet (or no-hotline)", it.Trace, it.Route)
			}
		}
	}
	if duplicates != 1 {
		t.Errorf("%d duplicates, want 1", duplicates)
	}

	// The demo bank is there, filled and shared, and its hashes match.
	var banks struct {
		Banks []struct {
			Name       string   `json:"name"`
			Owner      string   `json:"owner"`
			Entries    int64    `json:"entries"`
			SharedWith []string `json:"shared_with"`
		} `json:"banks"`
	}
	if code := c.do("GET", "/api/v1/banks", nil, &banks); code != http.StatusOK {
		t.Fatalf("GET /api/v1/banks: %d", code)
	}
	found := false
	for _, b := range banks.Banks {
		if b.Owner == demoBankOwner && b.Name == demoBankName {
			found = b.Entries == 2*demoBankImages && slices.Contains(b.SharedWith, "NL-HOTLINE")
		}
	}
	if !found {
		t.Errorf("no demo bank %s/%s with %d entries shared with NL-HOTLINE: %+v", demoBankOwner, demoBankName, 2*demoBankImages, banks)
	}
	entries, err := demoBankEntries()
	if err != nil {
		t.Fatal(err)
	}
	var match struct {
		Results []struct {
			Matches []struct {
				Bank     string `json:"bank"`
				Distance int    `json:"distance"`
			} `json:"matches"`
		} `json:"results"`
	}
	q := map[string]any{"hashes": []map[string]any{{"algorithm": "pdq", "value": hex.EncodeToString(entries[0].Value), "threshold": 0}}}
	if code := c.do("POST", "/api/v1/match", q, &match); code != http.StatusOK || len(match.Results) != 1 ||
		len(match.Results[0].Matches) == 0 || match.Results[0].Matches[0].Bank != demoBankName {
		t.Errorf("POST /api/v1/match of a demo hash: %d %+v", code, match)
	}

	// The demo's reports are idempotent: seeding again on the same
	// database, as a second `alliance demo` would, adds nothing.
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, sctx := systemApp(ctx, db, slog.New(slog.DiscardHandler), "SE-HOTLINE")
	if err := seedDemo(sctx, a); err != nil {
		t.Fatalf("seed users again: %v", err)
	}
	if err := seedDemoReports(ctx, db, a, append(slices.Clone(demoReports), demoMediaReports(site[1], uint16(sitePort))...)); err != nil {
		t.Fatalf("seed reports again: %v", err)
	}
	if again := waitItems(t, c); len(again) != len(items) {
		t.Errorf("%d items after seeding again, want %d", len(again), len(items))
	}
}

// testDemoMedia checks what the demo's fetch job makes of the demo site and
// of the demo's other addresses, through the API.
func testDemoMedia(t *testing.T, c apiClient, site string) {
	t.Helper()
	type medium struct {
		URL     string `json:"url"`
		Kind    string `json:"kind"`
		Status  string `json:"status"`
		Matches []struct {
			Bank     string `json:"bank"`
			Distance int    `json:"distance"`
		} `json:"matches"`
	}
	type item struct {
		ID    int64  `json:"id"`
		URL   string `json:"url"`
		Fetch *struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"fetch"`
		Known               string            `json:"known"`
		KnownClassification map[string]string `json:"known_classification"`
		Media               []medium          `json:"media"`
	}
	want := map[string]string{ // URL -> fetch status, reason, known
		site + "/page?img=/gradient/2.png&img=/noise/1.png&img=/noise/2.png&video=/clip.mp4": "fetched  partial",
		site + "/gradient/1.png":                "fetched  known",
		site + "/noise/3.png":                   "fetched  unmatched",
		site + "/missing.png":                   "not_accessible http_4xx ",
		"http://" + trace.ExampleSE + "/demo/5": "not_accessible blocked ", // the demo fetches its own site only
	}
	got := map[string]item{}
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < len(want) {
		var page struct {
			Items []item `json:"items"`
		}
		if code := c.do("GET", "/api/v1/items?limit=500", nil, &page); code != http.StatusOK {
			t.Fatalf("GET /api/v1/items: %d", code)
		}
		for _, it := range page.Items {
			if _, ok := want[it.URL]; ok && it.Fetch != nil && it.Fetch.Status != "pending" {
				got[it.URL] = it
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s only %d of %d demo items are fetched: %+v", len(got), len(want), got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for url, w := range want {
		it := got[url]
		if g := it.Fetch.Status + " " + it.Fetch.Reason + " " + it.Known; g != w {
			t.Errorf("%s: %q, want %q", url, g, w)
		}
	}
	known := got[site+"/gradient/1.png"]
	if known.KnownClassification["scheme"] != demoClassification.Scheme || known.KnownClassification["category"] != demoClassification.Category {
		t.Errorf("known demo image: classification %v, want %+v", known.KnownClassification, demoClassification)
	}
	var page item
	if code := c.do("GET", fmt.Sprintf("/api/v1/items/%d", got[site+"/page?img=/gradient/2.png&img=/noise/1.png&img=/noise/2.png&video=/clip.mp4"].ID), nil, &page); code != http.StatusOK {
		t.Fatalf("GET demo page item: %d", code)
	}
	var summary []string
	for _, m := range page.Media {
		s := m.Kind + " " + m.Status
		for _, x := range m.Matches {
			s += fmt.Sprintf(" %s@%d", x.Bank, x.Distance)
		}
		summary = append(summary, s)
	}
	if w := []string{"image hashed " + demoBankName + "@0 " + demoBankName + "@0", "image hashed", "image hashed", "video deferred"}; !slices.Equal(summary, w) {
		t.Errorf("demo page media: %q, want %q", summary, w)
	}
}

// testDemoTakedown assesses the demo's unknown image and follows it to its
// removal: the police grace passes, the signed notice reaches the demo
// site's abuse webhook, the site removes the image, the re-check records it.
func testDemoTakedown(t *testing.T, c apiClient, site string) {
	t.Helper()
	var page struct {
		Items []struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		} `json:"items"`
	}
	if code := c.do("GET", "/api/v1/items?limit=500", nil, &page); code != http.StatusOK {
		t.Fatalf("items: %d", code)
	}
	var id int64
	for _, it := range page.Items {
		if it.URL == site+"/noise/3.png" {
			id = it.ID
		}
	}
	if id == 0 {
		t.Fatalf("no demo item for %s/noise/3.png", site)
	}
	var out map[string]any
	body := map[string]any{"verdict": "baseline", "content_type": "image", "labels": map[string]string{"age_band": "unknown"}}
	if code := c.do("POST", fmt.Sprintf("/api/v1/items/%d/assessments", id), body, &out); code != http.StatusCreated {
		t.Fatalf("assess the demo image: %d %v", code, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var it struct {
			Takedown struct {
				Status string `json:"status"`
			} `json:"takedown"`
			Notices []struct {
				Channel string `json:"channel"`
				Status  string `json:"status"`
			} `json:"notices"`
		}
		if code := c.do("GET", fmt.Sprintf("/api/v1/items/%d", id), nil, &it); code != http.StatusOK {
			t.Fatalf("item: %d", code)
		}
		if it.Takedown.Status == "removed" {
			if len(it.Notices) != 1 || it.Notices[0].Channel != "webhook" || it.Notices[0].Status != "sent" {
				t.Errorf("demo notices: %+v", it.Notices)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo image is not removed after 60s: %+v", it)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// testDemoSeries checks the demo's deconfliction: the known image alerted
// SE-POLICE about its unidentified series, and the page, whose gradient
// belongs to the identified series, answers "stand down".
func testDemoSeries(t *testing.T, env map[string]string, base, site string) {
	t.Helper()
	police := apiClient{t: t, base: base, token: createToken(t, env, "police@se-police.example.org", "SE-POLICE", "police")}
	var alerts struct {
		Alerts []struct {
			Series string `json:"series"`
			URL    string `json:"url"`
		} `json:"alerts"`
	}
	if code := police.do("GET", "/api/v1/alerts", nil, &alerts); code != http.StatusOK || len(alerts.Alerts) != 1 ||
		alerts.Alerts[0].Series != "demo-gradient-2" || alerts.Alerts[0].URL != site+"/gradient/1.png" {
		t.Errorf("demo alerts: %d %+v", code, alerts)
	}
	var d struct {
		Action string `json:"action"`
	}
	if code := police.do("GET", "/api/v1/deconflict?series=demo-gradient-3", nil, &d); code != http.StatusOK || d.Action != "stand_down" {
		t.Errorf("demo identified series: %d %+v", code, d)
	}
}
