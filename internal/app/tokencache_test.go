package app_test

import (
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestTokenCache: a token found is trusted for a few seconds without the
// database, and only that long.
func TestTokenCache(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		a := newApp(t, db, clock)
		u := addUser(t, a, "platform@example.org", "SE-HOTLINE", "analyst")
		tok, err := a.CreateToken(sys(t.Context()), u.Email, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.TokenActor(t.Context(), tok.Secret); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(t.Context(), "DELETE FROM api_tokens"); err != nil {
			t.Fatal(err)
		}
		if actor, err := a.TokenActor(t.Context(), tok.Secret); err != nil || actor.UserID != u.ID {
			t.Errorf("within the cache's lifetime: %+v %v", actor, err)
		}
		clock.Advance(5 * time.Second)
		if _, err := a.TokenActor(t.Context(), tok.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("after the cache's lifetime: %v, want unauthorized", err)
		}
	})
}
