package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestUsersDisableEnable checks the admin's buttons on the home page: an
// analyst disabled there is signed out at once and cannot sign in, and is
// let back in by Enable; an admin cannot disable themselves, nor a user of
// another organisation.
func TestUsersDisableEnable(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		admin := e.addUser("admin@se-hotline.example", "SE-HOTLINE", alliance.RoleAdmin)
		analyst := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		nlAdmin := e.addUser("admin@nl-hotline.example", "NL-HOTLINE", alliance.RoleAdmin)
		ac := e.client()
		ac.login(analyst.Email)
		wantStatus(t, ac.get("/queue"), http.StatusOK)

		c := e.client()
		c.login(admin.Email)
		home := c.get("/?lang=en")
		wantContains(t, home.Body, `action="/users/disable"`, `aria-label="Disable analyst@se-hotline.example"`, "<td>You</td>")
		token := csrfAfter(t, home.Body, `action="/users/disable"`)

		res := c.post("/users/disable", url.Values{"csrf": {token}, "email": {analyst.Email}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?user=disabled#users" {
			t.Fatalf("disable: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		home = c.get("/?user=disabled")
		wantContains(t, home.Body, `id="users-done"`, "The user is disabled", `aria-label="Enable analyst@se-hotline.example"`)
		// The analyst's session ends at once, and they cannot sign in.
		if r := ac.get("/queue"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("the disabled analyst's session: %d %s, want sent to /login", r.StatusCode, r.Header.Get("Location"))
		}
		lc := e.client()
		form := lc.get("/login")
		if r := lc.post("/login", url.Values{"csrf": {csrf(t, form.Body)}, "email": {analyst.Email}, "password": {testPassword}}); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("a disabled user's login: %d, want 401", r.StatusCode)
		}

		res = c.post("/users/enable", url.Values{"csrf": {token}, "email": {analyst.Email}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?user=enabled#users" {
			t.Fatalf("enable: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		ac = e.client()
		ac.login(analyst.Email)
		wantStatus(t, ac.get("/queue"), http.StatusOK)

		// Not oneself; not another organisation's user; not without the token.
		res = c.post("/users/disable", url.Values{"csrf": {token}, "email": {admin.Email}})
		wantStatus(t, res, http.StatusBadRequest)
		wantContains(t, res.Body, `id="users-alert"`, "You cannot disable or enable your own account.")
		wantStatus(t, c.post("/users/disable", url.Values{"csrf": {token}, "email": {nlAdmin.Email}}), http.StatusForbidden)
		wantStatus(t, c.post("/users/disable", url.Values{"csrf": {"forged"}, "email": {analyst.Email}}), http.StatusForbidden)
		wantStatus(t, ac.get("/queue"), http.StatusOK)
	})
}

// TestChangePassword checks the password page: the new password works and
// the old one not, other sessions end while this one stays, and refusals
// (wrong current password, mismatch, too short, the same) come back by
// their fields.
func TestChangePassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		u := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		other := e.client()
		other.login(u.Email)
		c := e.client()
		c.login(u.Email)
		page := c.get("/account/password?lang=en")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, "Change your password", `autocomplete="current-password"`, `minlength="12"`)
		token := csrfAfter(t, page.Body, `id="password-form"`)
		const next = "a new passphrase for the test"
		for _, tc := range []struct {
			current, next, confirm, want string
		}{
			{"wrong password here", next, next, `id="pw-current-error"`},
			{testPassword, next, next + "x", `id="pw-confirm-error"`},
			{testPassword, "short", "short", `id="pw-new-error"`},
			{testPassword, testPassword, testPassword, "The new password is the same as the current one."},
		} {
			res := c.post("/account/password", url.Values{"csrf": {token}, "current": {tc.current}, "new": {tc.next}, "confirm": {tc.confirm}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, tc.want, `aria-invalid="true"`)
		}
		res := c.post("/account/password", url.Values{"csrf": {token}, "current": {testPassword}, "new": {next}, "confirm": {next}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/password?changed=1" {
			t.Fatalf("change: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		wantContains(t, c.get("/account/password?changed=1").Body, `id="password-changed"`)
		wantStatus(t, c.get("/queue"), http.StatusOK) // this session stays
		if r := other.get("/queue"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("the other session: %d %s, want sent to /login", r.StatusCode, r.Header.Get("Location"))
		}
		login := func(pw string) int {
			lc := e.client()
			form := lc.get("/login")
			return lc.post("/login", url.Values{"csrf": {csrf(t, form.Body)}, "email": {u.Email}, "password": {pw}}).StatusCode
		}
		if got := login(testPassword); got != http.StatusUnauthorized {
			t.Errorf("login with the old password: %d, want 401", got)
		}
		if got := login(next); got != http.StatusSeeOther {
			t.Errorf("login with the new password: %d, want 303", got)
		}
	})
}

// TestAddUserForm checks the admin's form: the role list is the
// organisation kind's, refusals come back by their field with what was
// typed (never the password), and the added user signs in.
func TestAddUserForm(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		admin := e.addUser("admin@se-hotline.example", "SE-HOTLINE", alliance.RoleAdmin)
		c := e.client()
		c.login(admin.Email)
		home := c.get("/?lang=en")
		wantContains(t, home.Body, `id="add-user"`, `<option value="analyst">Analyst</option>`, `<option value="auditor">`)
		wantLacks(t, home.Body, `<option value="police">`, `<option value="secretariat">`)
		token := csrfAfter(t, home.Body, `id="add-user"`)
		const pw = "a first passphrase to change"
		form := func(email, role, password string) url.Values {
			return url.Values{"csrf": {token}, "email": {email}, "name": {"New Analyst"}, "role": {role}, "password": {password}}
		}
		for _, tc := range []struct {
			form   url.Values
			status int
			want   string
		}{
			{form("new@se-hotline.example", "police", pw), http.StatusBadRequest, `id="nu-role-error"`},
			{form("new@se-hotline.example", "analyst", ""), http.StatusBadRequest, `id="nu-password-error"`},
			{form("new@se-hotline.example", "analyst", "short"), http.StatusBadRequest, `id="nu-password-error"`},
			{form("not an address", "analyst", pw), http.StatusBadRequest, `id="nu-email-error"`},
			{form(admin.Email, "analyst", pw), http.StatusConflict, `id="nu-email-error"`},
		} {
			res := c.post("/users", tc.form)
			wantStatus(t, res, tc.status)
			wantContains(t, res.Body, tc.want, `value="New Analyst"`)
			if strings.Contains(res.Body, pw) {
				t.Errorf("the refused form shows the password")
			}
		}
		res := c.post("/users", form("new@se-hotline.example", "analyst", pw))
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?user=added#users" {
			t.Fatalf("add: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		wantContains(t, c.get("/?user=added").Body, `id="users-done"`, "<th scope=\"row\">new@se-hotline.example</th>")
		nc := e.client()
		f := nc.get("/login")
		if got := nc.post("/login", url.Values{"csrf": {csrf(t, f.Body)}, "email": {"new@se-hotline.example"}, "password": {pw}}).StatusCode; got != http.StatusSeeOther {
			t.Errorf("the new user's login: %d, want 303", got)
		}
	})
}

// TestTokensPage checks the user's API tokens page: a token made there is
// shown once and works, is listed without its secret, and stops working
// when revoked; refusals come back with the reason.
func TestTokensPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		u := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		c := e.client()
		c.login(u.Email)
		wantContains(t, c.get("/?lang=en").Body, `<a href="/account/tokens">API tokens</a>`)
		page := c.get("/account/tokens")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, `id="tokens-none"`)
		token := csrfAfter(t, page.Body, `id="token-new"`)

		res := c.post("/account/tokens", url.Values{"csrf": {token}, "name": {"nightly export"}})
		wantStatus(t, res, http.StatusCreated)
		m := regexp.MustCompile(`<code class="url" id="token-secret">([^<]+)</code>`).FindStringSubmatch(res.Body)
		if m == nil {
			t.Fatalf("no secret on the answer:\n%s", res.Body)
		}
		secret := html.UnescapeString(m[1])
		if _, err := e.app.TokenActor(t.Context(), secret); err != nil {
			t.Fatalf("the new token: %v", err)
		}
		list := c.get("/account/tokens")
		wantContains(t, list.Body, `<th scope="row">nightly export</th>`)
		if strings.Contains(list.Body, secret) {
			t.Error("the list shows the secret again")
		}
		id := regexp.MustCompile(`name="id" value="(\d+)"`).FindStringSubmatch(list.Body)
		if id == nil {
			t.Fatal("no revoke button")
		}

		res = c.post("/account/tokens", url.Values{"csrf": {token}, "name": {strings.Repeat("x", 101)}})
		wantStatus(t, res, http.StatusBadRequest)
		wantContains(t, res.Body, `id="token-name-error"`)
		res = c.post("/account/tokens/revoke", url.Values{"csrf": {token}, "id": {"999999"}})
		wantStatus(t, res, http.StatusBadRequest)
		wantContains(t, res.Body, `id="tokens-alert"`)

		res = c.post("/account/tokens/revoke", url.Values{"csrf": {token}, "id": {id[1]}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/tokens?revoked=1" {
			t.Fatalf("revoke: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if _, err := e.app.TokenActor(t.Context(), secret); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("the revoked token: %v, want refused", err)
		}
		wantContains(t, c.get("/account/tokens?revoked=1").Body, `id="token-revoked"`, `id="tokens-none"`)
	})
}
