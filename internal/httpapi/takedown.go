package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/notify"
)

// takedownJSON is an item's way to removal.
type takedownJSON struct {
	Status     string     `json:"status"`
	Verdict    string     `json:"verdict,omitempty"`
	Disputed   bool       `json:"disputed"`
	Police     string     `json:"police,omitempty"`
	HoldUntil  *time.Time `json:"hold_until,omitempty"`
	HoldReason string     `json:"hold_reason,omitempty"`
	AssessedAt *time.Time `json:"assessed_at,omitempty"`
	NotifiedAt *time.Time `json:"police_notified_at,omitempty"`
	NoticeAt   *time.Time `json:"first_notice_at,omitempty"`
	RemovedAt  *time.Time `json:"removed_at,omitempty"`
	NextAction *time.Time `json:"next_action_at,omitempty"`
	Notices    int        `json:"notices_sent"`
	Rechecks   int        `json:"rechecks"`
	LastCheck  string     `json:"last_check,omitempty"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func newTakedownJSON(td *alliance.Takedown) *takedownJSON {
	if td.Status == alliance.TakedownNone && td.Verdict == "" {
		return nil
	}
	return &takedownJSON{Status: string(td.Status), Verdict: string(td.Verdict), Disputed: td.Disputed, Police: td.Police,
		HoldUntil: utcPtr(td.HoldUntil), HoldReason: td.HoldReason, AssessedAt: utcPtr(td.AssessedAt),
		NotifiedAt: utcPtr(td.NotifiedAt), NoticeAt: utcPtr(td.NoticeAt), RemovedAt: utcPtr(td.RemovedAt),
		NextAction: utcPtr(td.NextAction), Notices: td.Notices, Rechecks: td.Rechecks, LastCheck: td.LastCheck}
}

// assessmentJSON is an assessment as the API shows it.
type assessmentJSON struct {
	ID           int64             `json:"id"`
	Organisation string            `json:"organisation"`
	Analyst      string            `json:"analyst"`
	Verdict      string            `json:"verdict"`
	ContentType  string            `json:"content_type,omitempty"`
	Scheme       string            `json:"scheme"`
	Labels       map[string]string `json:"labels"`
	Note         string            `json:"note,omitempty"`
	Agreement    string            `json:"agreement"`
	Inherited    bool              `json:"inherited"`
	Source       string            `json:"source,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
}

func newAssessmentJSON(a *alliance.Assessment) assessmentJSON {
	labels := a.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return assessmentJSON{ID: a.ID, Organisation: a.OrgCode, Analyst: a.Analyst, Verdict: string(a.Verdict),
		ContentType: string(a.ContentType), Scheme: a.Scheme, Labels: labels, Note: a.Note,
		Agreement: string(a.Agreement), Inherited: a.Inherited, Source: a.Source, CreatedAt: a.CreatedAt.UTC()}
}

// takedownEventJSON is one recorded transition.
type takedownEventJSON struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// getQueue answers GET /api/v1/queue?kind=&country=&route=&limit=.
func (h *api) getQueue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := app.QueueFilter{Kind: app.QueueKind(q.Get("kind")), Country: q.Get("country"), Route: q.Get("route")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > app.MaxQueuePage {
			return alliance.FieldErrorf("limit", "limit must be a whole number from 1 to %d.", app.MaxQueuePage)
		}
		f.Limit = n
	}
	items, err := h.app.Queue(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Items []itemJSON `json:"items"`
	}{Items: make([]itemJSON, len(items))}
	for i := range items {
		out.Items[i] = newItemJSON(&items[i])
	}
	return WriteJSON(w, http.StatusOK, out)
}

// assessItem answers POST /api/v1/items/{id}/assessments: 201 with the
// assessment.
func (h *api) assessItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Verdict     string            `json:"verdict"`
		ContentType string            `json:"content_type"`
		Labels      map[string]string `json:"labels"`
		Note        string            `json:"note"`
	}
	if err := DecodeJSON(w, r, &in, 64<<10); err != nil {
		return err
	}
	as, err := h.app.Assess(r.Context(), id, app.AssessInput{Verdict: in.Verdict, ContentType: in.ContentType,
		Labels: in.Labels, Note: in.Note})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, newAssessmentJSON(&as))
}

// holdItem answers POST /api/v1/items/{id}/hold {"reason","until"}: 200
// with the item's takedown.
func (h *api) holdItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Reason string    `json:"reason"`
		Until  time.Time `json:"until"`
	}
	if err := DecodeJSON(w, r, &in, 16<<10); err != nil {
		return err
	}
	if in.Until.IsZero() {
		return alliance.FieldErrorf("until", "until is required: when the hold ends (RFC 3339).")
	}
	if err := h.app.Hold(r.Context(), id, in.Reason, in.Until); err != nil {
		return err
	}
	return h.writeTakedown(w, r, id)
}

// clearItem answers POST /api/v1/items/{id}/clear {"reason"}: 200 with the
// item's takedown.
func (h *api) clearItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := DecodeJSON(w, r, &in, 16<<10); err != nil {
		return err
	}
	if err := h.app.ClearHold(r.Context(), id, in.Reason); err != nil {
		return err
	}
	return h.writeTakedown(w, r, id)
}

func (h *api) writeTakedown(w http.ResponseWriter, r *http.Request, id int64) error {
	it, err := h.app.Item(r.Context(), id)
	if err != nil {
		return err
	}
	out := struct {
		ItemID   int64         `json:"item_id"`
		Takedown *takedownJSON `json:"takedown"`
	}{id, newTakedownJSON(&it.Takedown)}
	return WriteJSON(w, http.StatusOK, out)
}

// getLabelScheme answers GET /api/v1/label-scheme: the descriptors an
// assessment takes.
func (h *api) getLabelScheme(w http.ResponseWriter, r *http.Request) error {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		return alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	s := h.app.LabelScheme()
	type field struct {
		Name     string   `json:"name"`
		Required bool     `json:"required"`
		Values   []string `json:"values"`
	}
	out := struct {
		Name     string   `json:"name"`
		Verdicts []string `json:"verdicts"`
		Fields   []field  `json:"fields"`
	}{Name: s.Name}
	for _, v := range alliance.Verdicts {
		out.Verdicts = append(out.Verdicts, string(v))
	}
	for _, f := range s.Fields {
		out.Fields = append(out.Fields, field{f.Name, f.Required, f.Values})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// figuresJSON is one set of takedown figures; durations in seconds.
type figuresJSON struct {
	Items                 int      `json:"items"`
	Removed               int      `json:"removed"`
	Open                  int      `json:"open"`
	MedianReportToRemoval *float64 `json:"median_report_to_removal_s"`
	P90ReportToRemoval    *float64 `json:"p90_report_to_removal_s"`
	MedianNoticeToRemoval *float64 `json:"median_notice_to_removal_s"`
	P90NoticeToRemoval    *float64 `json:"p90_notice_to_removal_s"`
	Within1Day            float64  `json:"removed_within_1d"`
	Within3Days           float64  `json:"removed_within_3d"`
	Within7Days           float64  `json:"removed_within_7d"`
	UpAfter42Days         int      `json:"up_after_42d"`
}

func seconds(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := d.Seconds()
	return &s
}

func newFiguresJSON(f alliance.TakedownFigures) figuresJSON {
	return figuresJSON{Items: f.Items, Removed: f.Removed, Open: f.Open,
		MedianReportToRemoval: seconds(f.MedianReportToRemoval), P90ReportToRemoval: seconds(f.P90ReportToRemoval),
		MedianNoticeToRemoval: seconds(f.MedianNoticeToRemoval), P90NoticeToRemoval: seconds(f.P90NoticeToRemoval),
		Within1Day: f.Within1Day, Within3Days: f.Within3Days, Within7Days: f.Within7Days, UpAfter42Days: f.UpAfter42Days}
}

// getTakedownStats answers GET /api/v1/stats/takedown?from=&to=&country=&host_asn=.
func (h *api) getTakedownStats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f app.StatsFilter
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return alliance.FieldErrorf(p.name, "%s must be a date (2026-01-31) or an RFC 3339 time.", p.name)
			}
		}
		*p.dst = t.UTC()
	}
	f.Country = q.Get("country")
	if v := q.Get("host_asn"); v != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(v), "AS"), 10, 32)
		if err != nil {
			return alliance.FieldErrorf("host_asn", "host_asn must be an AS number such as 1653.")
		}
		f.ASN = uint32(n)
	}
	st, err := h.app.TakedownStats(r.Context(), f)
	if err != nil {
		return err
	}
	type group struct {
		Country string `json:"country,omitempty"`
		ASN     uint32 `json:"asn,omitempty"`
		ASOrg   string `json:"as_org,omitempty"`
		figuresJSON
	}
	out := struct {
		From      time.Time   `json:"from"`
		To        time.Time   `json:"to"`
		Overall   figuresJSON `json:"overall"`
		ByCountry []group     `json:"by_country"`
		ByNetwork []group     `json:"by_network"`
	}{From: st.From.UTC(), To: st.To.UTC(), Overall: newFiguresJSON(st.Overall), ByCountry: []group{}, ByNetwork: []group{}}
	for _, g := range st.ByCountry {
		out.ByCountry = append(out.ByCountry, group{Country: g.Country, figuresJSON: newFiguresJSON(g.TakedownFigures)})
	}
	for _, g := range st.ByNetwork {
		out.ByNetwork = append(out.ByNetwork, group{ASN: g.ASN, ASOrg: g.ASOrg, figuresJSON: newFiguresJSON(g.TakedownFigures)})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// noticeJSON is one notice to a host, with its delivery state.
type noticeJSON struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	Channel       string     `json:"channel"`
	Recipient     string     `json:"recipient"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// Unconfirmed: sent, but whether it arrived is unknown (see last_error).
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

// noticeTemplateJSON is an organisation's notice template.
type noticeTemplateJSON struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Own     bool   `json:"own"`
}

// getNoticeTemplate answers GET /api/v1/notice-template.
func (h *api) getNoticeTemplate(w http.ResponseWriter, r *http.Request) error {
	t, own, err := h.app.NoticeTemplate(r.Context())
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, noticeTemplateJSON{Subject: t.Subject, Body: t.Body, Own: own})
}

// putNoticeTemplate answers PUT /api/v1/notice-template {"subject","body"}.
func (h *api) putNoticeTemplate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	if err := DecodeJSON(w, r, &in, 64<<10); err != nil {
		return err
	}
	t := notify.Template{Subject: in.Subject, Body: in.Body}
	if err := h.app.SetNoticeTemplate(r.Context(), t); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, noticeTemplateJSON{Subject: t.Subject, Body: t.Body, Own: true})
}
