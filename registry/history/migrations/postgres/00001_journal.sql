-- The journal's first schema, for PostgreSQL: the same tables as sqlite/00001_journal.sql, with
-- an identity column where SQLite has AUTOINCREMENT and BIGINT for kg and times (Unix
-- milliseconds, UTC), which exceed PostgreSQL's 32-bit INTEGER.

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
    kg               BIGINT NOT NULL,
    observed_at      BIGINT NOT NULL
);

-- The unique key makes recording idempotent: two replicas, or one fetching a batch again,
-- record a change once (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE events (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    from_value    TEXT NOT NULL,
    to_value      TEXT NOT NULL,
    from_label    TEXT NOT NULL DEFAULT '',
    to_label      TEXT NOT NULL DEFAULT '',
    kg            BIGINT NOT NULL,
    observed_at   BIGINT NOT NULL,
    registry_time BIGINT,
    UNIQUE (batch_id, kind, from_value, to_value)
);
CREATE INDEX events_by_batch ON events (batch_id, observed_at);

-- +goose Down
DROP TABLE events;
DROP TABLE batches;
