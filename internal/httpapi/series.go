package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

// seriesJSON is a series as the API shows it; notes only to the police.
type seriesJSON struct {
	Code           string            `json:"code"`
	Owner          string            `json:"owner"`
	Refs           string            `json:"refs"`
	Status         string            `json:"status"`
	StatusAt       time.Time         `json:"status_at"`
	DoNotDuplicate bool              `json:"do_not_duplicate"`
	Contact        string            `json:"contact"`
	Notes          string            `json:"notes,omitempty"`
	FirstSeenAt    time.Time         `json:"first_seen_at"`
	IdentifiedAt   *time.Time        `json:"identified_at,omitempty"`
	Items          int               `json:"items"`
	History        []seriesEventJSON `json:"history,omitempty"`
}

type seriesEventJSON struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

func newSeriesJSON(s *alliance.Series) seriesJSON {
	out := seriesJSON{Code: s.Code, Owner: s.OwnerOrg, Refs: s.Refs, Status: string(s.Status), StatusAt: s.StatusAt.UTC(),
		DoNotDuplicate: s.DoNotDuplicate, Contact: s.Contact, Notes: s.Notes, FirstSeenAt: s.FirstSeenAt.UTC(),
		IdentifiedAt: utcPtr(s.IdentifiedAt), Items: s.Links}
	for _, e := range s.History {
		out.History = append(out.History, seriesEventJSON{From: string(e.From), To: string(e.To), Actor: e.Actor, Reason: e.Reason, At: e.At.UTC()})
	}
	return out
}

// seriesLinkJSON is one series an item or hash belongs to. Analysts see
// the owner and status only.
type seriesLinkJSON struct {
	Code           string `json:"code,omitempty"`
	Owner          string `json:"owner"`
	Status         string `json:"status"`
	DoNotDuplicate bool   `json:"do_not_duplicate"`
	Distance       int    `json:"distance"`
	Manual         bool   `json:"manual"`
}

// deconflictionJSON is the answer to "has this been found or identified
// elsewhere?".
type deconflictionJSON struct {
	Action string           `json:"action"`
	Series []seriesLinkJSON `json:"series"`
}

func newDeconflictionJSON(d alliance.Deconfliction) *deconflictionJSON {
	out := &deconflictionJSON{Action: string(d.Action), Series: []seriesLinkJSON{}}
	for _, l := range d.Series {
		out.Series = append(out.Series, seriesLinkJSON{Code: l.Code, Owner: l.Owner, Status: string(l.Status),
			DoNotDuplicate: l.DoNotDup, Distance: l.Distance, Manual: l.Manual})
	}
	return out
}

type seriesAlertJSON struct {
	ID      int64     `json:"id"`
	Series  string    `json:"series"`
	ItemID  int64     `json:"item_id"`
	URL     string    `json:"url"`
	Host    string    `json:"host"`
	Country string    `json:"country,omitempty"`
	Count   int       `json:"sightings"`
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
	Read    bool      `json:"read"`
}

// seriesBody is the JSON a client sends to create or update a series.
type seriesBody struct {
	Code           string `json:"code"`
	Refs           string `json:"refs"`
	Status         string `json:"status"`
	DoNotDuplicate bool   `json:"do_not_duplicate"`
	Contact        string `json:"contact"`
	Notes          string `json:"notes"`
}

func (b seriesBody) input() app.SeriesInput {
	return app.SeriesInput{Code: b.Code, Refs: b.Refs, Status: b.Status, DoNotDuplicate: b.DoNotDuplicate, Contact: b.Contact, Notes: b.Notes}
}

// listSeries answers GET /api/v1/series?owner=&limit=.
func (h *api) listSeries(w http.ResponseWriter, r *http.Request) error {
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return alliance.FieldErrorf("limit", "limit must be a whole number from 1 to 1000.")
		}
		limit = n
	}
	list, err := h.app.ListSeries(r.Context(), r.URL.Query().Get("owner"), limit)
	if err != nil {
		return err
	}
	out := struct {
		Series []seriesJSON `json:"series"`
	}{Series: []seriesJSON{}}
	for i := range list {
		out.Series = append(out.Series, newSeriesJSON(&list[i]))
	}
	return WriteJSON(w, http.StatusOK, out)
}

// createSeries answers POST /api/v1/series: 201 with the series.
func (h *api) createSeries(w http.ResponseWriter, r *http.Request) error {
	var in seriesBody
	if err := DecodeJSON(w, r, &in, 64<<10); err != nil {
		return err
	}
	s, err := h.app.CreateSeries(r.Context(), in.input())
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, newSeriesJSON(&s))
}

// getSeries answers GET /api/v1/series/{code}.
func (h *api) getSeries(w http.ResponseWriter, r *http.Request) error {
	s, err := h.app.Series(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, newSeriesJSON(&s))
}

// updateSeries answers PUT /api/v1/series/{code}: references, the
// do-not-duplicate flag, contact point and notes.
func (h *api) updateSeries(w http.ResponseWriter, r *http.Request) error {
	var in seriesBody
	if err := DecodeJSON(w, r, &in, 64<<10); err != nil {
		return err
	}
	s, err := h.app.UpdateSeries(r.Context(), r.PathValue("code"), in.input())
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, newSeriesJSON(&s))
}

// setSeriesStatus answers POST /api/v1/series/{code}/status {"status","reason"}.
func (h *api) setSeriesStatus(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := DecodeJSON(w, r, &in, 16<<10); err != nil {
		return err
	}
	s, err := h.app.SetSeriesStatus(r.Context(), r.PathValue("code"), in.Status, in.Reason)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, newSeriesJSON(&s))
}

// linkItemSeries answers POST /api/v1/items/{id}/series {"code","reason"}
// and POST /api/v1/items/{id}/series/unlink {"code","reason"}.
func (h *api) linkItemSeries(w http.ResponseWriter, r *http.Request) error {
	return h.linkOrUnlink(w, r, true)
}

func (h *api) unlinkItemSeries(w http.ResponseWriter, r *http.Request) error {
	return h.linkOrUnlink(w, r, false)
}

func (h *api) linkOrUnlink(w http.ResponseWriter, r *http.Request, link bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	}
	if err := DecodeJSON(w, r, &in, 16<<10); err != nil {
		return err
	}
	if link {
		err = h.app.LinkItem(r.Context(), id, in.Code, in.Reason)
	} else {
		err = h.app.UnlinkItem(r.Context(), id, in.Code, in.Reason)
	}
	if err != nil {
		return err
	}
	d, err := h.app.Deconflict(r.Context(), app.DeconflictQuery{ItemID: id})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, newDeconflictionJSON(d))
}

// deconflict answers GET /api/v1/deconflict?item=ID | hash=ALG:HEX | series=CODE.
func (h *api) deconflict(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var dq app.DeconflictQuery
	if s := q.Get("item"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return alliance.FieldErrorf("item", "item must be an item id.")
		}
		dq.ItemID = id
	}
	if s := q.Get("hash"); s != "" {
		alg, value, ok := strings.Cut(s, ":")
		if !ok {
			return alliance.FieldErrorf("hash", "hash is ALGORITHM:HEX, e.g. pdq:… or md5:….")
		}
		dq.Algorithm, dq.Hash = alg, value
	}
	dq.Series = q.Get("series")
	d, err := h.app.Deconflict(r.Context(), dq)
	if err != nil {
		if alliance.ErrorField(err) == "hashes[0].value" || alliance.ErrorField(err) == "hashes[0].algorithm" {
			return alliance.FieldErrorf("hash", "%s", alliance.ErrorMessage(err))
		}
		return err
	}
	return WriteJSON(w, http.StatusOK, newDeconflictionJSON(d))
}

// listAlerts answers GET /api/v1/alerts: the caller's organisation's
// alerts of its series surfacing, newest first.
func (h *api) listAlerts(w http.ResponseWriter, r *http.Request) error {
	list, err := h.app.Alerts(r.Context(), 0)
	if err != nil {
		return err
	}
	out := struct {
		Alerts []seriesAlertJSON `json:"alerts"`
	}{Alerts: []seriesAlertJSON{}}
	for _, a := range list {
		out.Alerts = append(out.Alerts, seriesAlertJSON{ID: a.ID, Series: a.SeriesCode, ItemID: a.ItemID, URL: a.URL, Host: a.Host,
			Country: a.Country, Count: a.Count, FirstAt: a.FirstAt.UTC(), LastAt: a.LastAt.UTC(), Read: a.Read})
	}
	return WriteJSON(w, http.StatusOK, out)
}

// readAlert answers POST /api/v1/alerts/{id}/read: 204.
func (h *api) readAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.app.MarkAlertRead(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getSeriesStats answers GET /api/v1/stats/series: per country and year,
// new and identified series and the median time to identification.
func (h *api) getSeriesStats(w http.ResponseWriter, r *http.Request) error {
	ys, err := h.app.SeriesFigures(r.Context())
	if err != nil {
		return err
	}
	type year struct {
		Country          string   `json:"country"`
		Year             int      `json:"year"`
		New              int      `json:"new"`
		Identified       int      `json:"identified"`
		MedianToIdentify *float64 `json:"median_to_identify_s"`
		Growth           *float64 `json:"identified_growth"`
	}
	out := struct {
		Years []year `json:"years"`
	}{Years: []year{}}
	for _, y := range ys {
		out.Years = append(out.Years, year{y.Country, y.Year, y.New, y.Identified, seconds(y.MedianToIdentify), y.Growth})
	}
	return WriteJSON(w, http.StatusOK, out)
}
