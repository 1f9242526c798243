package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

// commitmentForm is one goal's form: the baseline, the statuses of its
// actions and a new action.
type commitmentForm struct {
	Baseline, BaselineDate           string
	NewDescription, NewOwner, NewDue string
	NewStatus                        string
	Errors                           map[string]string
}

// progressForm is one goal's progress update form.
type progressForm struct {
	Period, Narrative, Awareness, Evidence string
	Errors                                 map[string]string
}

// goalEdit is one goal on the commitments page.
type goalEdit struct {
	Target     int
	TargetText string
	Code, Text string
	Manual     bool // the goal has the hand-entered indicator
	Actions    []actionRow
	Commitment commitmentForm
	Progress   progressForm
	Updates    []alliance.ProgressUpdate
}

// actionRow is a committed action with its status choices.
type actionRow struct {
	alliance.CommitmentAction
	Statuses []option
}

// commitmentsData is the content of a country's commitments page.
type commitmentsData struct {
	Country, Name string
	Goals         []goalEdit
	Owners        []option
	Statuses      []option
	CSRF          string
	Saved         string // goal code just saved
	Alert         string
	Requests      []alliance.UpdateRequest
	ReportURL     string
	Capabilities  []capabilityRow
	CapErrors     map[string]string // capability code → message
	CapSaved      bool
}

// loadCommitments builds the page with the recorded values in its forms.
func (h *handler) loadCommitments(r *http.Request, cc string) (commitmentsData, error) {
	ctx := r.Context()
	own, err := h.ownCountry(r)
	if err != nil {
		return commitmentsData{}, err
	}
	if own != cc {
		return commitmentsData{}, alliance.Errorf(alliance.EFORBIDDEN, "Only %s's users edit its commitments.", cc)
	}
	cs, rqs, err := h.app.Commitments(ctx, cc)
	if err != nil {
		return commitmentsData{}, err
	}
	orgs, err := h.app.Organisations(ctx)
	if err != nil {
		return commitmentsData{}, err
	}
	d := commitmentsData{Country: cc, Name: alliance.CountryName(cc), CSRF: csrfToken(sessionFrom(ctx).csrf, purposeReporting),
		Requests: rqs, ReportURL: reportingURL(cc, ""), Statuses: options("planned", "ActionStatus", alliance.ActionStatuses...)}
	for _, o := range orgs {
		if o.CountryCode == cc {
			d.Owners = append(d.Owners, option{Value: o.Code, Label: ""})
		}
	}
	if d.Capabilities, err = h.capabilityRows(r, cc); err != nil {
		return commitmentsData{}, err
	}
	d.CapErrors = map[string]string{}
	year := currentPeriod(time.Now())
	targets, err := h.app.TargetSet(ctx)
	if err != nil {
		return commitmentsData{}, err
	}
	for _, t := range targets.Targets {
		for _, g := range t.Goals {
			ge := goalEdit{Target: t.Number, TargetText: t.Title, Code: g.Code, Text: g.Text,
				Commitment: commitmentForm{NewStatus: "planned", Errors: map[string]string{}},
				Progress:   progressForm{Period: year, Errors: map[string]string{}}}
			for _, k := range g.Indicators {
				if def, _ := alliance.IndicatorByKey(k); def.Manual {
					ge.Manual = true
				}
			}
			if i := slices.IndexFunc(cs, func(c alliance.Commitment) bool { return c.Goal == g.Code }); i >= 0 {
				c := cs[i]
				ge.Commitment.Baseline, ge.Commitment.BaselineDate = c.Baseline, c.BaselineDate
				for _, a := range c.Actions {
					ge.Actions = append(ge.Actions, actionRow{a, options(a.Status, "ActionStatus", alliance.ActionStatuses...)})
				}
				ge.Updates = c.Progress
			}
			d.Goals = append(d.Goals, ge)
		}
	}
	return d, nil
}

// goalIndex finds a goal of the page by its code in the path.
func (d *commitmentsData) goalIndex(code string) int {
	return slices.IndexFunc(d.Goals, func(g goalEdit) bool { return g.Code == code })
}

// commitments shows a country's commitments with a form per goal (the
// country's own users).
func (h *handler) commitments(w http.ResponseWriter, r *http.Request) {
	cc, ok := h.countryPage(w, r)
	if !ok {
		return
	}
	d, err := h.loadCommitments(r, cc)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Saved = shorten(r.URL.Query().Get("saved"), 12)
	d.CapSaved = d.Saved == "capabilities"
	h.render(w, r, http.StatusOK, "commitments", "CommitmentsTitle", d)
}

// commitmentPost reads the path of a goal's form and its body; it
// answers the request itself and returns false when either is refused.
func (h *handler) commitmentPost(w http.ResponseWriter, r *http.Request) (cc, goal string, ok bool) {
	cc, ok = pathCountry(r)
	goal = r.PathValue("goal")
	if !ok {
		h.notFound(w, r)
		return "", "", false
	}
	// The goals are those of the targets in force, which the secretariat
	// edits; reading them needs a signed-in user.
	if !h.reportingPost(w, r) {
		return "", "", false
	}
	targets, err := h.app.TargetSet(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return "", "", false
	}
	if _, known := targets.Goal(goal); !known {
		h.notFound(w, r)
		return "", "", false
	}
	return cc, goal, true
}

// saveCommitment records a goal's baseline, action statuses and new action.
func (h *handler) saveCommitment(w http.ResponseWriter, r *http.Request) {
	cc, goal, ok := h.commitmentPost(w, r)
	if !ok {
		return
	}
	f := commitmentForm{Baseline: r.PostFormValue("baseline"), BaselineDate: r.PostFormValue("baseline_date"),
		NewDescription: strings.TrimSpace(r.PostFormValue("new_description")), NewOwner: r.PostFormValue("new_owner"),
		NewDue: r.PostFormValue("new_due"), NewStatus: r.PostFormValue("new_status"), Errors: map[string]string{}}
	in := app.CommitmentInput{Goal: goal, Baseline: f.Baseline, BaselineDate: f.BaselineDate}
	// The new action comes first, so that its errors are actions[0].
	hasNew := f.NewDescription != "" || f.NewDue != ""
	if hasNew {
		in.Actions = append(in.Actions, app.ActionInput{Description: f.NewDescription, OwnerOrg: f.NewOwner, Due: f.NewDue, Status: f.NewStatus})
	}
	for key, vals := range r.PostForm {
		idText, isStatus := strings.CutPrefix(key, "status_")
		if !isStatus || len(vals) != 1 {
			continue
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 {
			h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
			return
		}
		in.Actions = append(in.Actions, app.ActionInput{ID: id, Status: vals[0]})
	}
	_, err := h.app.PutCommitment(r.Context(), cc, in)
	if err == nil {
		http.Redirect(w, r, "/reporting/"+cc+"/edit?saved="+goal+"#goal-"+goalAnchor(goal), http.StatusSeeOther)
		return
	}
	h.commitmentFormError(w, r, cc, goal, err, func(g *goalEdit, field, msg string) bool {
		g.Commitment = f
		switch {
		case field == "baseline" || field == "baseline_date":
			f.Errors[field] = msg
		case hasNew && strings.HasPrefix(field, "actions[0]."):
			name := strings.TrimPrefix(field, "actions[0].")
			if name == "owner" || name == "due" || name == "description" || name == "status" {
				f.Errors["new_"+name] = msg
			} else {
				return false
			}
		default:
			return false
		}
		g.Commitment = f
		return true
	})
}

// addProgress records a goal's progress update for a period.
func (h *handler) addProgress(w http.ResponseWriter, r *http.Request) {
	cc, goal, ok := h.commitmentPost(w, r)
	if !ok {
		return
	}
	f := progressForm{Period: strings.TrimSpace(r.PostFormValue("period")), Narrative: r.PostFormValue("narrative"),
		Awareness: strings.TrimSpace(r.PostFormValue("awareness_actions")), Evidence: r.PostFormValue("evidence"), Errors: map[string]string{}}
	in := app.ProgressInput{Goal: goal, Period: f.Period, Narrative: f.Narrative}
	if f.Awareness != "" {
		n, err := strconv.ParseFloat(f.Awareness, 64)
		if err != nil {
			f.Errors["awareness_actions"] = "A count: a whole number, 0 or more."
			h.commitmentFormError(w, r, cc, goal, alliance.FieldErrorf("values.awareness_actions", "A count: a whole number, 0 or more."),
				func(g *goalEdit, _, _ string) bool { g.Progress = f; return true })
			return
		}
		in.Values = map[string]float64{"awareness_actions": n}
	}
	for line := range strings.Lines(f.Evidence) {
		if l := strings.TrimSpace(line); l != "" {
			in.Evidence = append(in.Evidence, l)
		}
	}
	_, err := h.app.AddProgress(r.Context(), cc, in)
	if err == nil {
		http.Redirect(w, r, "/reporting/"+cc+"/edit?saved="+goal+"#goal-"+goalAnchor(goal), http.StatusSeeOther)
		return
	}
	h.commitmentFormError(w, r, cc, goal, err, func(g *goalEdit, field, msg string) bool {
		switch {
		case field == "period" || field == "narrative":
			f.Errors[field] = msg
		case field == "values.awareness_actions":
			f.Errors["awareness_actions"] = msg
		case field == "evidence" || strings.HasPrefix(field, "evidence["):
			f.Errors["evidence"] = msg
		default:
			g.Progress = f
			return false
		}
		g.Progress = f
		return true
	})
}

// commitmentFormError shows the page again after a refused form, with the
// sent values and the error next to its field (fill places it) or at the top.
func (h *handler) commitmentFormError(w http.ResponseWriter, r *http.Request, cc, goal string, err error, fill func(*goalEdit, string, string) bool) {
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.loadCommitments(r, cc)
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	msg := alliance.ErrorMessage(err)
	if i := d.goalIndex(goal); i < 0 || !fill(&d.Goals[i], alliance.ErrorField(err), msg) {
		d.Alert = msg
	}
	h.render(w, r, status, "commitments", "CommitmentsTitle", d)
}

// goalAnchor is a goal's element id suffix: "4.2" → "4-2".
func goalAnchor(code string) string { return strings.ReplaceAll(code, ".", "-") }

// saveCapabilities records the country's self-assessed capability levels:
// those given a level; "not assessed" leaves a capability as it is.
func (h *handler) saveCapabilities(w http.ResponseWriter, r *http.Request) {
	cc, ok := pathCountry(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if !h.reportingPost(w, r) {
		return
	}
	var in []app.CapabilityInput
	for _, c := range h.app.Capabilities() {
		lv := r.PostFormValue("level_" + c.Code)
		if lv == "" {
			continue
		}
		n, err := strconv.Atoi(lv)
		if err != nil {
			n = -1 // the app refuses it by name
		}
		in = append(in, app.CapabilityInput{Capability: c.Code, Level: n, Note: r.PostFormValue("note_" + c.Code)})
	}
	// Even an empty form goes to the app, which decides who may write.
	{
		if _, err := h.app.PutCapabilityAssessments(r.Context(), cc, in); err != nil {
			status := formStatus(err)
			if status == 0 {
				h.fail(w, r, err)
				return
			}
			d, lerr := h.loadCommitments(r, cc)
			if lerr != nil {
				h.fail(w, r, lerr)
				return
			}
			d.Alert = alliance.ErrorMessage(err)
			// capabilities[i].field names the input's i-th entry.
			var i int
			if _, serr := fmt.Sscanf(alliance.ErrorField(err), "capabilities[%d]", &i); serr == nil && i >= 0 && i < len(in) {
				d.CapErrors[in[i].Capability] = d.Alert
				d.Alert = ""
			}
			h.render(w, r, status, "commitments", "CommitmentsTitle", d)
			return
		}
	}
	http.Redirect(w, r, "/reporting/"+cc+"/edit?saved=capabilities#capabilities", http.StatusSeeOther)
}
