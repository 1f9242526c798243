package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"alliance"
)

// bankEntryBatch is the number of rows per multi-row upsert: 13 parameters a
// row stays well under both dialects' parameter limits.
const bankEntryBatch = 500

// CreateBank inserts b, setting b.ID and b.CreatedAt. A name the owner
// already uses is an ECONFLICT error. b.OwnerOrgID must be set.
func (tx *Tx) CreateBank(ctx context.Context, b *alliance.Bank) error {
	op := fmt.Sprintf("create bank %q", b.Name)
	var id int64
	err := tx.queryRow(ctx, `INSERT INTO banks (name, owner_org_id, description, pdq_threshold, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		b.Name, b.OwnerOrgID, b.Description, b.PDQThreshold, tx.timeArg(tx.now)).Scan(&id)
	if err != nil {
		return wrapErr(err, op, errMsgs{conflict: fmt.Sprintf("Your organisation already has a bank named %q.", b.Name)})
	}
	b.ID, b.CreatedAt = id, tx.now
	return nil
}

const bankColumns = `b.id, b.name, b.owner_org_id, o.code, b.description, b.pdq_threshold, b.created_at`

const bankFrom = ` FROM banks b JOIN organisations o ON o.id = b.owner_org_id`

func scanBank(row interface{ Scan(...any) error }, after ...any) (alliance.Bank, error) {
	var b alliance.Bank
	dst := append([]any{&b.ID, &b.Name, &b.OwnerOrgID, &b.OwnerOrg, &b.Description, &b.PDQThreshold,
		scanTime(&b.CreatedAt)}, after...)
	return b, row.Scan(dst...)
}

// BankByName returns the bank of the owner with the name; ENOTFOUND if none.
func (tx *Tx) BankByName(ctx context.Context, ownerOrgID int64, name string) (alliance.Bank, error) {
	b, err := scanBank(tx.queryRow(ctx, `SELECT `+bankColumns+bankFrom+` WHERE b.owner_org_id = $1 AND b.name = $2`,
		ownerOrgID, name))
	if err != nil {
		return b, wrapErr(err, fmt.Sprintf("bank %q of organisation %d", name, ownerOrgID), errMsgs{notFound: "Bank not found."})
	}
	return b, nil
}

// BankByID returns the bank with the id; ENOTFOUND if none.
func (tx *Tx) BankByID(ctx context.Context, id int64) (alliance.Bank, error) {
	b, err := scanBank(tx.queryRow(ctx, `SELECT `+bankColumns+bankFrom+` WHERE b.id = $1`, id))
	if err != nil {
		return b, wrapErr(err, fmt.Sprintf("bank %d", id), errMsgs{notFound: "Bank not found."})
	}
	return b, nil
}

// ShareBank lets the organisation match against the bank; sharing twice is
// one share.
func (tx *Tx) ShareBank(ctx context.Context, bankID, orgID int64) error {
	_, err := tx.exec(ctx, `INSERT INTO bank_shares (bank_id, org_id) VALUES ($1, $2)
		ON CONFLICT (bank_id, org_id) DO NOTHING`, bankID, orgID)
	return wrapErr(err, fmt.Sprintf("share bank %d with organisation %d", bankID, orgID), errMsgs{})
}

// VisibleBanks returns the banks the organisation owns or has been shared,
// every bank when orgID is 0, by owner and name, with their active entry
// counts and the organisations they are shared with.
func (tx *Tx) VisibleBanks(ctx context.Context, orgID int64) ([]alliance.Bank, error) {
	q := `SELECT ` + bankColumns + `,
		(SELECT COUNT(*) FROM bank_entries e WHERE e.bank_id = b.id AND e.active)` + bankFrom
	var args []any
	if orgID != 0 {
		q += ` WHERE b.owner_org_id = $1 OR b.id IN (SELECT bank_id FROM bank_shares WHERE org_id = $1)`
		args = append(args, orgID)
	}
	q += ` ORDER BY o.code, b.name`
	op := fmt.Sprintf("banks visible to organisation %d", orgID)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Bank
	byID := map[int64]int{}
	for rows.Next() {
		var n int64
		b, err := scanBank(rows, &n)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		b.Entries = n
		byID[b.ID] = len(out)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	rows.Close()
	shares, err := tx.query(ctx, `SELECT s.bank_id, o.code FROM bank_shares s JOIN organisations o ON o.id = s.org_id
		ORDER BY s.bank_id, o.code`)
	if err != nil {
		return nil, wrapErr(err, op+": shares", errMsgs{})
	}
	defer shares.Close()
	for shares.Next() {
		var (
			id   int64
			code string
		)
		if err := shares.Scan(&id, &code); err != nil {
			return nil, wrapErr(err, op+": shares", errMsgs{})
		}
		if i, ok := byID[id]; ok {
			out[i].SharedWith = append(out[i].SharedWith, code)
		}
	}
	return out, wrapErr(shares.Err(), op+": shares", errMsgs{})
}

// MatchableBanks returns the banks the organisation owns or has been shared
// (every bank when orgID is 0) by id, without counts: matching reads it on
// every request.
func (tx *Tx) MatchableBanks(ctx context.Context, orgID int64) (map[int64]alliance.Bank, error) {
	q := `SELECT ` + bankColumns + bankFrom
	var args []any
	if orgID != 0 {
		q += ` WHERE b.owner_org_id = $1 OR b.id IN (SELECT bank_id FROM bank_shares WHERE org_id = $1)`
		args = append(args, orgID)
	}
	op := fmt.Sprintf("banks matchable by organisation %d", orgID)
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	out := map[int64]alliance.Bank{}
	for rows.Next() {
		b, err := scanBank(rows)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out[b.ID] = b
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// LockBankChanges serialises writers of bank entries until the transaction
// ends, so that change sequence numbers commit in order (see 0003_banks.sql).
// On SQLite the transaction already holds the write lock. Call it before
// any other write to bank_entries or bank_changes in the transaction.
func (tx *Tx) LockBankChanges(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	_, err := tx.exec(ctx, `LOCK TABLE bank_changes IN SHARE ROW EXCLUSIVE MODE`)
	return wrapErr(err, "lock bank changes", errMsgs{})
}

// MaxBankEntryID returns the largest entry id of any bank, 0 if none.
func (tx *Tx) MaxBankEntryID(ctx context.Context) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM bank_entries`).Scan(&id)
	return id, wrapErr(err, "max bank entry id", errMsgs{})
}

// CountBankEntries returns the number of entries of the bank, active or not.
func (tx *Tx) CountBankEntries(ctx context.Context, bankID int64) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM bank_entries WHERE bank_id = $1`, bankID).Scan(&n)
	return n, wrapErr(err, fmt.Sprintf("count entries of bank %d", bankID), errMsgs{})
}

// UpsertBankEntries inserts entries into the bank, first_seen and last_seen
// the transaction's time. An entry the bank already holds (same algorithm
// and value) keeps its id, first_seen, added_by and active flag; its
// last_seen moves on and its descriptive fields take the new values where
// those are not empty. Entries repeated within the call count once.
func (tx *Tx) UpsertBankEntries(ctx context.Context, bankID int64, entries []alliance.HashEntry) error {
	for len(entries) > 0 {
		n := min(len(entries), bankEntryBatch)
		if err := tx.upsertBankEntries(ctx, bankID, entries[:n]); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

// bankEntryUpdate is the SET clause of the bank entry upserts: an entry
// imported again keeps its details where the new record leaves them empty.
const bankEntryUpdate = `
		last_seen = excluded.last_seen,
		profile = COALESCE(NULLIF(excluded.profile, ''), bank_entries.profile),
		category = COALESCE(NULLIF(excluded.category, ''), bank_entries.category),
		category_scheme = COALESCE(NULLIF(excluded.category_scheme, ''), bank_entries.category_scheme),
		series = COALESCE(NULLIF(excluded.series, ''), bank_entries.series),
		victim_identified = COALESCE(excluded.victim_identified, bank_entries.victim_identified),
		source = COALESCE(NULLIF(excluded.source, ''), bank_entries.source)`

func (tx *Tx) upsertBankEntries(ctx context.Context, bankID int64, entries []alliance.HashEntry) error {
	// PostgreSQL refuses to update one row twice in a statement: keep the
	// last of repeated entries.
	last := make(map[string]int, len(entries))
	for i, e := range entries {
		last[string(e.Algorithm)+"\x00"+string(e.Value)] = i
	}
	var (
		sb   strings.Builder
		args = make([]any, 0, 13*len(last))
		now  = tx.timeArg(tx.now)
	)
	sb.WriteString(`INSERT INTO bank_entries (bank_id, algorithm, value, profile, category, category_scheme, series,
		victim_identified, source, first_seen, last_seen, added_by, active) VALUES `)
	rows := 0
	for i, e := range entries {
		if last[string(e.Algorithm)+"\x00"+string(e.Value)] != i {
			continue
		}
		if rows > 0 {
			sb.WriteString(", ")
		}
		p := len(args)
		fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
			p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+9, p+10, p+11, p+12, p+13)
		var victim any
		if e.VictimIdentified != nil {
			victim = *e.VictimIdentified
		}
		args = append(args, bankID, string(e.Algorithm), e.Value, e.Profile, e.Category, e.Scheme, e.Series,
			victim, e.Source, now, now, e.AddedBy, true)
		rows++
	}
	sb.WriteString(` ON CONFLICT (bank_id, algorithm, value) DO UPDATE SET ` + bankEntryUpdate)
	_, err := tx.execBulk(ctx, sb.String(), args...)
	return wrapErr(err, fmt.Sprintf("upsert %d entries into bank %d", rows, bankID), errMsgs{})
}

// LogNewBankEntries appends an "add" change for every entry of the bank
// with an id above afterID (those inserted since MaxBankEntryID, under
// LockBankChanges) and returns how many.
func (tx *Tx) LogNewBankEntries(ctx context.Context, bankID, afterID int64) (int64, error) {
	// "+bank_id" keeps the planner off the (bank_id, algorithm, value)
	// index, which would read every entry of the bank: the new entries are
	// the ids above afterID, a range of the primary key.
	res, err := tx.exec(ctx, `INSERT INTO bank_changes (entry_id, op)
		SELECT id, 'add' FROM bank_entries WHERE id > $2 AND +bank_id = $1 ORDER BY id`, bankID, afterID)
	if err != nil {
		return 0, wrapErr(err, fmt.Sprintf("log new entries of bank %d", bankID), errMsgs{})
	}
	n, err := res.RowsAffected()
	return n, wrapErr(err, "log new bank entries", errMsgs{})
}

const entryColumns = `id, bank_id, algorithm, value, profile, category, category_scheme, series, victim_identified,
	source, first_seen, last_seen, added_by, active`

func scanEntry(row interface{ Scan(...any) error }) (alliance.HashEntry, error) {
	var (
		e      alliance.HashEntry
		alg    string
		victim sql.NullBool
	)
	err := row.Scan(&e.ID, &e.BankID, &alg, &e.Value, &e.Profile, &e.Category, &e.Scheme, &e.Series, &victim,
		&e.Source, scanTime(&e.FirstSeen), scanTime(&e.LastSeen), &e.AddedBy, &e.Active)
	e.Algorithm = alliance.HashAlgorithm(alg)
	if victim.Valid {
		v := victim.Bool
		e.VictimIdentified = &v
	}
	return e, err
}

// BankEntry returns the entry with the id; ENOTFOUND if none.
func (tx *Tx) BankEntry(ctx context.Context, id int64) (alliance.HashEntry, error) {
	e, err := scanEntry(tx.queryRow(ctx, `SELECT `+entryColumns+` FROM bank_entries WHERE id = $1`, id))
	if err != nil {
		return e, wrapErr(err, fmt.Sprintf("bank entry %d", id), errMsgs{notFound: "Entry not found."})
	}
	return e, nil
}

// SetBankEntryActive switches the entry on or off and logs the change for
// the matchers; it reports whether anything changed. Call LockBankChanges
// first.
func (tx *Tx) SetBankEntryActive(ctx context.Context, id int64, active bool) (bool, error) {
	op := fmt.Sprintf("set bank entry %d active=%t", id, active)
	res, err := tx.exec(ctx, `UPDATE bank_entries SET active = $1 WHERE id = $2 AND active <> $1`, active, id)
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, wrapErr(err, op, errMsgs{})
	}
	change := "remove"
	if active {
		change = "add"
	}
	_, err = tx.exec(ctx, `INSERT INTO bank_changes (entry_id, op) VALUES ($1, $2)`, id, change)
	return err == nil, wrapErr(err, op+": log", errMsgs{})
}

// BankEntries calls fn with each entry of the bank, active or not, in id
// order, reading rows as fn goes (constant memory). fn's error stops the
// walk and is returned as is.
func (tx *Tx) BankEntries(ctx context.Context, bankID int64, fn func(alliance.HashEntry) error) error {
	op := fmt.Sprintf("entries of bank %d", bankID)
	rows, err := tx.query(ctx, `SELECT `+entryColumns+` FROM bank_entries WHERE bank_id = $1 ORDER BY id`, bankID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return wrapErr(err, op, errMsgs{})
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return wrapErr(rows.Err(), op, errMsgs{})
}

// CountActiveEntriesByAlgorithm returns the number of active entries of
// each algorithm in every bank, in one scan rather than one per algorithm
// (and without the sort a GROUP BY costs SQLite): the matcher's load then
// reads the table once more per non-empty algorithm only.
func (tx *Tx) CountActiveEntriesByAlgorithm(ctx context.Context) (map[alliance.HashAlgorithm]int, error) {
	var (
		cols strings.Builder
		ns   = make([]int, len(alliance.HashAlgorithms))
		dst  = make([]any, len(ns))
	)
	for i, alg := range alliance.HashAlgorithms {
		if i > 0 {
			cols.WriteString(", ")
		}
		// The names are constants of ours, not input.
		fmt.Fprintf(&cols, "COALESCE(SUM(CASE WHEN algorithm = '%s' THEN 1 ELSE 0 END), 0)", alg)
		dst[i] = &ns[i]
	}
	err := tx.queryRow(ctx, `SELECT `+cols.String()+` FROM bank_entries WHERE active`).Scan(dst...)
	if err != nil {
		return nil, wrapErr(err, "count active entries", errMsgs{})
	}
	counts := make(map[alliance.HashAlgorithm]int, len(ns))
	for i, alg := range alliance.HashAlgorithms {
		counts[alg] = ns[i]
	}
	return counts, nil
}

// ActiveEntryValues calls fn with the id and value of every active entry of
// the algorithm in every bank, streaming. value is valid only during the
// call. fn's error stops the walk and is returned as is.
func (tx *Tx) ActiveEntryValues(ctx context.Context, alg alliance.HashAlgorithm, fn func(id int64, value []byte) error) error {
	op := "active " + string(alg) + " entries"
	rows, err := tx.query(ctx, `SELECT id, value FROM bank_entries WHERE algorithm = $1 AND active`, string(alg))
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var (
		id    int64
		value sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&id, &value); err != nil {
			return wrapErr(err, op, errMsgs{})
		}
		if err := fn(id, value); err != nil {
			return err
		}
	}
	return wrapErr(rows.Err(), op, errMsgs{})
}

// BankChange is one entry of the change log matchers follow.
type BankChange struct {
	Seq       int64
	EntryID   int64
	Add       bool // added to lookups; removed otherwise
	Algorithm alliance.HashAlgorithm
	Value     []byte
}

// LastBankChange returns the sequence number of the latest change, 0 if none.
func (tx *Tx) LastBankChange(ctx context.Context) (int64, error) {
	var seq int64
	err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM bank_changes`).Scan(&seq)
	return seq, wrapErr(err, "last bank change", errMsgs{})
}

// BankChanges returns up to limit changes after seq, in order, with the
// entries' algorithm and value.
func (tx *Tx) BankChanges(ctx context.Context, after int64, limit int) ([]BankChange, error) {
	op := fmt.Sprintf("bank changes after %d", after)
	rows, err := tx.query(ctx, `SELECT c.seq, c.entry_id, c.op, e.algorithm, e.value
		FROM bank_changes c JOIN bank_entries e ON e.id = c.entry_id
		WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []BankChange
	for rows.Next() {
		var (
			c         BankChange
			kind, alg string
		)
		if err := rows.Scan(&c.Seq, &c.EntryID, &kind, &alg, &c.Value); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		c.Add, c.Algorithm = kind == "add", alliance.HashAlgorithm(alg)
		out = append(out, c)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// ActiveEntriesByID returns the active entries among ids (any order; ids
// not found or inactive are left out).
func (tx *Tx) ActiveEntriesByID(ctx context.Context, ids []int64) ([]alliance.HashEntry, error) {
	var out []alliance.HashEntry
	for len(ids) > 0 {
		n := min(len(ids), bankEntryBatch)
		var sb strings.Builder
		args := make([]any, n)
		sb.WriteString(`SELECT ` + entryColumns + ` FROM bank_entries WHERE active AND id IN (`)
		for i, id := range ids[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "$%d", i+1)
			args[i] = id
		}
		sb.WriteString(")")
		rows, err := tx.queryBulk(ctx, sb.String(), args...)
		if err != nil {
			return nil, wrapErr(err, "active entries by id", errMsgs{})
		}
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return nil, wrapErr(err, "active entries by id", errMsgs{})
			}
			out = append(out, e)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrapErr(err, "active entries by id", errMsgs{})
		}
		ids = ids[n:]
	}
	return out, nil
}
