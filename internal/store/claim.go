package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// claimDue claims up to limit rows of table whose due time (column due)
// has come, most overdue first, by moving it to now + lease, and scans the
// returning columns of each with scan. The job that claimed them records
// their outcome before the lease ends. The claim is recorded in job_claims
// under this process's worker id: if the process stops or dies, another
// (or its successor) makes the unfinished rows due again once the worker's
// heartbeat is stale (ReleaseDeadClaims), and at the latest the lease
// ends, so none is lost. On PostgreSQL rows locked by another claimer are
// skipped, so two processes never claim the same row.
//
// This is the one claiming pattern of the batch jobs (traces, fetches,
// takedown steps, notices, alert mails).
func claimDue[T any](ctx context.Context, tx *Tx, op, table, due string, limit int, lease time.Duration,
	returning string, scan func(rows *sql.Rows, until time.Time) (T, error)) ([]T, error) {
	if limit <= 0 {
		return nil, nil
	}
	until := tx.now.Add(lease)
	lock := ""
	if tx.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.query(ctx, `UPDATE `+table+` SET `+due+` = $1 WHERE id IN (
			SELECT id FROM `+table+` WHERE `+due+` IS NOT NULL AND `+due+` <= $2
			ORDER BY `+due+` LIMIT $3`+lock+`)
		RETURNING `+returning, tx.timeArg(until), tx.timeArg(tx.now), limit)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows, until)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	rows.Close()
	if len(out) > 0 {
		if err := tx.recordClaim(ctx, table, due, until); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
	}
	return out, nil
}

// claimable lists the tables and due columns claimDue claims from: the
// only identifiers ReleaseDeadClaims puts into SQL.
var claimable = map[[2]string]bool{
	{"items", "next_trace_at"}:          true,
	{"items", "next_fetch_at"}:          true,
	{"items", "next_takedown_at"}:       true,
	{"notices", "next_attempt_at"}:      true,
	{"series_alerts", "next_notify_at"}: true,
	{"peers", "next_pull_at"}:           true,
}

// newWorkerID names this process in job_workers: host and pid for people,
// random bits so a restarted process with the same pid is another worker.
func newWorkerID() string {
	host, _ := os.Hostname()
	if len(host) > 64 {
		host = host[:64]
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// WorkerID returns the name of this process in job_workers.
func (db *DB) WorkerID() string { return db.worker }

// recordClaim records a batch claim of this worker and renews its heartbeat.
func (tx *Tx) recordClaim(ctx context.Context, table, due string, until time.Time) error {
	if !claimable[[2]string{table, due}] {
		return fmt.Errorf("claim of %s.%s: not a claimable column", table, due)
	}
	if err := tx.Heartbeat(ctx); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO job_claims (worker, tbl, due_col, until_at) VALUES ($1, $2, $3, $4)`,
		tx.worker, table, due, tx.timeArg(until))
	return err
}

// Heartbeat records that this worker is alive now.
func (tx *Tx) Heartbeat(ctx context.Context) error {
	_, err := tx.exec(ctx, `INSERT INTO job_workers (id, heartbeat_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, tx.worker, tx.timeArg(tx.now))
	return wrapErr(err, "heartbeat", errMsgs{})
}

// ReleaseDeadClaims makes due now the rows still held under the unexpired
// claims of workers whose heartbeat is older than staleBefore (a process
// that died), or of this worker itself when own is set (a process
// stopping: its batches have returned). A row its claimer finished has a
// new due time and is left alone. Forgets expired claims and workers with
// no claims left. Returns the rows made due and the workers taken for
// dead (not this one), for the job queue to release what they held there.
func (tx *Tx) ReleaseDeadClaims(ctx context.Context, staleBefore time.Time, own bool) (int64, []string, error) {
	released, err := tx.releaseDeadClaims(ctx, staleBefore, own)
	if err != nil {
		return 0, nil, err
	}
	const op = "forget dead workers"
	rows, err := tx.query(ctx, `DELETE FROM job_workers WHERE heartbeat_at < $1 AND id <> $2
		AND NOT EXISTS (SELECT 1 FROM job_claims c WHERE c.worker = job_workers.id) RETURNING id`,
		tx.timeArg(staleBefore), tx.worker)
	if err != nil {
		return 0, nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var dead []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return 0, nil, wrapErr(err, op, errMsgs{})
		}
		dead = append(dead, id)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, wrapErr(err, op, errMsgs{})
	}
	rows.Close()
	if own {
		if _, err := tx.exec(ctx, `DELETE FROM job_workers WHERE id = $1`, tx.worker); err != nil {
			return 0, nil, wrapErr(err, op, errMsgs{})
		}
	}
	return released, dead, nil
}

func (tx *Tx) releaseDeadClaims(ctx context.Context, staleBefore time.Time, own bool) (int64, error) {
	const op = "release dead claims"
	now := tx.timeArg(tx.now)
	if _, err := tx.exec(ctx, `DELETE FROM job_claims WHERE until_at <= $1`, now); err != nil {
		return 0, wrapErr(err, op, errMsgs{})
	}
	dead := `worker IN (SELECT id FROM job_workers WHERE heartbeat_at < $1)`
	args := []any{tx.timeArg(staleBefore)}
	if own {
		dead = `(` + dead + ` OR worker = $2)`
		args = append(args, tx.worker)
	} else {
		dead = `(` + dead + ` AND worker <> $2)`
		args = append(args, tx.worker)
	}
	rows, err := tx.query(ctx, `SELECT id, tbl, due_col FROM job_claims WHERE `+dead+` ORDER BY id`, args...)
	if err != nil {
		return 0, wrapErr(err, op, errMsgs{})
	}
	type claim struct {
		id         int64
		table, due string
	}
	var claims []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.id, &c.table, &c.due); err != nil {
			rows.Close()
			return 0, wrapErr(err, op, errMsgs{})
		}
		claims = append(claims, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, wrapErr(err, op, errMsgs{})
	}
	var released int64
	for _, c := range claims {
		if !claimable[[2]string{c.table, c.due}] {
			return 0, fmt.Errorf("store: %s: claim %d names %s.%s, not a claimable column", op, c.id, c.table, c.due)
		}
		res, err := tx.exec(ctx, `UPDATE `+c.table+` SET `+c.due+` = $1
			WHERE `+c.due+` = (SELECT until_at FROM job_claims WHERE id = $2)`, now, c.id)
		if err != nil {
			return 0, wrapErr(err, op, errMsgs{})
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, wrapErr(err, op, errMsgs{})
		}
		released += n
		if _, err := tx.exec(ctx, `DELETE FROM job_claims WHERE id = $1`, c.id); err != nil {
			return 0, wrapErr(err, op, errMsgs{})
		}
	}
	return released, nil
}
