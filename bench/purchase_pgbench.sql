-- pgbench script of bench/purchase_storm.py: one purchase of one ticket of
-- the hot ticket type, the very statement POST /events/{id}/purchase sends
-- (functions/purchase/queries.sql, "purchase"), with the same arguments: a
-- random buyer among many, the selection as the API serialises it, a fresh
-- Idempotency-Key with its SHA-256 request hash, and a request id for the
-- outbox row. The harness replaces __EVENT__, __TICKET_TYPE__ and __BUYERS__.
\set buyer random(1, __BUYER_COUNT__)
SELECT status_code, body::text AS body, replayed, outbox_ids
FROM sales_purchase_with_token(
    now(),
    (ARRAY[__BUYERS__]::uuid[])[:buyer],
    '__EVENT__'::uuid,
    '{"items": [{"ticket_type_id": "__TICKET_TYPE__", "quantity": 1}], "seats": []}'::jsonb,
    NULL,
    'pgbench-' || gen_random_uuid()::text,
    sha256(convert_to(gen_random_uuid()::text, 'UTF8')),
    replace(gen_random_uuid()::text, '-', '')
);
