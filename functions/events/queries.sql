-- name: insert_event
-- Create an event in status draft.
INSERT INTO events (
    name, description, venue, starts_at, ends_at, currency,
    sales_start, sales_end, max_per_order, created_by
)
VALUES (
    %(name)s, %(description)s, %(venue)s, %(starts_at)s, %(ends_at)s, %(currency)s,
    %(sales_start)s, %(sales_end)s, %(max_per_order)s, %(created_by)s
)
RETURNING id;

-- name: insert_ticket_type
-- Add a ticket type after the event's existing ones.
INSERT INTO ticket_types (event_id, name, price_cents, quantity, seating, position)
SELECT %(event_id)s, %(name)s, %(price_cents)s, %(quantity)s, %(seating)s,
       coalesce(max(position) + 1, 0)
FROM ticket_types WHERE event_id = %(event_id)s
RETURNING id;

-- name: insert_seats
-- The seats of an assigned-seating ticket type, in the order given.
INSERT INTO seats (event_id, ticket_type_id, label, position)
SELECT %(event_id)s, %(ticket_type_id)s, label, ordinality - 1
FROM unnest(%(labels)s::text[]) WITH ORDINALITY AS given (label, ordinality);

-- name: event_by_id
-- One event with its ticket types and what is still available.
SELECT e.id, e.name, e.description, e.venue, e.starts_at, e.ends_at, e.status,
       e.currency, e.sales_start, e.sales_end, e.max_per_order, e.created_by,
       e.created_at, e.updated_at, sales_ticket_types_json(e.id) AS ticket_types
FROM events e
WHERE e.id = %(id)s;

-- name: event_access
-- Who owns an event and where it stands, to decide what a caller may do.
SELECT id, status, created_by, currency FROM events WHERE id = %(id)s;

-- name: list_events
-- One page of the events the caller may see, soonest first, and how many
-- match in all.
WITH matching AS (
    SELECT e.*
    FROM events e
    WHERE (e.status = 'published' OR %(is_admin)s OR e.created_by = %(caller_id)s)
      AND (%(status)s::text IS NULL OR e.status = %(status)s)
      AND (%(q)s::text IS NULL
           OR strpos(lower(e.name), lower(%(q)s)) > 0
           OR strpos(lower(e.venue), lower(%(q)s)) > 0)
      AND (%(starts_after)s::timestamptz IS NULL OR e.starts_at >= %(starts_after)s)
      AND (%(starts_before)s::timestamptz IS NULL OR e.starts_at < %(starts_before)s)
), page AS (
    SELECT m.id, m.starts_at,
           to_jsonb(m) || jsonb_build_object(
               'ticket_types', sales_ticket_types_json(m.id)
           ) AS event
    FROM matching m
    ORDER BY m.starts_at, m.id
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT (SELECT count(*) FROM matching) AS total,
       coalesce(
           (SELECT jsonb_agg(event ORDER BY starts_at, id) FROM page), '[]'::jsonb
       ) AS items;

-- name: lock_event_for_change
-- Wait for the sales in flight and hold new ones until this change commits.
SELECT sales_lock_event_for_change(%(id)s);

-- name: update_event
-- Template: the assignments are composed from the fields a PATCH sets.
UPDATE events SET {assignments}, updated_at = now() WHERE id = %(id)s;

-- name: update_ticket_type
-- Rename or reprice a ticket type of the event; NULL keeps the value.
UPDATE ticket_types
SET name = coalesce(%(name)s, name),
    price_cents = coalesce(%(price_cents)s, price_cents)
WHERE id = %(id)s AND event_id = %(event_id)s
RETURNING id, seating;

-- name: set_capacity
-- Change a general admission quantity, refused below what is sold or held.
SELECT sales_set_quantity(%(id)s, %(quantity)s);

-- name: set_seats
-- Replace the seats of an assigned-seating type, keeping those still listed.
SELECT sales_set_seats(%(id)s, %(seats)s::text[]);

-- name: publish_event
-- Draft to published; nothing when the event is in another state.
UPDATE events SET status = 'published', updated_at = now()
WHERE id = %(id)s AND status = 'draft'
RETURNING id;

-- name: cancel_event
-- Cancel the event, refund its orders, release its holds, tell the buyers.
SELECT sales_cancel_event(%(id)s, %(request_id)s) AS outbox_ids;

-- name: delete_draft_event
-- Remove a draft that never had a reservation or an order.
DELETE FROM events e
WHERE e.id = %(id)s AND e.status = 'draft'
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.event_id = e.id)
  AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.event_id = e.id)
RETURNING id;

-- name: event_seats
-- Every seat of the event with what it is now: available, held or sold.
SELECT s.label, s.ticket_type_id, sales_seat_status(s.id, now()) AS status
FROM seats s JOIN ticket_types t ON t.id = s.ticket_type_id
WHERE s.event_id = %(id)s
ORDER BY t.position, s.position, s.label;

-- name: ticket_type_stats
-- The dashboard's figures for each ticket type of the event.
SELECT t.id AS ticket_type_id, t.name, t.seating, t.price_cents, t.quantity, t.sold,
       h.held,
       greatest(t.quantity - t.sold - h.held, 0) AS available,
       k.checked_in, k.revenue_cents
FROM ticket_types t
CROSS JOIN LATERAL (SELECT sales_held(t.id, now()) AS held) h
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE checked_in_at IS NOT NULL) AS checked_in,
           coalesce(sum(price_cents), 0) AS revenue_cents
    FROM tickets WHERE ticket_type_id = t.id AND status = 'valid'
) k
WHERE t.event_id = %(id)s
ORDER BY t.position, t.name;
