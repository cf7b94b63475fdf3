-- The journal's first schema: each batch's last recorded state, and the append-only events
-- that its changes left. Times are Unix milliseconds, UTC.

-- +goose Up
CREATE TABLE batches (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    owner            TEXT NOT NULL,
    owner_name       TEXT NOT NULL,
    beneficiary      TEXT NOT NULL,
    beneficiary_name TEXT NOT NULL,
    retirement       TEXT NOT NULL,
    children         TEXT NOT NULL,
    kg               INTEGER NOT NULL,
    observed_at      INTEGER NOT NULL
);

-- The unique key makes recording idempotent: two replicas, or one fetching a batch again,
-- record a change once (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    from_value    TEXT NOT NULL,
    to_value      TEXT NOT NULL,
    from_label    TEXT NOT NULL DEFAULT '',
    to_label      TEXT NOT NULL DEFAULT '',
    kg            INTEGER NOT NULL,
    observed_at   INTEGER NOT NULL,
    registry_time INTEGER,
    UNIQUE (batch_id, kind, from_value, to_value)
);
CREATE INDEX events_by_batch ON events (batch_id, observed_at);

-- +goose Down
DROP TABLE events;
DROP TABLE batches;
