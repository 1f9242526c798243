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
