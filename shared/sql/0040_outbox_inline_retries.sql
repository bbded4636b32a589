-- Without a broker the worker handles outbox rows in-process; a row that
-- fails waits until next_attempt_at, and after the last attempt it is set
-- aside as dead-lettered, with the error, for a person to look at.
ALTER TABLE outbox
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN dead_lettered_at timestamptz,
    ADD COLUMN last_error text;

-- Purging old published rows scans by publication time.
CREATE INDEX outbox_published_at_idx ON outbox (published_at)
    WHERE published_at IS NOT NULL;
