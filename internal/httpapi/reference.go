package httpapi

import (
	"net/http"
	"time"
)

// countryJSON is a country as the API shows it; MemberSince is a date
// (YYYY-MM-DD), null for countries that are not members.
type countryJSON struct {
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	Member      bool    `json:"member"`
	MemberSince *string `json:"member_since"`
}

// countries answers GET /api/v1/countries, which is public.
func (h *api) countries(w http.ResponseWriter, r *http.Request) error {
	list, err := h.app.Countries(r.Context())
	if err != nil {
		return err
	}
	out := make([]countryJSON, len(list))
	for i, c := range list {
		out[i] = countryJSON{Code: c.Code, Name: c.Name, Member: c.Member}
		if c.MemberSince != nil {
			// A date, not an instant: keep the calendar day as stored.
			d := c.MemberSince.Format(time.DateOnly)
			out[i].MemberSince = &d
		}
	}
	return WriteJSON(w, http.StatusOK, struct {
		Countries []countryJSON `json:"countries"`
	}{out})
}

// organisations answers GET /api/v1/organisations.
func (h *api) organisations(w http.ResponseWriter, r *http.Request) error {
	list, err := h.app.Organisations(r.Context())
	if err != nil {
		return err
	}
	out := make([]organisationJSON, len(list))
	for i, o := range list {
		out[i] = newOrganisationJSON(o)
	}
	return WriteJSON(w, http.StatusOK, struct {
		Organisations []organisationJSON `json:"organisations"`
	}{out})
}
