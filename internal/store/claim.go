package store

import (
	"context"
	"database/sql"
	"time"
)

// claimDue claims up to limit rows of table whose due time (column due)
// has come, most overdue first, by moving it to now + lease, and scans the
// returning columns of each with scan. The job that claimed them records
// their outcome before the lease ends; if its process dies, the rows are
// due again when it does, so none is lost. On PostgreSQL rows locked by
// another claimer are skipped, so two processes never claim the same row.
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
	return out, nil
}
