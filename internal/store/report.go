package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"alliance"
)

// maxParams bounds the placeholders of one multi-row statement, well below
// SQLite's 32766 and PostgreSQL's 65535: batches are split into chunks.
const maxParams = 8000

// NewReport is a report for CreateReports, with the idempotency key it
// answers, if any.
type NewReport struct {
	Report *alliance.Report
	// Key, when set, needs Scope, Key and RequestHash; CreateReports sets
	// its ReportID and stores it with the report.
	Key *IdempotencyKey
	// ContactRetention is how long the reporter's contact is kept;
	// alliance.ContactRetention when zero.
	ContactRetention time.Duration
}

// CreateReports inserts reports with their items, reporter contacts and
// idempotency keys, in order, in a handful of multi-row statements whatever
// the number of reports: intake group-commits concurrent submissions
// through it. On PostgreSQL that is two round trips: one to reserve ids and
// look up open items, one to insert everything.
//
// Each report must have OrgID, Reference, Source, Category and its items'
// URL, CanonicalURL, Host, RegistrableDomain and DedupeKey set; Description,
// ReporterEmail and SubmittedBy are optional. CreateReports sets the report's
// ID and ReceivedAt (the transaction's time) and each item's ID (ascending in
// report order), ReportID, OrgID, OrgCode (as r.OrgCode), CreatedAt, Status
// and DuplicateOf. A reporter e-mail is stored apart, to be purged after
// alliance.ContactRetention.
//
// Dedupe: an item whose dedupe key is open (status new or routed) in its
// organisation, in the database or earlier in reports, becomes a duplicate
// of that item and is never traced; the others are new and due for tracing
// at once. On PostgreSQL a concurrent transaction may commit the same URL
// (or idempotency key) first: the unique index then fails this call with
// ECONFLICT, and a retry of the transaction sees that item and links to it.
func (tx *Tx) CreateReports(ctx context.Context, reports []NewReport) error {
	if len(reports) == 0 {
		return nil
	}
	reportIDs, itemIDs, open, err := tx.prepareReports(ctx, reports)
	if err != nil {
		return err
	}
	now := tx.now
	next := 0
	for i, nr := range reports {
		r := nr.Report
		r.ID, r.ReceivedAt = reportIDs[i], now
		for j := range r.Items {
			it := &r.Items[j]
			it.ID, it.ReportID, it.OrgID, it.OrgCode, it.CreatedAt = itemIDs[next], r.ID, r.OrgID, r.OrgCode, now
			next++
			k := dedupeKey{r.OrgID, string(it.DedupeKey)}
			if orig, ok := open[k]; ok {
				it.Status, it.DuplicateOf = alliance.ItemDuplicate, &orig
			} else {
				it.Status, it.DuplicateOf = alliance.ItemNew, nil
				open[k] = it.ID
			}
		}
		if nr.Key != nil {
			nr.Key.ReportID, nr.Key.CreatedAt = r.ID, now
		}
	}
	err = tx.execInserts(ctx, reportInserts(tx.dialect, reports, now))
	return wrapErr(err, "create reports", errMsgs{conflict: "The same URL was reported at the same moment; please retry."})
}

// reportInserts returns the rows of reports, their contacts, items and
// idempotency keys, parents first.
func reportInserts(d Dialect, reports []NewReport, now time.Time) []insert {
	ts := d.timeArg(now)
	rs := insert{head: `INSERT INTO reports (id, reference, org_id, source, category, description, submitted_by, received_at)`, cols: 8}
	cs := insert{head: `INSERT INTO report_contacts (report_id, email, purge_after)`, cols: 3}
	is := insert{head: `INSERT INTO items (id, report_id, org_id, url, canonical_url, host, registrable_domain,
		dedupe_key, duplicate_of, status, created_at, next_trace_at)`, cols: 12}
	ks := insert{head: `INSERT INTO idempotency_keys (scope, key, request_hash, report_id, created_at)`, cols: 5}
	for _, nr := range reports {
		r := nr.Report
		rs.args = append(rs.args, r.ID, r.Reference, r.OrgID, string(r.Source), string(r.Category), r.Description,
			r.SubmittedBy, ts)
		if r.ReporterEmail != "" {
			keep := nr.ContactRetention
			if keep <= 0 {
				keep = alliance.ContactRetention
			}
			cs.args = append(cs.args, r.ID, r.ReporterEmail, d.timeArg(now.Add(keep)))
		}
		for _, it := range r.Items {
			var dup, due any
			if it.DuplicateOf != nil {
				dup = *it.DuplicateOf
			} else {
				due = ts
			}
			is.args = append(is.args, it.ID, it.ReportID, it.OrgID, it.URL, it.CanonicalURL, it.Host,
				it.RegistrableDomain, it.DedupeKey, dup, string(it.Status), ts, due)
		}
		if k := nr.Key; k != nil {
			ks.args = append(ks.args, k.Scope, k.Key, k.RequestHash, k.ReportID, ts)
		}
	}
	return []insert{rs, cs, is, ks}
}

// insert is a multi-row INSERT: "INSERT INTO table (columns)" and the
// values of its rows, cols per row.
type insert struct {
	head string
	cols int
	args []any
}

// execInserts runs inserts in order, split so that no statement has more
// than maxParams parameters. On PostgreSQL, consecutive inserts that fit
// together become one statement (WITH a AS (INSERT …), b AS (INSERT …)
// INSERT …), so a batch costs one round trip; foreign keys between them
// hold, as they are checked when the statement ends.
func (tx *Tx) execInserts(ctx context.Context, ins []insert) error {
	var parts []insert
	for _, in := range ins {
		per := maxParams / in.cols * in.cols
		for off := 0; off < len(in.args); off += per {
			parts = append(parts, insert{head: in.head, cols: in.cols, args: in.args[off:min(off+per, len(in.args))]})
		}
	}
	for len(parts) > 0 {
		n, params := 1, len(parts[0].args)
		if tx.dialect == Postgres {
			for n < len(parts) && params+len(parts[n].args) <= maxParams {
				params += len(parts[n].args)
				n++
			}
		}
		var (
			q    strings.Builder
			args = make([]any, 0, params)
		)
		for i, p := range parts[:n] {
			last := i == n-1
			switch {
			case i == 0 && !last:
				q.WriteString("WITH ")
			case i > 0:
				if !last {
					q.WriteString(", ")
				} else {
					q.WriteString(" ")
				}
			}
			if !last {
				fmt.Fprintf(&q, "ins%d AS (", i)
			}
			q.WriteString(p.head)
			q.WriteString(" VALUES ")
			q.WriteString(valuesListFrom(len(args)+1, len(p.args)/p.cols, p.cols))
			if !last {
				q.WriteString(")")
			}
			args = append(args, p.args...)
		}
		if _, err := tx.execBulk(ctx, q.String(), args...); err != nil {
			return err
		}
		parts = parts[n:]
	}
	return nil
}

// dedupeKey is an item's identity for dedupe within an organisation.
type dedupeKey struct {
	org int64
	key string
}

// prepareReports reserves ids for the reports and their items, each
// ascending, so that a batch can link rows to each other (a duplicate to its
// original) before inserting them, and finds the open items (new or routed)
// of the reports' organisations with the items' dedupe keys. PostgreSQL takes
// the ids from the identity sequences and looks the keys up in one round
// trip; SQLite, whose writer holds the database lock, continues the
// AUTOINCREMENT counters.
func (tx *Tx) prepareReports(ctx context.Context, reports []NewReport) (reportIDs, itemIDs []int64,
	open map[dedupeKey]int64, err error) {
	const op = "prepare reports"
	var (
		orgs  []int64
		keys  [][]byte
		seen  = make(map[dedupeKey]bool)
		items int
	)
	for _, nr := range reports {
		r := nr.Report
		items += len(r.Items)
		for _, it := range r.Items {
			if k := (dedupeKey{r.OrgID, string(it.DedupeKey)}); !seen[k] {
				seen[k] = true
				orgs, keys = append(orgs, r.OrgID), append(keys, it.DedupeKey)
			}
		}
	}
	if tx.dialect == SQLite {
		return tx.prepareReportsSQLite(ctx, len(reports), items, orgs, keys)
	}
	// One lookup of the unique index per key, whatever the planner's
	// statistics say (a fresh, fast-growing table has none, and a plain IN
	// list then scans the organisation's items), and one statement text for
	// any batch.
	rows, err := tx.query(ctx, `
		SELECT 0, 0::bigint, NULL::bytea, nextval(pg_get_serial_sequence('reports', 'id')) FROM generate_series(1, $1)
		UNION ALL
		SELECT 1, 0, NULL, nextval(pg_get_serial_sequence('items', 'id')) FROM generate_series(1, $2)
		UNION ALL
		SELECT 2, k.org, k.key, (SELECT i.id FROM items i
				WHERE i.org_id = k.org AND i.dedupe_key = k.key AND i.status IN ('new', 'routed'))
			FROM unnest($3::bigint[], $4::bytea[]) AS k (org, key)`, len(reports), items, orgs, keys)
	if err != nil {
		return nil, nil, nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	open = make(map[dedupeKey]int64)
	for rows.Next() {
		var (
			kind int
			org  int64
			key  []byte
			id   sql.NullInt64
		)
		if err := rows.Scan(&kind, &org, &key, &id); err != nil {
			return nil, nil, nil, wrapErr(err, op, errMsgs{})
		}
		switch {
		case kind == 0:
			reportIDs = append(reportIDs, id.Int64)
		case kind == 1:
			itemIDs = append(itemIDs, id.Int64)
		case id.Valid:
			open[dedupeKey{org, string(key)}] = id.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, wrapErr(err, op, errMsgs{})
	}
	if len(reportIDs) != len(reports) || len(itemIDs) != items {
		return nil, nil, nil, fmt.Errorf("store: %s: %d report and %d item ids, want %d and %d", op,
			len(reportIDs), len(itemIDs), len(reports), items)
	}
	slices.Sort(reportIDs)
	slices.Sort(itemIDs)
	return reportIDs, itemIDs, open, nil
}

func (tx *Tx) prepareReportsSQLite(ctx context.Context, reports, items int, orgs []int64, keys [][]byte) (
	reportIDs, itemIDs []int64, open map[dedupeKey]int64, err error) {
	const op = "prepare reports"
	var lastReport, lastItem int64
	err = tx.queryRow(ctx, `SELECT
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'reports'), 0),
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'items'), 0)`).Scan(&lastReport, &lastItem)
	if err != nil {
		return nil, nil, nil, wrapErr(err, op, errMsgs{})
	}
	reportIDs, itemIDs = make([]int64, reports), make([]int64, items)
	for i := range reportIDs {
		reportIDs[i] = lastReport + 1 + int64(i)
	}
	for i := range itemIDs {
		itemIDs[i] = lastItem + 1 + int64(i)
	}
	byOrg := make(map[int64][]any)
	for i, org := range orgs {
		byOrg[org] = append(byOrg[org], keys[i])
	}
	open = make(map[dedupeKey]int64)
	for org, keys := range byOrg {
		for chunk := range slices.Chunk(keys, maxParams-1) {
			// The status list is written as in the partial index items_open_dedupe, so that it is used.
			rows, err := tx.query(ctx, `SELECT dedupe_key, id FROM items
				WHERE org_id = $1 AND status IN ('new', 'routed') AND dedupe_key IN (`+placeholders(2, len(chunk))+`)`,
				append([]any{org}, chunk...)...)
			if err != nil {
				return nil, nil, nil, wrapErr(err, op, errMsgs{})
			}
			for rows.Next() {
				var (
					key []byte
					id  int64
				)
				if err := rows.Scan(&key, &id); err != nil {
					rows.Close()
					return nil, nil, nil, wrapErr(err, op, errMsgs{})
				}
				open[dedupeKey{org, string(key)}] = id
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, nil, nil, wrapErr(err, op, errMsgs{})
			}
		}
	}
	return reportIDs, itemIDs, open, nil
}

// placeholders returns "$first, $first+1, …" for n parameters.
func placeholders(first, n int) string {
	b := make([]byte, 0, n*6)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(first+i), 10)
	}
	return string(b)
}

const reportColumns = `r.id, r.reference, r.org_id, o.code, r.source, r.category, r.description, r.submitted_by, r.received_at`

// ReportByID returns the report with the id and its items, oldest first;
// ENOTFOUND if none. It leaves out the reporter's e-mail: see ReportContact.
func (tx *Tx) ReportByID(ctx context.Context, id int64) (alliance.Report, error) {
	op := fmt.Sprintf("report %d", id)
	var (
		r             alliance.Report
		source, categ string
	)
	err := tx.queryRow(ctx, `SELECT `+reportColumns+` FROM reports r JOIN organisations o ON o.id = r.org_id
		WHERE r.id = $1`, id).Scan(&r.ID, &r.Reference, &r.OrgID, &r.OrgCode, &source, &categ, &r.Description,
		&r.SubmittedBy, scanTime(&r.ReceivedAt))
	if err != nil {
		return alliance.Report{}, wrapErr(err, op, errMsgs{notFound: "Report not found."})
	}
	r.Source, r.Category = alliance.Source(source), alliance.Category(categ)
	if r.Items, err = tx.itemsWhere(ctx, op+": items", `i.report_id = $1 ORDER BY i.id`, id); err != nil {
		return alliance.Report{}, err
	}
	return r, nil
}

// ReportContact returns the reporter's e-mail of a report: personal data, for
// those who may see it; "" when none was given or it has been purged.
func (tx *Tx) ReportContact(ctx context.Context, reportID int64) (string, error) {
	var email string
	err := tx.queryRow(ctx, `SELECT email FROM report_contacts WHERE report_id = $1`, reportID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", wrapErr(err, fmt.Sprintf("contact of report %d", reportID), errMsgs{})
	}
	return email, nil
}

// PurgeContacts deletes the reporter contacts whose retention has ended
// (purge_after at or before the transaction's time) and returns how many.
func (tx *Tx) PurgeContacts(ctx context.Context) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM report_contacts WHERE purge_after <= $1`, tx.timeArg(tx.now))
	if err != nil {
		return 0, wrapErr(err, "purge report contacts", errMsgs{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrapErr(err, "purge report contacts", errMsgs{})
	}
	return n, nil
}

// ContactReport is a report given with a reporter's contact e-mail: what
// the node holds about that e-mail.
type ContactReport struct {
	ReportID    int64
	Reference   string
	OrgCode     string
	Source      string
	Category    string
	Description string
	ReceivedAt  time.Time
	PurgeAfter  time.Time
	URLs        []string
}

// ReportsByContact returns the reports whose contact is email (compared
// without case), oldest first, with their URLs.
func (tx *Tx) ReportsByContact(ctx context.Context, email string) ([]ContactReport, error) {
	const op = "reports by contact"
	rows, err := tx.query(ctx, `SELECT r.id, r.reference, o.code, r.source, r.category, r.description, r.received_at, c.purge_after
		FROM report_contacts c JOIN reports r ON r.id = c.report_id JOIN organisations o ON o.id = r.org_id
		WHERE lower(c.email) = lower($1) ORDER BY r.id`, email)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	var out []ContactReport
	for rows.Next() {
		var c ContactReport
		if err := rows.Scan(&c.ReportID, &c.Reference, &c.OrgCode, &c.Source, &c.Category, &c.Description,
			scanTime(&c.ReceivedAt), scanTime(&c.PurgeAfter)); err != nil {
			rows.Close()
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	for i := range out {
		urls, err := tx.query(ctx, `SELECT url FROM items WHERE report_id = $1 ORDER BY id`, out[i].ReportID)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		for urls.Next() {
			var u string
			if err := urls.Scan(&u); err != nil {
				urls.Close()
				return nil, wrapErr(err, op, errMsgs{})
			}
			out[i].URLs = append(out[i].URLs, u)
		}
		urls.Close()
		if err := urls.Err(); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
	}
	return out, nil
}

// EraseContact deletes a reporter's contact e-mail (compared without
// case) from every report, and returns how many it was on.
func (tx *Tx) EraseContact(ctx context.Context, email string) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM report_contacts WHERE lower(email) = lower($1)`, email)
	if err != nil {
		return 0, wrapErr(err, "erase contact", errMsgs{})
	}
	n, err := res.RowsAffected()
	return n, wrapErr(err, "erase contact", errMsgs{})
}
