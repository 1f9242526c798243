-- Alliance schema, version 13 (SQLite): batch claims tied to the process
-- that made them. A batch job claims rows by moving their due time to a
-- lease (see claimDue); each such claim is recorded here with the lease and
-- the claiming process, which keeps a heartbeat in job_workers. When a
-- process stops or dies, the rows it claimed and had not finished (still
-- at exactly that lease) are made due at once, instead of waiting for the
-- lease to end. Rows of expired leases are deleted as they are met.

CREATE TABLE job_workers (
    id           TEXT PRIMARY KEY,
    heartbeat_at TEXT NOT NULL
) STRICT;

CREATE TABLE job_claims (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    worker   TEXT NOT NULL,
    tbl      TEXT NOT NULL,
    due_col  TEXT NOT NULL,
    until_at TEXT NOT NULL
) STRICT;
CREATE INDEX job_claims_worker ON job_claims (worker);
CREATE INDEX job_claims_until ON job_claims (until_at);
