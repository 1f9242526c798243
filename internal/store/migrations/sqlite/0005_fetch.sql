-- Alliance schema, version 5 (SQLite): the node's fetch of each item's URL,
-- the media it found and what their hashes matched. Only URLs, hashes and
-- metadata are stored: the bytes were hashed in memory and dropped.

-- fetch_* hold the current fetch outcome; next_fetch_at is set while a fetch
-- is due (or claimed by a fetcher until then) and NULL otherwise. An item is
-- fetched once it is routed; duplicates are never fetched. known is NULL
-- until the item is fetched.
ALTER TABLE items ADD COLUMN fetch_status TEXT NOT NULL DEFAULT 'pending'
    CHECK (fetch_status IN ('pending', 'fetched', 'not_accessible'));
ALTER TABLE items ADD COLUMN fetch_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN fetch_http_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN fetch_content_type TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN fetch_page INTEGER NOT NULL DEFAULT 0 CHECK (fetch_page IN (0, 1));
ALTER TABLE items ADD COLUMN fetch_truncated INTEGER NOT NULL DEFAULT 0 CHECK (fetch_truncated IN (0, 1));
ALTER TABLE items ADD COLUMN fetch_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN fetched_at TEXT;
ALTER TABLE items ADD COLUMN next_fetch_at TEXT;
ALTER TABLE items ADD COLUMN known TEXT CHECK (known IN ('unmatched', 'partial', 'known'));
ALTER TABLE items ADD COLUMN known_scheme TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN known_category TEXT NOT NULL DEFAULT '';
CREATE INDEX items_fetch_due ON items (next_fetch_at) WHERE next_fetch_at IS NOT NULL;
-- Items routed before this version are fetched as well.
UPDATE items SET next_fetch_at = routed_at WHERE status = 'routed';

-- One medium of an item's latest fetch, in page order. Hash columns hold raw
-- bytes and are NULL when not computed.
CREATE TABLE item_media (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES items (id),
    position      INTEGER NOT NULL,
    url           TEXT NOT NULL,
    source        TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('image', 'video', 'other')),
    status        TEXT NOT NULL CHECK (status IN ('hashed', 'failed', 'deferred')),
    failure       TEXT NOT NULL DEFAULT '',
    http_status   INTEGER NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    declared_type TEXT NOT NULL DEFAULT '',
    size          INTEGER NOT NULL DEFAULT 0,
    md5           BLOB CHECK (length(md5) = 16),
    sha1          BLOB CHECK (length(sha1) = 20),
    sha256        BLOB CHECK (length(sha256) = 32),
    pdq           BLOB CHECK (length(pdq) = 32),
    pdq_quality   INTEGER NOT NULL DEFAULT 0,
    profile       TEXT NOT NULL DEFAULT '',
    fetched_at    TEXT,
    UNIQUE (item_id, position)
) STRICT;
CREATE INDEX item_media_sha256 ON item_media (sha256) WHERE sha256 IS NOT NULL;

-- The bank entries a medium matched when it was recorded.
CREATE TABLE media_matches (
    medium_id INTEGER NOT NULL REFERENCES item_media (id) ON DELETE CASCADE,
    entry_id  INTEGER NOT NULL REFERENCES bank_entries (id),
    algorithm TEXT NOT NULL,
    distance  INTEGER NOT NULL,
    PRIMARY KEY (medium_id, entry_id)
) STRICT;
CREATE INDEX media_matches_entry_id ON media_matches (entry_id);
