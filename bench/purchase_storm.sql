-- name: create_buyers
-- The organiser and the buyers of the storm.
INSERT INTO users (email, full_name, role, password_hash)
SELECT 'storm-' || n || '-' || %(run)s || '@example.com', 'Storm ' || n,
       CASE WHEN n = 0 THEN 'organizer' ELSE 'customer' END, 'not-a-hash'
FROM generate_series(0, %(buyers)s) AS n
RETURNING id;

-- name: create_event
-- One published event with one hot general admission ticket type.
WITH event AS (
    INSERT INTO events (name, venue, starts_at, currency, created_by, status)
    VALUES ('Storm', 'Bench Hall', now() + interval '30 days', 'EUR',
            %(organizer)s, 'published')
    RETURNING id
)
INSERT INTO ticket_types (event_id, name, price_cents, quantity)
SELECT id, 'Hot', 5000, %(quantity)s FROM event
RETURNING event_id, id;

-- name: hold_some
-- Live two-step holds on the hot type, as a real on-sale has.
SELECT body FROM sales_hold(%(user)s, %(event)s, %(selection)s, 600, NULL, '\x00');

-- name: purchase
-- The purchase path's one statement, as functions/purchase sends it.
SELECT status_code, body::text AS body, replayed, outbox_ids
FROM sales_purchase(%(user)s, %(event)s, %(selection)s, NULL, NULL, '\x00', NULL);

-- name: result
-- What was sold, and whether the counter agrees with the tickets.
SELECT t.quantity, t.sold,
       (SELECT count(*) FROM tickets k
        WHERE k.ticket_type_id = t.id AND k.status = 'valid') AS tickets,
       sales_held(t.id, clock_timestamp()) AS held
FROM ticket_types t WHERE t.id = %(ticket_type)s;
