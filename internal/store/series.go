package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"alliance"
)

const seriesColumns = `s.id, s.code, o.code, s.refs, s.status, s.status_at, s.do_not_duplicate, s.contact, s.notes,
	s.first_seen_at, s.identified_at, s.created_at,
	(SELECT COUNT(*) FROM item_series l WHERE l.series_id = s.id)`

const seriesFrom = ` FROM series s JOIN organisations o ON o.id = s.owner_org_id`

func scanSeries(row interface{ Scan(...any) error }) (alliance.Series, error) {
	var (
		s      alliance.Series
		status string
	)
	err := row.Scan(&s.ID, &s.Code, &s.OwnerOrg, &s.Refs, &status, scanTime(&s.StatusAt), &s.DoNotDuplicate, &s.Contact,
		&s.Notes, scanTime(&s.FirstSeenAt), scanNullTime(&s.IdentifiedAt), scanTime(&s.CreatedAt), &s.Links)
	s.Status = alliance.SeriesStatus(status)
	return s, err
}

// InsertSeries adds a series owned by organisation ownerID; its status
// time, first sighting and creation are the transaction's time. A code in
// use is ECONFLICT.
func (tx *Tx) InsertSeries(ctx context.Context, s *alliance.Series, ownerID int64) error {
	op := fmt.Sprintf("insert series %q", s.Code)
	now := tx.timeArg(tx.now)
	var identified any
	if s.Status.Identified() {
		identified = now
	}
	err := tx.queryRow(ctx, `INSERT INTO series (code, owner_org_id, refs, status, status_at, do_not_duplicate, contact, notes,
		first_seen_at, identified_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $5, $9, $5) RETURNING id`,
		s.Code, ownerID, s.Refs, string(s.Status), now, s.DoNotDuplicate, s.Contact, s.Notes, identified).Scan(&s.ID)
	if err != nil {
		return wrapErr(err, op, errMsgs{conflict: fmt.Sprintf("A series with the code %q exists.", s.Code)})
	}
	s.StatusAt, s.FirstSeenAt, s.CreatedAt = tx.now, tx.now, tx.now
	if s.Status.Identified() {
		t := tx.now
		s.IdentifiedAt = &t
	}
	return nil
}

// SeriesByCode returns the series with the code; ENOTFOUND if none.
func (tx *Tx) SeriesByCode(ctx context.Context, code string) (alliance.Series, error) {
	s, err := scanSeries(tx.queryRow(ctx, `SELECT `+seriesColumns+seriesFrom+` WHERE s.code = $1`, code))
	if err != nil {
		return alliance.Series{}, wrapErr(err, fmt.Sprintf("series %q", code), errMsgs{notFound: "Series not found."})
	}
	return s, nil
}

// ListSeries returns every series, most recently changed first; of one
// owner when ownerCode is not "".
func (tx *Tx) ListSeries(ctx context.Context, ownerCode string, limit int) ([]alliance.Series, error) {
	const op = "list series"
	q := `SELECT ` + seriesColumns + seriesFrom
	args := []any{limit}
	if ownerCode != "" {
		q += ` WHERE o.code = $2`
		args = append(args, ownerCode)
	}
	rows, err := tx.query(ctx, q+` ORDER BY s.status_at DESC, s.id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Series
	for rows.Next() {
		s, err := scanSeries(rows)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, s)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// SeriesHistory returns the status changes of a series, oldest first.
func (tx *Tx) SeriesHistory(ctx context.Context, seriesID int64) ([]alliance.SeriesEvent, error) {
	op := fmt.Sprintf("history of series %d", seriesID)
	rows, err := tx.query(ctx, `SELECT from_status, to_status, actor_label, reason, at FROM series_events
		WHERE series_id = $1 ORDER BY id`, seriesID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.SeriesEvent
	for rows.Next() {
		var (
			e        alliance.SeriesEvent
			from, to string
		)
		if err := rows.Scan(&from, &to, &e.Actor, &e.Reason, scanTime(&e.At)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		e.From, e.To = alliance.SeriesStatus(from), alliance.SeriesStatus(to)
		out = append(out, e)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// SetSeriesStatus changes a series' status from from to to (ECONFLICT if
// it is no longer from), records the change, and sets identified_at the
// first time it becomes identified or safeguarded.
func (tx *Tx) SetSeriesStatus(ctx context.Context, s alliance.Series, to alliance.SeriesStatus, actorID int64, actor, reason string) error {
	op := fmt.Sprintf("set status of series %q", s.Code)
	now := tx.timeArg(tx.now)
	q := `UPDATE series SET status = $1, status_at = $2`
	if to.Identified() {
		q += `, identified_at = COALESCE(identified_at, $2)`
	}
	res, err := tx.exec(ctx, q+` WHERE id = $3 AND status = $4`, string(to), now, s.ID, string(s.Status))
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return fmt.Errorf("store: %s: %w", op, alliance.Errorf(alliance.ECONFLICT, "The series changed meanwhile; reload it."))
	}
	_, err = tx.exec(ctx, `INSERT INTO series_events (series_id, from_status, to_status, actor_id, actor_label, reason, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.ID, string(s.Status), string(to), actorID, actor, reason, now)
	return wrapErr(err, op+": event", errMsgs{})
}

// UpdateSeries sets a series' references, do-not-duplicate flag, contact
// point and notes.
func (tx *Tx) UpdateSeries(ctx context.Context, s alliance.Series) error {
	_, err := tx.exec(ctx, `UPDATE series SET refs = $1, do_not_duplicate = $2, contact = $3, notes = $4 WHERE id = $5`,
		s.Refs, s.DoNotDuplicate, s.Contact, s.Notes, s.ID)
	return wrapErr(err, fmt.Sprintf("update series %q", s.Code), errMsgs{})
}

// LinkItemSeries links an item to a series and reports whether the link is
// new. An existing link keeps its origin; a closer distance replaces its
// distance.
func (tx *Tx) LinkItemSeries(ctx context.Context, itemID, seriesID int64, distance int, manual bool, reason, by string) (bool, error) {
	op := fmt.Sprintf("link item %d to series %d", itemID, seriesID)
	res, err := tx.exec(ctx, `INSERT INTO item_series (item_id, series_id, distance, manual, reason, linked_by, linked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (item_id, series_id) DO NOTHING`,
		itemID, seriesID, distance, manual, reason, by, tx.timeArg(tx.now))
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	if n == 0 {
		_, err = tx.exec(ctx, `UPDATE item_series SET distance = $1 WHERE item_id = $2 AND series_id = $3 AND distance > $1`,
			distance, itemID, seriesID)
		return false, wrapErr(err, op, errMsgs{})
	}
	return true, nil
}

// UnlinkItemSeries removes an item's link to a series; ENOTFOUND if there
// is none.
func (tx *Tx) UnlinkItemSeries(ctx context.Context, itemID, seriesID int64) error {
	op := fmt.Sprintf("unlink item %d from series %d", itemID, seriesID)
	res, err := tx.exec(ctx, `DELETE FROM item_series WHERE item_id = $1 AND series_id = $2`, itemID, seriesID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "The item is not linked to that series.")
	}
	return nil
}

// ItemSeries returns the series an item is linked to.
func (tx *Tx) ItemSeries(ctx context.Context, itemID int64) ([]alliance.SeriesLink, error) {
	return tx.seriesLinks(ctx, fmt.Sprintf("series of item %d", itemID), `SELECT s.id, s.code, o.code, s.status,
		s.do_not_duplicate, l.distance, l.manual, l.reason, l.linked_at
		FROM item_series l JOIN series s ON s.id = l.series_id JOIN organisations o ON o.id = s.owner_org_id
		WHERE l.item_id = $1 ORDER BY s.id`, itemID)
}

// SeriesOfEntries returns the series the bank entries with the ids belong
// to (by their series code), with the entries' closest distance in dist.
func (tx *Tx) SeriesOfEntries(ctx context.Context, dist map[int64]int) ([]alliance.SeriesLink, error) {
	if len(dist) == 0 {
		return nil, nil
	}
	var (
		args []any
		ph   []byte
	)
	for id := range dist {
		args = append(args, id)
		if len(ph) > 0 {
			ph = append(ph, ',')
		}
		ph = append(ph, fmt.Sprintf("$%d", len(args))...)
	}
	rows, err := tx.query(ctx, `SELECT e.id, s.id, s.code, o.code, s.status, s.do_not_duplicate
		FROM bank_entries e JOIN series s ON s.code = e.series JOIN organisations o ON o.id = s.owner_org_id
		WHERE e.series <> '' AND e.id IN (`+string(ph)+`)`, args...)
	if err != nil {
		return nil, wrapErr(err, "series of entries", errMsgs{})
	}
	defer rows.Close()
	best := map[int64]alliance.SeriesLink{}
	for rows.Next() {
		var (
			entryID int64
			l       alliance.SeriesLink
			status  string
		)
		if err := rows.Scan(&entryID, &l.SeriesID, &l.Code, &l.Owner, &status, &l.DoNotDup); err != nil {
			return nil, wrapErr(err, "series of entries", errMsgs{})
		}
		l.Status, l.Distance = alliance.SeriesStatus(status), dist[entryID]
		if b, ok := best[l.SeriesID]; !ok || l.Distance < b.Distance {
			best[l.SeriesID] = l
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "series of entries", errMsgs{})
	}
	out := make([]alliance.SeriesLink, 0, len(best))
	for _, l := range best {
		out = append(out, l)
	}
	return out, nil
}

func (tx *Tx) seriesLinks(ctx context.Context, op, q string, args ...any) ([]alliance.SeriesLink, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.SeriesLink
	for rows.Next() {
		var (
			l      alliance.SeriesLink
			status string
		)
		if err := rows.Scan(&l.SeriesID, &l.Code, &l.Owner, &status, &l.DoNotDup, &l.Distance, &l.Manual, &l.Reason, scanTime(&l.At)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		l.Status = alliance.SeriesStatus(status)
		out = append(out, l)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// RaiseAlert records a sighting of a series' material for its owner: it
// merges into the owner's alert of the same series and host raised within
// window (counting it, and marking the alert unread again), or opens a new
// alert. It reports whether the alert is new.
//
// A new alert with notifyTo set is also due to be e-mailed there
// (ClaimAlertMails); a merged one is not mailed again.
func (tx *Tx) RaiseAlert(ctx context.Context, a *alliance.SeriesAlert, ownerID int64, window time.Duration, notifyTo string) (bool, error) {
	op := fmt.Sprintf("raise alert of series %d", a.SeriesID)
	now := tx.timeArg(tx.now)
	err := tx.queryRow(ctx, `UPDATE series_alerts SET count = count + 1, last_at = $1, read = $2
		WHERE id = (SELECT id FROM series_alerts WHERE series_id = $3 AND host = $4 AND last_at >= $5 ORDER BY id DESC LIMIT 1)
		RETURNING id, count`, now, false, a.SeriesID, a.Host, tx.timeArg(tx.now.Add(-window))).Scan(&a.ID, &a.Count)
	switch e := wrapErr(err, op, errMsgs{notFound: "none"}); {
	case err == nil:
		a.LastAt = tx.now
		return false, nil
	case alliance.ErrorCode(e) != alliance.ENOTFOUND:
		return false, e
	}
	status, next := "", any(nil)
	if notifyTo != "" {
		status, next = "pending", now
	}
	err = tx.queryRow(ctx, `INSERT INTO series_alerts (series_id, org_id, item_id, url, host, country, count, first_at, last_at, read,
		notify_status, notify_to, next_notify_at)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8, $9, $10, $11) RETURNING id`,
		a.SeriesID, ownerID, a.ItemID, a.URL, a.Host, a.Country, now, false, status, notifyTo, next).Scan(&a.ID)
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	a.Count, a.FirstAt, a.LastAt = 1, tx.now, tx.now
	return true, nil
}

// Alerts returns an organisation's alerts, newest first.
func (tx *Tx) Alerts(ctx context.Context, orgID int64, limit int) ([]alliance.SeriesAlert, error) {
	const op = "alerts"
	rows, err := tx.query(ctx, `SELECT a.id, a.series_id, s.code, o.code, a.item_id, a.url, a.host, a.country, a.count,
		a.first_at, a.last_at, a.read FROM series_alerts a JOIN series s ON s.id = a.series_id
		JOIN organisations o ON o.id = a.org_id WHERE a.org_id = $1 ORDER BY a.last_at DESC, a.id DESC LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.SeriesAlert
	for rows.Next() {
		var a alliance.SeriesAlert
		if err := rows.Scan(&a.ID, &a.SeriesID, &a.SeriesCode, &a.OwnerOrg, &a.ItemID, &a.URL, &a.Host, &a.Country, &a.Count,
			scanTime(&a.FirstAt), scanTime(&a.LastAt), &a.Read); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, a)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// MarkAlertRead marks an organisation's alert read; ENOTFOUND if it has no
// such alert.
func (tx *Tx) MarkAlertRead(ctx context.Context, orgID, alertID int64) error {
	op := fmt.Sprintf("mark alert %d read", alertID)
	res, err := tx.exec(ctx, `UPDATE series_alerts SET read = $1 WHERE id = $2 AND org_id = $3`, true, alertID, orgID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "Alert not found.")
	}
	return nil
}

// NamedSeries is a series code named by bank entries, and whether any of
// them marks its victim identified.
type NamedSeries struct {
	Code       string
	Identified bool
}

// BankSeries returns the series codes a bank's active entries name.
func (tx *Tx) BankSeries(ctx context.Context, bankID int64) ([]NamedSeries, error) {
	op := fmt.Sprintf("series of bank %d", bankID)
	rows, err := tx.query(ctx, `SELECT series, SUM(CASE WHEN victim_identified THEN 1 ELSE 0 END) FROM bank_entries
		WHERE bank_id = $1 AND series <> '' AND active GROUP BY series ORDER BY series`, bankID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []NamedSeries
	for rows.Next() {
		var (
			n  NamedSeries
			id int64
		)
		if err := rows.Scan(&n.Code, &id); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		n.Identified = id > 0
		out = append(out, n)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// SeriesSamples returns the owner's country and the first-seen and
// identified times of every series, for the series figures.
func (tx *Tx) SeriesSamples(ctx context.Context) ([]alliance.SeriesSample, error) {
	const op = "series samples"
	rows, err := tx.query(ctx, `SELECT COALESCE(o.country_code, ''), s.first_seen_at, s.identified_at FROM series s
		JOIN organisations o ON o.id = s.owner_org_id`)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.SeriesSample
	for rows.Next() {
		var s alliance.SeriesSample
		if err := rows.Scan(&s.Country, scanTime(&s.FirstSeenAt), scanNullTime(&s.IdentifiedAt)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, s)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// AlertMail is an alert due to be e-mailed to its series' contact point.
type AlertMail struct {
	alliance.SeriesAlert
	To       string
	Attempts int
	Lease    time.Time
}

// ClaimAlertMails claims up to limit alert e-mails due, moving their next
// attempt to now + lease.
func (tx *Tx) ClaimAlertMails(ctx context.Context, limit int, lease time.Duration) ([]AlertMail, error) {
	const op = "claim alert mails"
	out, err := claimDue(ctx, tx, op, "series_alerts", "next_notify_at", limit, lease,
		`id, series_id, item_id, url, host, country, first_at, notify_to, notify_attempts`,
		func(rows *sql.Rows, until time.Time) (AlertMail, error) {
			m := AlertMail{Lease: until}
			return m, rows.Scan(&m.ID, &m.SeriesID, &m.ItemID, &m.URL, &m.Host, &m.Country, scanTime(&m.FirstAt), &m.To, &m.Attempts)
		})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := tx.queryRow(ctx, `SELECT code FROM series WHERE id = $1`, out[i].SeriesID).Scan(&out[i].SeriesCode); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
	}
	return out, nil
}

// RecordAlertMail records a delivery attempt of a claimed alert e-mail:
// sent, or failed with a next attempt at retryAt (zero: given up).
func (tx *Tx) RecordAlertMail(ctx context.Context, m AlertMail, sent bool, errMsg string, retryAt time.Time) error {
	op := fmt.Sprintf("record alert mail %d", m.ID)
	status, next := "sent", any(nil)
	switch {
	case sent:
	case !retryAt.IsZero():
		status, next = "pending", tx.timeArg(retryAt)
	default:
		status = "failed"
	}
	_, err := tx.exec(ctx, `UPDATE series_alerts SET notify_status = $1, next_notify_at = $2, notify_attempts = notify_attempts + 1,
		notify_error = $3 WHERE id = $4 AND next_notify_at = $5`, status, next, errMsg, m.ID, tx.timeArg(m.Lease))
	return wrapErr(err, op, errMsgs{})
}
