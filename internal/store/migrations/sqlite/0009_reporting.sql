-- Alliance schema, version 9 (SQLite): alliance reporting. Per country and
-- goal of the 2012 targets: a baseline, committed actions and progress
-- updates per reporting period; and requests from the secretariat for
-- updates.

CREATE TABLE commitments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    country       TEXT NOT NULL REFERENCES countries (code),
    goal          TEXT NOT NULL,
    baseline      TEXT NOT NULL DEFAULT '',
    baseline_date TEXT NOT NULL DEFAULT '',
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (country, goal)
) STRICT;

CREATE TABLE commitment_actions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    commitment_id INTEGER NOT NULL REFERENCES commitments (id) ON DELETE CASCADE,
    description   TEXT NOT NULL,
    owner_org     TEXT NOT NULL,
    due_date      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX commitment_actions_commitment ON commitment_actions (commitment_id);

-- values is a JSON object of indicator key to number (the manual ones);
-- evidence a JSON array of links.
CREATE TABLE progress_updates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    country    TEXT NOT NULL REFERENCES countries (code),
    goal       TEXT NOT NULL,
    period     TEXT NOT NULL,
    narrative  TEXT NOT NULL,
    vals       TEXT NOT NULL DEFAULT '{}',
    evidence   TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX progress_updates_country ON progress_updates (country, period);

CREATE TABLE update_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    country      TEXT NOT NULL REFERENCES countries (code),
    period       TEXT NOT NULL,
    deadline     TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX update_requests_country ON update_requests (country);
