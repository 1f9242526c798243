package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"alliance"
)

// FetchClaim is an item claimed for fetching by ClaimFetches.
type FetchClaim struct {
	ItemID   int64
	OrgID    int64  // the receiving organisation
	URL      string // the canonical URL, which is what is fetched
	Attempts int    // fetches tried so far in this round
	Lease    time.Time
}

// ClaimFetches claims up to limit items whose fetch is due, most overdue
// first, by moving their next_fetch_at to now + lease, as ClaimTraces does
// for traces: an item whose fetch is not recorded by then (a crashed
// process) is due again when the lease ends, so none is lost, and on
// PostgreSQL rows locked by another claimer are skipped.
func (tx *Tx) ClaimFetches(ctx context.Context, limit int, lease time.Duration) ([]FetchClaim, error) {
	out, err := claimDue(ctx, tx, "claim fetches", "items", "next_fetch_at", limit, lease,
		`id, org_id, canonical_url, fetch_attempts`, func(rows *sql.Rows, until time.Time) (FetchClaim, error) {
			c := FetchClaim{Lease: until}
			return c, rows.Scan(&c.ItemID, &c.OrgID, &c.URL, &c.Attempts)
		})
	slices.SortFunc(out, func(a, b FetchClaim) int { return cmp.Compare(a.ItemID, b.ItemID) })
	return out, err
}

// FetchOutcome is the fetch of a claimed item.
type FetchOutcome struct {
	Claim FetchClaim
	// Fetch is the outcome; its FetchedAt is when the fetch was made. A
	// FetchPending status records a failed attempt that is retried at
	// RetryAt; the item's media and match state are then left as they are.
	Fetch   alliance.Fetch
	RetryAt time.Time
	// Media replace the item's media (with their matches) when the status
	// is fetched; Known and KnownClassification are the item's match state
	// from them (alliance.DecideKnown).
	Media               []alliance.Medium
	Known               alliance.Known
	KnownClassification *alliance.Classification
}

// RecordFetches records the fetches of claimed items and returns the
// outcomes it applied. An outcome whose claim has lapsed (claimed again, or
// queued again by a re-trace, since) is skipped: the newer claim records
// its own fetch.
func (tx *Tx) RecordFetches(ctx context.Context, outs []FetchOutcome) ([]FetchOutcome, error) {
	const op = "record fetches"
	var applied []FetchOutcome
	for _, o := range outs {
		f := o.Fetch
		var next any
		if f.Status == alliance.FetchPending {
			next = tx.timeArg(o.RetryAt)
		}
		args := []any{string(f.Status), f.Reason, f.HTTPStatus, f.ContentType, f.Page, f.Truncated, f.Attempts,
			tx.timeArg(f.FetchedAt), next, o.Claim.ItemID, tx.timeArg(o.Claim.Lease)}
		q := `UPDATE items SET fetch_status = $1, fetch_reason = $2, fetch_http_status = $3, fetch_content_type = $4,
			fetch_page = $5, fetch_truncated = $6, fetch_attempts = $7, fetched_at = $8, next_fetch_at = $9`
		final := f.Status != alliance.FetchPending
		if final {
			var known any
			if f.Status == alliance.FetchFetched {
				known = string(cmp.Or(o.Known, alliance.KnownNone))
			}
			var c alliance.Classification
			if o.KnownClassification != nil {
				c = *o.KnownClassification
			}
			q += `, known = $12, known_scheme = $13, known_category = $14`
			args = append(args, known, c.Scheme, c.Category)
		}
		res, err := tx.exec(ctx, q+` WHERE id = $10 AND next_fetch_at = $11`, args...)
		if err != nil {
			return nil, wrapErr(err, fmt.Sprintf("%s: item %d", op, o.Claim.ItemID), errMsgs{})
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		} else if n == 0 {
			continue
		}
		if final {
			if err := tx.replaceMedia(ctx, o.Claim.ItemID, o.Media); err != nil {
				return nil, err
			}
		}
		applied = append(applied, o)
	}
	return applied, nil
}

// replaceMedia replaces the media of an item (and their matches) with ms.
func (tx *Tx) replaceMedia(ctx context.Context, itemID int64, ms []alliance.Medium) error {
	op := fmt.Sprintf("record media of item %d", itemID)
	if _, err := tx.exec(ctx, `DELETE FROM media_matches WHERE medium_id IN
		(SELECT id FROM item_media WHERE item_id = $1)`, itemID); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if _, err := tx.exec(ctx, `DELETE FROM item_media WHERE item_id = $1`, itemID); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	var matches []any
	for i, m := range ms {
		var fetchedAt any
		if !m.FetchedAt.IsZero() {
			fetchedAt = tx.timeArg(m.FetchedAt)
		}
		var id int64
		err := tx.queryRow(ctx, `INSERT INTO item_media (item_id, position, url, source, kind, status, failure,
			http_status, content_type, declared_type, size, md5, sha1, sha256, pdq, pdq_quality, profile, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
			itemID, i, m.URL, m.Source, string(m.Kind), string(m.Status), m.Failure, m.HTTPStatus, m.ContentType,
			m.DeclaredType, m.Size, nullBytes(m.MD5), nullBytes(m.SHA1), nullBytes(m.SHA256), nullBytes(m.PDQ),
			m.PDQQuality, m.Profile, fetchedAt).Scan(&id)
		if err != nil {
			return wrapErr(err, fmt.Sprintf("%s: medium %d", op, i), errMsgs{})
		}
		for _, mm := range m.Matches {
			matches = append(matches, id, mm.EntryID, string(mm.Algorithm), mm.Distance)
		}
	}
	const cols = 4
	for chunk := range slices.Chunk(matches, maxParams/cols*cols) {
		_, err := tx.execBulk(ctx, `INSERT INTO media_matches (medium_id, entry_id, algorithm, distance)
			VALUES `+valuesList(len(chunk)/cols, cols)+` ON CONFLICT DO NOTHING`, chunk...)
		if err != nil {
			return wrapErr(err, op+": matches", errMsgs{})
		}
	}
	return nil
}

// nullBytes maps an empty slice to NULL, for hash columns not computed.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// ItemMedia returns the media of an item in page order, each with its
// matches (closest first) and the bank, classification, series and source
// of the matched entries as they are now.
func (tx *Tx) ItemMedia(ctx context.Context, itemID int64) ([]alliance.Medium, error) {
	op := fmt.Sprintf("media of item %d", itemID)
	rows, err := tx.query(ctx, `SELECT id, item_id, position, url, source, kind, status, failure, http_status,
		content_type, declared_type, size, md5, sha1, sha256, pdq, pdq_quality, profile, fetched_at
		FROM item_media WHERE item_id = $1 ORDER BY position`, itemID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	var (
		out   []alliance.Medium
		index = map[int64]int{}
	)
	for rows.Next() {
		var (
			m            alliance.Medium
			kind, status string
			fetchedAt    *time.Time
		)
		if err := rows.Scan(&m.ID, &m.ItemID, &m.Position, &m.URL, &m.Source, &kind, &status, &m.Failure,
			&m.HTTPStatus, &m.ContentType, &m.DeclaredType, &m.Size, &m.MD5, &m.SHA1, &m.SHA256, &m.PDQ,
			&m.PDQQuality, &m.Profile, scanNullTime(&fetchedAt)); err != nil {
			rows.Close()
			return nil, wrapErr(err, op, errMsgs{})
		}
		m.Kind, m.Status = alliance.MediumKind(kind), alliance.MediumStatus(status)
		if fetchedAt != nil {
			m.FetchedAt = *fetchedAt
		}
		index[m.ID] = len(out)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, wrapErr(err, op, errMsgs{})
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = tx.query(ctx, `SELECT mm.medium_id, mm.entry_id, mm.algorithm, mm.distance, b.name, o.code,
		e.value, e.category_scheme, e.category, e.series, e.source
		FROM media_matches mm
		JOIN item_media m ON m.id = mm.medium_id
		JOIN bank_entries e ON e.id = mm.entry_id
		JOIN banks b ON b.id = e.bank_id
		JOIN organisations o ON o.id = b.owner_org_id
		WHERE m.item_id = $1`, itemID)
	if err != nil {
		return nil, wrapErr(err, op+": matches", errMsgs{})
	}
	defer rows.Close()
	for rows.Next() {
		var (
			mediumID int64
			mm       alliance.MediumMatch
			alg      string
		)
		if err := rows.Scan(&mediumID, &mm.EntryID, &alg, &mm.Distance, &mm.Bank, &mm.BankOrg, &mm.Value,
			&mm.Scheme, &mm.Category, &mm.Series, &mm.Source); err != nil {
			return nil, wrapErr(err, op+": matches", errMsgs{})
		}
		mm.Algorithm = alliance.HashAlgorithm(alg)
		if i, ok := index[mediumID]; ok {
			out[i].Matches = append(out[i].Matches, mm)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op+": matches", errMsgs{})
	}
	for i := range out {
		alliance.SortMediumMatches(out[i].Matches)
	}
	return out, nil
}

// Refetch makes the item's fetch due now, as a new round; its media and
// match state stay until the new fetch is recorded. Duplicates are not
// fetched: ENOTFOUND if there is no such item that is not a duplicate.
func (tx *Tx) Refetch(ctx context.Context, itemID int64) error {
	op := fmt.Sprintf("refetch item %d", itemID)
	res, err := tx.exec(ctx, `UPDATE items SET fetch_attempts = 0, next_fetch_at = $1
		WHERE id = $2 AND status <> 'duplicate'`, tx.timeArg(tx.now), itemID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "Item not found.")
	}
	return nil
}
