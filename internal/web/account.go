package web

import (
	"net/http"
	"strconv"

	"alliance"
	"alliance/internal/app"
)

// passwordForm is the page where a signed-in user changes their password.
type passwordForm struct {
	CSRF      string
	MinLength int
	Changed   bool
	Alert     string            // a refusal that belongs to no field
	Errors    map[string]string // field → safe message (English)
}

func (h *handler) newPasswordForm(r *http.Request) passwordForm {
	return passwordForm{CSRF: csrfToken(sessionFrom(r.Context()).csrf, purposeAccount), MinLength: app.MinPasswordLength,
		Errors: map[string]string{}}
}

// passwordPage shows the form.
func (h *handler) passwordPage(w http.ResponseWriter, r *http.Request) {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	f := h.newPasswordForm(r)
	f.Changed = r.URL.Query().Get("changed") == "1"
	h.render(w, r, http.StatusOK, "password", "PasswordTitle", f)
}

// changePassword changes the user's password and ends their other
// sessions; a refusal shows the form again with the reason by its field.
func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) {
	if !h.formPost(w, r, maxFormBytes, purposeAccount) {
		return
	}
	f := h.newPasswordForm(r)
	next := r.PostFormValue("new")
	var err error
	if next != r.PostFormValue("confirm") {
		err = alliance.FieldErrorf("confirm", "The two new passwords differ.")
	} else {
		err = h.app.ChangePassword(r.Context(), sessionFrom(r.Context()).secret, r.PostFormValue("current"), next)
	}
	if err == nil {
		http.Redirect(w, r, "/account/password?changed=1", http.StatusSeeOther)
		return
	}
	status := formStatus(err)
	if alliance.ErrorCode(err) == alliance.ERATELIMIT {
		status = http.StatusTooManyRequests
	}
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	switch field := alliance.ErrorField(err); field {
	case "current", "new", "confirm":
		f.Errors[field] = alliance.ErrorMessage(err)
	default:
		f.Alert = alliance.ErrorMessage(err)
	}
	h.render(w, r, status, "password", "PasswordTitle", f)
}

// tokensData is the page of the user's own API tokens.
type tokensData struct {
	Tokens  []alliance.Token
	CSRF    string
	Name    string // the name typed, shown again after a refusal
	Created string // the secret of the token just made, shown this once
	Revoked bool
	Errors  map[string]string
	Alert   string
}

// tokensPage lists the user's API tokens with the forms that make and
// revoke them.
func (h *handler) tokensPage(w http.ResponseWriter, r *http.Request) {
	d, err := h.tokensData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Revoked = r.URL.Query().Get("revoked") == "1"
	h.render(w, r, http.StatusOK, "tokens", "TokensTitle", d)
}

func (h *handler) tokensData(r *http.Request) (tokensData, error) {
	ctx := r.Context()
	list, err := h.app.ListTokens(ctx, alliance.ActorFromContext(ctx).Email)
	return tokensData{Tokens: list, CSRF: csrfToken(sessionFrom(ctx).csrf, purposeAccount), Errors: map[string]string{}}, err
}

// createToken makes a token and shows its secret on the answer to the
// form, once: it is not stored and never passes through a URL.
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	if !h.formPost(w, r, maxFormBytes, purposeAccount) {
		return
	}
	ctx := r.Context()
	name := r.PostFormValue("name")
	tok, err := h.app.CreateToken(ctx, alliance.ActorFromContext(ctx).Email, name)
	status := http.StatusCreated
	if err != nil {
		if status = formStatus(err); status == 0 {
			h.fail(w, r, err)
			return
		}
	}
	d, derr := h.tokensData(r)
	if derr != nil {
		h.fail(w, r, derr)
		return
	}
	if err != nil {
		d.Name = name
		if alliance.ErrorField(err) == "name" {
			d.Errors["name"] = alliance.ErrorMessage(err)
		} else {
			d.Alert = alliance.ErrorMessage(err)
		}
	} else {
		d.Created = tok.Secret
	}
	h.render(w, r, status, "tokens", "TokensTitle", d)
}

// revokeToken revokes one of the user's tokens.
func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	if !h.formPost(w, r, maxFormBytes, purposeAccount) {
		return
	}
	ctx := r.Context()
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	err := h.app.RevokeToken(ctx, alliance.ActorFromContext(ctx).Email, id)
	if err == nil {
		http.Redirect(w, r, "/account/tokens?revoked=1", http.StatusSeeOther)
		return
	}
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, derr := h.tokensData(r)
	if derr != nil {
		h.fail(w, r, derr)
		return
	}
	d.Alert = alliance.ErrorMessage(err)
	h.render(w, r, status, "tokens", "TokensTitle", d)
}
