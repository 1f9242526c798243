package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"alliance"
	"alliance/internal/app"
)

// IdempotencyKeyHeader is the request header that makes a report submission
// safe to retry (draft-ietf-httpapi-idempotency-key-header).
const IdempotencyKeyHeader = "Idempotency-Key"

// ReplayedHeader is set to "true" on the response to a retry that an
// Idempotency-Key matched: the body is that of the first response and
// nothing new was created.
const ReplayedHeader = "Idempotent-Replayed"

// reportRequest is the body of POST /api/v1/reports.
type reportRequest struct {
	URLs        []string        `json:"urls"`
	Description string          `json:"description"`
	Category    string          `json:"category"`
	Reporter    reporterRequest `json:"reporter"`
	Source      string          `json:"source"`
}

// reporterRequest is the reporter's contact in a report submission.
type reporterRequest struct {
	Email string `json:"email"`
}

// UnmarshalJSON decodes the reporter object strictly, as DecodeJSON does
// the body, and names a bad field with its path ("reporter.phone"), which
// encoding/json does not do for unknown fields of nested objects.
func (r *reporterRequest) UnmarshalJSON(b []byte) error {
	type plain reporterRequest // without this method
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(r)); err != nil {
		return nestedError("reporter", err)
	}
	return nil
}

// decodeReport reads the body and headers of a report submission into the
// input of app.SubmitReport. It checks only what belongs to HTTP (size,
// syntax, unknown fields, headers); the app validates the content.
func (h *api) decodeReport(w http.ResponseWriter, r *http.Request) (app.ReportInput, error) {
	var req reportRequest
	if err := DecodeJSON(w, r, &req, DefaultMaxBodyBytes); err != nil {
		return app.ReportInput{}, err
	}
	in := app.ReportInput{
		URLs:          req.URLs,
		Description:   req.Description,
		Category:      req.Category,
		ReporterEmail: req.Reporter.Email,
		Source:        req.Source,
		Client:        h.clientAddr(r),
	}
	switch keys := r.Header.Values(IdempotencyKeyHeader); len(keys) {
	case 0:
	case 1:
		in.IdempotencyKey = keys[0]
		if in.IdempotencyKey == "" {
			return app.ReportInput{}, alliance.FieldErrorf(IdempotencyKeyHeader, "The Idempotency-Key header is empty.")
		}
	default:
		return app.ReportInput{}, alliance.FieldErrorf(IdempotencyKeyHeader, "Send one Idempotency-Key header, not %d.", len(keys))
	}
	return in, nil
}

// submittedItemJSON is an item in the answer to a submission.
type submittedItemJSON struct {
	ID           int64  `json:"id"`
	URL          string `json:"url"`
	CanonicalURL string `json:"canonical_url"`
	DuplicateOf  *int64 `json:"duplicate_of"`
}

// submittedJSON is the answer to a submission.
type submittedJSON struct {
	ID        int64               `json:"id"`
	Reference string              `json:"reference"`
	Items     []submittedItemJSON `json:"items"`
}

// postReport answers POST /api/v1/reports. An idempotent replay answers as
// the first request did, 201 with the same body, and says so in
// Idempotent-Replayed: a client that lost the first answer cannot tell the
// difference, which is the point of the key.
func (h *api) postReport(w http.ResponseWriter, r *http.Request) error {
	in, err := h.decodeReport(w, r)
	if err != nil {
		return err
	}
	res, err := h.app.SubmitReport(r.Context(), in)
	if err != nil {
		return err
	}
	rep := &res.Report
	out := submittedJSON{ID: rep.ID, Reference: rep.Reference, Items: make([]submittedItemJSON, len(rep.Items))}
	for i := range rep.Items {
		it := &rep.Items[i]
		out.Items[i] = submittedItemJSON{ID: it.ID, URL: it.URL, CanonicalURL: it.CanonicalURL, DuplicateOf: it.DuplicateOf}
	}
	if res.Replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	w.Header().Set("Location", "/api/v1/reports/"+strconv.FormatInt(rep.ID, 10))
	return WriteJSON(w, http.StatusCreated, out)
}

// getReport answers GET /api/v1/reports/{id}.
func (h *api) getReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := h.app.Report(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, newReportJSON(&rep))
}

// getItem answers GET /api/v1/items/{id}, with the item's route history.
func (h *api) getItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := h.app.Item(r.Context(), id)
	if err != nil {
		return err
	}
	out := itemDetailJSON{itemJSON: newItemJSON(&it)}
	out.RouteHistory = make([]routeJSON, len(it.RouteHistory))
	for i := range it.RouteHistory {
		out.RouteHistory[i] = newRouteJSON(&it.RouteHistory[i])
	}
	out.Media = newMediaJSON(it.Media)
	out.Assessments = make([]assessmentJSON, len(it.Assessments))
	for i := range it.Assessments {
		out.Assessments[i] = newAssessmentJSON(&it.Assessments[i])
	}
	out.Deconfliction = newDeconflictionJSON(alliance.Decide(it.Series))
	if f := it.Federated; f.ForwardedTo != "" || f.ReceivedFrom != "" {
		out.Federation = &federatedJSON{ForwardedTo: f.ForwardedTo, ReceivedFrom: f.ReceivedFrom, RemoteStatus: f.RemoteStatus,
			RemoteOrg: f.RemoteOrg, RemoteAt: utcPtr(f.RemoteAt)}
	}
	out.Notices = make([]noticeJSON, len(it.Notices))
	for i, n := range it.Notices {
		out.Notices[i] = noticeJSON{ID: n.ID, Kind: n.Kind, Channel: n.Channel, Recipient: n.Recipient, Subject: n.Subject,
			Status: n.Status, Attempts: n.Attempts, LastError: n.LastError, CreatedAt: n.CreatedAt.UTC(),
			SentAt: utcPtr(n.SentAt), NextAttemptAt: utcPtr(n.NextAt),
			Unconfirmed: n.Unconfirmed}
	}
	out.TakedownHistory = make([]takedownEventJSON, len(it.TakedownHistory))
	for i, e := range it.TakedownHistory {
		out.TakedownHistory[i] = takedownEventJSON{From: string(e.From), To: string(e.To), Actor: e.Actor, Reason: e.Reason, At: e.At.UTC()}
	}
	return WriteJSON(w, http.StatusOK, out)
}

// maxPageLimit is the largest page GET /api/v1/items serves.
const maxPageLimit = 500

// listItems answers GET /api/v1/items?status=&country=&route=&cursor=&limit=.
func (h *api) listItems(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := app.ItemFilter{
		Status:  q.Get("status"),
		Country: q.Get("country"),
		Route:   q.Get("route"),
		Cursor:  q.Get("cursor"),
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageLimit {
			return alliance.FieldErrorf("limit", "limit must be a whole number from 1 to %d.", maxPageLimit)
		}
		f.Limit = n
	}
	page, err := h.app.Items(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Items []itemJSON `json:"items"`
		Next  *string    `json:"next"`
	}{Items: make([]itemJSON, len(page.Items))}
	for i := range page.Items {
		out.Items[i] = newItemJSON(&page.Items[i])
	}
	if page.Next != "" {
		out.Next = &page.Next
	}
	return WriteJSON(w, http.StatusOK, out)
}

// retraceItem answers POST /api/v1/items/{id}/retrace: 202, as the trace
// runs later in a batch job.
func (h *api) retraceItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.app.Retrace(r.Context(), id); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, struct {
		ItemID int64 `json:"item_id"`
		Queued bool  `json:"queued"`
	}{id, true})
}

// refetchItem answers POST /api/v1/items/{id}/refetch: 202, as the fetch
// runs later in a batch job.
func (h *api) refetchItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.app.Refetch(r.Context(), id); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, struct {
		ItemID int64 `json:"item_id"`
		Queued bool  `json:"queued"`
	}{id, true})
}

// pathID returns the {id} path value of r, which must be a positive int64.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, alliance.FieldErrorf("id", "The id must be a positive whole number.")
	}
	return id, nil
}
