-- Leases: which replica does a job that must be done once however many replicas share the
-- database (polling watched trees and sending their webhooks). until_ms is Unix milliseconds;
-- a lease past it may be taken by another holder.

-- +goose Up
CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);

-- +goose Down
DROP TABLE leases;
