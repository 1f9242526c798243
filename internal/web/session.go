package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"alliance"
)

// Cookie names. With secure cookies the __Host- prefix binds a cookie to this
// exact origin: the browser accepts it only with Secure, Path=/ and no Domain,
// so a sibling subdomain cannot plant or overwrite it.
const (
	SessionCookie         = "__Host-alliance_session" // the session secret, over HTTPS
	InsecureSessionCookie = "alliance_session"        // the session secret, plain-HTTP development only
	loginCSRFCookie       = "__Host-alliance_login"   // double-submit secret of the anonymous forms (login, report)
	insecureLoginCSRF     = "alliance_login"          // the same, plain-HTTP development only
)

// csrfField is the name of the hidden form field that carries a CSRF token.
const csrfField = "csrf"

// Purposes of form tokens: a token for one form is useless for another.
const (
	purposeLogin   = "login"
	purposeLogout  = "logout"
	purposeReport  = "report"
	purposeRetrace = "retrace" // the item page's buttons: re-trace and fetch again
	purposeSeries  = "series"  // the series pages' forms and the alerts' buttons
	purposeUsers   = "users"   // the admin's disable and enable buttons
	purposeAccount = "account" // the user's own password form
)

// sessionInfo is what the session middleware learned about a request.
type sessionInfo struct {
	secret string // the cookie value; "" when anonymous
	csrf   string // the session's CSRF secret
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) sessionInfo {
	s, _ := ctx.Value(sessionKey{}).(sessionInfo)
	return s
}

func (h *handler) sessionCookieName() string {
	if h.secure {
		return SessionCookie
	}
	return InsecureSessionCookie
}

func (h *handler) loginCookieName() string {
	if h.secure {
		return loginCSRFCookie
	}
	return insecureLoginCSRF
}

// setSessionCookie hands the browser the session secret, valid until expires.
func (h *handler) setSessionCookie(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: h.sessionCookieName(), Value: secret, Path: "/", Expires: expires,
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie tells the browser to forget a cookie.
func (h *handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// withSession resolves the session cookie to an actor and puts it into the
// request context. An unknown or expired session is cleared and the request
// goes on anonymously; a database failure is an error page.
func (h *handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(h.sessionCookieName())
		if err != nil || ck.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		actor, sess, err := h.app.SessionActor(r.Context(), ck.Value)
		switch alliance.ErrorCode(err) {
		case "":
			ctx := alliance.NewContextWithActor(r.Context(), actor)
			ctx = context.WithValue(ctx, sessionKey{}, sessionInfo{secret: ck.Value, csrf: sess.CSRF})
			next.ServeHTTP(w, r.WithContext(ctx))
		case alliance.EUNAUTHORIZED:
			h.clearCookie(w, h.sessionCookieName())
			next.ServeHTTP(w, r)
		default:
			h.fail(w, r, err)
		}
	})
}

// csrfToken derives the form token for purpose from a secret: an HMAC, so
// the page never shows the secret itself and a token fits one form only.
func csrfToken(secret, purpose string) string {
	if secret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("alliance-csrf-v1\x00" + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports whether the submitted token matches secret and purpose.
func validCSRF(secret, purpose, got string) bool {
	if secret == "" || got == "" {
		return false
	}
	return hmac.Equal([]byte(csrfToken(secret, purpose)), []byte(got))
}

// formCSRFSecret returns the double-submit secret of the forms the anonymous
// public posts (login, report), from its cookie or, the first time, a new one
// that is set on the response. Tokens are derived per purpose, so one cookie
// serves every such form.
func (h *handler) formCSRFSecret(w http.ResponseWriter, r *http.Request) (string, error) {
	if ck, err := r.Cookie(h.loginCookieName()); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return ck.Value, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	// A session cookie (no expiry): the form token lives as long as the tab.
	http.SetCookie(w, &http.Cookie{
		Name: h.loginCookieName(), Value: v, Path: "/",
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return v, nil
}

// checkFormCSRF verifies the double-submit token of an anonymous form: the
// hidden field must be derived, for purpose, from the value of the form
// cookie, which a page on another site can neither read nor set.
func (h *handler) checkFormCSRF(r *http.Request, purpose string) bool {
	ck, err := r.Cookie(h.loginCookieName())
	if err != nil {
		return false
	}
	return validCSRF(ck.Value, purpose, r.PostFormValue(csrfField))
}

// formPost reads a signed-in user's form (at most limit bytes) and checks
// its CSRF token for purpose; it answers the request itself and returns
// false when the body, the session or the token fails.
func (h *handler) formPost(w http.ResponseWriter, r *http.Request, limit int64, purpose string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
		return false
	}
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return false
	}
	if !checkSessionCSRF(r, purpose) {
		h.renderError(w, r, http.StatusForbidden, "ErrorCSRF", "")
		return false
	}
	return true
}

// checkSessionCSRF verifies the token of a form posted within a session.
func checkSessionCSRF(r *http.Request, purpose string) bool {
	return validCSRF(sessionFrom(r.Context()).csrf, purpose, r.PostFormValue(csrfField))
}
