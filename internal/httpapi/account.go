package httpapi

import (
	"net/http"

	"alliance"
)

// userJSON is a user as the API shows it.
type userJSON struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// organisationJSON is an organisation as the API shows it. Country is null for
// the secretariat, which belongs to no country.
type organisationJSON struct {
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	Country *string `json:"country"`
}

func newOrganisationJSON(o alliance.Organisation) organisationJSON {
	out := organisationJSON{Code: o.Code, Name: o.Name, Kind: string(o.Kind)}
	if o.CountryCode != "" {
		cc := o.CountryCode
		out.Country = &cc
	}
	return out
}

// me answers GET /api/v1/me: the caller's account, organisation and permissions.
func (h *api) me(w http.ResponseWriter, r *http.Request) error {
	me, err := h.app.Me(r.Context())
	if err != nil {
		return err
	}
	perms := make([]string, len(me.Permissions))
	for i, p := range me.Permissions {
		perms[i] = string(p)
	}
	return WriteJSON(w, http.StatusOK, struct {
		User         userJSON         `json:"user"`
		Organisation organisationJSON `json:"organisation"`
		Permissions  []string         `json:"permissions"`
	}{
		User:         userJSON{ID: me.User.ID, Email: me.User.Email, Name: me.User.Name, Role: string(me.User.Role)},
		Organisation: newOrganisationJSON(me.Organisation),
		Permissions:  perms,
	})
}
