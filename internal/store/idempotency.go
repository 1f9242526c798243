package store

import (
	"context"
	"slices"
	"time"
)

// IdempotencyKey records that a request with an Idempotency-Key created a
// report, so that a retry returns that report instead of creating another.
// CreateReports stores it with its report.
type IdempotencyKey struct {
	Scope       string // whose key: "token:ID", "user:ID" or "anon:CLIENT"
	Key         string
	RequestHash []byte // SHA-256 of the request, to tell a retry from a reuse
	ReportID    int64
	CreatedAt   time.Time
}

// IdempotencyKeys returns those of keys (by Scope and Key) that are
// stored, by scope and key, in one query however many scopes they span.
func (tx *Tx) IdempotencyKeys(ctx context.Context, keys []IdempotencyKey) (map[[2]string]IdempotencyKey, error) {
	const op = "find idempotency keys"
	out := make(map[[2]string]IdempotencyKey)
	for chunk := range slices.Chunk(keys, maxParams/2) {
		args := make([]any, 0, 2*len(chunk))
		for _, k := range chunk {
			args = append(args, k.Scope, k.Key)
		}
		// VALUES names its columns column1, column2 in both dialects.
		rows, err := tx.queryBulk(ctx, `SELECT k.scope, k.key, k.request_hash, k.report_id, k.created_at
			FROM idempotency_keys k JOIN (VALUES `+valuesList(len(chunk), 2)+`) AS v
				ON k.scope = v.column1 AND k.key = v.column2`, args...)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		for rows.Next() {
			var k IdempotencyKey
			if err := rows.Scan(&k.Scope, &k.Key, &k.RequestHash, &k.ReportID, scanTime(&k.CreatedAt)); err != nil {
				rows.Close()
				return nil, wrapErr(err, op, errMsgs{})
			}
			out[[2]string{k.Scope, k.Key}] = k
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
	}
	return out, nil
}

// DeleteIdempotencyKeys removes the keys stored before the time and
// returns how many (housekeeping): a retry after that creates a new report.
func (tx *Tx) DeleteIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, tx.timeArg(before))
	if err != nil {
		return 0, wrapErr(err, "delete idempotency keys", errMsgs{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrapErr(err, "delete idempotency keys", errMsgs{})
	}
	return n, nil
}
