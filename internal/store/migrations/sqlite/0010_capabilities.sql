-- Alliance schema, version 10 (SQLite): capability self-assessment. Per
-- country and national capability (by default the 21 of the WeProtect
-- Global Alliance Model National Response), the maturity level the country
-- assesses itself at, 0 (not started) to 4, with a note. Capability codes
-- are the node's configured list's, so they are not a foreign key.

CREATE TABLE capability_assessments (
    country    TEXT NOT NULL REFERENCES countries (code),
    capability TEXT NOT NULL,
    level      INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
    note       TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (country, capability)
) STRICT;
