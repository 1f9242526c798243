package federation

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// feedPeer is a peer's feed endpoint for tests: it checks the request
// signature like a real node and serves whatever the test puts in respond.
type feedPeer struct {
	srv       *httptest.Server
	lastAfter string
	lastLimit string
	lastNode  string
	respond   func(w http.ResponseWriter)
}

func newFeedPeer(t *testing.T, prefix string, v *Verifier) *feedPeer {
	t.Helper()
	p := &feedPeer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+FeedPath, func(w http.ResponseWriter, r *http.Request) {
		node, err := v.VerifyRequest(r, nil)
		if err != nil {
			http.Error(w, errorClass(err), http.StatusUnauthorized)
			return
		}
		p.lastNode = node
		p.lastAfter = r.URL.Query().Get("after")
		p.lastLimit = r.URL.Query().Get("limit")
		w.Header().Set("Content-Type", "application/json")
		p.respond(w)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// servePage makes respond write page as JSON.
func servePage(t *testing.T, page any) func(w http.ResponseWriter) {
	raw, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter) { w.Write(raw) }
}

func TestClientPull(t *testing.T) {
	se := testIdentity(t, "SE", 1) // this node, pulling
	nl := testIdentity(t, "NL", 2) // the peer serving its feed
	de := testIdentity(t, "DE", 3) // a third node whose objects NL relays
	fr := testIdentity(t, "FR", 4) // a node SE does not know
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	clock := func() time.Time { return now }

	own := signedObject(t, nl, "bank_entry", "bank_entry:NL-HOTLINE/b:1:v1", "", `{"sha256":"00ff"}`)
	toUs := signedObject(t, nl, "item_forward", "item_forward:7", se.NodeID, `{"url":"https://example.com/x"}`)
	toOther := signedObject(t, nl, "item_forward", "item_forward:8", de.NodeID, `{"url":"https://example.com/y"}`)
	relayed := signedObject(t, de, "bank_entry", "bank_entry:DE-HOTLINE/b:9:v1", "", `{"sha256":"aa"}`)
	unknown := signedObject(t, fr, "bank_entry", "bank_entry:FR-HOTLINE/b:1:v1", "", `{"sha256":"bb"}`)
	tampered := signedObject(t, nl, "bank_entry", "bank_entry:NL-HOTLINE/b:2:v1", "", `{"sha256":"0011"}`)
	tampered.Body = json.RawMessage(`{"sha256":"0012"}`)
	forged := signedObject(t, nl, "bank_entry", "bank_entry:DE-HOTLINE/b:10:v1", "", `{"sha256":"cc"}`)
	forged.Origin = de.NodeID // NL claims DE made it

	keyOf := keyDirectory(de)
	cases := []struct {
		name    string
		respond any // a Page, or a string served raw
		limit   int
		keyOf   func(string) (ed25519.PublicKey, bool)
		maxPage int64
		wantErr error
		wantIn  string // in the error
		wantN   int
	}{
		{name: "own and relayed objects", respond: Page{Objects: []Object{own, toUs, relayed}, Next: "c3", More: true}, limit: 10, keyOf: keyOf, wantN: 3},
		{name: "empty page", respond: Page{Objects: nil, Next: "c0"}, keyOf: keyOf},
		{name: "unknown fields tolerated", respond: `{"objects":[],"next":"c1","more":false,"extra":{"a":1}}`},
		{name: "tampered object", respond: Page{Objects: []Object{own, tampered}, Next: "c2"}, keyOf: keyOf, wantErr: ErrBadSignature, wantIn: tampered.ID},
		{name: "relay forging an origin", respond: Page{Objects: []Object{forged}, Next: "c1"}, keyOf: keyOf, wantErr: ErrBadSignature, wantIn: forged.ID},
		{name: "relayed without KeyOf", respond: Page{Objects: []Object{own, relayed}, Next: "c2"}, wantErr: ErrUnknownPeer, wantIn: relayed.ID},
		{name: "relayed from an unknown origin", respond: Page{Objects: []Object{unknown}, Next: "c1"}, keyOf: keyOf, wantErr: ErrUnknownPeer, wantIn: unknown.ID},
		{name: "relayed with a wrong key", respond: Page{Objects: []Object{relayed}, Next: "c1"}, keyOf: func(string) (ed25519.PublicKey, bool) { return fr.Public(), true }, wantErr: ErrBadSignature, wantIn: relayed.ID},
		{name: "addressed to another node", respond: Page{Objects: []Object{toOther}, Next: "c1"}, wantErr: ErrBadResponse, wantIn: toOther.ID},
		{name: "more objects than asked", respond: Page{Objects: []Object{own, toUs}, Next: "c2"}, limit: 1, wantErr: ErrBadResponse, wantIn: "asked for at most 1"},
		{name: "oversized page", respond: Page{Objects: []Object{own, toUs}, Next: "c2"}, maxPage: 300, wantErr: ErrBadResponse, wantIn: "over 300 bytes"},
		{name: "not json", respond: `<html>`, wantErr: ErrBadResponse},
		{name: "trailing data", respond: `{"objects":[],"next":"c1"} {}`, wantErr: ErrBadResponse},
		{name: "more without next", respond: `{"objects":[],"next":"","more":true}`, wantErr: ErrBadResponse},
		{name: "huge cursor", respond: `{"objects":[],"next":"` + strings.Repeat("c", MaxCursorLen+1) + `"}`, wantErr: ErrBadResponse},
		{name: "invalid object", respond: `{"objects":[{"kind":"Bad Kind","id":"x:1","origin":"` + nl.NodeID + `","created":"2026-01-01T00:00:00Z","body":{},"sig":""}],"next":"c1"}`, wantErr: ErrInvalidObject, wantIn: "x:1"},
	}
	v := &Verifier{Keys: keyDirectory(se), Now: clock}
	peer := newFeedPeer(t, "/nl", v)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, ok := c.respond.(string); ok {
				peer.respond = func(w http.ResponseWriter) { io.WriteString(w, s) }
			} else {
				peer.respond = servePage(t, c.respond)
			}
			cl := &Client{HTTP: peer.srv.Client(), Identity: se, Now: clock, MaxPage: c.maxPage, KeyOf: c.keyOf}
			page, err := cl.Pull(context.Background(), peer.srv.URL+"/nl/", "c0", c.limit, nl.Public())
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("Pull = %v, want %v", err, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantIn) {
					t.Errorf("error %q does not name %q", err, c.wantIn)
				}
				if page.Objects != nil || page.Next != "" {
					t.Errorf("failed Pull returned a page: %+v", page)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if len(page.Objects) != c.wantN {
				t.Errorf("got %d objects, want %d", len(page.Objects), c.wantN)
			}
			if p, ok := c.respond.(Page); ok {
				if page.Next != p.Next || page.More != p.More {
					t.Errorf("next/more = %q/%v, want %q/%v", page.Next, page.More, p.Next, p.More)
				}
				for i := range page.Objects {
					if page.Objects[i].ID != p.Objects[i].ID || string(page.Objects[i].Body) != string(p.Objects[i].Body) {
						t.Errorf("object %d = %s %s, want %s %s", i, page.Objects[i].ID, page.Objects[i].Body, p.Objects[i].ID, p.Objects[i].Body)
					}
				}
			}
			if peer.lastNode != se.NodeID || peer.lastAfter != "c0" {
				t.Errorf("peer saw node %q after %q, want %q after c0", peer.lastNode, peer.lastAfter, se.NodeID)
			}
			wantLimit := ""
			if c.limit > 0 {
				wantLimit = strconv.Itoa(c.limit)
			}
			if peer.lastLimit != wantLimit {
				t.Errorf("peer saw limit %q, want %q", peer.lastLimit, wantLimit)
			}
		})
	}
}

func TestClientPullRefused(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	nl := testIdentity(t, "NL", 2)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	// The peer does not know SE: its verifier refuses, Pull reports the
	// status without the peer's text.
	peer := newFeedPeer(t, "", &Verifier{Keys: keyDirectory(nl), Now: func() time.Time { return now }})
	peer.respond = servePage(t, Page{})
	cl := &Client{HTTP: peer.srv.Client(), Identity: se, Now: func() time.Time { return now }}
	_, err := cl.Pull(context.Background(), peer.srv.URL, "", 0, nl.Public())
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "401") {
		t.Errorf("Pull = %v, want ErrBadResponse with 401", err)
	}

	// SE's clock is 10 minutes off: the peer refuses with a skew error.
	cl.Now = func() time.Time { return now.Add(-10 * time.Minute) }
	peer2 := newFeedPeer(t, "", &Verifier{Keys: keyDirectory(se), Now: func() time.Time { return now }})
	peer2.respond = servePage(t, Page{})
	if _, err := cl.Pull(context.Background(), peer2.srv.URL, "", 0, nl.Public()); !errors.Is(err, ErrBadResponse) {
		t.Errorf("Pull with a skewed clock = %v, want ErrBadResponse", err)
	}

	bad := []struct {
		name, base string
		key        ed25519.PublicKey
		limit      int
		after      string
	}{
		{"relative base", "/feed", nl.Public(), 0, ""},
		{"other scheme", "ftp://127.0.0.1/", nl.Public(), 0, ""},
		{"short key", peer.srv.URL, nl.Public()[:5], 0, ""},
		{"negative limit", peer.srv.URL, nl.Public(), -1, ""},
		{"huge cursor", peer.srv.URL, nl.Public(), 0, strings.Repeat("c", MaxCursorLen+1)},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := cl.Pull(context.Background(), c.base, c.after, c.limit, c.key); err == nil {
				t.Error("Pull succeeded")
			}
		})
	}
}
