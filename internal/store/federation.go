package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"alliance"
)

// NodeIdentity returns the node's id, country and Ed25519 private key;
// ENOTFOUND before the first start made one.
func (tx *Tx) NodeIdentity(ctx context.Context) (nodeID, country string, private []byte, err error) {
	err = tx.queryRow(ctx, `SELECT node_id, country, private_key FROM node_identity WHERE id = 1`).Scan(&nodeID, &country, &private)
	return nodeID, country, private, wrapErr(err, "node identity", errMsgs{notFound: "The node has no identity yet."})
}

// InitNodeIdentity stores the node's identity unless one exists (two
// processes starting at once keep the first); read it back with
// NodeIdentity.
func (tx *Tx) InitNodeIdentity(ctx context.Context, nodeID, country string, private []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO node_identity (id, node_id, country, private_key, created_at) VALUES (1, $1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, nodeID, country, private, tx.timeArg(tx.now))
	return wrapErr(err, "init node identity", errMsgs{})
}

// Peer is another node this one exchanges with, and what is shared with it.
type Peer struct {
	ID        int64
	NodeID    string
	URL       string
	PublicKey []byte
	Country   string
	Kinds     []string // object kinds exchanged
	Banks     []string // banks shared with the peer, OWNER/NAME
	Countries []string // countries whose items are forwarded to it
	Cursor    string   // how far this node has read the peer's feed
	Failures  int
	LastError string
	LastPull  *time.Time
	NextPull  *time.Time
	Lease     time.Time // set by ClaimPeers
	CreatedAt time.Time
}

const peerColumns = `id, node_id, url, public_key, country, kinds, banks, countries, cursor, failures, last_error,
	last_pull_at, next_pull_at, created_at`

func scanPeer(row interface{ Scan(...any) error }) (Peer, error) {
	var (
		p                       Peer
		kinds, banks, countries string
	)
	err := row.Scan(&p.ID, &p.NodeID, &p.URL, &p.PublicKey, &p.Country, &kinds, &banks, &countries, &p.Cursor, &p.Failures,
		&p.LastError, scanNullTime(&p.LastPull), scanNullTime(&p.NextPull), scanTime(&p.CreatedAt))
	p.Kinds, p.Banks, p.Countries = splitList(kinds), splitList(banks), splitList(countries)
	return p, err
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// PutPeer adds a peer, or replaces the address, key, country and agreement
// of the peer with the same node id (its cursor is kept). It is due for a
// pull at once.
func (tx *Tx) PutPeer(ctx context.Context, p *Peer) error {
	op := fmt.Sprintf("put peer %s", p.NodeID)
	now := tx.timeArg(tx.now)
	err := tx.queryRow(ctx, `INSERT INTO peers (node_id, url, public_key, country, kinds, banks, countries, next_pull_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		ON CONFLICT (node_id) DO UPDATE SET url = excluded.url, public_key = excluded.public_key, country = excluded.country,
			kinds = excluded.kinds, banks = excluded.banks, countries = excluded.countries, next_pull_at = excluded.next_pull_at
		RETURNING id`, p.NodeID, p.URL, p.PublicKey, p.Country, strings.Join(p.Kinds, ","), strings.Join(p.Banks, ","),
		strings.Join(p.Countries, ","), now).Scan(&p.ID)
	return wrapErr(err, op, errMsgs{})
}

// Peers returns every peer, by node id.
func (tx *Tx) Peers(ctx context.Context) ([]Peer, error) {
	rows, err := tx.query(ctx, `SELECT `+peerColumns+` FROM peers ORDER BY node_id`)
	if err != nil {
		return nil, wrapErr(err, "peers", errMsgs{})
	}
	defer rows.Close()
	var out []Peer
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, wrapErr(err, "peers", errMsgs{})
		}
		out = append(out, p)
	}
	return out, wrapErr(rows.Err(), "peers", errMsgs{})
}

// PeerByNodeID returns the peer with the node id; ENOTFOUND if none.
func (tx *Tx) PeerByNodeID(ctx context.Context, nodeID string) (Peer, error) {
	p, err := scanPeer(tx.queryRow(ctx, `SELECT `+peerColumns+` FROM peers WHERE node_id = $1`, nodeID))
	return p, wrapErr(err, fmt.Sprintf("peer %s", nodeID), errMsgs{notFound: "Unknown peer."})
}

// ClaimPeers claims up to limit peers due for a pull (see claimDue).
func (tx *Tx) ClaimPeers(ctx context.Context, limit int, lease time.Duration) ([]Peer, error) {
	return claimDue(ctx, tx, "claim peers", "peers", "next_pull_at", limit, lease, peerColumns,
		func(rows *sql.Rows, until time.Time) (Peer, error) {
			p, err := scanPeer(rows)
			p.Lease = until
			return p, err
		})
}

// RecordPull records a pull of a claimed peer: the new cursor (applied
// objects are written in the same transaction), the error of a failed
// pull (failures count up; "" resets them), and the next pull. It reports
// false when the claim lapsed, and then changes nothing.
func (tx *Tx) RecordPull(ctx context.Context, p Peer, cursor, errMsg string, next time.Time) (bool, error) {
	op := fmt.Sprintf("record pull of peer %s", p.NodeID)
	failures := `0`
	if errMsg != "" {
		failures = `failures + 1`
	}
	res, err := tx.exec(ctx, `UPDATE peers SET cursor = $1, last_error = $2, failures = `+failures+`, last_pull_at = $3,
		next_pull_at = $4 WHERE id = $5 AND next_pull_at = $6`,
		cursor, errMsg, tx.timeArg(tx.now), tx.timeArg(next), p.ID, tx.timeArg(p.Lease))
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	n, err := res.RowsAffected()
	return n == 1, wrapErr(err, op, errMsgs{})
}

// FeedChange is one change of a bank entry for a peer's feed.
type FeedChange struct {
	Seq   int64
	Op    string // add, remove
	Bank  string // OWNER/NAME
	Entry alliance.HashEntry
}

// BankFeed returns up to limit changes after seq of the entries of the
// banks with the ids, in sequence order. An entry's current details are
// sent with each of its changes.
func (tx *Tx) BankFeed(ctx context.Context, bankIDs []int64, after int64, limit int) ([]FeedChange, error) {
	const op = "bank feed"
	if len(bankIDs) == 0 {
		return nil, nil
	}
	args := []any{after, limit}
	var ph []string
	for _, id := range bankIDs {
		args = append(args, id)
		ph = append(ph, "$"+strconv.Itoa(len(args)))
	}
	rows, err := tx.query(ctx, `SELECT c.seq, c.op, o.code || '/' || b.name, `+prefixed("e.", entryColumns)+`
		FROM bank_changes c JOIN bank_entries e ON e.id = c.entry_id JOIN banks b ON b.id = e.bank_id
		JOIN organisations o ON o.id = b.owner_org_id
		WHERE c.seq > $1 AND e.bank_id IN (`+strings.Join(ph, ", ")+`) ORDER BY c.seq LIMIT $2`, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []FeedChange
	for rows.Next() {
		var (
			c      FeedChange
			alg    string
			victim sql.NullBool
		)
		e := &c.Entry
		if err := rows.Scan(&c.Seq, &c.Op, &c.Bank, &e.ID, &e.BankID, &alg, &e.Value, &e.Profile, &e.Category, &e.Scheme,
			&e.Series, &victim, &e.Source, scanTime(&e.FirstSeen), scanTime(&e.LastSeen), &e.AddedBy, &e.Active); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		e.Algorithm = alliance.HashAlgorithm(alg)
		if victim.Valid {
			v := victim.Bool
			e.VictimIdentified = &v
		}
		out = append(out, c)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// BankEntryByValue returns the entry of a bank with the algorithm and
// value; ENOTFOUND if none.
func (tx *Tx) BankEntryByValue(ctx context.Context, bankID int64, alg alliance.HashAlgorithm, value []byte) (alliance.HashEntry, error) {
	e, err := scanEntry(tx.queryRow(ctx, `SELECT `+entryColumns+` FROM bank_entries WHERE bank_id = $1 AND algorithm = $2 AND value = $3`,
		bankID, string(alg), value))
	return e, wrapErr(err, "bank entry by value", errMsgs{notFound: "Entry not found."})
}

// CountInactiveEntries counts a bank's disabled entries, from the partial
// index on them (migration 0008), so it costs nothing when there are none.
func (tx *Tx) CountInactiveEntries(ctx context.Context, bankID int64) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM bank_entries WHERE bank_id = $1 AND NOT active`, bankID).Scan(&n)
	return n, wrapErr(err, "count inactive entries", errMsgs{})
}

// ReactivateEntries switches back on those of the given entries of a bank
// that are off, logging an "add" change for each, and returns how many:
// one index probe per entry, so callers first check CountInactiveEntries.
// Call LockBankChanges first.
func (tx *Tx) ReactivateEntries(ctx context.Context, bankID int64, entries []alliance.HashEntry) (int, error) {
	const op = "reactivate entries"
	n := 0
	for _, e := range entries {
		var id int64
		err := tx.queryRow(ctx, `UPDATE bank_entries SET active = $1 WHERE bank_id = $2 AND algorithm = $3 AND value = $4
			AND active = $5 RETURNING id`, true, bankID, string(e.Algorithm), e.Value, false).Scan(&id)
		if e := wrapErr(err, op, errMsgs{notFound: "none"}); err != nil && alliance.ErrorCode(e) == alliance.ENOTFOUND {
			continue
		} else if err != nil {
			return n, e
		}
		if _, err := tx.exec(ctx, `INSERT INTO bank_changes (entry_id, op) VALUES ($1, 'add')`, id); err != nil {
			return n, wrapErr(err, op+": log", errMsgs{})
		}
		n++
	}
	return n, nil
}

// OutboxObject is an object addressed to one peer, waiting in its feed.
type OutboxObject struct {
	Seq       int64
	Kind      string
	ObjectID  string
	Body      []byte
	CreatedAt time.Time
}

// QueueOutbox adds an object for a peer's feed; an object id already
// queued for the peer is kept as it is.
func (tx *Tx) QueueOutbox(ctx context.Context, peerID int64, kind, objectID string, body []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO federation_outbox (peer_id, kind, object_id, body, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (peer_id, object_id) DO NOTHING`, peerID, kind, objectID, string(body), tx.timeArg(tx.now))
	return wrapErr(err, "queue outbox object "+objectID, errMsgs{})
}

// Outbox returns up to limit of a peer's objects after seq, in order, and
// the peer's last sequence number.
func (tx *Tx) Outbox(ctx context.Context, peerID, after int64, limit int) ([]OutboxObject, int64, error) {
	const op = "outbox"
	var last int64
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM federation_outbox WHERE peer_id = $1`, peerID).Scan(&last); err != nil {
		return nil, 0, wrapErr(err, op, errMsgs{})
	}
	rows, err := tx.query(ctx, `SELECT seq, kind, object_id, body, created_at FROM federation_outbox
		WHERE peer_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, peerID, after, limit)
	if err != nil {
		return nil, 0, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []OutboxObject
	for rows.Next() {
		var (
			o    OutboxObject
			body string
		)
		if err := rows.Scan(&o.Seq, &o.Kind, &o.ObjectID, &body, scanTime(&o.CreatedAt)); err != nil {
			return nil, 0, wrapErr(err, op, errMsgs{})
		}
		o.Body = []byte(body)
		out = append(out, o)
	}
	return out, last, wrapErr(rows.Err(), op, errMsgs{})
}

// MarkApplied records that an object of a peer was applied and reports
// whether it was new: false means it was applied before, and must not be
// again.
func (tx *Tx) MarkApplied(ctx context.Context, peerID int64, objectID string) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO federation_applied (peer_id, object_id, applied_at) VALUES ($1, $2, $3)
		ON CONFLICT (peer_id, object_id) DO NOTHING`, peerID, objectID, tx.timeArg(tx.now))
	if err != nil {
		return false, wrapErr(err, "mark applied "+objectID, errMsgs{})
	}
	n, err := res.RowsAffected()
	return n == 1, wrapErr(err, "mark applied", errMsgs{})
}

// SetForwarded marks an item as forwarded to a peer node.
func (tx *Tx) SetForwarded(ctx context.Context, itemID int64, node string) error {
	_, err := tx.exec(ctx, `UPDATE items SET forwarded_to = $1 WHERE id = $2`, node, itemID)
	return wrapErr(err, fmt.Sprintf("set item %d forwarded", itemID), errMsgs{})
}

// SetReceived marks an item as received from a peer node, naming the
// origin's item.
func (tx *Tx) SetReceived(ctx context.Context, itemID int64, node, remoteItem string) error {
	_, err := tx.exec(ctx, `UPDATE items SET received_from = $1, remote_item = $2 WHERE id = $3`, node, remoteItem, itemID)
	return wrapErr(err, fmt.Sprintf("set item %d received", itemID), errMsgs{})
}

// SetRemoteStatus records the status a peer reports for an item forwarded
// to it; an item not forwarded to that node is ENOTFOUND.
func (tx *Tx) SetRemoteStatus(ctx context.Context, itemID int64, node, status, org string, at time.Time) error {
	op := fmt.Sprintf("set remote status of item %d", itemID)
	res, err := tx.exec(ctx, `UPDATE items SET remote_status = $1, remote_org = $2, remote_at = $3 WHERE id = $4 AND forwarded_to = $5`,
		status, org, tx.timeArg(at), itemID, node)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "No item forwarded to that node.")
	}
	return nil
}

// ItemFederation returns an item's federation fields: the node it was
// forwarded to and the status reported back, or the node it came from and
// the origin's item.
func (tx *Tx) ItemFederation(ctx context.Context, itemID int64) (alliance.Federated, error) {
	var f alliance.Federated
	err := tx.queryRow(ctx, `SELECT forwarded_to, received_from, remote_item, remote_status, remote_org, remote_at
		FROM items WHERE id = $1`, itemID).Scan(&f.ForwardedTo, &f.ReceivedFrom, &f.RemoteItem, &f.RemoteStatus,
		&f.RemoteOrg, scanNullTime(&f.RemoteAt))
	return f, wrapErr(err, fmt.Sprintf("federation of item %d", itemID), errMsgs{notFound: "Item not found."})
}

// SeenNonce records a peer's request nonce until the given time and
// reports whether it is new; false means a replay.
func (tx *Tx) SeenNonce(ctx context.Context, nodeID, nonce string, until time.Time) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO federation_nonces (node_id, nonce, until) VALUES ($1, $2, $3)
		ON CONFLICT (node_id, nonce) DO NOTHING`, nodeID, nonce, tx.timeArg(until))
	if err != nil {
		return false, wrapErr(err, "record nonce", errMsgs{})
	}
	n, err := res.RowsAffected()
	return n == 1, wrapErr(err, "record nonce", errMsgs{})
}

// PurgeNonces deletes the nonces whose time has passed.
func (tx *Tx) PurgeNonces(ctx context.Context) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM federation_nonces WHERE until < $1`, tx.timeArg(tx.now))
	if err != nil {
		return 0, wrapErr(err, "purge nonces", errMsgs{})
	}
	n, err := res.RowsAffected()
	return n, wrapErr(err, "purge nonces", errMsgs{})
}

// Reroute replaces an item's route with r, adding it to the item's route
// history with the item's current trace.
func (tx *Tx) Reroute(ctx context.Context, it alliance.Item, r *alliance.Route) error {
	op := fmt.Sprintf("reroute item %d", it.ID)
	now := tx.timeArg(tx.now)
	if _, err := tx.exec(ctx, `UPDATE items SET route_kind = $1, route_org = $2, route_police = $3, route_reason = $4, routed_at = $5
		WHERE id = $6`, string(r.Kind), r.OrgCode, r.Police, r.Reason, now, it.ID); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	var tr alliance.Trace
	if it.Trace != nil {
		tr = *it.Trace
	}
	var traced any
	if !tr.TracedAt.IsZero() {
		traced = tx.timeArg(tr.TracedAt)
	}
	_, err := tx.exec(ctx, `INSERT INTO item_routes (item_id, kind, org, police, reason, trace_status, ip, country, asn, as_org,
		data_date, traced_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		it.ID, string(r.Kind), r.OrgCode, r.Police, r.Reason, string(tr.Status), tr.IP, tr.Country, int64(tr.ASN), tr.ASOrg,
		tr.DataDate, traced, now)
	r.DecidedAt = tx.now
	return wrapErr(err, op+": history", errMsgs{})
}
