package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

const password = "correct horse battery"

func sys(ctx context.Context) context.Context {
	return alliance.NewContextWithActor(ctx, alliance.SystemActor)
}

func newApp(t *testing.T, db *store.DB, clock *testutil.FixedClock) *app.App {
	db.SetClock(clock.Now)
	return app.New(app.Options{DB: db, HomeOrg: "SE-HOTLINE", Now: clock.Now, SessionTTL: time.Hour})
}

func addUser(t *testing.T, a *app.App, email, org, role string) alliance.User {
	t.Helper()
	u, err := a.AddUser(sys(t.Context()), app.NewUser{Email: email, OrgCode: org, Role: role, Password: password})
	if err != nil {
		t.Fatalf("add user %s: %v", email, err)
	}
	return u
}

func auditActions(t *testing.T, db *store.DB) []string {
	t.Helper()
	var out []string
	err := db.InReadTx(t.Context(), func(tx *store.Tx) error {
		evs, err := tx.AuditEvents(t.Context(), "", 0, 1000)
		for _, e := range evs {
			out = append(out, fmt.Sprintf("%s %s %s", e.ActorLabel, e.Action, e.ObjectType))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAddUserAccess(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db, testutil.NewFixedClock(testutil.Epoch))
		admin := addUser(t, a, "admin@se.example.org", "SE-HOTLINE", "admin")
		analyst := addUser(t, a, "analyst@se.example.org", "SE-HOTLINE", "analyst")
		tests := []struct {
			name  string
			actor alliance.Actor
			org   string
			code  string
		}{
			{"system to any org", alliance.SystemActor, "NL-POLICE", ""},
			{"admin to own org", admin.Actor(), "SE-HOTLINE", ""},
			{"admin to another org", admin.Actor(), "NL-HOTLINE", alliance.EFORBIDDEN},
			{"analyst", analyst.Actor(), "SE-HOTLINE", alliance.EFORBIDDEN},
			{"anonymous", alliance.Actor{}, "SE-HOTLINE", alliance.EUNAUTHORIZED},
			{"unknown org", alliance.SystemActor, "XX-HOTLINE", alliance.EINVALID},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := alliance.NewContextWithActor(t.Context(), tt.actor)
				_, err := a.AddUser(ctx, app.NewUser{Email: fmt.Sprintf("u%d@example.org", i), OrgCode: tt.org, Role: "analyst"})
				if got := alliance.ErrorCode(err); got != tt.code {
					t.Fatalf("error code %q (%v), want %q", got, err, tt.code)
				}
			})
		}
		// Admins give their organisation kind's roles; the operator any.
		adminCtx := alliance.NewContextWithActor(t.Context(), admin.Actor())
		if _, err := a.AddUser(adminCtx, app.NewUser{Email: "cop@example.org", OrgCode: "SE-HOTLINE", Role: "police"}); alliance.ErrorField(err) != "role" {
			t.Errorf("an admin adding a police user to a hotline: %v, want an error on field role", err)
		}
		if _, err := a.AddUser(sys(t.Context()), app.NewUser{Email: "cop@example.org", OrgCode: "SE-HOTLINE", Role: "police"}); err != nil {
			t.Errorf("the operator adding a police user to a hotline: %v", err)
		}
		_, err := a.AddUser(sys(t.Context()), app.NewUser{Email: "x@example.org", OrgCode: "SE-HOTLINE", Role: "analyst", Password: "short"})
		if alliance.ErrorField(err) != "password" {
			t.Errorf("short password: %v, want an error on field password", err)
		}
		_, err = a.AddUser(sys(t.Context()), app.NewUser{Email: "ADMIN@se.example.org", OrgCode: "SE-HOTLINE", Role: "analyst"})
		if alliance.ErrorCode(err) != alliance.ECONFLICT || !strings.Contains(alliance.ErrorMessage(err), "already exists") {
			t.Errorf("duplicate e-mail: %v", err)
		}
		got := auditActions(t, db)
		want := []string{"system user.create user", "system user.create user", "system user.create user", "admin@se.example.org user.create user",
			"system user.create user"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestLoginSessionLogout(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		a := newApp(t, db, clock)
		u := addUser(t, a, "police@nl.example.org", "NL-POLICE", "police")

		res, err := a.Login(t.Context(), "Police@NL.example.org", password, "192.0.2.1")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		actor, sess, err := a.SessionActor(t.Context(), res.Secret)
		if err != nil || actor.UserID != u.ID || actor.OrgCode != "NL-POLICE" || sess.CSRF == "" {
			t.Fatalf("session actor %+v %v", actor, err)
		}
		if _, err := a.Login(t.Context(), u.Email, "wrong password!", "192.0.2.1"); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := a.Login(t.Context(), "nobody@example.org", password, "192.0.2.1"); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED ||
			alliance.ErrorMessage(err) != "Wrong e-mail address or password." {
			t.Errorf("unknown e-mail must fail like a wrong password: %v", err)
		}

		// The session expires after its TTL.
		clock.Advance(time.Hour + time.Second)
		if _, _, err := a.SessionActor(t.Context(), res.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("expired session: %v", err)
		}
		res, err = a.Login(t.Context(), u.Email, password, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Logout(alliance.NewContextWithActor(t.Context(), u.Actor()), res.Secret); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.SessionActor(t.Context(), res.Secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("session after logout: %v", err)
		}
		if err := a.Housekeeping(t.Context()); err != nil {
			t.Errorf("housekeeping: %v", err)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		a := newApp(t, db, clock)
		u := addUser(t, a, "analyst@se.example.org", "SE-HOTLINE", "analyst")
		for i := range 10 {
			if _, err := a.Login(t.Context(), u.Email, "wrong password!", "198.51.100.7"); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		// Even the right password is refused while the window lasts.
		if _, err := a.Login(t.Context(), u.Email, password, "203.0.113.9"); alliance.ErrorCode(err) != alliance.ERATELIMIT {
			t.Fatalf("11th attempt: %v, want rate limited", err)
		}
		clock.Advance(16 * time.Minute)
		if _, err := a.Login(t.Context(), u.Email, password, "203.0.113.9"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

// TestChangePasswordRules checks who may change a password and that wrong
// current passwords count towards the login limit, and the change audited.
func TestChangePasswordRules(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		a := newApp(t, db, clock)
		u := addUser(t, a, "analyst@se.example.org", "SE-HOTLINE", "analyst")
		res, err := a.Login(t.Context(), u.Email, password, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		ctx := alliance.NewContextWithActor(t.Context(), u.Actor())
		const next = "another long passphrase"
		if err := a.ChangePassword(sys(t.Context()), res.Secret, password, next); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("the system actor: %v, want forbidden", err)
		}
		tokenActor := u.Actor()
		tokenActor.TokenID = 1
		if err := a.ChangePassword(alliance.NewContextWithActor(t.Context(), tokenActor), "", password, next); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("an API token: %v, want forbidden", err)
		}
		for i := range 10 {
			if err := a.ChangePassword(ctx, res.Secret, "wrong password!", next); alliance.ErrorField(err) != "current" {
				t.Fatalf("attempt %d: %v, want a wrong current password", i, err)
			}
		}
		if err := a.ChangePassword(ctx, res.Secret, password, next); alliance.ErrorCode(err) != alliance.ERATELIMIT {
			t.Fatalf("11th attempt: %v, want rate limited", err)
		}
		clock.Advance(16 * time.Minute)
		if err := a.ChangePassword(ctx, res.Secret, password, next); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		if got := auditActions(t, db); !slices.Contains(got, "analyst@se.example.org user.password user") {
			t.Errorf("audit %v lacks user.password", got)
		}
		if _, _, err := a.SessionActor(t.Context(), res.Secret); err != nil {
			t.Errorf("the session that changed the password: %v, want it kept", err)
		}
	})
}

func TestTokens(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db, testutil.NewFixedClock(testutil.Epoch))
		u := addUser(t, a, "analyst@se.example.org", "SE-HOTLINE", "analyst")
		other := addUser(t, a, "other@se.example.org", "SE-HOTLINE", "analyst")

		tok, err := a.CreateToken(sys(t.Context()), u.Email, "ci")
		if err != nil || !strings.HasPrefix(tok.Secret, "alt_") {
			t.Fatalf("create token: %+v %v", tok, err)
		}
		actor, err := a.TokenActor(t.Context(), tok.Secret)
		if err != nil || actor.UserID != u.ID || actor.TokenID != tok.Token.ID {
			t.Fatalf("token actor %+v %v", actor, err)
		}
		for _, bad := range []string{"", "alt_", tok.Secret + "x", "als_" + tok.Secret[4:], strings.Repeat("a", 1000)} {
			if _, err := a.TokenActor(t.Context(), bad); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
				t.Errorf("token %.20q: %v, want unauthorized", bad, err)
			}
		}
		// Users create tokens for themselves only.
		ctx := alliance.NewContextWithActor(t.Context(), other.Actor())
		if _, err := a.CreateToken(ctx, u.Email, ""); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("token for someone else: %v", err)
		}
		if _, err := a.CreateToken(ctx, other.Email, ""); err != nil {
			t.Errorf("token for oneself: %v", err)
		}
		me, err := a.Me(alliance.NewContextWithActor(t.Context(), actor))
		if err != nil || me.Organisation.Code != "SE-HOTLINE" || me.User.Email != u.Email {
			t.Errorf("me: %+v %v", me, err)
		}
	})
}

func TestReadsNeedPermissions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db, testutil.NewFixedClock(testutil.Epoch))
		auditor := addUser(t, a, "auditor@se.example.org", "SE-HOTLINE", "auditor")
		analyst := addUser(t, a, "analyst@nl.example.org", "NL-HOTLINE", "analyst")
		anon := t.Context()

		if cs, err := a.Countries(anon); err != nil || len(cs) != 249 {
			t.Errorf("countries are public: %d, %v", len(cs), err)
		}
		if _, err := a.Organisations(anon); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("organisations anonymous: %v", err)
		}
		if _, err := a.VerifyAudit(alliance.NewContextWithActor(anon, analyst.Actor())); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("analyst verifying audit: %v", err)
		}
		v, err := a.VerifyAudit(alliance.NewContextWithActor(anon, auditor.Actor()))
		if err != nil || !v.OK || v.Rows != 2 {
			t.Errorf("auditor verify: %+v %v", v, err)
		}
		// An auditor sees the audit rows of their own organisation only.
		evs, err := a.AuditEvents(alliance.NewContextWithActor(anon, auditor.Actor()), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.OrgCode != "SE-HOTLINE" {
				t.Errorf("auditor of SE-HOTLINE sees a row of %q", e.OrgCode)
			}
		}
		if err := a.CheckHomeOrg(anon); err != nil {
			t.Errorf("home org SE-HOTLINE: %v", err)
		}
		bad := app.New(app.Options{DB: db, HomeOrg: "XX-HOTLINE"})
		if err := bad.CheckHomeOrg(anon); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("unknown home org: %v", err)
		}
	})
}
