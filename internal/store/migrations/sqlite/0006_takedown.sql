-- Alliance schema, version 6 (SQLite): assessment, notice-and-takedown and
-- re-checks. The takedown_* and *_at columns on items hold the current state
-- and the times the takedown figures are computed from; takedown_events keeps
-- every transition; notices is the outbox of notices to hosts (a notice is
-- written in the same transaction as the transition that calls for it and
-- delivered by a job, so a crash neither loses nor forgets one).

ALTER TABLE items ADD COLUMN takedown_status TEXT NOT NULL DEFAULT ''
    CHECK (takedown_status IN ('', 'assessed', 'police_notified', 'police_hold', 'police_cleared', 'notice_sent',
        'removed', 'moved', 'escalated', 'closed_not_illegal', 'closed_not_accessible'));
ALTER TABLE items ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN disputed INTEGER NOT NULL DEFAULT 0 CHECK (disputed IN (0, 1));
ALTER TABLE items ADD COLUMN takedown_police TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN hold_until TEXT;
ALTER TABLE items ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN assessed_at TEXT;
ALTER TABLE items ADD COLUMN police_notified_at TEXT;
ALTER TABLE items ADD COLUMN first_notice_at TEXT;
ALTER TABLE items ADD COLUMN last_notice_at TEXT;
ALTER TABLE items ADD COLUMN removed_at TEXT;
ALTER TABLE items ADD COLUMN takedown_updated_at TEXT;
-- When the takedown job next looks at the item: the end of the police's
-- grace or hold, the next re-check. NULL when nothing is due.
ALTER TABLE items ADD COLUMN next_takedown_at TEXT;
ALTER TABLE items ADD COLUMN notices_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN rechecks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN recheck_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN last_check TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN last_check_at TEXT;
CREATE INDEX items_takedown_due ON items (next_takedown_at) WHERE next_takedown_at IS NOT NULL;
CREATE INDEX items_route_org_takedown ON items (route_org, takedown_status) WHERE route_org IS NOT NULL;
CREATE INDEX items_takedown_police ON items (takedown_police, takedown_status) WHERE takedown_police <> '';

-- analyst_id is a user id (0 for the node itself), not a foreign key, as in
-- audit_events. labels is a JSON object of the label scheme's fields.
CREATE TABLE assessments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES items (id),
    org_id        INTEGER NOT NULL REFERENCES organisations (id),
    analyst_id    INTEGER NOT NULL DEFAULT 0,
    analyst_label TEXT NOT NULL,
    verdict       TEXT NOT NULL CHECK (verdict IN ('baseline', 'national', 'not_illegal', 'not_accessible')),
    content_type  TEXT NOT NULL DEFAULT '' CHECK (content_type IN ('', 'image', 'video', 'other')),
    scheme        TEXT NOT NULL,
    labels        TEXT NOT NULL DEFAULT '{}',
    note          TEXT NOT NULL DEFAULT '',
    agreement     TEXT NOT NULL CHECK (agreement IN ('first', 'confirm', 'dispute')),
    inherited     INTEGER NOT NULL DEFAULT 0 CHECK (inherited IN (0, 1)),
    source        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX assessments_item_id ON assessments (item_id);

CREATE TABLE takedown_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     INTEGER NOT NULL REFERENCES items (id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_label TEXT NOT NULL,
    org_code    TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX takedown_events_item_id ON takedown_events (item_id);
CREATE INDEX takedown_events_at ON takedown_events (at);

-- The outbox of notices to hosts' abuse contacts. next_attempt_at is set
-- while a delivery is due (or claimed until then) and NULL once sent or
-- given up.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id         INTEGER NOT NULL REFERENCES items (id),
    org_id          INTEGER NOT NULL REFERENCES organisations (id),
    kind            TEXT NOT NULL CHECK (kind IN ('notice', 'renotice')),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    sent_at         TEXT
) STRICT;
CREATE INDEX notices_item_id ON notices (item_id);
CREATE INDEX notices_due ON notices (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Where notices go: the abuse contact of a host name (or its registrable
-- domain), of a network (AS number) or of a country, most specific first.
-- secret is the HMAC key of a webhook.
CREATE TABLE abuse_contacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    scope      TEXT NOT NULL CHECK (scope IN ('domain', 'asn', 'country')),
    key        TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    address    TEXT NOT NULL,
    secret     BLOB,
    created_at TEXT NOT NULL,
    UNIQUE (scope, key)
) STRICT;

-- An organisation's own notice text (text/template); the built-in one when absent.
CREATE TABLE notice_templates (
    org_id     INTEGER PRIMARY KEY REFERENCES organisations (id),
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
