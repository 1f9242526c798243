package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

// maxAssessBytes bounds the body of the assessment form: the note alone may
// be MaxAssessmentNote characters of up to four bytes each.
const maxAssessBytes = 4*alliance.MaxAssessmentNote + maxFormBytes

// untilLayouts are the forms a browser's datetime-local input sends.
var untilLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// holdQuick are the quick choices of a hold's length.
var holdQuick = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// queueData is the content of the queue page.
type queueData struct {
	Kind        string
	Kinds       []option // the queues the actor holds, when more than one
	Items       []alliance.Item
	Country     string
	Route       []option
	Filtered    bool
	ShowVerdict bool // police and disputed queues: the items have verdicts
	Police      bool
	DataDates   []string
	DBIP        string
}

// actorQueues returns the queues the actor's permissions give, in the order
// the queue page offers them.
func actorQueues(actor alliance.Actor) []app.QueueKind {
	var out []app.QueueKind
	for _, q := range []struct {
		kind app.QueueKind
		perm alliance.Permission
	}{{app.QueueAssess, alliance.PermAssess}, {app.QueuePolice, alliance.PermHold}, {app.QueueDisputed, alliance.PermSupervise}} {
		if actor.Can(q.perm) {
			out = append(out, q.kind)
		}
	}
	return out
}

// validCountry reports whether s is empty or two ASCII letters.
func validCountry(s string) bool {
	if s == "" {
		return true
	}
	return len(s) == 2 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// queue shows the work waiting for the actor's organisation: the analysts'
// items to assess, the police's decisions, a supervisor's disputes.
// ?kind= picks one of the queues the actor holds.
func (h *handler) queue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor := alliance.ActorFromContext(ctx)
	if actor.Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	kinds := actorQueues(actor)
	if len(kinds) == 0 {
		h.renderError(w, r, http.StatusForbidden, "ErrorForbidden", "")
		return
	}
	q := r.URL.Query()
	kind := kinds[0]
	if k := q.Get("kind"); k != "" {
		if len(k) > 16 {
			h.renderError(w, r, http.StatusBadRequest, "ErrorInvalid", "Unknown queue.")
			return
		}
		kind = app.QueueKind(k) // the app refuses unknown queues and those of others
	}
	country := strings.ToUpper(strings.TrimSpace(q.Get("country")))
	if !validCountry(country) {
		h.renderError(w, r, http.StatusBadRequest, "ErrorInvalid", "The country is a two-letter code, e.g. SE.")
		return
	}
	route := q.Get("route")
	items, err := h.app.Queue(ctx, app.QueueFilter{Kind: kind, Country: country, Route: route})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := queueData{
		Kind:        string(kind),
		Items:       items,
		Country:     country,
		Filtered:    country != "" || route != "",
		ShowVerdict: kind != app.QueueAssess,
		Police:      kind == app.QueuePolice,
		DataDates:   dataDates(items),
		DBIP:        dbipURL,
	}
	d.Route = options(route, "RouteKind", alliance.RouteNational, alliance.RouteForward, alliance.RouteNoHotline)
	if len(kinds) > 1 {
		d.Kinds = options(string(kind), "QueueKind", kinds...)
	}
	h.render(w, r, http.StatusOK, "queue", "QueueTitle", d)
}

// choice is one radio button.
type choice struct {
	Value   string
	Label   string // message id
	Checked bool
}

// labelField is one select of the assessment form, for a label-scheme field.
type labelField struct {
	Name     string
	Required bool
	Values   []option // Label "" : the template labels the value
	Error    string
}

// assessForm is the assessment form of an item's page.
type assessForm struct {
	Verdicts     []choice
	ContentTypes []option
	Fields       []labelField
	Note         string
	MaxNote      int
	HasVerdict   bool
	Errors       map[string]string // field → safe message (English)
}

// policeForm holds the police's hold and clear forms of an item's page.
type policeForm struct {
	Reason      string
	Until       string
	ClearReason string
	MaxReason   int
	Errors      map[string]string
}

// newAssessForm returns the assessment form filled with in.
func newAssessForm(scheme alliance.LabelScheme, it alliance.Item, in app.AssessInput) *assessForm {
	f := &assessForm{Note: in.Note, MaxNote: alliance.MaxAssessmentNote, HasVerdict: it.Takedown.Verdict != "",
		Errors: map[string]string{}}
	for _, v := range alliance.Verdicts {
		f.Verdicts = append(f.Verdicts, choice{Value: string(v), Label: "Verdict" + camel(string(v)), Checked: string(v) == in.Verdict})
	}
	f.ContentTypes = options(in.ContentType, "ContentType", alliance.ContentImage, alliance.ContentVideo, alliance.ContentOther)
	for _, sf := range scheme.Fields {
		lf := labelField{Name: sf.Name, Required: sf.Required}
		for _, v := range sf.Values {
			lf.Values = append(lf.Values, option{Value: v, Selected: in.Labels[sf.Name] == v})
		}
		f.Fields = append(f.Fields, lf)
	}
	return f
}

// setError places a field error next to its field; false when the form has no such field.
func (f *assessForm) setError(field, msg string) bool {
	switch field {
	case "verdict", "content_type", "note":
		f.Errors[field] = msg
		return true
	}
	for i := range f.Fields {
		if field == "labels."+f.Fields[i].Name {
			f.Fields[i].Error = msg
			return true
		}
	}
	return false
}

// canAssess says whether the actor's organisation assesses the item.
func canAssess(actor alliance.Actor, it alliance.Item) bool {
	return actor.Can(alliance.PermAssess) && it.DuplicateOf == nil && it.Route != nil && it.Route.OrgCode == actor.OrgCode
}

// canDecide says whether the actor's organisation is the police the item
// waits for.
func canDecide(actor alliance.Actor, it alliance.Item) bool {
	s := it.Takedown.Status
	return actor.Can(alliance.PermHold) && actor.OrgCode != "" && it.Takedown.Police == actor.OrgCode &&
		(s == alliance.TakedownPoliceNotified || s == alliance.TakedownPoliceHold)
}

// loadItem reads an item and builds its page with empty forms.
func (h *handler) loadItem(r *http.Request, id int64) (itemData, error) {
	ctx := r.Context()
	it, err := h.app.Item(ctx, id)
	if err != nil {
		return itemData{}, err
	}
	q := r.URL.Query()
	d := itemData{
		Item:      it,
		CSRF:      csrfToken(sessionFrom(ctx).csrf, purposeRetrace),
		Retraced:  q.Get("retraced") == "1",
		Refetched: q.Get("refetched") == "1",
		Assessed:  q.Get("assessed") == "1",
		Held:      q.Get("held") == "1",
		Cleared:   q.Get("cleared") == "1",
		Linked:    q.Get("linked") == "1",
		Unlinked:  q.Get("unlinked") == "1",
		DBIP:      dbipURL,
	}
	// The reference comes with the report, which an organisation an item was
	// forwarded to may not see; then the page goes without it.
	if rep, err := h.app.Report(ctx, it.ReportID); err == nil {
		d.Reference = rep.Reference
	} else if c := alliance.ErrorCode(err); c != alliance.ENOTFOUND && c != alliance.EFORBIDDEN {
		return itemData{}, err
	}
	actor := alliance.ActorFromContext(ctx)
	d.Deconflict = newDeconflictPanel(actor, it.Series)
	if canAssess(actor, it) {
		d.Assess = newAssessForm(h.app.LabelScheme(), it, app.AssessInput{})
	}
	if canDecide(actor, it) {
		d.Police = &policeForm{MaxReason: alliance.MaxHoldReason, Errors: map[string]string{}}
	}
	return d, nil
}

// itemPost reads an item form's body and checks the session and its token;
// it answers the request itself and returns false when they fail.
func (h *handler) itemPost(w http.ResponseWriter, r *http.Request, limit int64) (int64, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
		return 0, false
	}
	id, ok := pathID(r)
	if !ok {
		h.notFound(w, r)
		return 0, false
	}
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return 0, false
	}
	if !checkSessionCSRF(r, purposeRetrace) {
		h.renderError(w, r, http.StatusForbidden, "ErrorCSRF", "")
		return 0, false
	}
	return id, true
}

// itemFormError shows the item's page again after a refused form: 400 with
// the error next to its field (fill puts the sent values back and places
// it), or 409 with the current state. Other errors get the error page.
func (h *handler) itemFormError(w http.ResponseWriter, r *http.Request, id int64, err error, fill func(*itemData, string, string) bool) {
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.loadItem(r, id)
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	msg := alliance.ErrorMessage(err)
	if !fill(&d, alliance.ErrorField(err), msg) {
		d.Alert = msg
	}
	h.render(w, r, status, "item", "ItemTitle", d)
}

// itemDone goes back to the item's page with a notice.
func itemDone(w http.ResponseWriter, r *http.Request, id int64, done string) {
	http.Redirect(w, r, "/items/"+strconv.FormatInt(id, 10)+"?"+done+"=1#takedown", http.StatusSeeOther)
}

// assess records the analyst's assessment from the item page's form.
func (h *handler) assess(w http.ResponseWriter, r *http.Request) {
	id, ok := h.itemPost(w, r, maxAssessBytes)
	if !ok {
		return
	}
	in := app.AssessInput{
		Verdict:     r.PostFormValue("verdict"),
		ContentType: r.PostFormValue("content_type"),
		Labels:      map[string]string{},
		Note:        r.PostFormValue("note"),
	}
	scheme := h.app.LabelScheme()
	for _, f := range scheme.Fields {
		if v := r.PostFormValue("label_" + f.Name); v != "" {
			in.Labels[f.Name] = v
		}
	}
	if _, err := h.app.Assess(r.Context(), id, in); err != nil {
		h.itemFormError(w, r, id, err, func(d *itemData, field, msg string) bool {
			if d.Assess == nil {
				return false
			}
			d.Assess = newAssessForm(scheme, d.Item, in)
			return d.Assess.setError(field, msg)
		})
		return
	}
	itemDone(w, r, id, "assessed")
}

// parseUntil reads a datetime-local value as UTC.
func parseUntil(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s != "" && len(s) <= 32 {
		for _, layout := range untilLayouts {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, alliance.FieldErrorf("until", "Enter the end of the hold as a date and time in UTC, e.g. 2025-03-20T12:00.")
}

// hold places a police hold from the item page's form: until from the
// datetime-local field (UTC), or a quick choice (for=24h or 7d) from now.
func (h *handler) hold(w http.ResponseWriter, r *http.Request) {
	id, ok := h.itemPost(w, r, maxFormBytes)
	if !ok {
		return
	}
	reason, untilText := r.PostFormValue("reason"), r.PostFormValue("until")
	var until time.Time
	var err error
	if q := r.PostFormValue("for"); q != "" {
		d, ok := holdQuick[q]
		if !ok {
			err = alliance.FieldErrorf("until", "Unknown length of hold %q.", shorten(q, 16))
		}
		until = time.Now().UTC().Add(d).Truncate(time.Minute)
	} else {
		until, err = parseUntil(untilText)
	}
	if err == nil {
		err = h.app.Hold(r.Context(), id, reason, until)
	}
	if err != nil {
		h.itemFormError(w, r, id, err, func(d *itemData, field, msg string) bool {
			if d.Police == nil {
				return false
			}
			d.Police.Reason, d.Police.Until = shorten(reason, alliance.MaxHoldReason), shorten(untilText, 32)
			if field != "reason" && field != "until" {
				return false
			}
			d.Police.Errors[field] = msg
			return true
		})
		return
	}
	itemDone(w, r, id, "held")
}

// clearHold lets notices go out, from the item page's form.
func (h *handler) clearHold(w http.ResponseWriter, r *http.Request) {
	id, ok := h.itemPost(w, r, maxFormBytes)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	if err := h.app.ClearHold(r.Context(), id, reason); err != nil {
		h.itemFormError(w, r, id, err, func(d *itemData, field, msg string) bool {
			if d.Police == nil {
				return false
			}
			d.Police.ClearReason = shorten(reason, alliance.MaxHoldReason)
			if field != "reason" {
				return false
			}
			d.Police.Errors["clear_reason"] = msg
			return true
		})
		return
	}
	itemDone(w, r, id, "cleared")
}
