-- Alliance schema, version 3 (SQLite): hash banks. A bank is a named list of
-- hashes owned by an organisation and shared with chosen others. Values are
-- the raw hash bytes. bank_changes is the change log every server process
-- follows to keep its in-memory matching index current without a reload.

CREATE TABLE banks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    owner_org_id  INTEGER NOT NULL REFERENCES organisations (id),
    description   TEXT NOT NULL DEFAULT '',
    pdq_threshold INTEGER NOT NULL DEFAULT 31 CHECK (pdq_threshold BETWEEN 0 AND 31),
    created_at    TEXT NOT NULL,
    UNIQUE (owner_org_id, name)
) STRICT;

CREATE TABLE bank_shares (
    bank_id INTEGER NOT NULL REFERENCES banks (id) ON DELETE CASCADE,
    org_id  INTEGER NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (bank_id, org_id)
) STRICT;
CREATE INDEX bank_shares_org_id ON bank_shares (org_id);

-- added_by is a user id (0 for the system), not a foreign key, as in audit_events.
CREATE TABLE bank_entries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    bank_id           INTEGER NOT NULL REFERENCES banks (id),
    algorithm         TEXT NOT NULL CHECK (algorithm IN ('pdq', 'md5', 'sha1', 'sha256')),
    value             BLOB NOT NULL,
    profile           TEXT NOT NULL DEFAULT '',
    category          TEXT NOT NULL DEFAULT '',
    category_scheme   TEXT NOT NULL DEFAULT '',
    series            TEXT NOT NULL DEFAULT '',
    victim_identified INTEGER CHECK (victim_identified IN (0, 1)),
    source            TEXT NOT NULL DEFAULT '',
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    added_by          INTEGER NOT NULL DEFAULT 0,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    UNIQUE (bank_id, algorithm, value)
) STRICT;

-- One row per entry added to or removed from lookups; seq is monotonic and,
-- since writers are serialised, committed in order.
CREATE TABLE bank_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES bank_entries (id),
    op       TEXT NOT NULL CHECK (op IN ('add', 'remove'))
) STRICT;
