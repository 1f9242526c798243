-- Alliance schema, version 1 (SQLite): reference data, users, API tokens,
-- web sessions and the audit chain. Tables are STRICT; timestamps are TEXT
-- in the fixed-width UTC layout 2006-01-02T15:04:05.000000Z, dates are
-- YYYY-MM-DD, booleans are 0/1. Ids use AUTOINCREMENT so they are never
-- reused: the audit trail names them.

CREATE TABLE countries (
    code         TEXT PRIMARY KEY CHECK (length(code) = 2),
    name         TEXT NOT NULL,
    member       INTEGER NOT NULL DEFAULT 0 CHECK (member IN (0, 1)),
    member_since TEXT
) STRICT;

CREATE TABLE organisations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    country_code TEXT REFERENCES countries (code) -- NULL for the secretariat
) STRICT;

-- E-mail addresses are stored in lower case; the unique rule thus ignores case.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    org_id        INTEGER NOT NULL REFERENCES organisations (id),
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX users_org_id ON users (org_id, email);

-- Only the SHA-256 of a token's secret is kept.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
) STRICT;
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- Only the SHA-256 of a session id is kept.
CREATE TABLE sessions (
    hash       BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- The audit chain. actor_id is not a foreign key: the trail outlives users.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY CHECK (seq > 0),
    occurred_at TEXT NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_label TEXT NOT NULL,
    org_code    TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_org_code ON audit_events (org_code, seq);

-- The head of the chain: one row, rewritten by every append (BEGIN IMMEDIATE
-- serialises appends), and compared with the last row on verification so
-- that removing rows from the end is detected too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Key/value facts about the node's data, e.g. the fingerprint of the loaded
-- reference data.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
