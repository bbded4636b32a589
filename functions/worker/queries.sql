-- name: record_processed
-- Claim a message for this transaction; no row back means it was handled
-- before (or is being handled now, and this waits for that to finish).
INSERT INTO processed_messages (message_id, topic)
VALUES (%(message_id)s, %(topic)s)
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id;

-- name: insert_fan_out_message
-- One message of a fan-out, with an id derived from its parent, so that
-- writing the same fan-out again adds nothing.
INSERT INTO outbox (id, topic, payload, headers)
VALUES (%(id)s, %(topic)s, %(payload)s, %(headers)s)
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: claim_next_inline
-- Without a broker: take the oldest row that is due, skipping rows another
-- worker holds.
SELECT id, topic, payload, headers, attempts
FROM outbox
WHERE published_at IS NULL
  AND dead_lettered_at IS NULL
  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
ORDER BY created_at
LIMIT 1
FOR UPDATE SKIP LOCKED;

-- name: mark_handled_inline
-- Without a broker, "published" means handled in-process.
UPDATE outbox SET published_at = now() WHERE id = %(id)s;

-- name: record_inline_failure
-- Count a failed attempt; wait before the next, or set the row aside.
UPDATE outbox
SET attempts = attempts + 1,
    last_error = %(error)s,
    next_attempt_at = now() + make_interval(secs => %(delay_seconds)s),
    dead_lettered_at = CASE WHEN %(dead)s THEN now() END
WHERE id = %(id)s;

-- name: expire_holds
-- Holds past their time stop holding, through the selling procedure and its
-- locks (their seats were already counted as free; this tidies up), at most
-- %(limit)s reservations per call.
SELECT sales_expire_holds(%(limit)s) AS expired;

-- name: purge_idempotency_keys
-- Stored answers past their replay window.
DELETE FROM idempotency_keys WHERE expires_at <= now();

-- name: purge_login_attempts
-- Login attempts older than the throttling window needs.
DELETE FROM login_attempts
WHERE attempted_at < now() - make_interval(hours => %(hours)s);

-- name: purge_refresh_tokens
-- Refresh tokens that can no longer be used anyway.
DELETE FROM refresh_tokens WHERE expires_at <= now();

-- name: purge_processed_messages
-- Message ids old enough that no redelivery will come for them.
DELETE FROM processed_messages
WHERE processed_at < now() - make_interval(days => %(days)s);

-- name: purge_published_outbox
-- Outbox rows published long ago, kept as long as their message ids.
DELETE FROM outbox
WHERE published_at < now() - make_interval(days => %(days)s);
