-- name: hold
-- Hold a selection for a while (sales_hold in shared/sql, after checking the
-- token is still current); the body is the Reservation, as text ready to send.
SELECT status_code, body::text AS body, replayed
FROM sales_hold_with_token(
    %(token_issued_at)s, %(user_id)s, %(event_id)s, %(selection)s::jsonb,
    %(hold_seconds)s, %(idempotency_key)s, %(request_hash)s
);

-- name: purchase
-- Hold and confirm in one call (sales_purchase, after checking the token is
-- still current); the body is the Order, as text ready to send, and the
-- outbox rows to publish after commit.
SELECT status_code, body::text AS body, replayed, outbox_ids
FROM sales_purchase_with_token(
    %(token_issued_at)s, %(user_id)s, %(event_id)s, %(selection)s::jsonb,
    %(payment_reference)s, %(idempotency_key)s, %(request_hash)s, %(request_id)s
);

-- name: confirm
-- Turn a live hold into an order; a confirmed one answers its order again.
SELECT body, outbox_ids
FROM sales_confirm(
    %(user_id)s, %(reservation_id)s, %(payment_reference)s, %(request_id)s
);

-- name: release
-- Give a reservation's places back at once.
SELECT sales_release(%(reservation_id)s, %(caller_id)s, %(is_admin)s);

-- name: reservation
-- One reservation, if the caller is its owner or an admin.
SELECT sales_reservation_json(r.id) AS reservation
FROM reservations r
WHERE r.id = %(id)s AND (r.user_id = %(caller_id)s OR %(is_admin)s);

-- name: order
-- One order, if the caller bought it, organises its event or is an admin.
SELECT sales_order_json(o.id) AS order
FROM orders o JOIN events e ON e.id = o.event_id
WHERE o.id = %(id)s
  AND (%(is_admin)s OR o.user_id = %(caller_id)s OR e.created_by = %(caller_id)s);

-- name: list_orders
-- One page of the orders the caller may see, newest first, and how many
-- match in all.
WITH matching AS (
    SELECT o.id, o.created_at
    FROM orders o JOIN events e ON e.id = o.event_id
    WHERE (%(is_admin)s OR o.user_id = %(caller_id)s OR e.created_by = %(caller_id)s)
      AND (%(event_id)s::uuid IS NULL OR o.event_id = %(event_id)s)
      AND (%(user_id)s::uuid IS NULL OR o.user_id = %(user_id)s)
      AND (%(status)s::text IS NULL OR o.status = %(status)s)
), page AS (
    SELECT id, created_at FROM matching
    ORDER BY created_at DESC, id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT (SELECT count(*) FROM matching) AS total,
       coalesce((
           SELECT jsonb_agg(sales_order_json(id) ORDER BY created_at DESC, id)
           FROM page
       ), '[]'::jsonb) AS items;

-- name: refund
-- Cancel an order: void its tickets, free their places, tell the buyer.
SELECT body, outbox_ids
FROM sales_refund(%(order_id)s, %(caller_id)s, %(caller_role)s, %(request_id)s);

-- name: list_tickets
-- One page of the caller's tickets (of one event, optionally), newest first,
-- and how many there are in all.
WITH matching AS (
    SELECT t.id, t.created_at
    FROM tickets t JOIN orders o ON o.id = t.order_id
    WHERE o.user_id = %(caller_id)s
      AND (%(event_id)s::uuid IS NULL OR t.event_id = %(event_id)s)
), page AS (
    SELECT id, created_at FROM matching
    ORDER BY created_at DESC, id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT (SELECT count(*) FROM matching) AS total,
       coalesce((
           SELECT jsonb_agg(sales_ticket_json(id) ORDER BY created_at DESC, id)
           FROM page
       ), '[]'::jsonb) AS items;

-- name: check_in
-- Admit a ticket once; a second scan or a void ticket is refused.
SELECT sales_check_in(%(code)s, %(caller_id)s, %(is_admin)s) AS ticket;
