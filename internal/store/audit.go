package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	"alliance"
)

// Audit paging: AuditEvents clamps its limit to [1, maxAuditPage] (0 or less
// means defaultAuditPage); VerifyAudit reads verifyPage rows at a time.
const (
	defaultAuditPage = 100
	maxAuditPage     = 10000
	verifyPage       = 1000
)

const auditColumns = `seq, occurred_at, actor_id, actor_label, org_code, action, object_type, object_id,
	request_id, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (alliance.AuditEvent, error) {
	var e alliance.AuditEvent
	err := row.Scan(&e.Seq, scanTime(&e.Time), &e.ActorID, &e.ActorLabel, &e.OrgCode, &e.Action,
		&e.ObjectType, &e.ObjectID, &e.RequestID, &e.PrevHash, &e.Hash)
	return e, err
}

// AppendAudit appends e to the audit chain within the transaction: it sets
// e.Seq, e.Time (the transaction's time), e.PrevHash and e.Hash. Concurrent
// transactions are serialised on the chain head so the chain never forks.
//
// The head is the single row of audit_head: PostgreSQL locks it FOR UPDATE
// until the transaction ends; on SQLite the transaction already holds the
// database's write lock (BEGIN IMMEDIATE). e.Action must be set.
func (tx *Tx) AppendAudit(ctx context.Context, e *alliance.AuditEvent) error {
	if e.Action == "" {
		return fmt.Errorf("store: append audit: no action")
	}
	op := "append audit " + strconv.Quote(e.Action)
	head := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if tx.dialect == Postgres {
		head += ` FOR UPDATE`
	}
	var (
		seq  int64
		prev string
	)
	if err := tx.queryRow(ctx, head).Scan(&seq, &prev); err != nil {
		return wrapErr(err, op+": read chain head", errMsgs{})
	}
	ev := *e
	ev.Seq, ev.Time, ev.PrevHash = seq+1, tx.now, prev
	ev.Hash = ev.ComputeHash()
	if _, err := tx.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ev.Seq, tx.timeArg(ev.Time), ev.ActorID, ev.ActorLabel, ev.OrgCode, ev.Action, ev.ObjectType, ev.ObjectID,
		ev.RequestID, ev.PrevHash, ev.Hash); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if _, err := tx.exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, ev.Seq, ev.Hash); err != nil {
		return wrapErr(err, op+": move chain head", errMsgs{})
	}
	*e = ev
	return nil
}

// AppendAudits appends events to the audit chain in order, like AppendAudit
// for each, but reads and moves the chain head once and inserts the rows in
// a few multi-row statements: batches (group-committed reports, traced
// items) pay for the chain once, not once per row.
func (tx *Tx) AppendAudits(ctx context.Context, events []*alliance.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		if e.Action == "" {
			return fmt.Errorf("store: append audit: no action")
		}
	}
	const op = "append audit batch"
	head := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if tx.dialect == Postgres {
		head += ` FOR UPDATE`
	}
	var (
		seq  int64
		prev string
	)
	if err := tx.queryRow(ctx, head).Scan(&seq, &prev); err != nil {
		return wrapErr(err, op+": read chain head", errMsgs{})
	}
	evs := make([]alliance.AuditEvent, len(events))
	for i, e := range events {
		ev := *e
		seq++
		ev.Seq, ev.Time, ev.PrevHash = seq, tx.now, prev
		ev.Hash = ev.ComputeHash()
		prev = ev.Hash
		evs[i] = ev
	}
	const cols = 11
	moveHead := `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`
	chunks := slices.Collect(slices.Chunk(evs, maxParams/cols))
	for i, chunk := range chunks {
		args := make([]any, 0, 2+cols*len(chunk))
		insert := `INSERT INTO audit_events (` + auditColumns + `) VALUES `
		last := i == len(chunks)-1 && tx.dialect == Postgres
		if last {
			// The head row is locked until commit: moving it in the same
			// statement as the last insert saves a round trip while other
			// writers wait for it.
			args = append(args, seq, prev)
			insert = `WITH ins AS (` + insert + valuesListFrom(3, len(chunk), cols) + `) ` + moveHead
		} else {
			insert += valuesList(len(chunk), cols)
		}
		for _, ev := range chunk {
			args = append(args, ev.Seq, tx.timeArg(ev.Time), ev.ActorID, ev.ActorLabel, ev.OrgCode, ev.Action,
				ev.ObjectType, ev.ObjectID, ev.RequestID, ev.PrevHash, ev.Hash)
		}
		if _, err := tx.execBulk(ctx, insert, args...); err != nil {
			return wrapErr(err, op, errMsgs{})
		}
	}
	if tx.dialect != Postgres {
		if _, err := tx.exec(ctx, moveHead, seq, prev); err != nil {
			return wrapErr(err, op+": move chain head", errMsgs{})
		}
	}
	for i := range events {
		*events[i] = evs[i]
	}
	return nil
}

// AuditEvents returns up to limit audit rows with Seq > after, in Seq order,
// optionally only those of one organisation (orgCode "" for all). A limit of
// 0 or less means 100; more than 10000 means 10000.
func (tx *Tx) AuditEvents(ctx context.Context, orgCode string, after int64, limit int) ([]alliance.AuditEvent, error) {
	switch {
	case limit <= 0:
		limit = defaultAuditPage
	case limit > maxAuditPage:
		limit = maxAuditPage
	}
	q, args := `SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, []any{after, limit}
	if orgCode != "" {
		q = `SELECT ` + auditColumns + ` FROM audit_events WHERE org_code = $1 AND seq > $2 ORDER BY seq LIMIT $3`
		args = []any{orgCode, after, limit}
	}
	return tx.auditQuery(ctx, "list audit events", q, args...)
}

// RecentAuditEvents returns the newest limit audit rows, newest first: of
// orgCode's organisation, or of the whole node when it is "". It reads
// only those rows (the primary key, or audit_events_org_code).
func (tx *Tx) RecentAuditEvents(ctx context.Context, orgCode string, limit int) ([]alliance.AuditEvent, error) {
	limit = min(max(limit, 1), maxAuditPage)
	q, args := `SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT $1`, []any{limit}
	if orgCode != "" {
		q = `SELECT ` + auditColumns + ` FROM audit_events WHERE org_code = $1 ORDER BY seq DESC LIMIT $2`
		args = []any{orgCode, limit}
	}
	return tx.auditQuery(ctx, "recent audit events", q, args...)
}

func (tx *Tx) auditQuery(ctx context.Context, op, q string, args ...any) ([]alliance.AuditEvent, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}

// VerifyAudit walks the whole audit chain in Seq order, in pages, with
// constant memory, and reports the first broken row, if any.
//
// It reads one snapshot (a read-only transaction; REPEATABLE READ on
// PostgreSQL), so appends running meanwhile are not seen and cannot make it
// fail. Besides each row's link and hash (alliance.AuditChecker), it checks
// the chain against its head: a missing last row, or a row beyond the head,
// breaks the chain too. Each checkpoint given pins a row (see
// alliance.AuditChecker.Pin): a pinned row that is missing or differs
// breaks the chain at that row.
func (db *DB) VerifyAudit(ctx context.Context, checkpoints ...alliance.AuditCheckpoint) (alliance.AuditVerification, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	var res alliance.AuditVerification
	err := db.inTx(ctx, opts, func(tx *Tx) error {
		var err error
		res, err = tx.verifyAudit(ctx, checkpoints)
		return err
	})
	return res, err
}

func (tx *Tx) verifyAudit(ctx context.Context, checkpoints []alliance.AuditCheckpoint) (alliance.AuditVerification, error) {
	const op = "verify audit"
	var (
		headSeq  int64
		headHash string
	)
	if err := tx.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return alliance.AuditVerification{}, wrapErr(err, op+": read chain head", errMsgs{})
	}
	c := alliance.NewAuditChecker()
	for _, cp := range checkpoints {
		c.Pin(cp)
	}
	var last int64
	for {
		page, err := tx.auditQuery(ctx, op, `SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
			last, verifyPage)
		if err != nil {
			return alliance.AuditVerification{}, err
		}
		for _, e := range page {
			if e.Seq > headSeq {
				r := c.Result()
				r.Rows++
				return broken(r, e.Seq, "row beyond the chain head (row "+strconv.FormatInt(headSeq, 10)+")"), nil
			}
			if !c.Check(e) {
				return c.Result(), nil
			}
			last = e.Seq
		}
		if len(page) < verifyPage {
			break
		}
	}
	r := c.Result()
	switch {
	case last < headSeq:
		return broken(r, last+1, "row missing: the chain head is row "+strconv.FormatInt(headSeq, 10)), nil
	case r.HeadHash != headHash:
		return broken(r, headSeq, "last row does not match the chain head"), nil
	}
	return c.Finish(), nil
}

func broken(r alliance.AuditVerification, seq int64, reason string) alliance.AuditVerification {
	r.OK, r.BrokenAt, r.Reason, r.HeadSeq, r.HeadHash = false, seq, reason, 0, ""
	return r
}
