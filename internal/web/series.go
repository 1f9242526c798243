package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"alliance"
	"alliance/internal/app"
)

// maxSeriesBytes bounds the body of a series form: every text field at its
// limit in characters of up to four bytes each.
const maxSeriesBytes = 4*(alliance.MaxSeriesCode+alliance.MaxSeriesRefs+alliance.MaxSeriesNotes+200+alliance.MaxLinkReason) + maxFormBytes

// maxSeriesPath bounds a series code in a URL (escaped, it may be longer
// than its MaxSeriesCode characters).
const maxSeriesPath = 4 * alliance.MaxSeriesCode

// seriesURL is the address of a series' page: codes may hold spaces and
// slashes, which stay within the one path segment.
func seriesURL(code string) string { return "/series/" + url.PathEscape(code) }

// seriesForm is the form that creates a series or edits one.
type seriesForm struct {
	Code           string
	Refs           string
	Contact        string
	Notes          string
	DoNotDuplicate bool
	MaxCode        int
	MaxRefs        int
	MaxNotes       int
	Errors         map[string]string // field → safe message (English)
}

// newSeriesForm returns the form filled with in.
func newSeriesForm(in app.SeriesInput) *seriesForm {
	return &seriesForm{Code: in.Code, Refs: in.Refs, Contact: in.Contact, Notes: in.Notes, DoNotDuplicate: in.DoNotDuplicate,
		MaxCode: alliance.MaxSeriesCode, MaxRefs: alliance.MaxSeriesRefs, MaxNotes: alliance.MaxSeriesNotes,
		Errors: map[string]string{}}
}

// setError places a field error next to its field; false when the form has no such field.
func (f *seriesForm) setError(field, msg string) bool {
	switch field {
	case "code", "refs", "contact", "notes":
		f.Errors[field] = msg
		return true
	}
	return false
}

// seriesInput reads a series form's fields.
func seriesInput(r *http.Request) app.SeriesInput {
	return app.SeriesInput{
		Code:           r.PostFormValue("code"),
		Refs:           r.PostFormValue("refs"),
		Contact:        r.PostFormValue("contact"),
		Notes:          r.PostFormValue("notes"),
		DoNotDuplicate: r.PostFormValue("do_not_duplicate") != "",
	}
}

// seriesListData is the content of the series list.
type seriesListData struct {
	Series   []alliance.Series
	Owner    string
	Filtered bool
	CSRF     string
	Form     *seriesForm // nil unless the actor creates series
	Alert    string
}

// validOwner reports whether s is empty or looks like an organisation code.
func validOwner(s string) bool {
	if len(s) > 64 {
		return false
	}
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// seriesList lists the series of the node, of one owner with ?owner=.
func (h *handler) seriesList(w http.ResponseWriter, r *http.Request) {
	owner := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("owner")))
	if !validOwner(owner) {
		h.renderError(w, r, http.StatusBadRequest, "ErrorInvalid", "The owner is an organisation code, e.g. SE-POLICE.")
		return
	}
	d, err := h.loadSeriesList(r, owner)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "series", "SeriesTitle", d)
}

// loadSeriesList reads the list and builds its page with an empty form.
func (h *handler) loadSeriesList(r *http.Request, owner string) (seriesListData, error) {
	ctx := r.Context()
	list, err := h.app.ListSeries(ctx, owner, 0)
	if err != nil {
		return seriesListData{}, err
	}
	d := seriesListData{Series: list, Owner: owner, Filtered: owner != "", CSRF: csrfToken(sessionFrom(ctx).csrf, purposeSeries)}
	if alliance.ActorFromContext(ctx).Can(alliance.PermManageSeries) {
		d.Form = newSeriesForm(app.SeriesInput{})
	}
	return d, nil
}

// seriesPost reads a series form's body and checks the session and its
// token; it answers the request itself and returns false when they fail.
func (h *handler) seriesPost(w http.ResponseWriter, r *http.Request) bool {
	return h.formPost(w, r, maxSeriesBytes, purposeSeries)
}

// formStatus is the status of a page shown again after a refused form:
// 400 for bad input, 409 for a conflict, 0 for errors of other kinds.
func formStatus(err error) int {
	switch alliance.ErrorCode(err) {
	case alliance.EINVALID:
		return http.StatusBadRequest
	case alliance.ECONFLICT:
		return http.StatusConflict
	}
	return 0
}

// createSeries creates a series from the list's form and opens its page.
func (h *handler) createSeries(w http.ResponseWriter, r *http.Request) {
	if !h.seriesPost(w, r) {
		return
	}
	in := seriesInput(r)
	s, err := h.app.CreateSeries(r.Context(), in)
	if err == nil {
		http.Redirect(w, r, seriesURL(s.Code)+"?created=1", http.StatusSeeOther)
		return
	}
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.loadSeriesList(r, "")
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	field, msg := alliance.ErrorField(err), alliance.ErrorMessage(err)
	if field == "" && status == http.StatusConflict {
		field = "code" // the code is in use
	}
	if d.Form == nil {
		d.Alert = msg
	} else {
		d.Form = newSeriesForm(in)
		if !d.Form.setError(field, msg) {
			d.Alert = msg
		}
	}
	h.render(w, r, status, "series", "SeriesTitle", d)
}

// statusForm is the owner's form that changes a series' status.
type statusForm struct {
	Statuses  []option
	Reason    string
	MaxReason int
	Errors    map[string]string
}

// seriesData is the content of a series' page.
type seriesData struct {
	Series        alliance.Series
	URL           string // of the page, escaped
	Police        bool   // the actor may read notes
	CSRF          string
	Created       bool
	StatusChanged bool
	Updated       bool
	Alert         string
	Status        *statusForm // nil unless the actor's organisation owns the series
	Edit          *seriesForm // likewise
}

// pathCode returns the series code in the path's {code}, or false when it
// is empty or too long.
func pathCode(r *http.Request) (string, bool) {
	code := r.PathValue("code")
	return code, code != "" && len(code) <= maxSeriesPath
}

// loadSeries reads a series and builds its page with the owner's forms
// filled with its current values.
func (h *handler) loadSeries(r *http.Request, code string) (seriesData, error) {
	ctx := r.Context()
	s, err := h.app.Series(ctx, code)
	if err != nil {
		return seriesData{}, err
	}
	actor := alliance.ActorFromContext(ctx)
	q := r.URL.Query()
	d := seriesData{
		Series:        s,
		URL:           seriesURL(s.Code),
		Police:        actor.Can(alliance.PermManageSeries),
		CSRF:          csrfToken(sessionFrom(ctx).csrf, purposeSeries),
		Created:       q.Get("created") == "1",
		StatusChanged: q.Get("changed") == "1",
		Updated:       q.Get("updated") == "1",
	}
	if actor.Can(alliance.PermManageSeries) && (actor.System || s.OwnerOrg == actor.OrgCode) {
		d.Status = &statusForm{Statuses: options(string(s.Status), "SeriesStatus", alliance.SeriesStatuses...),
			MaxReason: alliance.MaxLinkReason, Errors: map[string]string{}}
		d.Edit = newSeriesForm(app.SeriesInput{Code: s.Code, Refs: s.Refs, Contact: s.Contact, Notes: s.Notes, DoNotDuplicate: s.DoNotDuplicate})
	}
	return d, nil
}

// seriesPage shows one series with its history and the owner's forms.
func (h *handler) seriesPage(w http.ResponseWriter, r *http.Request) {
	code, ok := pathCode(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	d, err := h.loadSeries(r, code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "seriesview", "SeriesViewTitle", d)
}

// seriesFormError shows the series' page again after a refused form, with
// the error next to its field (fill puts the sent values back and places
// it) or, failing that, at the top.
func (h *handler) seriesFormError(w http.ResponseWriter, r *http.Request, code string, err error, fill func(*seriesData, string, string) bool) {
	status := formStatus(err)
	if status == 0 {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.loadSeries(r, code)
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	msg := alliance.ErrorMessage(err)
	if !fill(&d, alliance.ErrorField(err), msg) {
		d.Alert = msg
	}
	h.render(w, r, status, "seriesview", "SeriesViewTitle", d)
}

// setSeriesStatus changes a series' status from the owner's form.
func (h *handler) setSeriesStatus(w http.ResponseWriter, r *http.Request) {
	code, ok := pathCode(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if !h.seriesPost(w, r) {
		return
	}
	to, reason := r.PostFormValue("status"), r.PostFormValue("reason")
	s, err := h.app.SetSeriesStatus(r.Context(), code, to, reason)
	if err != nil {
		h.seriesFormError(w, r, code, err, func(d *seriesData, field, msg string) bool {
			if d.Status == nil {
				return false
			}
			d.Status.Reason = shorten(reason, alliance.MaxLinkReason)
			for i := range d.Status.Statuses {
				d.Status.Statuses[i].Selected = d.Status.Statuses[i].Value == to
			}
			if field != "status" && field != "reason" {
				return false
			}
			d.Status.Errors[field] = msg
			return true
		})
		return
	}
	http.Redirect(w, r, seriesURL(s.Code)+"?changed=1", http.StatusSeeOther)
}

// updateSeries sets a series' references, flag, contact and notes from
// the owner's form.
func (h *handler) updateSeries(w http.ResponseWriter, r *http.Request) {
	code, ok := pathCode(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if !h.seriesPost(w, r) {
		return
	}
	in := seriesInput(r)
	in.Code = code
	s, err := h.app.UpdateSeries(r.Context(), code, in)
	if err != nil {
		h.seriesFormError(w, r, code, err, func(d *seriesData, field, msg string) bool {
			if d.Edit == nil {
				return false
			}
			in.Code = d.Series.Code
			d.Edit = newSeriesForm(in)
			return d.Edit.setError(field, msg)
		})
		return
	}
	http.Redirect(w, r, seriesURL(s.Code)+"?updated=1", http.StatusSeeOther)
}

// alertsData is the content of the alerts page.
type alertsData struct {
	Alerts []alliance.SeriesAlert
	Unread int
	CSRF   string
	Read   bool
}

// unread counts the alerts not yet read.
func unread(alerts []alliance.SeriesAlert) int {
	n := 0
	for _, a := range alerts {
		if !a.Read {
			n++
		}
	}
	return n
}

// alerts shows the organisation's inbox of series alerts.
func (h *handler) alerts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := h.app.Alerts(ctx, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "alerts", "AlertsTitle", alertsData{
		Alerts: list, Unread: unread(list), CSRF: csrfToken(sessionFrom(ctx).csrf, purposeSeries),
		Read: r.URL.Query().Get("read") == "1",
	})
}

// markAlertRead marks one alert of the inbox read.
func (h *handler) markAlertRead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if !h.seriesPost(w, r) {
		return
	}
	if err := h.app.MarkAlertRead(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/alerts?read=1#alert-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// deconflictPanel is the deconfliction answer of an item's page, with the
// police's link forms.
type deconflictPanel struct {
	Answer    alliance.Deconfliction
	StandDown string // the agency that identified the series, when standing down
	SeeSeries bool   // the actor may open series
	Manage    *linkForm
}

// linkForm holds the police's forms that link an item to a series by hand
// and unlink it.
type linkForm struct {
	Code         string
	Reason       string
	MaxReason    int
	MaxCode      int
	Errors       map[string]string
	UnlinkCode   string // the link whose unlink form was refused
	UnlinkReason string
	UnlinkError  string
}

// newDeconflictPanel answers for an item's series links.
func newDeconflictPanel(actor alliance.Actor, links []alliance.SeriesLink) *deconflictPanel {
	p := &deconflictPanel{Answer: alliance.Decide(links), SeeSeries: actor.Can(alliance.PermViewSeries)}
	if p.Answer.Action == alliance.ActionStandDown {
		for _, l := range p.Answer.Series {
			if l.Status.Identified() && l.DoNotDup {
				p.StandDown = l.Owner
				break
			}
		}
	}
	if actor.Can(alliance.PermManageSeries) {
		p.Manage = &linkForm{MaxReason: alliance.MaxLinkReason, MaxCode: alliance.MaxSeriesCode, Errors: map[string]string{}}
	}
	return p
}

// linkDone goes back to the item's deconfliction panel with a notice.
func linkDone(w http.ResponseWriter, r *http.Request, id int64, done string) {
	http.Redirect(w, r, "/items/"+strconv.FormatInt(id, 10)+"?"+done+"=1#deconfliction", http.StatusSeeOther)
}

// seriesFieldError turns "no such series" into an error at the code field;
// when the item itself is not found, the page shows that instead.
func seriesFieldError(err error) error {
	if alliance.ErrorCode(err) == alliance.ENOTFOUND {
		return alliance.FieldErrorf("code", "%s", alliance.ErrorMessage(err))
	}
	return err
}

// linkSeries links the item to a series by hand, from its page's form.
func (h *handler) linkSeries(w http.ResponseWriter, r *http.Request) {
	id, ok := h.itemPost(w, r, maxSeriesBytes)
	if !ok {
		return
	}
	code, reason := r.PostFormValue("code"), r.PostFormValue("reason")
	if err := h.app.LinkItem(r.Context(), id, code, reason); err != nil {
		h.itemFormError(w, r, id, seriesFieldError(err), func(d *itemData, field, msg string) bool {
			if d.Deconflict == nil || d.Deconflict.Manage == nil {
				return false
			}
			f := d.Deconflict.Manage
			f.Code, f.Reason = shorten(code, alliance.MaxSeriesCode), shorten(reason, alliance.MaxLinkReason)
			if field != "code" && field != "reason" {
				return false
			}
			f.Errors[field] = msg
			return true
		})
		return
	}
	linkDone(w, r, id, "linked")
}

// unlinkSeries removes the item's link to a series, from its page's form.
func (h *handler) unlinkSeries(w http.ResponseWriter, r *http.Request) {
	id, ok := h.itemPost(w, r, maxSeriesBytes)
	if !ok {
		return
	}
	code, reason := r.PostFormValue("code"), r.PostFormValue("reason")
	if err := h.app.UnlinkItem(r.Context(), id, code, reason); err != nil {
		h.itemFormError(w, r, id, seriesFieldError(err), func(d *itemData, field, msg string) bool {
			if d.Deconflict == nil || d.Deconflict.Manage == nil {
				return false
			}
			f := d.Deconflict.Manage
			f.UnlinkCode, f.UnlinkReason, f.UnlinkError = code, shorten(reason, alliance.MaxLinkReason), msg
			for _, l := range d.Deconflict.Answer.Series {
				if l.Code == code {
					return true // shown in the link's row
				}
			}
			return false
		})
		return
	}
	linkDone(w, r, id, "unlinked")
}
