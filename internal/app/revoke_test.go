package app_test

import (
	"slices"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestRevokeTokenAndDisableUser: a revoked token and a disabled user's
// tokens and sessions stop working at once in the process that acted,
// only the right people may do it, and each act is audited.
func TestRevokeTokenAndDisableUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db, testutil.NewFixedClock(testutil.Epoch))
		admin := addUser(t, a, "admin@se.example.org", "SE-HOTLINE", "admin")
		u := addUser(t, a, "analyst@se.example.org", "SE-HOTLINE", "analyst")
		peer := addUser(t, a, "peer@se.example.org", "SE-HOTLINE", "analyst")
		foreignAdmin := addUser(t, a, "admin@no.example.org", "NO-POLICE", "admin")

		t1, err := a.CreateToken(sys(t.Context()), u.Email, "one")
		if err != nil {
			t.Fatal(err)
		}
		t2, err := a.CreateToken(sys(t.Context()), u.Email, "two")
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []app.NewToken{t1, t2} {
			if _, err := a.TokenActor(t.Context(), tok.Secret); err != nil { // now cached
				t.Fatal(err)
			}
		}

		userCtx := alliance.NewContextWithActor(t.Context(), u.Actor())
		toks, err := a.ListTokens(userCtx, u.Email)
		if err != nil || len(toks) != 2 || toks[0].Name != "one" || toks[1].Name != "two" || toks[0].Hash != nil {
			t.Fatalf("list own tokens: %+v %v", toks, err)
		}
		for _, who := range []alliance.User{peer, foreignAdmin} {
			ctx := alliance.NewContextWithActor(t.Context(), who.Actor())
			if _, err := a.ListTokens(ctx, u.Email); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
				t.Errorf("%s lists another's tokens: %v", who.Email, err)
			}
			if err := a.RevokeToken(ctx, u.Email, t1.Token.ID); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
				t.Errorf("%s revokes another's token: %v", who.Email, err)
			}
			if err := a.SetUserDisabled(ctx, u.Email, true); alliance.ErrorCode(err) == "" {
				t.Errorf("%s disables %s: no error", who.Email, u.Email)
			}
		}
		for _, tt := range []struct {
			email string
			id    int64
			field string
		}{{u.Email, 0, "id"}, {u.Email, t1.Token.ID + 100, "id"}, {"nobody@example.org", t1.Token.ID, "email"}, {"not an address", 1, "email"}} {
			err := a.RevokeToken(userCtx, tt.email, tt.id)
			if alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != tt.field {
				t.Errorf("revoke %q %d: %v, want an error on %s", tt.email, tt.id, err, tt.field)
			}
		}

		// The user revokes one token: it stops at once, the other keeps working.
		if err := a.RevokeToken(userCtx, u.Email, t1.Token.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.TokenActor(t.Context(), t1.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("revoked token: %v, want unauthorized", err)
		}
		if _, err := a.TokenActor(t.Context(), t2.Secret); err != nil {
			t.Errorf("other token: %v", err)
		}
		if err := a.RevokeToken(userCtx, u.Email, t1.Token.ID); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("revoking twice: %v", err)
		}

		// The admin disables the user: token and session stop; enabling
		// brings the token back (sessions stay ended).
		login, err := a.Login(t.Context(), u.Email, password, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		adminCtx := alliance.NewContextWithActor(t.Context(), admin.Actor())
		if err := a.SetUserDisabled(adminCtx, admin.Email, true); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("admin disables itself: %v", err)
		}
		if err := a.SetUserDisabled(adminCtx, u.Email, true); err != nil {
			t.Fatal(err)
		}
		if _, err := a.TokenActor(t.Context(), t2.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("token of a disabled user: %v", err)
		}
		if _, _, err := a.SessionActor(t.Context(), login.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("session of a disabled user: %v", err)
		}
		if _, err := a.Login(t.Context(), u.Email, password, "192.0.2.1"); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("login of a disabled user: %v", err)
		}
		if err := a.SetUserDisabled(sys(t.Context()), u.Email, false); err != nil {
			t.Fatal(err)
		}
		if _, err := a.TokenActor(t.Context(), t2.Secret); err != nil {
			t.Errorf("token after enabling: %v", err)
		}
		if _, _, err := a.SessionActor(t.Context(), login.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("a session ended by disabling came back: %v", err)
		}

		acts := auditActions(t, db)
		for _, want := range []string{"analyst@se.example.org token.revoke token", "admin@se.example.org user.disable user", "system user.enable user"} {
			if !slices.Contains(acts, want) {
				t.Errorf("audit log lacks %q: %q", want, acts)
			}
		}
	})
}
