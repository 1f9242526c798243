package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"alliance"
)

// targetsGoal is one goal in the targets form.
type targetsGoal struct {
	Field      string // form name prefix, e.g. "g1_0"
	Code, Text string
	Indicators []indicatorChoice
	New        bool // the empty row that adds a goal
}

// indicatorChoice is an indicator's checkbox under a goal.
type indicatorChoice struct {
	Key     string
	Checked bool
}

// targetsTarget is one target in the targets form.
type targetsTarget struct {
	Number int
	Title  string
	Goals  []targetsGoal
}

// targetsData is the content of the targets page.
type targetsData struct {
	Current alliance.TargetSet
	Targets []targetsTarget
	History []alliance.TargetSet
	CanEdit bool
	CSRF    string
	Note    string
	Saved   bool
	Alert   string
	Errors  map[string]string // form field prefix → message
	MaxText int
	MaxNote int
}

// targetsForm turns a target set into the form's rows, with one empty row
// per target for a new goal.
func targetsForm(ts []alliance.Target) []targetsTarget {
	out := make([]targetsTarget, len(ts))
	for i, t := range ts {
		out[i] = targetsTarget{Number: t.Number, Title: t.Title}
		goals := append(slices.Clone(t.Goals), alliance.Goal{})
		for j, g := range goals {
			row := targetsGoal{Field: fmt.Sprintf("g%d_%d", i, j), Code: g.Code, Text: g.Text, New: j == len(t.Goals)}
			for _, d := range alliance.Indicators {
				row.Indicators = append(row.Indicators, indicatorChoice{Key: d.Key, Checked: slices.Contains(g.Indicators, d.Key)})
			}
			out[i].Goals = append(out[i].Goals, row)
		}
	}
	return out
}

// loadTargets builds the page with the targets in force.
func (h *handler) loadTargets(r *http.Request) (targetsData, error) {
	ctx := r.Context()
	hist, err := h.app.TargetSetHistory(ctx)
	if err != nil {
		return targetsData{}, err
	}
	d := targetsData{Current: hist[0], History: hist, Targets: targetsForm(hist[0].Targets),
		CanEdit: alliance.ActorFromContext(ctx).Can(alliance.PermEditTargets),
		CSRF:    csrfToken(sessionFrom(ctx).csrf, purposeReporting), Errors: map[string]string{},
		MaxText: alliance.MaxTargetText, MaxNote: 2000}
	return d, nil
}

// targets shows the targets and goals in force, their versions, and for
// the secretariat the form that saves a new version.
func (h *handler) targets(w http.ResponseWriter, r *http.Request) {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	d, err := h.loadTargets(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Saved = r.URL.Query().Get("saved") == "1"
	h.render(w, r, http.StatusOK, "targets", "TargetsTitle", d)
}

// saveTargets saves the form as a new version of the targets.
func (h *handler) saveTargets(w http.ResponseWriter, r *http.Request) {
	if !h.reportingPost(w, r) {
		return
	}
	cur, err := h.app.TargetSet(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The form has the targets in force, plus an empty goal row each;
	// a filled-in row adds a goal.
	var next []alliance.Target
	for i, t := range cur.Targets {
		nt := alliance.Target{Number: t.Number, Title: r.PostFormValue(fmt.Sprintf("t%d_title", i))}
		for j := 0; j <= len(t.Goals); j++ {
			f := fmt.Sprintf("g%d_%d", i, j)
			g := alliance.Goal{Code: r.PostFormValue(f + "_code"), Text: r.PostFormValue(f + "_text"), Indicators: r.PostForm[f+"_ind"]}
			if j == len(t.Goals) && strings.TrimSpace(g.Code) == "" && strings.TrimSpace(g.Text) == "" {
				continue
			}
			nt.Goals = append(nt.Goals, g)
		}
		next = append(next, nt)
	}
	note := r.PostFormValue("note")
	_, err = h.app.PutTargets(r.Context(), next, note)
	if err == nil {
		http.Redirect(w, r, "/reporting/targets?saved=1", http.StatusSeeOther)
		return
	}
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.loadTargets(r)
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	d.Targets, d.Note = targetsForm(next), note
	// targets[i].goals[j].text → the row g<i>_<j>; targets[i].title → t<i>.
	field, msg := alliance.ErrorField(err), alliance.ErrorMessage(err)
	var i, j int
	var rest string
	switch {
	case field == "note":
		d.Errors["note"] = msg
	case scanField(field, "targets[%d].goals[%d]%s", &i, &j, &rest):
		d.Errors[fmt.Sprintf("g%d_%d", i, j)] = msg
	case scanField(field, "targets[%d]%s", &i, &rest):
		d.Errors[fmt.Sprintf("t%d", i)] = msg
	default:
		d.Alert = msg
	}
	h.render(w, r, status, "targets", "TargetsTitle", d)
}

// scanField reports whether field has the form format, filling args.
func scanField(field, format string, args ...any) bool {
	n, _ := fmt.Sscanf(field, format, args...)
	return n >= len(args)-1 && n > 0
}
