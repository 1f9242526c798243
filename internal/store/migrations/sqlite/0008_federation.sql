-- Alliance schema, version 8 (SQLite): federation. The node's signing
-- identity (one row), and its peers with what is shared with each (the
-- sharing agreement) and the cursor of their feed, stored in the same
-- transaction as the objects applied from it.

CREATE TABLE node_identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    node_id     TEXT NOT NULL,
    country     TEXT NOT NULL,
    private_key BLOB NOT NULL CHECK (length(private_key) = 64),
    created_at  TEXT NOT NULL
) STRICT;

-- kinds, banks and countries are comma-separated lists: the object kinds
-- exchanged, the banks (OWNER/NAME) shared with the peer, the countries whose
-- items are forwarded. cursor is where this node has read the peer's feed.
CREATE TABLE peers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id      TEXT NOT NULL UNIQUE,
    url          TEXT NOT NULL,
    public_key   BLOB NOT NULL CHECK (length(public_key) = 32),
    country      TEXT NOT NULL,
    kinds        TEXT NOT NULL DEFAULT '',
    banks        TEXT NOT NULL DEFAULT '',
    countries    TEXT NOT NULL DEFAULT '',
    cursor       TEXT NOT NULL DEFAULT '',
    failures     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    next_pull_at TEXT,
    last_pull_at TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX peers_next_pull_at ON peers (next_pull_at) WHERE next_pull_at IS NOT NULL;

-- Disabled entries are few: a partial index finds them (and proves there
-- are none) without reading a bank, for replication from peers.
CREATE INDEX bank_entries_inactive ON bank_entries (bank_id) WHERE NOT active;

-- Objects addressed to one peer (forwarded items, status updates of items
-- a peer forwarded here), written in the transaction of the change that
-- calls for them; the feed serves a peer its rows after its cursor.
CREATE TABLE federation_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    peer_id    INTEGER NOT NULL REFERENCES peers (id),
    kind       TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (peer_id, object_id)
) STRICT;
CREATE INDEX federation_outbox_peer ON federation_outbox (peer_id, seq);

-- Objects applied from each peer, so an object seen again (a page pulled
-- again after a crash) is not applied twice.
CREATE TABLE federation_applied (
    peer_id    INTEGER NOT NULL REFERENCES peers (id),
    object_id  TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (peer_id, object_id)
) STRICT;

-- An item forwarded to a peer (forwarded_to: its node id) shows the status
-- the peer reports back; an item received from a peer (received_from)
-- names the origin's item, to report its status back.
ALTER TABLE items ADD COLUMN forwarded_to TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN received_from TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN remote_item TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN remote_status TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN remote_org TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN remote_at TEXT;

-- Nonces of peers' signed requests, kept until their date can no longer
-- pass the clock-skew check, so that a request replayed to another server
-- process of this node is refused too.
CREATE TABLE federation_nonces (
    node_id TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    until   TEXT NOT NULL,
    PRIMARY KEY (node_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX federation_nonces_until ON federation_nonces (until);
