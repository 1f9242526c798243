package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"alliance"
	"alliance/internal/app"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web UI.
type Options struct {
	// Logger receives internal errors with the request id; slog.Default when nil.
	Logger *slog.Logger
	// SecureCookies marks cookies Secure and gives them the __Host- prefix.
	// Leave it true except for plain-HTTP development on localhost; use
	// DefaultOptions to start from the safe value.
	SecureCookies bool
	// NodeName is shown in the page header, e.g. "Sweden".
	NodeName string
}

// DefaultOptions returns the defaults: secure cookies on.
func DefaultOptions() Options { return Options{SecureCookies: true} }

// pageNames are the page templates, each rendered inside templates/base.html.
var pageNames = []string{"landing", "login", "home", "countries", "error", "report", "thanks", "items", "item", "reportview", "queue", "stats", "series", "seriesview", "alerts", "dashboard", "countryreport", "commitments", "targets", "peers", "password", "tokens"}

// pageParts are the shared templates a page uses besides the layout.
var pageParts = map[string][]string{"series": {"seriesform"}, "seriesview": {"seriesform"}, "stats": {"chart"}, "dashboard": {"chart"}}

// handler serves the UI.
type handler struct {
	app      *app.App
	log      *slog.Logger
	secure   bool
	nodeName string
	cat      *catalogue
	pages    map[language.Tag]map[string]*template.Template
	cssURL   string
}

// New returns the handler of the web UI, to be mounted at "/". The zero
// Options has SecureCookies false; start from DefaultOptions for production.
func New(a *app.App, opts Options) (http.Handler, error) {
	if a == nil {
		return nil, errors.New("web: nil app")
	}
	h := &handler{app: a, log: opts.Logger, secure: opts.SecureCookies, nodeName: opts.NodeName}
	if h.log == nil {
		h.log = slog.Default()
	}
	css, err := fs.ReadFile(staticFS, "static/style.css")
	if err != nil {
		return nil, fmt.Errorf("web: read stylesheet: %w", err)
	}
	sum := sha256.Sum256(css)
	// The content hash in the URL lets browsers cache the file for good.
	h.cssURL = "/static/style.css?v=" + hex.EncodeToString(sum[:6])
	if h.cat, err = loadCatalogue(); err != nil {
		return nil, err
	}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}

	pages := http.NewServeMux()
	for _, p := range h.pageRoutes() {
		pages.HandleFunc(p.pattern, p.handle)
	}

	root := http.NewServeMux()
	root.Handle("GET /static/", h.static())
	root.Handle("/", h.withSession(pages)) // the database is asked only for pages
	return h.withLanguage(root), nil
}

// pageRoute is one page of the UI: a net/http ServeMux pattern with method
// and path, and its handler.
type pageRoute struct {
	pattern string
	handle  http.HandlerFunc
}

// pageRoutes is the table of every page, which New registers behind the
// session middleware. Adding a page is one line here plus its row in the
// access matrix (TestWebAccessMatrix in access_test.go fails without it).
func (h *handler) pageRoutes() []pageRoute {
	return []pageRoute{
		{"GET /{$}", h.home},
		{"GET /login", h.loginForm},
		{"POST /login", h.login},
		{"POST /logout", h.logout},
		{"GET /countries", h.countries},
		{"GET /report", h.reportForm},
		{"POST /report", h.submitReport},
		{"GET /report/thanks", h.reportThanks},
		{"GET /items", h.items},
		{"GET /items/{id}", h.item},
		{"POST /items/{id}/retrace", h.itemAction("retraced", (*app.App).Retrace)},
		{"POST /items/{id}/refetch", h.itemAction("refetched", (*app.App).Refetch)},
		{"POST /items/{id}/assess", h.assess},
		{"POST /items/{id}/hold", h.hold},
		{"POST /items/{id}/clear", h.clearHold},
		{"GET /queue", h.queue},
		{"GET /reports/{id}", h.reportPage},
		{"GET /stats/takedown", h.takedownStats},
		{"GET /series", h.seriesList},
		{"POST /series", h.createSeries},
		{"GET /series/{code}", h.seriesPage},
		{"POST /series/{code}/status", h.setSeriesStatus},
		{"POST /series/{code}/edit", h.updateSeries},
		{"GET /alerts", h.alerts},
		{"GET /peers", h.peers},
		{"POST /users", h.addUser},
		{"POST /users/disable", h.setUserDisabled(true)},
		{"POST /users/enable", h.setUserDisabled(false)},
		{"GET /account/password", h.passwordPage},
		{"POST /account/password", h.changePassword},
		{"GET /account/tokens", h.tokensPage},
		{"POST /account/tokens", h.createToken},
		{"POST /account/tokens/revoke", h.revokeToken},
		{"POST /alerts/{id}/read", h.markAlertRead},
		{"POST /items/{id}/series", h.linkSeries},
		{"POST /items/{id}/series/unlink", h.unlinkSeries},
		{"GET /reporting", h.dashboard},
		{"GET /reporting/targets", h.targets},
		{"POST /reporting/targets", h.saveTargets},
		{"GET /reporting/{cc}", h.countryReport},
		{"GET /reporting/{cc}/report.csv", h.reportExport("csv")},
		{"GET /reporting/{cc}/report.json", h.reportExport("json")},
		{"POST /reporting/{cc}/requests", h.requestUpdate},
		{"GET /reporting/{cc}/edit", h.commitments},
		{"POST /reporting/{cc}/goals/{goal}", h.saveCommitment},
		{"POST /reporting/{cc}/goals/{goal}/progress", h.addProgress},
		{"POST /reporting/{cc}/capabilities", h.saveCapabilities},
		{"/", h.notFound},
	}
}

// parseTemplates parses every page with the base layout, once per language
// with "t" bound to that language, so requests never clone templates.
func (h *handler) parseTemplates() error {
	h.pages = make(map[language.Tag]map[string]*template.Template)
	for _, name := range pageNames {
		files := []string{"templates/base.html", "templates/" + name + ".html"}
		for _, part := range pageParts[name] {
			files = append(files, "templates/"+part+".html")
		}
		master, err := template.New("base.html").Funcs(h.funcs(nil)).ParseFS(templateFS, files...)
		if err != nil {
			return fmt.Errorf("web: parse template %s: %w", name, err)
		}
		for _, tag := range h.cat.tags {
			tr := h.cat.byTag[tag]
			t, err := master.Clone()
			if err != nil {
				return fmt.Errorf("web: clone template %s: %w", name, err)
			}
			if h.pages[tag] == nil {
				h.pages[tag] = make(map[string]*template.Template)
			}
			h.pages[tag][name] = t.Funcs(h.funcs(tr))
		}
	}
	return nil
}

// funcs returns the template functions for one language (tr nil: for parsing).
func (h *handler) funcs(tr *translator) template.FuncMap {
	return template.FuncMap{
		"t": func(id string, args ...any) (string, error) {
			if tr == nil {
				return "", errors.New("web: template executed without a language")
			}
			return tr.T(id, args...)
		},
		"country": func(cc, fallback string) string {
			if tr == nil {
				return fallback
			}
			return tr.Country(cc, fallback)
		},
		"roleMsg": roleMessage,
		"date":    func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		// datetime takes a time.Time or a *time.Time (nil shows "–").
		"datetime": func(v any) string {
			switch t := v.(type) {
			case time.Time:
				return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
			case *time.Time:
				if t != nil {
					return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
				}
			}
			return "–"
		},
		"css": func() string { return h.cssURL },
		// label translates a code (a status, a route kind) as message
		// prefix+Code, showing the code itself when there is no such message.
		"label": func(prefix string, code any) string {
			s := fmt.Sprint(code)
			if tr == nil {
				return s
			}
			if msg, err := tr.T(prefix + camel(s)); err == nil {
				return msg
			}
			return s
		},
		"shorten": shorten,
		"hex":     func(b []byte) string { return hex.EncodeToString(b) },
		// shortHash shows the first and last 8 hex digits of a hash; the
		// whole value is in the title and the API.
		"shortHash": func(b []byte) string {
			h := hex.EncodeToString(b)
			if len(h) <= 20 {
				return h
			}
			return h[:8] + "…" + h[len(h)-8:]
		},
		"join": strings.Join,
		// seriesURL is the address of a series' page, its code escaped.
		"seriesURL": seriesURL,
		// dur writes an optional duration ("2 d 4 h"; "–" when nil).
		"dur": durationText,
		// indicator writes an indicator's value in its unit ("–" when nil).
		"indicator": func(unit string, v *float64) string {
			if tr == nil {
				return ""
			}
			return indicatorText(tr, unit, v)
		},
		// change writes a relative change as a signed percentage.
		"change": func(c *float64) string {
			if tr == nil {
				return ""
			}
			return changeText(tr, c)
		},
		"goalAnchor": goalAnchor,
		// pct writes a share in 0..1 as a percentage in the reader's style.
		"pct": func(share float64) string {
			if tr == nil {
				return percentValue(share)
			}
			return percentText(tr, share)
		},
	}
}

// roleMessage is the message id of a role's display name.
func roleMessage(r alliance.Role) string {
	if r == "" {
		return "RoleNone"
	}
	return "Role" + strings.ToUpper(string(r[:1])) + string(r[1:])
}

// shorten cuts s to at most n characters, marking the cut with an ellipsis:
// lists show the start of a long URL, its own page the whole of it.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// static serves the embedded stylesheet and images.
func (h *handler) static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() {
			h.notFound(w, r) // our own 404 page, and no directory listings
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

type translatorKey struct{}

// withLanguage picks the language of the request and remembers a ?lang= choice.
func (h *handler) withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, ck := h.cat.choose(r, h.secure)
		if ck != nil {
			http.SetCookie(w, ck)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), translatorKey{}, tr)))
	})
}

// translatorFrom returns the translator of the request, English by default.
func (h *handler) translatorFrom(ctx context.Context) *translator {
	if tr, ok := ctx.Value(translatorKey{}).(*translator); ok {
		return tr
	}
	return h.cat.byTag[h.cat.tags[0]]
}

// navItem is one link of the main navigation.
type navItem struct {
	Label   string // message id
	URL     string
	Current bool
	Count   int // shown after the label when not 0: unread alerts
	// Section marks the pages under URL as its own too (/reporting/SE).
	Section bool
}

// page is what every template receives; Data is the page's own part.
type page struct {
	Title       string // message id of the page title
	Lang        string
	NodeName    string
	Actor       alliance.Actor
	SignedIn    bool
	LogoutToken string
	Nav         []navItem
	Languages   []langLink
	Data        any
}

// nav returns the main navigation for the actor.
func nav(r *http.Request, actor alliance.Actor) []navItem {
	items := []navItem{{Label: "NavHome", URL: "/"}, {Label: "NavCountries", URL: "/countries"}}
	if actor.Role == alliance.RoleAdmin {
		items = append(items, navItem{Label: "NavUsers", URL: "/#users"}, navItem{Label: "NavPeers", URL: "/peers"})
	}
	if len(actorQueues(actor)) > 0 {
		items = append(items, navItem{Label: "NavQueue", URL: "/queue"})
	}
	switch actor.Role {
	case alliance.RoleSecretariat:
		items = append(items, navItem{Label: "NavMembers", URL: "/countries?member=1"})
	case alliance.RoleAuditor:
		items = append(items, navItem{Label: "NavAudit", URL: "/#audit"})
	}
	if actor.Can(alliance.PermViewReports) {
		items = append(items, navItem{Label: "NavItems", URL: "/items"})
	}
	if canSeeStats(actor) {
		items = append(items, navItem{Label: "NavStats", URL: "/stats/takedown"})
	}
	if canSeeStats(actor) {
		items = append(items, navItem{Label: "NavReporting", URL: "/reporting", Section: true})
	}
	if actor.Can(alliance.PermViewSeries) {
		items = append(items, navItem{Label: "NavSeries", URL: "/series"}, navItem{Label: "NavAlerts", URL: "/alerts"})
	}
	if actor.Anonymous() || actor.Can(alliance.PermSubmitReports) {
		items = append(items, navItem{Label: "NavReport", URL: "/report"})
	}
	if actor.Anonymous() {
		items = append(items, navItem{Label: "NavLogin", URL: "/login"})
	}
	here := r.URL.Path
	if r.URL.Query().Get("member") == "1" {
		here += "?member=1"
	}
	for i := range items {
		items[i].Current = items[i].URL == here || (items[i].Section && strings.HasPrefix(here, items[i].URL+"/"))
	}
	return items
}

// countAlerts puts the number of unread alerts of the actor's organisation
// on the navigation's alerts entry. A failure only leaves the count out:
// the page itself does not depend on it.
func (h *handler) countAlerts(r *http.Request, items []navItem) {
	alerts, err := h.app.Alerts(r.Context(), 500)
	if err != nil {
		h.log.WarnContext(r.Context(), "web: count alerts", "err", err,
			"request_id", alliance.RequestIDFromContext(r.Context()))
		return
	}
	for i := range items {
		if items[i].URL == "/alerts" {
			items[i].Count = unread(alerts)
		}
	}
}

// render writes page name with the layout. The page is rendered to a buffer
// first, so a template error becomes a clean error page, not half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	tr := h.translatorFrom(r.Context())
	actor := alliance.ActorFromContext(r.Context())
	p := page{
		Title:     title,
		Lang:      tr.tag.String(),
		NodeName:  h.nodeName,
		Actor:     actor,
		SignedIn:  !actor.Anonymous(),
		Nav:       nav(r, actor),
		Languages: h.cat.languageLinks(r, tr.tag),
		Data:      data,
	}
	if actor.Can(alliance.PermViewSeries) {
		h.countAlerts(r, p.Nav)
	}
	if p.SignedIn {
		p.LogoutToken = csrfToken(sessionFrom(r.Context()).csrf, purposeLogout)
	}
	var buf bytes.Buffer
	if err := h.pages[tr.tag][name].Execute(&buf, p); err != nil {
		h.log.ErrorContext(r.Context(), "web: render", "page", name, "err", err,
			"request_id", alliance.RequestIDFromContext(r.Context()))
		if name != "error" {
			h.renderError(w, r, http.StatusInternalServerError, "ErrorInternal", "")
			return
		}
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", p.Lang)
	hd.Set("Cache-Control", "no-store")
	hd.Add("Vary", "Cookie")
	hd.Add("Vary", "Accept-Language")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData is the content of the error page.
type errorData struct {
	Status    int
	Message   string // message id of the heading
	Help      string // message id of the explanation
	Detail    string // a user-safe message from the app, in English; may be ""
	RequestID string
}

// renderError shows the error page. Detail must be safe to show.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, status int, msgID, detail string) {
	h.render(w, r, status, "error", msgID, errorData{
		Status: status, Message: msgID, Help: msgID + "Help", Detail: detail, RequestID: alliance.RequestIDFromContext(r.Context()),
	})
}

// fail maps an error from the app to a response. Messages of *alliance.Error
// are safe to show; anything else is logged with the request id and shown
// only as a generic message and that id.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch alliance.ErrorCode(err) {
	case alliance.EUNAUTHORIZED:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case alliance.EFORBIDDEN:
		h.renderError(w, r, http.StatusForbidden, "ErrorForbidden", "")
	case alliance.ENOTFOUND:
		h.renderError(w, r, http.StatusNotFound, "ErrorNotFound", "")
	case alliance.EINVALID:
		h.renderError(w, r, http.StatusBadRequest, "ErrorInvalid", alliance.ErrorMessage(err))
	case alliance.ECONFLICT:
		h.renderError(w, r, http.StatusConflict, "ErrorConflict", alliance.ErrorMessage(err))
	case alliance.ETOOLARGE:
		h.renderError(w, r, http.StatusRequestEntityTooLarge, "ErrorTooLarge", "")
	case alliance.ERATELIMIT:
		h.renderError(w, r, http.StatusTooManyRequests, "ErrorRateLimited", "")
	case alliance.EUNAVAILABLE:
		h.log.ErrorContext(r.Context(), "web: unavailable", "path", r.URL.Path, "err", err,
			"request_id", alliance.RequestIDFromContext(r.Context()))
		h.renderError(w, r, http.StatusServiceUnavailable, "ErrorUnavailable", "")
	default:
		h.log.ErrorContext(r.Context(), "web: internal error", "path", r.URL.Path, "err", err,
			"request_id", alliance.RequestIDFromContext(r.Context()))
		h.renderError(w, r, http.StatusInternalServerError, "ErrorInternal", "")
	}
}

// notFound is the page for unknown paths.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, http.StatusNotFound, "ErrorNotFound", "")
}
