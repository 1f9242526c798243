package app_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/demosite"
	"alliance/internal/fetch"
	"alliance/internal/hashing"
	"alliance/internal/media"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

// fetchEnv is an intake environment whose fetcher reaches one local site of
// generated images as site.example.test (and nothing else: blocked.example.test
// resolves to another loopback port, which the SSRF guard refuses).
type fetchEnv struct {
	*intakeEnv
	base string // http://site.example.test:PORT
}

func newFetchEnv(t *testing.T, db *store.DB) *fetchEnv {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", demosite.Handler())
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "try later", http.StatusServiceUnavailable)
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	ap := netip.MustParseAddrPort(site.Listener.Addr().String())
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "site.example.test", "blocked.example.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	f := fetch.New(fetch.Options{Timeout: 5 * time.Second, PerHostInterval: -1, Resolver: resolve,
		AllowAddrs: []netip.AddrPort{ap}})
	t.Cleanup(f.Close)
	e := newIntakeEnv(t, db, app.Options{
		Tracer: newTracer(t, testHosts+trace.ExampleSE+" site.example.test blocked.example.test\n"),
		// Collector: the real one, over the guarded fetcher.
		Collector: media.NewCollector(f, media.Options{}),
	})
	if err := e.app.Matcher().Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &fetchEnv{intakeEnv: e, base: fmt.Sprintf("http://site.example.test:%d", ap.Port())}
}

// fetchAll traces the items due, then fetches those due, and returns how
// many fetches were recorded.
func (e *fetchEnv) fetchAll(t *testing.T) int {
	t.Helper()
	e.traceAll(t, e.app)
	n, err := e.app.FetchBatch(sys(t.Context()), 0)
	if err != nil {
		t.Fatalf("FetchBatch: %v", err)
	}
	return n
}

// importEntries adds entries to a bank of the context's organisation.
func importEntries(t *testing.T, a *app.App, ctx context.Context, bank string, entries ...alliance.HashEntry) {
	t.Helper()
	if _, err := a.CreateBank(ctx, app.BankInput{Name: bank}); err != nil {
		t.Fatalf("create bank: %v", err)
	}
	src := entrySlice(entries)
	if _, err := a.ImportEntries(ctx, bank, &src, nil); err != nil {
		t.Fatalf("import: %v", err)
	}
	if err := a.Matcher().Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
}

type entrySlice []alliance.HashEntry

func (s *entrySlice) Next() (alliance.HashEntry, error) {
	if len(*s) == 0 {
		return alliance.HashEntry{}, io.EOF
	}
	e := (*s)[0]
	*s = (*s)[1:]
	return e, nil
}

func pdqOf(t *testing.T, b []byte) ([]byte, int) {
	t.Helper()
	res, err := hashing.HashBytes(b, hashing.Options{})
	if err != nil || res.PDQ == nil {
		t.Fatalf("hash generated image: %v", err)
	}
	if res.PDQQuality < app.MinPDQQuality {
		t.Fatalf("generated image has PDQ quality %d, under %d: it would not be matched", res.PDQQuality, app.MinPDQQuality)
	}
	return res.PDQ[:], res.PDQQuality
}

// TestFetchHashMatch is the "done when": a page with three
// generated images, one of them near an entry of a bank, yields three media
// with their hashes and one match (bank, distance), and the item is
// partially known; an image URL whose MD5 is in a bank is known with the
// bank's classification; an address refused by the SSRF guard is
// not_accessible with that reason; a 404 likewise; a 503 is retried with
// backoff and given up after MaxFetchAttempts.
func TestFetchHashMatch(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db)
		se := as(t, e.se)
		near, _ := pdqOf(t, demosite.NoisePNG(1))
		near = slices.Clone(near)
		near[0] ^= 0b0000_0111 // three bits away
		known := md5.Sum(demosite.NoisePNG(10))
		cls := alliance.Classification{Scheme: "test-scheme", Category: "baseline"}
		importEntries(t, e.app, se, "known",
			alliance.HashEntry{Algorithm: alliance.HashPDQ, Value: near, Classification: cls, Series: "s1", Source: "test"},
			alliance.HashEntry{Algorithm: alliance.HashMD5, Value: known[:], Classification: cls, Series: "s2", Source: "test"})

		r := e.submit(t, se, app.ReportInput{URLs: []string{
			e.base + "/page?img=/noise/1.png&img=/noise/2.png&img=/noise/3.png&video=/clip.mp4",
			e.base + "/noise/10.png",
			"http://blocked.example.test:9/x",
			e.base + "/missing.png",
			e.base + "/unavailable",
		}})
		if n := e.fetchAll(t); n != 5 {
			t.Fatalf("fetched %d items, want 5", n)
		}
		item := func(i int) alliance.Item {
			t.Helper()
			it, err := e.app.Item(se, r.Items[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			return it
		}

		page := item(0)
		if f := page.Fetch; f == nil || f.Status != alliance.FetchFetched || !f.Page || f.HTTPStatus != 200 || f.Attempts != 1 {
			t.Fatalf("page fetch: %+v", f)
		}
		if page.Known != alliance.KnownPartial || page.KnownClassification != nil {
			t.Errorf("page: known %q %+v, want partial", page.Known, page.KnownClassification)
		}
		var images []alliance.Medium
		for _, m := range page.Media {
			if m.Kind == alliance.MediumImage {
				images = append(images, m)
			}
		}
		if len(images) != 3 || len(page.Media) != 4 {
			t.Fatalf("page media: %+v", page.Media)
		}
		if v := page.Media[3]; v.Kind != alliance.MediumVideo || v.Status != alliance.MediumDeferred || v.SHA256 != nil {
			t.Errorf("video medium: %+v", v)
		}
		for i, m := range images {
			png := demosite.NoisePNG(uint64(i + 1))
			want, err := hashing.HashBytes(png, hashing.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != alliance.MediumHashed || fmt.Sprintf("%x", m.SHA256) != want.SHA256 ||
				fmt.Sprintf("%x", m.MD5) != want.MD5 || fmt.Sprintf("%x", m.PDQ) != want.PDQ.String() ||
				m.PDQQuality != want.PDQQuality || m.Size != int64(len(png)) || m.ContentType != "image/png" ||
				m.URL != fmt.Sprintf("%s/noise/%d.png", e.base, i+1) {
				t.Errorf("medium %d: %+v, want hashes %+v", i, m, want)
			}
			wantMatches := 0
			if i == 0 {
				wantMatches = 1
			}
			if len(m.Matches) != wantMatches {
				t.Errorf("medium %d: %d matches, want %d: %+v", i, len(m.Matches), wantMatches, m.Matches)
			}
		}
		if ms := images[0].Matches; len(ms) == 1 {
			if m := ms[0]; m.Bank != "known" || m.BankOrg != "SE-HOTLINE" || m.Distance != 3 ||
				m.Algorithm != alliance.HashPDQ || m.Classification != cls || m.Series != "s1" {
				t.Errorf("match: %+v", m)
			}
		}

		img := item(1)
		if img.Known != alliance.KnownAll || img.KnownClassification == nil || *img.KnownClassification != cls {
			t.Errorf("image item: known %q %+v, want known %+v", img.Known, img.KnownClassification, cls)
		}
		// Known: assessed on the node's behalf, straight to the police, never queued.
		if td := img.Takedown; td.Status != alliance.TakedownPoliceNotified || td.Verdict != alliance.VerdictBaseline ||
			len(img.Assessments) != 1 || !img.Assessments[0].Inherited || img.Assessments[0].Analyst != "system" ||
			!strings.Contains(img.Assessments[0].Source, "bank SE-HOTLINE/known entry") {
			t.Errorf("known item's takedown %+v, assessments %+v", td, img.Assessments)
		}
		if q, err := e.app.Queue(se, app.QueueFilter{}); err != nil {
			t.Fatal(err)
		} else {
			for _, it := range q {
				if it.ID == img.ID {
					t.Error("the known item is in the analyst queue")
				}
			}
		}
		if len(img.Media) != 1 || img.Media[0].Source != "url" || len(img.Media[0].Matches) != 1 ||
			img.Media[0].Matches[0].Algorithm != alliance.HashMD5 || img.Media[0].Matches[0].Distance != 0 {
			t.Errorf("image item media: %+v", img.Media)
		}

		for i, want := range map[int]string{2: "blocked", 3: "http_4xx"} {
			it := item(i)
			if f := it.Fetch; f == nil || f.Status != alliance.FetchNotAccessible || f.Reason != want || it.Known != "" || len(it.Media) != 0 {
				t.Errorf("item %d (%s): fetch %+v known %q, want not_accessible (%s)", i, it.URL, f, it.Known, want)
			}
		}

		// The 503: retried with backoff, then given up.
		for attempt := 1; attempt <= app.MaxFetchAttempts; attempt++ {
			it := item(4)
			f := it.Fetch
			wantStatus := alliance.FetchPending
			if attempt == app.MaxFetchAttempts {
				wantStatus = alliance.FetchNotAccessible
			}
			if f == nil || f.Status != wantStatus || f.Reason != "http_5xx" || f.Attempts != attempt || f.HTTPStatus != 503 {
				t.Fatalf("503 after attempt %d: %+v, want %s", attempt, f, wantStatus)
			}
			if n := e.fetchAll(t); n != 0 {
				t.Fatalf("attempt %d: fetched %d items before the backoff passed", attempt, n)
			}
			e.clock.Advance(6 * time.Hour)
			n := e.fetchAll(t)
			if want := 1; attempt == app.MaxFetchAttempts {
				if n != 0 {
					t.Fatalf("fetched %d items after giving up", n)
				}
			} else if n != want {
				t.Fatalf("attempt %d: retry fetched %d items, want %d", attempt+1, n, want)
			}
		}

		// One item.fetch audit row per finished fetch: five.
		fetches := 0
		for _, a := range auditActions(t, db) {
			if strings.HasSuffix(a, " item.fetch item") {
				fetches++
			}
		}
		if fetches != 5 {
			t.Errorf("%d item.fetch audit rows, want 5", fetches)
		}

		// A refetch replaces the media; an NL analyst cannot see SE's item.
		if err := e.app.Refetch(as(t, e.nl), r.Items[1].ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("refetch by another organisation: %v", err)
		}
		if err := e.app.Refetch(se, r.Items[1].ID); err != nil {
			t.Fatal(err)
		}
		if n := e.fetchAll(t); n != 1 {
			t.Fatalf("refetch fetched %d, want 1", n)
		}
		if again := item(1); again.Known != alliance.KnownAll || len(again.Media) != 1 || again.Fetch.Attempts != 1 {
			t.Errorf("after refetch: %+v", again)
		}
	})
}

// TestFetchWaitsForMatcher checks that nothing is fetched (and so nothing
// recorded unmatched) before the matcher has loaded, and that users cannot
// run the node's fetch.
func TestFetchWaitsForMatcher(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newIntakeEnv(t, db, app.Options{Collector: media.NewCollector(fetch.New(fetch.Options{}), media.Options{})})
	e.submit(t, as(t, e.se), app.ReportInput{URLs: []string{"http://se.example.test/a"}})
	e.traceAll(t, e.app)
	if n, err := e.app.FetchBatch(sys(t.Context()), 0); n != 0 || err != nil {
		t.Errorf("FetchBatch before the matcher loaded: %d, %v", n, err)
	}
	if _, err := e.app.FetchBatch(as(t, e.se), 0); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
		t.Errorf("FetchBatch as a user: %v, want forbidden", err)
	}
}
