package web

import (
	"net/http"

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
