package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/web"
)

func TestLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		const email = "analyst@hotline.example"
		e.addUser(email, "SE-HOTLINE", alliance.RoleAnalyst)

		t.Run("success sets the session cookie and redirects home", func(t *testing.T) {
			c := e.client()
			form := c.get("/login")
			wantStatus(t, form, http.StatusOK)
			wantContains(t, form.Body, `<label for="email">`, `<label for="password">`, `autocomplete="current-password"`)
			if ck := form.cookie("__Host-alliance_login"); ck == nil || !ck.Secure || !ck.HttpOnly {
				t.Fatalf("login form cookie = %v, want a Secure, HttpOnly __Host- cookie", ck)
			}
			res := c.post("/login", url.Values{"csrf": {csrf(t, form.Body)}, "email": {"Analyst@Hotline.example"}, "password": {testPassword}})
			wantStatus(t, res, http.StatusSeeOther)
			if loc := res.Header.Get("Location"); loc != "/" {
				t.Errorf("Location = %q, want /", loc)
			}
			ck := res.cookie(web.SessionCookie)
			if ck == nil {
				t.Fatalf("no %s cookie in %v", web.SessionCookie, res.Header["Set-Cookie"])
			}
			if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Expires.IsZero() {
				t.Errorf("session cookie = %+v; want Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, an expiry", ck)
			}
			if !strings.HasPrefix(ck.Value, "als_") {
				t.Errorf("session cookie value %q is not a session secret", ck.Value)
			}
			home := c.get("/")
			wantStatus(t, home, http.StatusOK)
			wantContains(t, home.Body, email, `action="/logout"`)
			// A signed-in user asking for the form goes home.
			wantStatus(t, c.get("/login"), http.StatusSeeOther)
		})

		t.Run("wrong password shows an error and sets no cookie", func(t *testing.T) {
			c := e.client()
			form := c.get("/login")
			res := c.post("/login", url.Values{"csrf": {csrf(t, form.Body)}, "email": {email}, "password": {"not the password at all"}})
			wantStatus(t, res, http.StatusUnauthorized)
			wantContains(t, res.Body, "Wrong e-mail address or password.", `role="alert"`, `value="`+email+`"`)
			if ck := res.cookie(web.SessionCookie); ck != nil {
				t.Errorf("failed login set a session cookie: %v", ck)
			}
			if strings.Contains(res.Body, "not the password at all") {
				t.Error("the page echoes the password")
			}
		})

		t.Run("unknown e-mail gets the same answer", func(t *testing.T) {
			c := e.client()
			form := c.get("/login")
			res := c.post("/login", url.Values{"csrf": {csrf(t, form.Body)}, "email": {"nobody@hotline.example"}, "password": {testPassword}})
			wantStatus(t, res, http.StatusUnauthorized)
			wantContains(t, res.Body, "Wrong e-mail address or password.")
		})

		t.Run("CSRF mismatch is refused", func(t *testing.T) {
			c := e.client()
			form := c.get("/login")
			token := csrf(t, form.Body)
			good := url.Values{"email": {email}, "password": {testPassword}}
			// Change the first character, whatever it is: prefixing a fixed
			// one would leave the token valid whenever it already started so.
			wrong := string(token[0]^1) + token[1:]
			for name, token := range map[string]string{"missing": "", "wrong": wrong, "other purpose": "AAAA"} {
				v := url.Values{"csrf": {token}}
				for k, vs := range good {
					v[k] = vs
				}
				res := c.post("/login", v)
				if res.StatusCode != http.StatusForbidden || res.cookie(web.SessionCookie) != nil {
					t.Errorf("%s token: status %d, cookie %v; want 403 and no cookie", name, res.StatusCode, res.cookie(web.SessionCookie))
				}
			}
			// A token without its cookie (a form posted from another site) fails too.
			other := e.client()
			res := other.post("/login", url.Values{"csrf": {token}, "email": {email}, "password": {testPassword}})
			wantStatus(t, res, http.StatusForbidden)
			wantContains(t, res.Body, "Form expired")
		})

		t.Run("logout clears the session", func(t *testing.T) {
			c := e.client()
			c.login(email)
			secret := c.cookies[web.SessionCookie].Value
			home := c.get("/")
			token := csrf(t, home.Body)

			// A wrong token leaves the session alone.
			wantStatus(t, c.post("/logout", url.Values{"csrf": {"forged"}}), http.StatusForbidden)
			wantContains(t, c.get("/").Body, email)
			// And no token at all.
			wantStatus(t, c.post("/logout", url.Values{}), http.StatusForbidden)

			res := c.post("/logout", url.Values{"csrf": {token}})
			wantStatus(t, res, http.StatusSeeOther)
			if ck := res.cookie(web.SessionCookie); ck == nil || ck.MaxAge >= 0 {
				t.Fatalf("logout did not clear the cookie: %v", ck)
			}
			// The old secret no longer works, even if a browser kept it.
			c.cookies[web.SessionCookie] = &http.Cookie{Name: web.SessionCookie, Value: secret}
			after := c.get("/")
			wantStatus(t, after, http.StatusOK)
			wantContains(t, after.Body, `href="/login"`)
			if strings.Contains(after.Body, email) {
				t.Error("home page still shows the user after logout")
			}
			if ck := after.cookie(web.SessionCookie); ck == nil || ck.MaxAge >= 0 {
				t.Errorf("a dead session cookie was not cleared: %v", ck)
			}
		})
	})
}

func TestLoginRateLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		const email = "police@police.example"
		e.addUser(email, "SE-POLICE", alliance.RolePolice)
		c := e.client()
		var res response
		for range 11 {
			form := c.get("/login")
			res = c.post("/login", url.Values{"csrf": {csrf(t, form.Body)}, "email": {email}, "password": {"wrong password, again"}})
		}
		wantStatus(t, res, http.StatusTooManyRequests)
		wantContains(t, res.Body, "Too many failed logins.")
	})
}

func TestInsecureCookies(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), false)
	e.addUser("admin@hotline.example", "SE-HOTLINE", alliance.RoleAdmin)
	c := e.client()
	res := c.login("admin@hotline.example")
	ck := res.cookie(web.InsecureSessionCookie)
	if ck == nil || ck.Secure || !ck.HttpOnly {
		t.Fatalf("cookie = %v, want %s, HttpOnly, not Secure", ck, web.InsecureSessionCookie)
	}
	if res.cookie(web.SessionCookie) != nil {
		t.Errorf("__Host- cookie set without SecureCookies")
	}
	wantContains(t, c.get("/").Body, "admin@hotline.example")
}

func TestHomePerRole(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		tests := []struct {
			role  alliance.Role
			org   string
			email string
			want  []string
			not   []string
		}{
			{alliance.RoleAdmin, "SE-HOTLINE", "admin@hotline.example",
				[]string{`id="users"`, "Users of your organisation", "<th scope=\"row\">admin@hotline.example</th>", `href="/#users"`},
				[]string{`id="queue"`, `id="audit"`}},
			{alliance.RoleAnalyst, "SE-HOTLINE", "analyst@hotline.example",
				[]string{`id="queue"`, "Your queue", `<a href="/items">See the reported addresses</a>`, `<a href="/items">Reported addresses</a>`, `href="/report"`, "Sweden hotline", "SE-HOTLINE"},
				[]string{`id="users"`, `id="audit"`}},
			{alliance.RolePolice, "SE-POLICE", "police@police.example",
				[]string{`id="queue"`, "Sweden police", "SE-POLICE", `<a href="/items">See the reported addresses</a>`},
				[]string{`id="users"`}},
			{alliance.RoleSecretariat, "INT-SECRETARIAT", "sec@secretariat.example",
				[]string{"The alliance at a glance", `<span class="number">48</span> member countries of 249 countries`, `href="/countries?member=1"`},
				[]string{`id="queue"`, `id="users"`, `href="/items"`, `href="/report"`}},
			{alliance.RoleAuditor, "SE-HOTLINE", "auditor@hotline.example",
				[]string{`id="audit"`, `id="audit-verify"`, "Verify the chain now", "session.create", "Recent events of your organisation"},
				[]string{`id="queue"`, `id="users"`, `href="/items"`, "Intact"}},
		}
		for _, tc := range tests {
			e.addUser(tc.email, tc.org, tc.role)
		}
		for _, tc := range tests {
			t.Run(string(tc.role), func(t *testing.T) {
				c := e.client()
				c.login(tc.email)
				res := c.get("/")
				wantStatus(t, res, http.StatusOK)
				wantContains(t, res.Body, tc.want...)
				wantContains(t, res.Body, tc.email, `<main id="main"`)
				for _, s := range tc.not {
					if strings.Contains(res.Body, s) {
						t.Errorf("%s home shows %q", tc.role, s)
					}
				}
				if tc.role == alliance.RoleAuditor {
					// The chain is checked when the auditor asks.
					wantContains(t, c.get("/?verify=1").Body, "Intact", "audit log checked")
				}
			})
		}
	})
}

func TestLanding(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)
	res := e.client().get("/")
	wantStatus(t, res, http.StatusOK)
	wantContains(t, res.Body, `<html lang="en">`, `href="/login"`, `href="/countries"`, `<a class="button" href="/report">Report a web address</a>`, `class="skip-link" href="#main"`,
		`<main id="main"`, `<nav aria-label="Main">`, "/static/style.css?v=")
	// The CSP of the node forbids inline styles and scripts.
	for _, bad := range []string{"<script", "style=", "<style"} {
		if strings.Contains(res.Body, bad) {
			t.Errorf("page has %q, which the CSP blocks", bad)
		}
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
}

var countryRowRE = regexp.MustCompile(`<tr(?: class="member")? id="cc-([A-Z]{2})">`)

func TestCountries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		c := e.client()
		res := c.get("/countries")
		wantStatus(t, res, http.StatusOK)
		if n := len(countryRowRE.FindAllString(res.Body, -1)); n != 249 {
			t.Errorf("countries page lists %d countries, want 249", n)
		}
		wantContains(t, res.Body, "249 countries",
			`<tr class="member" id="cc-SE"><th scope="row">Sweden</th><td><code>SE</code></td><td>Yes</td><td><time datetime="2012-12-05">2012-12-05</time></td></tr>`,
			`<tr id="cc-CN"><th scope="row">China</th><td><code>CN</code></td><td>No</td><td></td></tr>`)

		members := c.get("/countries?member=1")
		wantStatus(t, members, http.StatusOK)
		rows := countryRowRE.FindAllStringSubmatch(members.Body, -1)
		if len(rows) != len(alliance.FoundingMembers) {
			t.Errorf("member filter lists %d countries, want %d", len(rows), len(alliance.FoundingMembers))
		}
		for _, r := range rows {
			if !strings.Contains(r[0], "member") {
				t.Errorf("member filter lists non-member %s", r[1])
			}
		}
		wantContains(t, members.Body, "48 member countries", `value="1" checked`)
	})
}

func TestLanguage(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)

	t.Run("query parameter, remembered in a cookie", func(t *testing.T) {
		c := e.client()
		res := c.get("/countries?lang=sv")
		wantStatus(t, res, http.StatusOK)
		wantContains(t, res.Body, `<html lang="sv">`, "<h1>Länder</h1>", `<th scope="row">Sverige</th>`, "249 länder", "<td>Ja</td>")
		if got := res.Header.Get("Content-Language"); got != "sv" {
			t.Errorf("Content-Language = %q", got)
		}
		if ck := res.cookie("alliance_lang"); ck == nil || ck.Value != "sv" {
			t.Fatalf("language cookie = %v", ck)
		}
		// The next page, without ?lang=, stays Swedish.
		wantContains(t, c.get("/").Body, `<html lang="sv">`, "Logga in")
		// And ?lang=en switches back.
		wantContains(t, c.get("/?lang=en").Body, `<html lang="en">`, "Log in")
		wantContains(t, c.get("/").Body, `<html lang="en">`)
	})

	t.Run("Accept-Language", func(t *testing.T) {
		for header, want := range map[string]string{
			"sv-SE,sv;q=0.9,en;q=0.5": "sv",
			"sv":                      "sv",
			"de-DE,de;q=0.9":          "en", // not (yet) translated: English
			"en-GB":                   "en",
			"":                        "en",
			"garbage;;;q=x":           "en",
		} {
			c := e.client()
			c.header.Set("Accept-Language", header)
			res := c.get("/login")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, fmt.Sprintf(`<html lang="%s">`, want))
			if want == "sv" {
				wantContains(t, res.Body, `<label for="password">Lösenord</label>`)
			}
		}
	})

	t.Run("unknown ?lang= is ignored", func(t *testing.T) {
		c := e.client()
		res := c.get("/?lang=xx-invalid-!!")
		wantContains(t, res.Body, `<html lang="en">`)
		if res.cookie("alliance_lang") != nil {
			t.Error("an unknown language was remembered")
		}
	})

	t.Run("Swedish sign-in", func(t *testing.T) {
		e.addUser("sv@hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		c := e.client()
		c.header.Set("Accept-Language", "sv")
		c.login("sv@hotline.example")
		wantContains(t, c.get("/").Body, "Din kö", "Analytiker", "Logga ut")
	})
}

func TestNotFound(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)
	c := e.client()
	for _, path := range []string{"/no-such-page", "/countries/SE", "/static/", "/static/nothing.css"} {
		res := c.get(path)
		wantStatus(t, res, http.StatusNotFound)
		wantContains(t, res.Body, "Page not found", `href="/"`)
	}
	wantStatus(t, c.post("/", url.Values{}), http.StatusNotFound)
}

func TestStatic(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)
	c := e.client()
	page := c.get("/")
	m := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	res := c.get(m[1])
	wantStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q", cc)
	}
	wantContains(t, res.Body, ":focus-visible", ".skip-link")
}

// TestInternalErrorHidden checks that a failing database shows a generic
// page with the request id, and that the detail goes to the log only.
func TestInternalErrorHidden(t *testing.T) {
	db, err := store.Open(t.Context(), testutil.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, true)
	e.h = withRequestID(e.h, "req-4711")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	res := e.client().get("/countries")
	if res.StatusCode < 500 {
		t.Fatalf("status %d with a closed database, want 5xx", res.StatusCode)
	}
	wantContains(t, res.Body, "req-4711")
	for _, leak := range []string{"sql", "closed", "store:", "app:"} {
		if strings.Contains(strings.ToLower(res.Body), leak) {
			t.Errorf("error page leaks %q:\n%s", leak, res.Body)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "request_id=req-4711") || !strings.Contains(logs, "closed") {
		t.Errorf("the log lacks the error or its request id:\n%s", logs)
	}
}
