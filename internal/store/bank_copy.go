package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"alliance"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// bankCopyMerge is how many copied rows ImportTx lets pile up in its
// temporary table before it merges them into bank_entries: a bound on the
// temporary table's size (and its sort) that still makes each merge one
// statement over many rows.
var bankCopyMerge = 1 << 20 // a variable for tests

// ImportTx is a write transaction for bulk loads of bank entries (see
// InImportTx). It has every query of Tx.
type ImportTx struct {
	*Tx
	conn   *sql.Conn // PostgreSQL: the connection the transaction runs on
	table  bool      // the temporary table exists
	bankID int64     // the bank of the rows staged in it
	staged int       // rows copied and not merged yet
	seq    int64     // order of the rows copied, for "the last one wins"
}

// InImportTx runs fn in a write transaction, as InTx does, for bank imports.
// On PostgreSQL the transaction runs on a connection held for it, so that
// AddBankEntries can load rows with COPY inside the transaction:
// database/sql gives no access to a transaction's connection otherwise.
func (db *DB) InImportTx(ctx context.Context, fn func(*ImportTx) error) error {
	if db.dialect != Postgres {
		return db.InTx(ctx, func(tx *Tx) error { return fn(&ImportTx{Tx: tx}) })
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: import transaction: get connection: %w", err)
	}
	defer conn.Close() // back to the pool, after the transaction has ended
	sqltx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin import transaction: %w", err)
	}
	itx := &ImportTx{Tx: &Tx{tx: sqltx, dialect: db.dialect, now: db.now().UTC().Truncate(time.Microsecond), worker: db.worker}, conn: conn}
	defer func() {
		if p := recover(); p != nil {
			_ = sqltx.Rollback()
			panic(p)
		}
	}()
	if err := fn(itx); err != nil {
		if rbErr := sqltx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// AddBankEntries writes entries into the bank with the semantics of
// UpsertBankEntries, where the last of repeated entries wins. On SQLite it
// is UpsertBankEntries. On PostgreSQL it COPYs them into a temporary table
// and merges that into bank_entries every bankCopyMerge rows: call
// FlushBankEntries before reading the bank's entries in the transaction.
func (tx *ImportTx) AddBankEntries(ctx context.Context, bankID int64, entries []alliance.HashEntry) error {
	if tx.conn == nil {
		return tx.UpsertBankEntries(ctx, bankID, entries)
	}
	if len(entries) == 0 {
		return nil
	}
	op := fmt.Sprintf("copy %d entries for bank %d", len(entries), bankID)
	if tx.staged > 0 && tx.bankID != bankID {
		if err := tx.FlushBankEntries(ctx); err != nil {
			return err
		}
	}
	if !tx.table {
		// ON COMMIT DROP: the pooled connection outlives the transaction; a
		// rollback drops the table as well.
		if _, err := tx.exec(ctx, `CREATE TEMPORARY TABLE bank_import_rows (
			seq BIGINT NOT NULL, algorithm TEXT NOT NULL, value BYTEA NOT NULL, profile TEXT NOT NULL,
			category TEXT NOT NULL, category_scheme TEXT NOT NULL, series TEXT NOT NULL,
			victim_identified BOOLEAN, source TEXT NOT NULL, added_by BIGINT NOT NULL) ON COMMIT DROP`); err != nil {
			return wrapErr(err, op+": create table", errMsgs{})
		}
		tx.table = true
	}
	seq := tx.seq
	rows := pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
		e := entries[i]
		var victim any
		if e.VictimIdentified != nil {
			victim = *e.VictimIdentified
		}
		return []any{seq + int64(i), string(e.Algorithm), e.Value, e.Profile, e.Category, e.Scheme, e.Series,
			victim, e.Source, e.AddedBy}, nil
	})
	err := tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("connection is a %T, not pgx's", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{"bank_import_rows"}, []string{"seq", "algorithm", "value",
			"profile", "category", "category_scheme", "series", "victim_identified", "source", "added_by"}, rows)
		return err
	})
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	tx.seq += int64(len(entries))
	tx.bankID = bankID
	tx.staged += len(entries)
	if tx.staged >= bankCopyMerge {
		return tx.FlushBankEntries(ctx)
	}
	return nil
}

// FlushBankEntries merges the rows AddBankEntries has copied into
// bank_entries, as one upsert in which the last of repeated entries wins.
// It does nothing on SQLite.
func (tx *ImportTx) FlushBankEntries(ctx context.Context) error {
	if tx.staged == 0 {
		return nil
	}
	op := fmt.Sprintf("merge %d copied entries into bank %d", tx.staged, tx.bankID)
	// The rows go in sorted as the unique index (bank_id, algorithm, value)
	// is, which DISTINCT ON sorts them into anyway, so new entries get their
	// ids in hash order within a merge, not in file order as with
	// UpsertBankEntries. That is what makes the merge fast: the B-tree
	// inserts, the heap and the ids all follow one order, where file order
	// (random hashes) makes the unique index's inserts random, and ids drawn
	// in file order make the primary key's inserts and the change log's
	// reads random instead; either costs about as much as COPY saves at 10^6
	// rows (docs/benchmarks.md). The cost: a VICS export of a bank imported
	// on PostgreSQL writes a media record per hash where the file had one
	// record with several (same entries, same details).
	_, err := tx.exec(ctx, `INSERT INTO bank_entries (bank_id, algorithm, value, profile, category, category_scheme,
			series, victim_identified, source, first_seen, last_seen, added_by, active)
		SELECT $1, algorithm, value, profile, category, category_scheme, series, victim_identified, source,
			$2, $2, added_by, TRUE
		FROM (SELECT DISTINCT ON (algorithm, value) * FROM bank_import_rows ORDER BY algorithm, value, seq DESC) r
		ON CONFLICT (bank_id, algorithm, value) DO UPDATE SET `+bankEntryUpdate,
		tx.bankID, tx.timeArg(tx.now))
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if _, err := tx.exec(ctx, `TRUNCATE bank_import_rows`); err != nil {
		return wrapErr(err, op+": empty table", errMsgs{})
	}
	tx.staged = 0
	return nil
}
