package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

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

type actionJSON struct {
	ID          int64  `json:"id,omitempty"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Due         string `json:"due"`
	Status      string `json:"status"`
}

type commitmentJSON struct {
	Goal         string               `json:"goal"`
	Baseline     string               `json:"baseline"`
	BaselineDate string               `json:"baseline_date"`
	Actions      []actionJSON         `json:"actions"`
	Progress     []app.ReportProgress `json:"progress"`
	UpdatedBy    string               `json:"updated_by,omitempty"`
}

func newCommitmentJSON(c alliance.Commitment) commitmentJSON {
	out := commitmentJSON{Goal: c.Goal, Baseline: c.Baseline, BaselineDate: c.BaselineDate, UpdatedBy: c.UpdatedBy,
		Actions: []actionJSON{}, Progress: []app.ReportProgress{}}
	for _, a := range c.Actions {
		out.Actions = append(out.Actions, actionJSON{a.ID, a.Description, a.OwnerOrg, a.Due, a.Status})
	}
	for _, p := range c.Progress {
		out.Progress = append(out.Progress, app.NewReportProgress(p))
	}
	return out
}

// getCommitments answers GET /api/v1/countries/{cc}/commitments.
func (h *api) getCommitments(w http.ResponseWriter, r *http.Request) error {
	cs, rqs, err := h.app.Commitments(r.Context(), r.PathValue("cc"))
	if err != nil {
		return err
	}
	type request struct {
		Period   string    `json:"period"`
		Deadline string    `json:"deadline"`
		Note     string    `json:"note"`
		By       string    `json:"by"`
		At       time.Time `json:"at"`
	}
	out := struct {
		Country     string           `json:"country"`
		Commitments []commitmentJSON `json:"commitments"`
		Requests    []request        `json:"update_requests"`
	}{Country: strings.ToUpper(r.PathValue("cc")), Commitments: []commitmentJSON{}, Requests: []request{}}
	for _, c := range cs {
		out.Commitments = append(out.Commitments, newCommitmentJSON(c))
	}
	for _, q := range rqs {
		out.Requests = append(out.Requests, request{q.Period, q.Deadline, q.Note, q.By, q.At.UTC()})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// putCommitment answers PUT /api/v1/countries/{cc}/commitments: a goal's
// baseline and actions to add.
func (h *api) putCommitment(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Goal         string       `json:"goal"`
		Baseline     *string      `json:"baseline"` // absent: keep the recorded one
		BaselineDate string       `json:"baseline_date"`
		Actions      []actionJSON `json:"actions"`
	}
	if err := DecodeJSON(w, r, &in, 256<<10); err != nil {
		return err
	}
	ci := app.CommitmentInput{Goal: in.Goal, BaselineDate: in.BaselineDate, KeepBaseline: in.Baseline == nil}
	if in.Baseline != nil {
		ci.Baseline = *in.Baseline
	}
	for _, a := range in.Actions {
		ci.Actions = append(ci.Actions, app.ActionInput{ID: a.ID, Description: a.Description, OwnerOrg: a.Owner, Due: a.Due, Status: a.Status})
	}
	c, err := h.app.PutCommitment(r.Context(), r.PathValue("cc"), ci)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, newCommitmentJSON(c))
}

// addProgress answers POST /api/v1/countries/{cc}/progress: 201.
func (h *api) addProgress(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Goal      string             `json:"goal"`
		Period    string             `json:"period"`
		Narrative string             `json:"narrative"`
		Values    map[string]float64 `json:"values"`
		Evidence  []string           `json:"evidence"`
	}
	if err := DecodeJSON(w, r, &in, 256<<10); err != nil {
		return err
	}
	p, err := h.app.AddProgress(r.Context(), r.PathValue("cc"), app.ProgressInput{Goal: in.Goal, Period: in.Period,
		Narrative: in.Narrative, Values: in.Values, Evidence: in.Evidence})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, app.NewReportProgress(p))
}

// requestUpdate answers POST /api/v1/countries/{cc}/update-requests: 201.
func (h *api) requestUpdate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Period   string `json:"period"`
		Deadline string `json:"deadline"`
		Note     string `json:"note"`
	}
	if err := DecodeJSON(w, r, &in, 16<<10); err != nil {
		return err
	}
	if err := h.app.RequestUpdate(r.Context(), r.PathValue("cc"), in.Period, in.Deadline, in.Note); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, in)
}

// getCountryReport answers GET /api/v1/countries/{cc}/report?period=&format=json|csv:
// per target and goal, the commitment, the period's progress and the
// indicators with the previous period's values; generated, never typed.
func (h *api) getCountryReport(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		return alliance.FieldErrorf("format", "format is json or csv.")
	}
	rep, err := h.app.CountryReport(r.Context(), r.PathValue("cc"), r.URL.Query().Get("period"))
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, rep.FileName("csv")))
		return rep.WriteCSV(w)
	}
	return WriteJSON(w, http.StatusOK, rep)
}
