-- Observations the journal could not record: the batch was dropped because the queue was
-- full, or its write failed. A gap newer than the batch's recorded observation (or of a batch
-- with no record) means the journal may lack a change, so its history says so rather than
-- answering an empty list that reads as "nothing happened". noted_at is Unix milliseconds, UTC.
-- The same SQL serves both dialects.

-- +goose Up
CREATE TABLE gaps (
    batch_id TEXT PRIMARY KEY,
    reason   TEXT NOT NULL,
    noted_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE gaps;
