-- Alliance schema, version 7 (SQLite): victim-identification deconfliction.
-- A series is owned by a police organisation and records only that
-- identification happened, by whom and when: no names, ages or locations of
-- victims. Bank entries belong to a series by its code (bank_entries.series);
-- items are linked to series by their matches or by hand.

CREATE TABLE series (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    code             TEXT NOT NULL UNIQUE,
    owner_org_id     INTEGER NOT NULL REFERENCES organisations (id),
    refs             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('unidentified', 'under_investigation', 'identified', 'safeguarded')),
    status_at        TEXT NOT NULL,
    do_not_duplicate INTEGER NOT NULL DEFAULT 0 CHECK (do_not_duplicate IN (0, 1)),
    contact          TEXT NOT NULL DEFAULT '',
    notes            TEXT NOT NULL DEFAULT '',
    first_seen_at    TEXT NOT NULL,
    identified_at    TEXT,
    created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX series_owner_org_id ON series (owner_org_id);

-- actor_id is a user id (0 for the node), not a foreign key, as in audit_events.
CREATE TABLE series_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id   INTEGER NOT NULL REFERENCES series (id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_label TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX series_events_series_id ON series_events (series_id);

-- An item's link to a series: by its matches (distance of the closest
-- matching entry) or by hand (manual, with a reason). Unlinking deletes the
-- row; the audit log keeps both.
CREATE TABLE item_series (
    item_id   INTEGER NOT NULL REFERENCES items (id),
    series_id INTEGER NOT NULL REFERENCES series (id),
    distance  INTEGER NOT NULL DEFAULT 0,
    manual    INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
    reason    TEXT NOT NULL DEFAULT '',
    linked_by TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (item_id, series_id)
) STRICT;
CREATE INDEX item_series_series_id ON item_series (series_id);

-- Alerts to a series' owner that its material surfaced: one per series and
-- host within the merge window, counting the sightings merged into it.
CREATE TABLE series_alerts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id INTEGER NOT NULL REFERENCES series (id),
    org_id    INTEGER NOT NULL REFERENCES organisations (id),
    item_id   INTEGER NOT NULL REFERENCES items (id),
    url       TEXT NOT NULL,
    host      TEXT NOT NULL,
    country   TEXT NOT NULL DEFAULT '',
    count     INTEGER NOT NULL DEFAULT 1,
    first_at  TEXT NOT NULL,
    last_at   TEXT NOT NULL,
    read      INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    -- The e-mail to the series' contact point, when it is an address:
    -- pending while due (next_notify_at), then sent or failed.
    notify_status   TEXT NOT NULL DEFAULT '' CHECK (notify_status IN ('', 'pending', 'sent', 'failed')),
    notify_to       TEXT NOT NULL DEFAULT '',
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    notify_error    TEXT NOT NULL DEFAULT '',
    next_notify_at  TEXT
) STRICT;
CREATE INDEX series_alerts_org_id ON series_alerts (org_id, id);
CREATE INDEX series_alerts_merge ON series_alerts (series_id, host, last_at);
CREATE INDEX series_alerts_notify_due ON series_alerts (next_notify_at) WHERE next_notify_at IS NOT NULL;
