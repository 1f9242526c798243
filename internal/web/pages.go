package web

import (
	"context"
	"net"
	"net/http"
	"slices"

	"alliance"
	"alliance/internal/app"
)

// maxFormBytes bounds the body of the small forms of this package.
const maxFormBytes = 16 << 10

// recentAuditRows is how many audit rows the auditor's home page shows.
const recentAuditRows = 20

// loginData is the content of the login page.
type loginData struct {
	CSRF  string
	Email string
	Error string // message id; "" when none
}

// loginForm shows the login form; signed-in users go home instead.
func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if !alliance.ActorFromContext(r.Context()).Anonymous() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "", "")
}

func (h *handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, email, errID string) {
	secret, err := h.formCSRFSecret(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, "login", "LoginTitle", loginData{CSRF: csrfToken(secret, purposeLogin), Email: email, Error: errID})
}

// login checks the form and opens a session. The failure message never
// says whether the e-mail or the password was wrong.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
		return
	}
	if !h.checkFormCSRF(r, purposeLogin) {
		h.renderError(w, r, http.StatusForbidden, "ErrorCSRF", "")
		return
	}
	email := r.PostFormValue("email")
	if len(email) > alliance.MaxEmailLength {
		email = email[:alliance.MaxEmailLength]
	}
	res, err := h.app.Login(r.Context(), email, r.PostFormValue("password"), clientAddr(r))
	switch alliance.ErrorCode(err) {
	case "":
	case alliance.EUNAUTHORIZED:
		h.renderLogin(w, r, http.StatusUnauthorized, email, "LoginFailed")
		return
	case alliance.ERATELIMIT:
		h.renderLogin(w, r, http.StatusTooManyRequests, email, "LoginRateLimited")
		return
	default:
		h.fail(w, r, err)
		return
	}
	h.setSessionCookie(w, res.Secret, res.Session.ExpiresAt)
	h.clearCookie(w, h.loginCookieName())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// clientAddr is the client's IP address, the key of the per-client login limit.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// logout ends the session and clears its cookie.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
		return
	}
	sess := sessionFrom(r.Context())
	if sess.secret == "" {
		// Not signed in (or the session already expired): nothing to end.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !checkSessionCSRF(r, purposeLogout) {
		h.renderError(w, r, http.StatusForbidden, "ErrorCSRF", "")
		return
	}
	if err := h.app.Logout(r.Context(), sess.secret); err != nil {
		h.fail(w, r, err)
		return
	}
	h.clearCookie(w, h.sessionCookieName())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// homeData is the content of a signed-in user's home page. Which parts are
// set depends on the role.
type homeData struct {
	Me app.Me

	Users []alliance.User // admin: the organisation's users
	// CSRF is the token of the admin's forms (add, disable, enable);
	// UsersDone names what the last one did, UsersAlert why it was refused.
	CSRF, UsersDone, UsersAlert string
	NewUser                     *newUserForm // admin: the form that adds a user

	Queue bool // analyst and police: links to the work queue

	Tokens bool // the actor may make API tokens: links to their page

	Overview *overview // secretariat: the alliance at a glance

	Audit        []alliance.AuditEvent // auditor: newest first
	Verification *alliance.AuditVerification
}

// overview is the secretariat's summary of the alliance.
type overview struct {
	Members   int
	Countries int
}

// home shows the landing page to the public and the role's home page to users.
func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		h.render(w, r, http.StatusOK, "landing", "LandingTitle", nil)
		return
	}
	d, err := h.homeData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("user") {
	case "disabled":
		d.UsersDone = "UsersDisabledDone"
	case "enabled":
		d.UsersDone = "UsersEnabledDone"
	case "added":
		d.UsersDone = "UsersAddedDone"
	}
	h.render(w, r, http.StatusOK, "home", "HomeTitle", d)
}

// homeData gathers the signed-in actor's home page.
func (h *handler) homeData(r *http.Request) (homeData, error) {
	ctx := r.Context()
	me, err := h.app.Me(ctx)
	if err != nil {
		return homeData{}, err
	}
	actor := alliance.ActorFromContext(ctx)
	d := homeData{Me: me, Tokens: actor.Can(alliance.PermCreateToken)}
	switch actor.Role {
	case alliance.RoleAdmin:
		d.Users, err = h.app.OrgUsers(ctx)
		d.CSRF = csrfToken(sessionFrom(ctx).csrf, purposeUsers)
		d.NewUser = &newUserForm{Roles: me.Organisation.Kind.Roles(), MinLength: app.MinPasswordLength, Errors: map[string]string{}}
	case alliance.RoleAnalyst, alliance.RolePolice:
		d.Queue = true
	case alliance.RoleSecretariat:
		d.Overview, err = h.overview(ctx)
	case alliance.RoleAuditor:
		d.Audit, err = h.app.RecentAuditEvents(ctx, recentAuditRows)
		// The verification walks and hashes the whole log (minutes at tens
		// of millions of rows): it runs when the auditor asks for it.
		if err == nil && r.URL.Query().Get("verify") == "1" {
			var v alliance.AuditVerification
			v, err = h.app.VerifyAudit(ctx)
			d.Verification = &v
		}
	}
	return d, err
}

// newUserForm is the admin's form that adds a user to their organisation.
type newUserForm struct {
	Email, Name, Role string
	Roles             []alliance.Role // those of the organisation's kind
	MinLength         int
	Errors            map[string]string // field → safe message (English)
}

// addUser adds a user to the admin's organisation from the home page's
// form; a refusal shows the form again with the reason by its field. The
// password is never shown again.
func (h *handler) addUser(w http.ResponseWriter, r *http.Request) {
	if !h.formPost(w, r, maxFormBytes, purposeUsers) {
		return
	}
	ctx := r.Context()
	in := app.NewUser{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: r.PostFormValue("role"),
		OrgCode: alliance.ActorFromContext(ctx).OrgCode, Password: r.PostFormValue("password")}
	var err error
	if in.Password == "" {
		err = alliance.FieldErrorf("password", "An initial password is needed to sign in.")
	} else {
		_, err = h.app.AddUser(ctx, in)
	}
	if err == nil {
		http.Redirect(w, r, "/?user=added#users", http.StatusSeeOther)
		return
	}
	h.refuseOnHome(w, r, err, func(d *homeData) {
		d.NewUser.Email, d.NewUser.Name, d.NewUser.Role = in.Email, in.Name, in.Role
		switch field := alliance.ErrorField(err); field {
		case "email", "name", "role", "password":
			d.NewUser.Errors[field] = alliance.ErrorMessage(err)
		default:
			d.UsersAlert = alliance.ErrorMessage(err)
		}
	})
}

// refuseOnHome answers an admin's refused form: the home page again, with
// show placing the reason, or the error page for errors no form shows.
func (h *handler) refuseOnHome(w http.ResponseWriter, r *http.Request, err error, show func(*homeData)) {
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, derr := h.homeData(r)
	if derr != nil {
		h.fail(w, r, derr)
		return
	}
	if d.NewUser == nil { // not an admin: the app refused already
		h.fail(w, r, err)
		return
	}
	show(&d)
	h.render(w, r, status, "home", "HomeTitle", d)
}

// setUserDisabled disables or enables a user of the admin's organisation
// from the home page's buttons: at once, without the command line, as when
// someone leaves or loses a device. A refusal shows the page again with
// the reason.
func (h *handler) setUserDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.formPost(w, r, maxFormBytes, purposeUsers) {
			return
		}
		err := h.app.SetUserDisabled(r.Context(), r.PostFormValue("email"), disabled)
		if err == nil {
			done := "enabled"
			if disabled {
				done = "disabled"
			}
			http.Redirect(w, r, "/?user="+done+"#users", http.StatusSeeOther)
			return
		}
		h.refuseOnHome(w, r, err, func(d *homeData) { d.UsersAlert = alliance.ErrorMessage(err) })
	}
}

func (h *handler) overview(ctx context.Context) (*overview, error) {
	cs, err := h.app.Countries(ctx)
	if err != nil {
		return nil, err
	}
	o := &overview{Countries: len(cs)}
	for _, c := range cs {
		if c.Member {
			o.Members++
		}
	}
	return o, nil
}

// countryRow is one row of the countries table.
type countryRow struct {
	Code   string
	Name   string
	Member bool
	Since  string // YYYY-MM-DD; "" when not a member
}

// countriesData is the content of the countries page.
type countriesData struct {
	MemberOnly bool
	Rows       []countryRow
}

// countries lists every country with its membership, in the reader's
// language and sort order; ?member=1 keeps only the members.
func (h *handler) countries(w http.ResponseWriter, r *http.Request) {
	cs, err := h.app.Countries(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tr := h.translatorFrom(r.Context())
	d := countriesData{MemberOnly: r.URL.Query().Get("member") == "1"}
	for _, c := range cs {
		if d.MemberOnly && !c.Member {
			continue
		}
		row := countryRow{Code: c.Code, Name: tr.Country(c.Code, c.Name), Member: c.Member}
		if c.Member && c.MemberSince != nil {
			row.Since = c.MemberSince.UTC().Format("2006-01-02")
		}
		d.Rows = append(d.Rows, row)
	}
	col := tr.collator()
	slices.SortStableFunc(d.Rows, func(a, b countryRow) int { return col.CompareString(a.Name, b.Name) })
	h.render(w, r, http.StatusOK, "countries", "CountriesTitle", d)
}
