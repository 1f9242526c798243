package federation

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// errorClass names the sentinel an error wraps, for the test server to
// report back.
func errorClass(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{ErrBadSignature, "bad-signature"},
		{ErrUnknownPeer, "unknown-peer"},
		{ErrReplay, "replay"},
		{ErrSkew, "skew"},
		{ErrBadRequest, "bad-request"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

// keyDirectory is a peer directory for tests.
func keyDirectory(ids ...Identity) func(string) (ed25519.PublicKey, bool) {
	keys := map[string]ed25519.PublicKey{}
	for _, id := range ids {
		keys[id.NodeID] = id.Public()
	}
	return func(node string) (ed25519.PublicKey, bool) {
		k, ok := keys[node]
		return k, ok
	}
}

// verifyServer serves every path: it reads the body under a limit, runs
// v.VerifyRequest and answers 200 with the node id or 401 with the error
// class.
func verifyServer(t *testing.T, v *Verifier) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		node, err := v.VerifyRequest(r, body)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, errorClass(err))
			return
		}
		io.WriteString(w, "ok "+node)
	})
	mux := http.NewServeMux()
	mux.Handle("/prefix/", http.StripPrefix("/prefix", h))
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// send performs req and returns the server's verdict.
func send(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func newRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignedRequests(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	nl := testIdentity(t, "NL", 2)
	stranger := testIdentity(t, "DE", 3)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	v := &Verifier{Keys: keyDirectory(se, nl), Now: func() time.Time { return now }}
	srv := verifyServer(t, v)

	cases := []struct {
		name   string
		id     Identity
		method string
		path   string
		body   string
		at     time.Time
		after  func(r *http.Request) *http.Request // change after signing
		want   string
	}{
		{name: "get", id: se, method: "GET", path: "/federation/v1/feed?after=10&limit=5", at: now, want: "ok " + se.NodeID},
		{name: "post with body", id: nl, method: "POST", path: "/federation/v1/ack", body: `{"cursor":"7"}`, at: now, want: "ok " + nl.NodeID},
		{name: "under a stripped prefix", id: se, method: "GET", path: "/prefix/federation/v1/feed?after=", at: now, want: "ok " + se.NodeID},
		{name: "escaped path", id: se, method: "GET", path: "/a%2Fb/c%20d?x=%C3%A5", at: now, want: "ok " + se.NodeID},
		{name: "date within skew", id: se, method: "GET", path: "/f", at: now.Add(-4 * time.Minute), want: "ok " + se.NodeID},
		{name: "date 10 min old", id: se, method: "GET", path: "/f", at: now.Add(-10 * time.Minute), want: "skew"},
		{name: "date 10 min ahead", id: se, method: "GET", path: "/f", at: now.Add(10 * time.Minute), want: "skew"},
		{name: "unknown node", id: stranger, method: "GET", path: "/f", at: now, want: "unknown-peer"},
		{name: "query changed", id: se, method: "GET", path: "/f?after=10", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request { r.URL.RawQuery = "after=0"; return r }},
		{name: "path changed", id: se, method: "GET", path: "/f/a", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request { r.URL.Path = "/f/b"; return r }},
		{name: "body changed", id: nl, method: "POST", path: "/f", body: `{"a":1}`, at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request {
				r.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
				r.ContentLength = 7
				return r
			}},
		{name: "method changed", id: se, method: "GET", path: "/f", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request { r.Method = "DELETE"; return r }},
		{name: "host changed", id: se, method: "GET", path: "/f", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request { r.Host = "other.test"; return r }},
		{name: "node header swapped", id: se, method: "GET", path: "/f", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request { r.Header.Set(HeaderNode, nl.NodeID); return r }},
		{name: "date header changed", id: se, method: "GET", path: "/f", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request {
				r.Header.Set(HeaderDate, now.Add(time.Second).Format(http.TimeFormat))
				return r
			}},
		{name: "missing signature", id: se, method: "GET", path: "/f", at: now, want: "bad-request",
			after: func(r *http.Request) *http.Request { r.Header.Del(HeaderSignature); return r }},
		{name: "malformed signature", id: se, method: "GET", path: "/f", at: now, want: "bad-signature",
			after: func(r *http.Request) *http.Request { r.Header.Set(HeaderSignature, "abc"); return r }},
		{name: "malformed nonce", id: se, method: "GET", path: "/f", at: now, want: "bad-request",
			after: func(r *http.Request) *http.Request { r.Header.Set(HeaderNonce, "short"); return r }},
		{name: "malformed date", id: se, method: "GET", path: "/f", at: now, want: "bad-request",
			after: func(r *http.Request) *http.Request { r.Header.Set(HeaderDate, now.Format(time.RFC3339)); return r }},
		{name: "malformed node", id: se, method: "GET", path: "/f", at: now, want: "bad-request",
			after: func(r *http.Request) *http.Request { r.Header.Set(HeaderNode, "SE"); return r }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			req := newRequest(t, c.method, srv.URL+c.path, body)
			if err := SignRequest(req, body, c.id, c.at); err != nil {
				t.Fatalf("SignRequest: %v", err)
			}
			if c.after != nil {
				req = c.after(req)
			}
			if got := send(t, req); got != c.want {
				t.Errorf("server says %q, want %q", got, c.want)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	// copyRequest re-sends the exact headers of a signed request.
	copyRequest := func(t *testing.T, url string, orig *http.Request) *http.Request {
		req := newRequest(t, "GET", url, nil)
		req.Header = orig.Header.Clone()
		return req
	}

	t.Run("in memory", func(t *testing.T) {
		v := &Verifier{Keys: keyDirectory(se), Now: clock}
		srv := verifyServer(t, v)
		req := newRequest(t, "GET", srv.URL+"/f", nil)
		if err := SignRequest(req, nil, se, clock()); err != nil {
			t.Fatal(err)
		}
		replay := copyRequest(t, srv.URL+"/f", req)
		if got := send(t, req); got != "ok "+se.NodeID {
			t.Fatalf("first request: %q", got)
		}
		advance(time.Minute)
		if got := send(t, replay); got != "replay" {
			t.Errorf("replayed request: %q, want replay", got)
		}
		// A fresh nonce from the same node still passes.
		again := newRequest(t, "GET", srv.URL+"/f", nil)
		if err := SignRequest(again, nil, se, clock()); err != nil {
			t.Fatal(err)
		}
		if got := send(t, again); got != "ok "+se.NodeID {
			t.Errorf("new request: %q", got)
		}
		// Past the skew the replay fails on its date, after the nonce
		// has been forgotten.
		advance(11 * time.Minute)
		if got := send(t, copyRequest(t, srv.URL+"/f", req)); got != "skew" {
			t.Errorf("late replay: %q, want skew", got)
		}
	})

	t.Run("bounded set", func(t *testing.T) {
		v := &Verifier{Keys: keyDirectory(se), Now: clock, MaxNonces: 2}
		srv := verifyServer(t, v)
		want := []string{"ok " + se.NodeID, "ok " + se.NodeID, "replay"}
		for i, w := range want {
			req := newRequest(t, "GET", srv.URL+"/f", nil)
			if err := SignRequest(req, nil, se, clock()); err != nil {
				t.Fatal(err)
			}
			if got := send(t, req); got != w {
				t.Errorf("request %d: %q, want %q", i, got, w)
			}
		}
		// Once the remembered nonces expire there is room again.
		advance(2*DefaultSkew + time.Second)
		req := newRequest(t, "GET", srv.URL+"/f", nil)
		if err := SignRequest(req, nil, se, clock()); err != nil {
			t.Fatal(err)
		}
		if got := send(t, req); got != "ok "+se.NodeID {
			t.Errorf("after expiry: %q", got)
		}
		v.mu.Lock()
		n, q := len(v.nonces), len(v.queue)
		v.mu.Unlock()
		if n != 1 || q != 1 {
			t.Errorf("replay set holds %d nonces, queue %d; want 1 and 1", n, q)
		}
	})

	t.Run("shared store", func(t *testing.T) {
		seen := map[string]time.Time{}
		var smu sync.Mutex
		shared := func(node, nonce string, until time.Time) bool {
			smu.Lock()
			defer smu.Unlock()
			if _, ok := seen[node+nonce]; ok {
				return false
			}
			seen[node+nonce] = until
			return true
		}
		// Two "processes" with their own Verifier share the store.
		a := verifyServer(t, &Verifier{Keys: keyDirectory(se), Now: clock, Seen: shared})
		b := verifyServer(t, &Verifier{Keys: keyDirectory(se), Now: clock, Seen: shared})
		// Host is signed, so both servers must be reached under one name.
		req := newRequest(t, "GET", a.URL+"/f", nil)
		req.Host = "node.test"
		if err := SignRequest(req, nil, se, clock()); err != nil {
			t.Fatal(err)
		}
		replay := copyRequest(t, b.URL+"/f", req)
		replay.Host = "node.test"
		if got := send(t, req); got != "ok "+se.NodeID {
			t.Fatalf("first request: %q", got)
		}
		if got := send(t, replay); got != "replay" {
			t.Errorf("replay to the other process: %q, want replay", got)
		}
		smu.Lock()
		until := seen[se.NodeID+req.Header.Get(HeaderNonce)]
		smu.Unlock()
		if want := clock().Add(2 * DefaultSkew); !until.Equal(want) {
			t.Errorf("Seen until = %v, want %v", until, want)
		}
	})
}

func TestVerifierDirectoryMismatch(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	nl := testIdentity(t, "NL", 2)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	// The directory maps SE's id to NL's key: a misconfiguration that must
	// not let NL speak as SE.
	v := &Verifier{
		Keys: func(string) (ed25519.PublicKey, bool) { return nl.Public(), true },
		Now:  func() time.Time { return now },
	}
	req := httptest.NewRequest("GET", "/f", nil)
	if err := SignRequest(req, nil, se, now); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyRequest(req, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyRequest = %v, want ErrBadSignature", err)
	}
	// Without a directory nobody is known.
	if _, err := (&Verifier{}).VerifyRequest(req, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("VerifyRequest without Keys = %v, want ErrUnknownPeer", err)
	}
	if err := SignRequest(httptest.NewRequest("GET", "/f", nil), nil, Identity{}, now); err == nil {
		t.Error("SignRequest with an empty identity succeeded")
	}
}
