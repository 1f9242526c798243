package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestPostReport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})

		t.Run("anonymous goes to the home organisation", func(t *testing.T) {
			body := `{"urls":["HTTP://WWW.Example.COM:80/a/../b?q=1#frag","https://www.example.com/c"],` +
				`"description":"seen on a forum","category":"grooming","reporter":{"email":"someone@example.org"}}`
			w := in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", body: body})
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d; body %s", w.Code, w.Body)
			}
			if got := w.Header().Get(httpapi.ReplayedHeader); got != "" {
				t.Errorf("%s = %q on a first submission", httpapi.ReplayedHeader, got)
			}
			var s submitted
			decodeBody(t, w, &s)
			if s.ID <= 0 || s.Reference == "" || len(s.Items) != 2 {
				t.Fatalf("answer = %+v", s)
			}
			if got, want := w.Header().Get("Location"), reportPath(s.ID); got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			first := s.Items[0]
			if first.ID <= 0 || first.URL != "HTTP://WWW.Example.COM:80/a/../b?q=1#frag" ||
				first.CanonicalURL != "http://www.example.com/b?q=1" || first.DuplicateOf != nil {
				t.Errorf("first item = %+v", first)
			}

			var rep reportOut
			in.get(t, "SE-HOTLINE", reportPath(s.ID), &rep)
			if rep.ID != s.ID || rep.Reference != s.Reference || rep.Organisation != "SE-HOTLINE" ||
				rep.Source != "public" || rep.Category != "grooming" || rep.Description != "seen on a forum" ||
				rep.ReceivedAt.IsZero() || len(rep.Items) != 2 {
				t.Errorf("report = %+v", rep)
			}
			if rep.Reporter == nil || rep.Reporter.Email != "someone@example.org" {
				t.Errorf("reporter = %+v, want the contact for the receiving organisation", rep.Reporter)
			}
			it := rep.Items[0]
			if it.ID != first.ID || it.ReportID != s.ID || it.Host != "www.example.com" ||
				it.RegistrableDomain != "example.com" || it.Status != "new" || it.Organisation != "SE-HOTLINE" ||
				it.CreatedAt.IsZero() || it.Trace != nil || it.Route != nil {
				t.Errorf("item = %+v", it)
			}
		})

		t.Run("token report goes to the token's organisation", func(t *testing.T) {
			s := in.submit(t, in.tokens["NL-HOTLINE"], `{"urls":["https://nl.example.test/x"],"source":"hotline"}`)
			var rep reportOut
			in.get(t, "NL-HOTLINE", reportPath(s.ID), &rep)
			if rep.Organisation != "NL-HOTLINE" || rep.Source != "hotline" || rep.Category != "other" || rep.Reporter != nil {
				t.Errorf("report = %+v", rep)
			}
			if w := in.do(t, request{method: http.MethodGet, path: reportPath(s.ID), auth: in.tokens["SE-HOTLINE"]}); w.Code != http.StatusNotFound {
				t.Errorf("another organisation reads the report: status %d", w.Code)
			}
		})

		t.Run("duplicate is linked", func(t *testing.T) {
			a := in.submit(t, in.tokens["SE-HOTLINE"], `{"urls":["https://dup.example.com/p"]}`)
			b := in.submit(t, in.tokens["SE-HOTLINE"], `{"urls":["HTTPS://dup.example.com/p#x"]}`)
			if d := b.Items[0].DuplicateOf; d == nil || *d != a.Items[0].ID {
				t.Errorf("duplicate_of = %v, want %d", d, a.Items[0].ID)
			}
		})
	})
}

func TestPostReportIdempotency(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		const body = `{"urls":["https://a.example.com/1","https://b.example.com/2"],"source":"industry"}`
		post := func(key, body string) *httptest.ResponseRecorder {
			return in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", auth: in.tokens["SE-HOTLINE"],
				body: body, header: http.Header{httpapi.IdempotencyKeyHeader: {key}}})
		}
		first := post("key-1", body)
		if first.Code != http.StatusCreated {
			t.Fatalf("first: status %d; body %s", first.Code, first.Body)
		}
		firstBody := first.Body.String()
		items := in.itemCount(t)

		again := post("key-1", body)
		if again.Code != http.StatusCreated || again.Header().Get(httpapi.ReplayedHeader) != "true" {
			t.Fatalf("retry: status %d, %s %q; body %s", again.Code, httpapi.ReplayedHeader, again.Header().Get(httpapi.ReplayedHeader), again.Body)
		}
		if again.Body.String() != firstBody {
			t.Errorf("retry body = %s, want the first %s", again.Body, firstBody)
		}
		if n := in.itemCount(t); n != items {
			t.Errorf("a retry created items: %d, then %d", items, n)
		}

		conflict := post("key-1", `{"urls":["https://other.example.com/"]}`)
		if conflict.Code != http.StatusConflict {
			t.Fatalf("same key, other body: status %d; body %s", conflict.Code, conflict.Body)
		}
		var env envelope
		decodeBody(t, conflict, &env)
		if env.Error.Code != alliance.ECONFLICT {
			t.Errorf("error = %+v", env.Error)
		}
		if n := in.itemCount(t); n != items {
			t.Errorf("a conflicting retry created items: %d, then %d", items, n)
		}

		other := post("key-2", body)
		if other.Code != http.StatusCreated || other.Header().Get(httpapi.ReplayedHeader) != "" || other.Body.String() == firstBody {
			t.Errorf("another key: status %d, body %s", other.Code, other.Body)
		}

		twoKeys := in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", auth: in.tokens["SE-HOTLINE"],
			body: body, header: http.Header{httpapi.IdempotencyKeyHeader: {"a", "b"}}})
		if twoKeys.Code != http.StatusBadRequest {
			t.Errorf("two keys: status %d", twoKeys.Code)
		}
	})
}

func TestPostReportBadInput(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		urls := func(n int) string {
			list := make([]string, n)
			for i := range list {
				list[i] = strconv.Quote(fmt.Sprintf("https://www.example.com/%d", i))
			}
			return "[" + strings.Join(list, ",") + "]"
		}
		tests := []struct {
			name        string
			body        string
			contentType string
			wantStatus  []int // any of
			wantCode    string
			wantField   string
		}{
			{"bad URL at index 2", `{"urls":["https://a.example.com/","https://b.example.com/","not a url"]}`, "", []int{400}, alliance.EINVALID, "urls[2]"},
			{"ftp URL", `{"urls":["ftp://a.example.com/"]}`, "", []int{400}, alliance.EINVALID, "urls[0]"},
			{"URL over 8 KiB", `{"urls":["https://a.example.com/","https://a.example.com/` + strings.Repeat("a", alliance.MaxURLLength) + `"]}`, "", []int{400, 413}, "", "urls[1]"},
			{"no URLs", `{"urls":[]}`, "", []int{400}, alliance.EINVALID, "urls"},
			{"1,001 URLs", `{"urls":` + urls(alliance.MaxReportURLs+1) + `}`, "", []int{400, 413}, "", "urls"},
			{"unknown field", `{"urls":["https://a.example.com/"],"colour":"red"}`, "", []int{400}, alliance.EINVALID, "colour"},
			{"wrong type", `{"urls":"https://a.example.com/"}`, "", []int{400}, alliance.EINVALID, "urls"},
			{"wrong type in list", `{"urls":["https://a.example.com/",7]}`, "", []int{400}, alliance.EINVALID, "urls"},
			{"unknown reporter field", `{"urls":["https://a.example.com/"],"reporter":{"phone":"1"}}`, "", []int{400}, alliance.EINVALID, "reporter.phone"},
			{"reporter not an object", `{"urls":["https://a.example.com/"],"reporter":"a@example.org"}`, "", []int{400}, alliance.EINVALID, "reporter"},
			{"reporter e-mail not a string", `{"urls":["https://a.example.com/"],"reporter":{"email":5}}`, "", []int{400}, alliance.EINVALID, "reporter.email"},
			{"bad category", `{"urls":["https://a.example.com/"],"category":"cats"}`, "", []int{400}, alliance.EINVALID, "category"},
			{"bad source", `{"urls":["https://a.example.com/"],"source":"moon"}`, "", []int{400}, alliance.EINVALID, "source"},
			{"bad e-mail", `{"urls":["https://a.example.com/"],"reporter":{"email":"not-an-address"}}`, "", []int{400}, alliance.EINVALID, "reporter.email"},
			{"over 1 MiB", `{"urls":["https://a.example.com/"],"description":"` + strings.Repeat("a", httpapi.DefaultMaxBodyBytes) + `"}`, "", []int{413}, alliance.ETOOLARGE, ""},
			{"not JSON", `urls=https://a.example.com/`, "application/x-www-form-urlencoded", []int{400}, alliance.EINVALID, ""},
			{"truncated", `{"urls":["https://a.example.com/"`, "", []int{400}, alliance.EINVALID, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := http.Header{}
				if tt.contentType != "" {
					h.Set("Content-Type", tt.contentType)
				}
				w := in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", auth: in.tokens["SE-HOTLINE"], body: tt.body, header: h})
				if !slices.Contains(tt.wantStatus, w.Code) {
					t.Fatalf("status %d, want one of %v; body %.300s", w.Code, tt.wantStatus, w.Body)
				}
				var env envelope
				decodeBody(t, w, &env)
				if tt.wantCode != "" && env.Error.Code != tt.wantCode || env.Error.Field != tt.wantField || env.Error.Message == "" {
					t.Errorf("error = %+v, want code %q field %q", env.Error, tt.wantCode, tt.wantField)
				}
			})
		}
		if n := in.itemCount(t); n != 0 {
			t.Errorf("%d items stored from rejected requests", n)
		}
	})
}

func TestPostReportRateLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		post := func(remote, xff string) *httptest.ResponseRecorder {
			h := http.Header{}
			if xff != "" {
				h.Set("X-Forwarded-For", xff)
			}
			return in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", remote: remote, header: h,
				body: `{"urls":["https://www.example.com/limit"]}`})
		}
		var limited *httptest.ResponseRecorder
		for i := 0; i < 1000 && limited == nil; i++ {
			switch w := post("192.0.2.1:1234", ""); w.Code {
			case http.StatusCreated:
			case http.StatusTooManyRequests:
				limited = w
			default:
				t.Fatalf("request %d: status %d; body %s", i, w.Code, w.Body)
			}
		}
		if limited == nil {
			t.Fatal("no 429 after 1,000 anonymous reports from one client")
		}
		if s, err := strconv.Atoi(limited.Header().Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("Retry-After = %q, want whole seconds", limited.Header().Get("Retry-After"))
		}
		var env envelope
		decodeBody(t, limited, &env)
		if env.Error.Code != alliance.ERATELIMIT {
			t.Errorf("error = %+v", env.Error)
		}
		// The header is anyone's to forge: without trusted proxies it
		// changes nothing. Another connection address is another client.
		if w := post("192.0.2.1:999", "198.51.100.7"); w.Code != http.StatusTooManyRequests {
			t.Errorf("X-Forwarded-For escaped the limit: status %d", w.Code)
		}
		if w := post("192.0.2.2:1234", ""); w.Code != http.StatusCreated {
			t.Errorf("another client: status %d; body %s", w.Code, w.Body)
		}
		// Behind a trusted proxy the forwarded address is the client.
		proxied := *in
		proxied.h = httpapi.New(in.app, httpapi.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
		w := proxied.do(t, request{method: http.MethodPost, path: "/api/v1/reports", remote: "192.0.2.1:1234",
			header: http.Header{"X-Forwarded-For": {"198.51.100.7"}}, body: `{"urls":["https://www.example.com/limit"]}`})
		if w.Code != http.StatusCreated {
			t.Errorf("client behind a trusted proxy: status %d; body %s", w.Code, w.Body)
		}
		// A token holder is not held to the public's limit.
		if w := in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", remote: "192.0.2.1:1234",
			auth: in.tokens["SE-HOTLINE"], body: `{"urls":["https://www.example.com/limit"]}`}); w.Code != http.StatusCreated {
			t.Errorf("token holder on a limited address: status %d; body %s", w.Code, w.Body)
		}
	})
}
