package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/federation"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestFederationReplay sends a peer's signed feed request to one server
// process of a node and replays it to another: the nonce is shared through
// the database, so the replay is refused. Unsigned and unknown requests
// are refused too.
func TestFederationReplay(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := app.New(app.Options{DB: db, HomeOrg: "SE-HOTLINE"})
		peer, err := federation.NewIdentity("NL")
		if err != nil {
			t.Fatal(err)
		}
		ctx := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		if _, err := a.PutPeer(ctx, app.PeerInput{URL: "https://nl.example.test", Key: federation.EncodePublicKey(peer.Public()), Country: "NL"}); err != nil {
			t.Fatal(err)
		}
		one, two := httpapi.NewFederation(a, nil), httpapi.NewFederation(a, nil) // two server processes
		req := httptest.NewRequest(http.MethodGet, "http://se.example.test"+federation.FeedPath+"?after=&limit=10", nil)
		if err := federation.SignRequest(req, nil, peer, time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		one.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("signed request: %d %s", w.Code, w.Body)
		}
		replay := req.Clone(t.Context())
		w = httptest.NewRecorder()
		two.ServeHTTP(w, replay)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("replay to another process: %d %s, want 401", w.Code, w.Body)
		}
		stranger, _ := federation.NewIdentity("DE")
		req = httptest.NewRequest(http.MethodGet, "http://se.example.test"+federation.FeedPath, nil)
		if err := federation.SignRequest(req, nil, stranger, time.Now()); err != nil {
			t.Fatal(err)
		}
		w = httptest.NewRecorder()
		one.ServeHTTP(w, req)
		if w.Code != http.StatusForbidden {
			t.Errorf("unknown node: %d, want 403", w.Code)
		}
		w = httptest.NewRecorder()
		one.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://se.example.test"+federation.FeedPath, nil))
		if w.Code != http.StatusUnauthorized {
			t.Errorf("unsigned request: %d, want 401", w.Code)
		}
	})
}
