-- Alliance schema, version 14 (PostgreSQL): notices are sent at most once.
-- sending_at is set, and committed, at the last moment before a notice may
-- be delivered (before the end of an SMTP message, before a webhook
-- request) and cleared when its outcome is recorded. A notice still marked sending when
-- it is claimed again was cut off by a crash with its outcome unknown: it
-- is not sent again but recorded as sent and unconfirmed (the re-checks and
-- the reminder after the renotice interval carry the takedown on).

ALTER TABLE notices ADD COLUMN sending_at TIMESTAMPTZ;
ALTER TABLE notices ADD COLUMN unconfirmed BOOLEAN NOT NULL DEFAULT FALSE;
