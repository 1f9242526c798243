package httpapi

import (
	"net/http"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

// getCapabilities answers GET /api/v1/capabilities: the national
// capabilities countries assess themselves in, and the maturity levels.
func (h *api) getCapabilities(w http.ResponseWriter, r *http.Request) error {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		return alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	type capability struct {
		Code   string `json:"code"`
		Domain string `json:"domain"`
		Name   string `json:"name"`
	}
	type level struct {
		Level       int    `json:"level"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	out := struct {
		Capabilities []capability `json:"capabilities"`
		Levels       []level      `json:"levels"`
	}{Capabilities: []capability{}, Levels: []level{}}
	for _, c := range h.app.Capabilities() {
		out.Capabilities = append(out.Capabilities, capability{c.Code, c.Domain, c.Name})
	}
	for _, l := range alliance.CapabilityLevels {
		out.Levels = append(out.Levels, level{l.Level, l.Name, l.Description})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// capabilityAssessmentJSON is a country's level in one capability.
type capabilityAssessmentJSON struct {
	Capability string    `json:"capability"`
	Level      int       `json:"level"`
	Note       string    `json:"note"`
	UpdatedBy  string    `json:"updated_by"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// writeCapabilityAssessments writes a country's self-assessment.
func writeCapabilityAssessments(w http.ResponseWriter, cc string, as []alliance.CapabilityAssessment) error {
	out := struct {
		Country      string                     `json:"country"`
		Capabilities []capabilityAssessmentJSON `json:"capabilities"`
	}{Country: strings.ToUpper(strings.TrimSpace(cc)), Capabilities: []capabilityAssessmentJSON{}}
	for _, a := range as {
		out.Capabilities = append(out.Capabilities, capabilityAssessmentJSON{a.Capability, a.Level, a.Note, a.UpdatedBy, a.UpdatedAt.UTC()})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// getCapabilityAssessments answers GET /api/v1/countries/{cc}/capabilities.
func (h *api) getCapabilityAssessments(w http.ResponseWriter, r *http.Request) error {
	as, err := h.app.CapabilityAssessments(r.Context(), r.PathValue("cc"))
	if err != nil {
		return err
	}
	return writeCapabilityAssessments(w, r.PathValue("cc"), as)
}

// putCapabilityAssessments answers PUT /api/v1/countries/{cc}/capabilities:
// the levels of the capabilities given, all or none, and the country's
// whole self-assessment in return.
func (h *api) putCapabilityAssessments(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Capabilities []struct {
			Capability string `json:"capability"`
			Level      *int   `json:"level"`
			Note       string `json:"note"`
		} `json:"capabilities"`
	}
	if err := DecodeJSON(w, r, &in, 1<<20); err != nil {
		return err
	}
	cis := make([]app.CapabilityInput, 0, len(in.Capabilities))
	for _, c := range in.Capabilities {
		level := -1 // a missing level is refused as out of range
		if c.Level != nil {
			level = *c.Level
		}
		cis = append(cis, app.CapabilityInput{Capability: c.Capability, Level: level, Note: c.Note})
	}
	as, err := h.app.PutCapabilityAssessments(r.Context(), r.PathValue("cc"), cis)
	if err != nil {
		return err
	}
	return writeCapabilityAssessments(w, r.PathValue("cc"), as)
}
