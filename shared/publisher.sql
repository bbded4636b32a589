-- name: claim_by_ids
-- Lock a request's new outbox rows that nobody has published yet; rows
-- another publisher holds are skipped, so no row goes out twice at once.
SELECT id, topic, payload, headers
FROM outbox
WHERE id = ANY(%(ids)s) AND published_at IS NULL
ORDER BY created_at
FOR UPDATE SKIP LOCKED;

-- name: claim_unpublished
-- Lock the oldest rows that are still waiting for the broker; several relays
-- may run at once, each taking rows the others have not.
SELECT id, topic, payload, headers
FROM outbox
WHERE published_at IS NULL AND dead_lettered_at IS NULL
ORDER BY created_at
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: mark_published
-- Record that the broker confirmed these rows.
UPDATE outbox SET published_at = now() WHERE id = ANY(%(ids)s);
