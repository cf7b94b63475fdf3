-- Watch lists (issue 18, point 3): what each user watches, the webhook of their list and the
-- deliveries made to it. Written for SQLite and PostgreSQL alike: TEXT and BIGINT only, ids
-- are random text (no AUTOINCREMENT), booleans are 0/1. Times are Unix milliseconds, UTC.
-- owner is the signed-in user; '' is the instance's list when nobody signs in (AUTH_MODE=none).

-- +goose Up
CREATE TABLE watches (
    id             TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    target         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_visited   BIGINT NOT NULL,
    -- changes observed before this were sent to the list's webhook (or there was none)
    notified_until BIGINT NOT NULL,
    UNIQUE (owner, kind, target)
);
CREATE INDEX watches_by_owner ON watches (owner, created_at);

-- The secret signs deliveries and is never shown back.
CREATE TABLE watch_webhooks (
    owner      TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE watch_deliveries (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    status      BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    ok          BIGINT NOT NULL,
    error       TEXT NOT NULL,
    changes     BIGINT NOT NULL
);
CREATE INDEX watch_deliveries_by_owner ON watch_deliveries (owner, started_at);

-- +goose Down
DROP TABLE watch_deliveries;
DROP TABLE watch_webhooks;
DROP TABLE watches;
