-- Alliance schema, version 11 (SQLite): the alliance's targets and goals as
-- versioned reference data. Each row is one version the secretariat saved,
-- numbered 1, 2, …; body is the JSON of the whole set (targets with number
-- and title, goals with code, text and indicator keys). Version 0, the
-- text of the 2012 declaration, is built into the code and has no row; the
-- highest version is the one in force.

CREATE TABLE target_sets (
    version    INTEGER PRIMARY KEY CHECK (version > 0),
    label      TEXT NOT NULL,
    body       TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
