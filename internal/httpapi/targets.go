package httpapi

import (
	"net/http"
	"time"

	"alliance"
)

// maxTargetsBody bounds the body of PUT /api/v1/targets. The largest valid
// set (4 targets of 10 goals, 2000 characters each, in up to 4 bytes of
// UTF-8 or a 6-byte JSON escape) is about 530 KB, so 256 KiB could refuse
// one; 1 MiB does not.
const maxTargetsBody = 1 << 20

// goalJSON is a goal in the API.
type goalJSON struct {
	Code       string   `json:"code"`
	Text       string   `json:"text"`
	Indicators []string `json:"indicators"`
}

// targetJSON is a policy target in the API.
type targetJSON struct {
	Number int        `json:"number"`
	Title  string     `json:"title"`
	Goals  []goalJSON `json:"goals"`
}

func targetsJSON(ts []alliance.Target) []targetJSON {
	out := make([]targetJSON, 0, len(ts))
	for _, t := range ts {
		tj := targetJSON{Number: t.Number, Title: t.Title, Goals: make([]goalJSON, 0, len(t.Goals))}
		for _, g := range t.Goals {
			tj.Goals = append(tj.Goals, goalJSON{Code: g.Code, Text: g.Text, Indicators: append([]string{}, g.Indicators...)})
		}
		out = append(out, tj)
	}
	return out
}

// targetSetJSON is one version of the targets. Version is its number and
// Label its name; CreatedAt is null for version 0, the declaration's text.
type targetSetJSON struct {
	Version   int          `json:"version_number"`
	Label     string       `json:"label"`
	Note      string       `json:"note"`
	CreatedBy string       `json:"created_by"`
	CreatedAt *time.Time   `json:"created_at"`
	Targets   []targetJSON `json:"targets"`
}

func targetSetOut(s alliance.TargetSet) targetSetJSON {
	out := targetSetJSON{Version: s.Version, Label: s.Label, Note: s.Note, CreatedBy: s.By, Targets: targetsJSON(s.Targets)}
	if !s.At.IsZero() {
		at := s.At.UTC()
		out.CreatedAt = &at
	}
	return out
}

// writeTargetSet writes the targets in force with every indicator's
// definition. "version" is the label, as before targets were versioned,
// so that existing clients keep working; "version_number" and "label"
// are the new names.
func writeTargetSet(w http.ResponseWriter, s alliance.TargetSet) error {
	type indicator struct {
		Key        string `json:"key"`
		Name       string `json:"name"`
		Definition string `json:"definition"`
		Unit       string `json:"unit"`
		Manual     bool   `json:"manual"`
	}
	out := struct {
		LegacyVersion string `json:"version"`
		targetSetJSON
		Indicators []indicator `json:"indicators"`
	}{LegacyVersion: s.Label, targetSetJSON: targetSetOut(s), Indicators: []indicator{}}
	for _, d := range alliance.Indicators {
		out.Indicators = append(out.Indicators, indicator{d.Key, d.Name, d.Definition, d.Unit, d.Manual})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// getTargets answers GET /api/v1/targets: the policy targets in force
// (the 2012 declaration's until the secretariat edits them), their goals
// and the indicators that show progress.
func (h *api) getTargets(w http.ResponseWriter, r *http.Request) error {
	s, err := h.app.TargetSet(r.Context())
	if err != nil {
		return err
	}
	return writeTargetSet(w, s)
}

// putTargets answers PUT /api/v1/targets: the secretariat saves a new
// version of the targets, with a note saying why, and gets it back.
func (h *api) putTargets(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Targets []targetJSON `json:"targets"`
		Note    string       `json:"note"`
	}
	if err := DecodeJSON(w, r, &in, maxTargetsBody); err != nil {
		return err
	}
	ts := make([]alliance.Target, 0, len(in.Targets))
	for _, t := range in.Targets {
		tg := alliance.Target{Number: t.Number, Title: t.Title}
		for _, g := range t.Goals {
			tg.Goals = append(tg.Goals, alliance.Goal{Code: g.Code, Text: g.Text, Indicators: g.Indicators})
		}
		ts = append(ts, tg)
	}
	s, err := h.app.PutTargets(r.Context(), ts, in.Note)
	if err != nil {
		return err
	}
	return writeTargetSet(w, s)
}

// getTargetVersions answers GET /api/v1/targets/versions: every version of
// the targets, newest first, ending with version 0.
func (h *api) getTargetVersions(w http.ResponseWriter, r *http.Request) error {
	ss, err := h.app.TargetSetHistory(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Versions []targetSetJSON `json:"versions"`
	}{Versions: make([]targetSetJSON, 0, len(ss))}
	for _, s := range ss {
		out.Versions = append(out.Versions, targetSetOut(s))
	}
	return WriteJSON(w, http.StatusOK, out)
}
