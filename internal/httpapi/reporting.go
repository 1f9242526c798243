package httpapi

import (
	"net/http"

	"alliance"
)

// getTargets answers GET /api/v1/targets: the four policy targets of the
// 2012 declaration, their goals and the indicators that show progress.
func (h *api) getTargets(w http.ResponseWriter, r *http.Request) error {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		return alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	type goal struct {
		Code       string   `json:"code"`
		Text       string   `json:"text"`
		Indicators []string `json:"indicators"`
	}
	type target struct {
		Number int    `json:"number"`
		Title  string `json:"title"`
		Goals  []goal `json:"goals"`
	}
	type indicator struct {
		Key        string `json:"key"`
		Name       string `json:"name"`
		Definition string `json:"definition"`
		Unit       string `json:"unit"`
		Manual     bool   `json:"manual"`
	}
	out := struct {
		Version    string      `json:"version"`
		Targets    []target    `json:"targets"`
		Indicators []indicator `json:"indicators"`
	}{Version: alliance.TargetsVersion}
	for _, t := range alliance.DeclarationTargets {
		tj := target{Number: t.Number, Title: t.Title}
		for _, g := range t.Goals {
			tj.Goals = append(tj.Goals, goal{Code: g.Code, Text: g.Text, Indicators: append([]string{}, g.Indicators...)})
		}
		out.Targets = append(out.Targets, tj)
	}
	for _, d := range alliance.Indicators {
		out.Indicators = append(out.Indicators, indicator{d.Key, d.Name, d.Definition, d.Unit, d.Manual})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// getIndicators answers GET /api/v1/indicators?country=&period=: the
// country's indicators, each with its definition, and the previous
// period's values.
func (h *api) getIndicators(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ci, err := h.app.Indicators(r.Context(), q.Get("country"), q.Get("period"))
	if err != nil {
		return err
	}
	type value struct {
		Key        string   `json:"key"`
		Name       string   `json:"name"`
		Definition string   `json:"definition"`
		Unit       string   `json:"unit"`
		Value      *float64 `json:"value"`
		Previous   *float64 `json:"previous"`
	}
	out := struct {
		Country    string  `json:"country"`
		Period     string  `json:"period"`
		Previous   string  `json:"previous_period"`
		Indicators []value `json:"indicators"`
	}{Country: ci.Country, Period: ci.Period.Label, Previous: ci.Period.Previous().Label}
	for i, d := range alliance.Indicators {
		out.Indicators = append(out.Indicators, value{Key: d.Key, Name: d.Name, Definition: d.Definition, Unit: d.Unit,
			Value: ci.Values[i].Value, Previous: ci.Previous[i].Value})
	}
	return WriteJSON(w, http.StatusOK, out)
}
