-- Alliance schema, version 2 (SQLite): report intake, hosting trace and
-- routing. A report is one submission; each of its URLs is an item, traced
-- and routed on its own. Conventions as in 0001.

-- submitted_by is the user id of the token's or session's user, 0 for the
-- public; like audit_events.actor_id it is not a foreign key.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    reference    TEXT NOT NULL UNIQUE,
    org_id       INTEGER NOT NULL REFERENCES organisations (id),
    source       TEXT NOT NULL CHECK (source IN ('public', 'industry', 'hotline')),
    category     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    submitted_by INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL
) STRICT;

-- Reporter contact data is personal data: kept apart from the report so that
-- reads can leave it out and housekeeping can purge it after purge_after.
CREATE TABLE report_contacts (
    report_id   INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    purge_after TEXT NOT NULL
) STRICT;
CREATE INDEX report_contacts_purge_after ON report_contacts (purge_after);

-- One reported URL. The trace_* … columns hold the current trace, route_*
-- the current route (item_routes keeps every route decided). next_trace_at
-- is set while a trace is due (or claimed by a tracer until then) and NULL
-- otherwise; duplicates are never traced.
CREATE TABLE items (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id          INTEGER NOT NULL REFERENCES reports (id),
    org_id             INTEGER NOT NULL REFERENCES organisations (id),
    url                TEXT NOT NULL,
    canonical_url      TEXT NOT NULL,
    host               TEXT NOT NULL,
    registrable_domain TEXT NOT NULL,
    dedupe_key         BLOB NOT NULL CHECK (length(dedupe_key) = 32),
    duplicate_of       INTEGER REFERENCES items (id),
    status             TEXT NOT NULL CHECK (status IN ('new', 'routed', 'duplicate')),
    created_at         TEXT NOT NULL,
    trace_status       TEXT NOT NULL DEFAULT 'pending',
    ip                 TEXT,
    country            TEXT,
    asn                INTEGER,
    as_org             TEXT,
    data_date          TEXT,
    traced_at          TEXT,
    trace_attempts     INTEGER NOT NULL DEFAULT 0,
    next_trace_at      TEXT,
    route_kind         TEXT CHECK (route_kind IN ('national', 'forward', 'no-hotline')),
    route_org          TEXT REFERENCES organisations (code),
    route_police       TEXT,
    route_reason       TEXT,
    routed_at          TEXT
) STRICT;
CREATE INDEX items_report_id ON items (report_id);
-- At most one open original per canonical URL and organisation: concurrent
-- submissions cannot both create one.
CREATE UNIQUE INDEX items_open_dedupe ON items (org_id, dedupe_key) WHERE status IN ('new', 'routed');
CREATE INDEX items_trace_due ON items (next_trace_at) WHERE next_trace_at IS NOT NULL;
-- Listing by visible organisation, newest first (the rowid follows each key).
CREATE INDEX items_org_id ON items (org_id);
CREATE INDEX items_route_org ON items (route_org) WHERE route_org IS NOT NULL;
CREATE INDEX items_org_country ON items (org_id, country) WHERE country IS NOT NULL;
CREATE INDEX items_org_route_kind ON items (org_id, route_kind) WHERE route_kind IS NOT NULL;

-- Every route decided for an item, with the trace it was decided on.
CREATE TABLE item_routes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id      INTEGER NOT NULL REFERENCES items (id),
    kind         TEXT NOT NULL,
    org          TEXT NOT NULL,
    police       TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL,
    trace_status TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL DEFAULT '',
    asn          INTEGER NOT NULL DEFAULT 0,
    as_org       TEXT NOT NULL DEFAULT '',
    data_date    TEXT NOT NULL DEFAULT '',
    traced_at    TEXT,
    decided_at   TEXT NOT NULL
) STRICT;
CREATE INDEX item_routes_item_id ON item_routes (item_id);

-- Idempotency keys of report submissions, per scope (token, user or
-- anonymous client), with the hash of the request they answered.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    report_id    INTEGER NOT NULL REFERENCES reports (id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
