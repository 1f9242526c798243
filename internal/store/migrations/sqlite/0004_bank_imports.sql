-- Alliance schema, version 4 (SQLite): bank imports run as background jobs.
-- An uploaded bank file (a list of hashes, never content) is staged in
-- bank_import_chunks, in order, until the import job reads it as one stream;
-- the job then deletes it. bank_imports keeps the outcome.

-- created_by is a user id (0 for the system), not a foreign key, as in audit_events.
CREATE TABLE bank_imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    bank_id      INTEGER NOT NULL REFERENCES banks (id),
    org_id       INTEGER NOT NULL REFERENCES organisations (id),
    format       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    records_read INTEGER NOT NULL DEFAULT 0,
    added        INTEGER NOT NULL DEFAULT 0,
    present      INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    created_by   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT
) STRICT;
CREATE INDEX bank_imports_bank_id ON bank_imports (bank_id);

CREATE TABLE bank_import_chunks (
    import_id INTEGER NOT NULL REFERENCES bank_imports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    payload   BLOB NOT NULL,
    PRIMARY KEY (import_id, seq)
) STRICT;
