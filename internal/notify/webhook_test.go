package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"alliance/internal/fetch"
)

type received struct {
	header http.Header
	body   []byte
}

// hookSite is a local webhook receiver answering the status named by the
// path ("/s/404"), recording what it received.
type hookSite struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

func newHookSite(t *testing.T) *hookSite {
	h := &hookSite{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		h.mu.Lock()
		h.got = append(h.got, received{r.Header.Clone(), b})
		h.mu.Unlock()
		code, err := strconv.Atoi(r.URL.Path[len("/s/"):])
		if err != nil {
			code = 200
		}
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/s/200")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookSite) received() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// guardedPost is the real SSRF-guarded client, allowed to reach only the
// test site.
func guardedPost(t *testing.T, srv *httptest.Server) *fetch.Fetcher {
	u, _ := url.Parse(srv.URL)
	f := fetch.New(fetch.Options{Timeout: 2 * time.Second, PerHostInterval: -1, AllowAddrs: []netip.AddrPort{netip.MustParseAddrPort(u.Host)}})
	t.Cleanup(f.Close)
	return f
}

var secret = []byte("contact-secret-1")

func webhookNotice(to string) Notice {
	return Notice{
		ID:      "77",
		Channel: ChannelWebhook,
		To:      to,
		Subject: "Removal request XX-1",
		Body:    "Please remove the material at https://files.example.com/x.",
		Secret:  secret,
		Payload: Payload{
			Node: "XX", ItemID: 9, URL: "https://files.example.com/x", Reference: "XX-1",
			Hashes:   []Hash{{Algorithm: "sha256", Value: "00ff"}},
			IssuedAt: fixedNow, Subject: "Removal request XX-1", Text: "Please remove the material at https://files.example.com/x.",
		},
	}
}

func TestWebhookSend(t *testing.T) {
	site := newHookSite(t)
	w := &WebhookSender{Post: guardedPost(t, site.srv).Post, Now: func() time.Time { return fixedNow }, AllowHTTP: true}
	tests := []struct {
		path          string
		wantErr       bool
		wantPermanent bool
	}{
		{path: "/s/200"},
		{path: "/s/202"},
		{path: "/s/204"},
		{path: "/s/400", wantErr: true, wantPermanent: true},
		{path: "/s/401", wantErr: true, wantPermanent: true},
		{path: "/s/410", wantErr: true, wantPermanent: true},
		{path: "/s/408", wantErr: true},
		{path: "/s/429", wantErr: true},
		{path: "/s/500", wantErr: true},
		{path: "/s/503", wantErr: true},
		{path: "/s/302", wantErr: true, wantPermanent: true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			before := len(site.received())
			err := w.Send(context.Background(), webhookNotice(site.srv.URL+tc.path))
			if (err != nil) != tc.wantErr || Permanent(err) != tc.wantPermanent {
				t.Fatalf("Send = %v (permanent %v), want error %v permanent %v", err, Permanent(err), tc.wantErr, tc.wantPermanent)
			}
			got := site.received()
			if len(got) != before+1 {
				t.Fatalf("site got %d requests, want 1 (redirects are not followed)", len(got)-before)
			}
			r := got[len(got)-1]
			if r.header.Get("Content-Type") != "application/json" || r.header.Get("User-Agent") != DefaultUserAgent ||
				r.header.Get(HeaderIdempotencyKey) != "77" || r.header.Get(HeaderTimestamp) != strconv.FormatInt(fixedNow.Unix(), 10) {
				t.Errorf("headers %v", r.header)
			}
			if err := Verify(secret, r.header.Get(HeaderTimestamp), r.header.Get(HeaderSignature), r.body, fixedNow.Add(time.Minute), 0); err != nil {
				t.Errorf("Verify: %v", err)
			}
			var p Payload
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			want := webhookNotice("").Payload
			want.NoticeID = "77"
			if p.NoticeID != want.NoticeID || p.URL != want.URL || !p.IssuedAt.Equal(want.IssuedAt) || len(p.Hashes) != 1 || p.Hashes[0] != want.Hashes[0] || p.Text != want.Text {
				t.Errorf("payload %+v", p)
			}
		})
	}
}

func TestWebhookRefused(t *testing.T) {
	site := newHookSite(t)
	guarded := fetch.New(fetch.Options{Timeout: 2 * time.Second, PerHostInterval: -1}) // guard on, nothing allowed
	t.Cleanup(guarded.Close)
	allowed := guardedPost(t, site.srv)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	downFetcher := guardedPost(t, down)
	down.Close()
	tests := []struct {
		name          string
		w             *WebhookSender
		edit          func(*Notice)
		wantPermanent bool
	}{
		{name: "loopback refused by the guard", w: &WebhookSender{Post: guarded.Post, AllowHTTP: true}, wantPermanent: true},
		{name: "http without AllowHTTP", w: &WebhookSender{Post: allowed.Post}, wantPermanent: true},
		{name: "no secret", w: &WebhookSender{Post: allowed.Post, AllowHTTP: true}, edit: func(n *Notice) { n.Secret = nil }, wantPermanent: true},
		{name: "payload id differs", w: &WebhookSender{Post: allowed.Post, AllowHTTP: true}, edit: func(n *Notice) { n.Payload.NoticeID = "78" }, wantPermanent: true},
		{name: "credentials in url", w: &WebhookSender{Post: allowed.Post, AllowHTTP: true}, edit: func(n *Notice) { n.To = "https://u:p@hook.example.com/" }, wantPermanent: true},
		{name: "not a url", w: &WebhookSender{Post: allowed.Post, AllowHTTP: true}, edit: func(n *Notice) { n.To = "mailto:abuse@example.com" }, wantPermanent: true},
		{name: "payload too large", w: &WebhookSender{Post: allowed.Post, AllowHTTP: true}, edit: func(n *Notice) {
			for range 3000 {
				n.Payload.Hashes = append(n.Payload.Hashes, Hash{Algorithm: "sha256", Value: "0000000000000000000000000000000000000000000000000000000000000000"})
			}
		}, wantPermanent: true},
		{name: "no Post function", w: &WebhookSender{AllowHTTP: true}},
		{name: "site down is transient", w: &WebhookSender{Post: downFetcher.Post, AllowHTTP: true}, edit: func(n *Notice) { n.To = downURL + "/s/200" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := webhookNotice(site.srv.URL + "/s/200")
			if tc.edit != nil {
				tc.edit(&n)
			}
			err := tc.w.Send(context.Background(), n)
			if err == nil || Permanent(err) != tc.wantPermanent || Unconfirmed(err) {
				t.Fatalf("Send = %v (permanent %v, unconfirmed %v), want an error, permanent %v, not unconfirmed",
					err, Permanent(err), Unconfirmed(err), tc.wantPermanent)
			}
		})
	}
	if n := len(site.received()); n != 0 {
		t.Fatalf("site got %d requests", n)
	}
}

// TestWebhookNoAnswer checks that a webhook that received the request and
// closed the connection without answering is reported unconfirmed.
func TestWebhookNoAnswer(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	w := &WebhookSender{Post: guardedPost(t, srv).Post, AllowHTTP: true}
	err := w.Send(context.Background(), webhookNotice(srv.URL+"/hook"))
	if err == nil || !Unconfirmed(err) || Permanent(err) {
		t.Fatalf("Send = %v (unconfirmed %v), want an unconfirmed error", err, Unconfirmed(err))
	}
	if got.Load() < 1 {
		t.Fatal("the webhook received nothing")
	}
}

func TestSignVerify(t *testing.T) {
	// Fixed vector, computed independently:
	// HMAC-SHA256("secret", `1700000000.{"a":1}`).
	const vector = "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
	body := []byte(`{"a":1}`)
	if got := Sign([]byte("secret"), "1700000000", body); got != vector {
		t.Fatalf("Sign = %s, want %s", got, vector)
	}
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name      string
		secret    string
		ts, sig   string
		body      string
		now       time.Time
		skew      time.Duration
		wantError error
	}{
		{name: "valid with prefix", secret: "secret", ts: "1700000000", sig: "sha256=" + vector, body: `{"a":1}`, now: now},
		{name: "valid without prefix", secret: "secret", ts: "1700000000", sig: vector, body: `{"a":1}`, now: now.Add(4 * time.Minute)},
		{name: "tampered body", secret: "secret", ts: "1700000000", sig: "sha256=" + vector, body: `{"a":2}`, now: now, wantError: ErrBadSignature},
		{name: "wrong secret", secret: "other", ts: "1700000000", sig: "sha256=" + vector, body: `{"a":1}`, now: now, wantError: ErrBadSignature},
		{name: "timestamp changed", secret: "secret", ts: "1700000001", sig: "sha256=" + vector, body: `{"a":1}`, now: now, wantError: ErrBadSignature},
		{name: "malformed signature", secret: "secret", ts: "1700000000", sig: "sha256=zz", body: `{"a":1}`, now: now, wantError: ErrBadSignature},
		{name: "stale", secret: "secret", ts: "1700000000", sig: vector, body: `{"a":1}`, now: now.Add(6 * time.Minute), wantError: ErrTimestamp},
		{name: "from the future", secret: "secret", ts: "1700000000", sig: vector, body: `{"a":1}`, now: now.Add(-time.Hour), skew: time.Minute, wantError: ErrTimestamp},
		{name: "no timestamp", secret: "secret", ts: "", sig: vector, body: `{"a":1}`, now: now, wantError: ErrTimestamp},
		{name: "bad timestamp", secret: "secret", ts: "soon", sig: vector, body: `{"a":1}`, now: now, wantError: ErrTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify([]byte(tc.secret), tc.ts, tc.sig, []byte(tc.body), tc.now, tc.skew)
			if !errors.Is(err, tc.wantError) || (tc.wantError == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantError)
			}
		})
	}
}

// TestWebhookHandover checks that a webhook notice's Handover runs before
// the request leaves, and that its error abandons the delivery.
func TestWebhookHandover(t *testing.T) {
	site := newHookSite(t)
	w := &WebhookSender{Post: guardedPost(t, site.srv).Post, AllowHTTP: true}
	n := webhookNotice(site.srv.URL + "/s/200")
	handed := 0
	n.Handover = func() error {
		handed++
		if got := len(site.received()); got != 0 {
			t.Errorf("the site had %d requests at the handover", got)
		}
		return nil
	}
	if err := w.Send(context.Background(), n); err != nil || handed != 1 || len(site.received()) != 1 {
		t.Fatalf("Send = %v, handovers %d, requests %d: want nil, 1, 1", err, handed, len(site.received()))
	}
	stop := errors.New("claim lapsed")
	n.Handover = func() error { return stop }
	if err := w.Send(context.Background(), n); !errors.Is(err, stop) || Unconfirmed(err) {
		t.Fatalf("Send with a failing handover = %v, want its error", err)
	}
	if got := len(site.received()); got != 1 {
		t.Fatalf("the site got %d requests, want still 1", got)
	}
}
