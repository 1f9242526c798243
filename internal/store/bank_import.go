package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Bank import statuses: an import is queued when its file is staged, running
// while the job reads it, and then done or failed.
const (
	ImportQueued  = "queued"
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// BankImport is a bank file import run as a background job.
type BankImport struct {
	ID          int64
	BankID      int64
	Bank        string // the bank's name
	OrgID       int64  // the bank's owner
	OrgCode     string
	Format      string
	Status      string
	RecordsRead int64
	Added       int64
	Present     int64 // records the bank already held
	Error       string
	CreatedBy   int64 // user id; 0 for the system
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
}

// CreateBankImport inserts a queued import, setting imp.ID, imp.Status and
// imp.CreatedAt. imp.BankID, OrgID and Format must be set.
func (tx *Tx) CreateBankImport(ctx context.Context, imp *BankImport) error {
	err := tx.queryRow(ctx, `INSERT INTO bank_imports (bank_id, org_id, format, status, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		imp.BankID, imp.OrgID, imp.Format, ImportQueued, imp.CreatedBy, tx.timeArg(tx.now)).Scan(&imp.ID)
	if err != nil {
		return wrapErr(err, fmt.Sprintf("create import into bank %d", imp.BankID), errMsgs{})
	}
	imp.Status, imp.CreatedAt = ImportQueued, tx.now
	return nil
}

// AddBankImportChunk stages chunk seq (0-based, consecutive) of an import's file.
func (tx *Tx) AddBankImportChunk(ctx context.Context, importID int64, seq int, payload []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO bank_import_chunks (import_id, seq, payload) VALUES ($1, $2, $3)`,
		importID, seq, payload)
	return wrapErr(err, fmt.Sprintf("stage chunk %d of import %d", seq, importID), errMsgs{})
}

// BankImportChunk returns staged chunk seq of an import; false after the last.
func (tx *Tx) BankImportChunk(ctx context.Context, importID int64, seq int) ([]byte, bool, error) {
	var p []byte
	err := tx.queryRow(ctx, `SELECT payload FROM bank_import_chunks WHERE import_id = $1 AND seq = $2`,
		importID, seq).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, wrapErr(err, fmt.Sprintf("chunk %d of import %d", seq, importID), errMsgs{})
	}
	return p, true, nil
}

// BankImportByID returns the import; ENOTFOUND if none.
func (tx *Tx) BankImportByID(ctx context.Context, id int64) (BankImport, error) {
	var imp BankImport
	err := tx.queryRow(ctx, `SELECT i.id, i.bank_id, b.name, i.org_id, o.code, i.format, i.status,
		i.records_read, i.added, i.present, i.error, i.created_by, i.created_at, i.started_at, i.finished_at
		FROM bank_imports i JOIN banks b ON b.id = i.bank_id JOIN organisations o ON o.id = i.org_id
		WHERE i.id = $1`, id).Scan(&imp.ID, &imp.BankID, &imp.Bank, &imp.OrgID, &imp.OrgCode, &imp.Format,
		&imp.Status, &imp.RecordsRead, &imp.Added, &imp.Present, &imp.Error, &imp.CreatedBy,
		scanTime(&imp.CreatedAt), scanNullTime(&imp.StartedAt), scanNullTime(&imp.FinishedAt))
	if err != nil {
		return imp, wrapErr(err, fmt.Sprintf("import %d", id), errMsgs{notFound: "Import not found."})
	}
	return imp, nil
}

// StartBankImport marks a queued import running. A running one (its job was
// rescued after a crash) starts again; false means it has already finished.
func (tx *Tx) StartBankImport(ctx context.Context, id int64) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE bank_imports SET status = $2, started_at = $3
		WHERE id = $1 AND status IN ($4, $5)`, id, ImportRunning, tx.timeArg(tx.now), ImportQueued, ImportRunning)
	if err != nil {
		return false, wrapErr(err, fmt.Sprintf("start import %d", id), errMsgs{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrapErr(err, fmt.Sprintf("start import %d", id), errMsgs{})
	}
	return n == 1, nil
}

// FinishBankImport records an import's outcome (ImportDone or ImportFailed)
// and deletes its staged file.
func (tx *Tx) FinishBankImport(ctx context.Context, imp *BankImport) error {
	op := fmt.Sprintf("finish import %d", imp.ID)
	if _, err := tx.exec(ctx, `UPDATE bank_imports SET status = $2, records_read = $3, added = $4, present = $5,
		error = $6, finished_at = $7 WHERE id = $1`, imp.ID, imp.Status, imp.RecordsRead, imp.Added, imp.Present,
		imp.Error, tx.timeArg(tx.now)); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if _, err := tx.exec(ctx, `DELETE FROM bank_import_chunks WHERE import_id = $1`, imp.ID); err != nil {
		return wrapErr(err, op+": delete staged file", errMsgs{})
	}
	now := tx.now
	imp.FinishedAt = &now
	return nil
}

// CountBankImportChunks returns how many chunks of an import are staged.
func (tx *Tx) CountBankImportChunks(ctx context.Context, importID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM bank_import_chunks WHERE import_id = $1`, importID).Scan(&n)
	return n, wrapErr(err, fmt.Sprintf("count chunks of import %d", importID), errMsgs{})
}

// StaleBankImport is an unfinished import that FailStaleBankImports gave up on.
type StaleBankImport struct {
	ID int64
	// Uploaded is whether its file was completely staged (and its job
	// queued); false means the upload itself never finished.
	Uploaded bool
}

// FailStaleBankImports records as failed, and deletes the staged files of,
// the imports left unfinished by a process or job that is gone: queued
// imports created before uploadBefore whose upload never completed (no
// "bank.import.start" audit event, which commits with the last chunk and
// the job), and queued or running imports whose last start, or creation
// when they never started, is before jobBefore. Each gets the error
// message of its kind, uploadMsg or jobMsg. An import finished meanwhile by
// its job is left as it is.
func (tx *Tx) FailStaleBankImports(ctx context.Context, uploadBefore, jobBefore time.Time, uploadMsg, jobMsg string) ([]StaleBankImport, error) {
	const op = "fail stale bank imports"
	// The audit lookup runs only for the rare queued imports past the
	// upload timeout; imports are few, so bank_imports needs no index here.
	rows, err := tx.query(ctx, `SELECT i.id, EXISTS (SELECT 1 FROM audit_events a
			WHERE a.action = 'bank.import.start' AND a.object_type = 'bank_import'
			AND a.object_id = CAST(i.id AS TEXT))
		FROM bank_imports i
		WHERE (i.status = $1 AND i.started_at IS NULL AND i.created_at < $3)
			OR (i.status IN ($1, $2) AND COALESCE(i.started_at, i.created_at) < $4)
		ORDER BY i.id`,
		ImportQueued, ImportRunning, tx.timeArg(uploadBefore), tx.timeArg(jobBefore))
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	var stale []StaleBankImport
	for rows.Next() {
		var s StaleBankImport
		if err := rows.Scan(&s.ID, &s.Uploaded); err != nil {
			rows.Close()
			return nil, wrapErr(err, op, errMsgs{})
		}
		stale = append(stale, s)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	out := stale[:0]
	for _, s := range stale {
		msg := uploadMsg
		if s.Uploaded {
			msg = jobMsg
		}
		// Status is checked again in case the job finished it meanwhile; a
		// staged import not yet past jobBefore is still waiting for its job.
		res, err := tx.exec(ctx, `UPDATE bank_imports SET status = $2, error = $3, finished_at = $4
			WHERE id = $1 AND status IN ($5, $6) AND ($7 OR COALESCE(started_at, created_at) < $8)`,
			s.ID, ImportFailed, msg, tx.timeArg(tx.now), ImportQueued, ImportRunning, !s.Uploaded, tx.timeArg(jobBefore))
		if err != nil {
			return nil, wrapErr(err, fmt.Sprintf("%s: import %d", op, s.ID), errMsgs{})
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return nil, wrapErr(err, fmt.Sprintf("%s: import %d", op, s.ID), errMsgs{})
			}
			continue
		}
		if _, err := tx.exec(ctx, `DELETE FROM bank_import_chunks WHERE import_id = $1`, s.ID); err != nil {
			return nil, wrapErr(err, fmt.Sprintf("%s: delete staged file of import %d", op, s.ID), errMsgs{})
		}
		out = append(out, s)
	}
	return out, nil
}
