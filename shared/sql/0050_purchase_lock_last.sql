-- The purchase hot path, made short where it is serialised.
--
-- 1. Plans that are kept. A LANGUAGE sql function called from PL/pgSQL is
--    planned again on every call (PostgreSQL before 18 keeps no plan for it),
--    and the JSON and outbox helpers cost a purchase more than its writes. As
--    PL/pgSQL they keep their plans for the life of the connection. Same
--    signatures, same results.
-- 2. The ticket-type lock last. Purchases of one ticket type queue on its
--    lock, which is held until COMMIT, so a hot ticket type sells at most one
--    order per (time under the lock). sales_purchase of general admission now
--    does everything that needs no lock first (buyer, Idempotency-Key, order,
--    tickets, outbox row, the answer's JSON) and takes the ticket-type locks,
--    checks availability and counts the sale as its very last step; a refusal
--    there still rolls everything back. Selections with seats keep the old
--    order: a seat's ticket row must not be written before the seat is known
--    to be free, or two buyers of one seat would meet at the unique index.
-- The lock order of 0020 is unchanged: Idempotency-Key, event, ticket types.

-- 1. Helpers as PL/pgSQL ----------------------------------------------------

CREATE OR REPLACE FUNCTION sales_held(p_ticket_type uuid, p_now timestamptz)
RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT coalesce(sum(quantity), 0)::integer
        FROM reservation_items
        WHERE ticket_type_id = p_ticket_type AND held_until > p_now
    );
END $$;

CREATE OR REPLACE FUNCTION sales_event_summary(p_event uuid)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'id', id, 'name', name, 'venue', venue, 'starts_at', sales_iso(starts_at)
        )
        FROM events WHERE id = p_event
    );
END $$;

CREATE OR REPLACE FUNCTION sales_order_json(p_order uuid)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'id', o.id,
            'event_id', o.event_id,
            'user_id', o.user_id,
            'status', o.status,
            'total_cents', o.total_cents,
            'currency', o.currency,
            'payment_reference', o.payment_reference,
            'created_at', sales_iso(o.created_at),
            'refunded_at', sales_iso(o.refunded_at),
            'tickets', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'id', t.id,
                    'code', t.code,
                    'event_id', t.event_id,
                    'ticket_type_id', t.ticket_type_id,
                    'seat', s.label,
                    'status', t.status,
                    'checked_in_at', sales_iso(t.checked_in_at)
                ) ORDER BY tt.position, s.position, t.id)
                FROM tickets t
                JOIN ticket_types tt ON tt.id = t.ticket_type_id
                LEFT JOIN seats s ON s.id = t.seat_id
                WHERE t.order_id = o.id
            ), '[]'::jsonb)
        )
        FROM orders o WHERE o.id = p_order
    );
END $$;

CREATE OR REPLACE FUNCTION sales_order_message(p_order uuid, p_with_tickets boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'order_id', o.id,
            'user_id', o.user_id,
            'email', u.email,
            'full_name', u.full_name,
            'event', sales_event_summary(o.event_id),
            'total_cents', o.total_cents,
            'currency', o.currency
        ) || CASE WHEN p_with_tickets THEN jsonb_build_object('tickets', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'code', t.code, 'ticket_type', tt.name, 'seat', s.label
            ) ORDER BY tt.position, s.position, t.id), '[]'::jsonb)
            FROM tickets t
            JOIN ticket_types tt ON tt.id = t.ticket_type_id
            LEFT JOIN seats s ON s.id = t.seat_id
            WHERE t.order_id = o.id
        )) ELSE '{}'::jsonb END
        FROM orders o JOIN users u ON u.id = o.user_id
        WHERE o.id = p_order
    );
END $$;

CREATE OR REPLACE FUNCTION sales_outbox(
    p_topic text, p_payload jsonb, p_request_id text
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO outbox (topic, payload, headers)
    VALUES (p_topic, p_payload, jsonb_build_object('request_id', p_request_id))
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION sales_idempotency_store(
    p_user uuid, p_key text, p_hash bytea, p_status integer, p_body jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys
            (user_id, key, request_hash, status_code, response_body, expires_at)
        VALUES (p_user, p_key, p_hash, p_status, p_body, now() + interval '24 hours');
    END IF;
END $$;

-- 2. Writing an order, and counting it sold, as two steps ---------------------

-- The order and its tickets, for lines already checked (or to be checked
-- under lock before commit by sales_count_sold).
CREATE FUNCTION sales_write_order(
    p_user uuid,
    p_event uuid,
    p_reservation uuid,
    p_lines jsonb,
    p_total_cents bigint,
    p_currency text,
    p_payment_reference text
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_order uuid;
BEGIN
    INSERT INTO orders
        (user_id, event_id, reservation_id, total_cents, currency, payment_reference)
    VALUES
        (p_user, p_event, p_reservation, p_total_cents, p_currency, p_payment_reference)
    RETURNING id INTO v_order;

    INSERT INTO tickets
        (code, order_id, event_id, ticket_type_id, seat_id, price_cents)
    SELECT sales_new_ticket_code(), v_order, p_event,
           l.ticket_type_id, l.seat_id, l.price_cents
    FROM jsonb_to_recordset(p_lines)
        AS l(ticket_type_id uuid, quantity integer, seat_id uuid, price_cents integer)
    CROSS JOIN LATERAL generate_series(1, l.quantity);
    RETURN v_order;
END $$;

CREATE FUNCTION sales_count_sold(p_lines jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket_types t SET sold = t.sold + l.quantity
    FROM (
        SELECT ticket_type_id, sum(quantity)::integer AS quantity
        FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid, quantity integer)
        GROUP BY 1
    ) l
    WHERE t.id = l.ticket_type_id;
END $$;

CREATE OR REPLACE FUNCTION sales_issue_order(
    p_user uuid,
    p_event uuid,
    p_reservation uuid,
    p_lines jsonb,
    p_total_cents bigint,
    p_currency text,
    p_payment_reference text
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_order uuid;
BEGIN
    v_order := sales_write_order(
        p_user, p_event, p_reservation, p_lines, p_total_cents, p_currency,
        p_payment_reference
    );
    PERFORM sales_count_sold(p_lines);
    RETURN v_order;
END $$;

-- 3. General admission: checked first, locked last ---------------------------

-- Everything sales_take checks of a selection without seats that needs no
-- ticket-type lock, in the same order and with the same refusals. Takes the
-- event lock (shared), as sales_take does.
CREATE FUNCTION sales_price_items(
    p_event uuid,
    p_selection jsonb,
    OUT lines jsonb,
    OUT order_total bigint,
    OUT order_currency text
) LANGUAGE plpgsql AS $$
DECLARE
    v_event events;
    v_missing text[];
    v_count integer;
    v_assigned text;
BEGIN
    PERFORM sales_lock_event(p_event, false);
    SELECT * INTO v_event FROM events WHERE id = p_event;
    IF NOT FOUND THEN
        PERFORM sales_fail('event_not_found', 'There is no such event.');
    END IF;
    order_currency := v_event.currency;
    IF v_event.status <> 'published' THEN
        PERFORM sales_fail(
            'sales_closed', format('This event is %s: nothing is on sale.',
            CASE v_event.status WHEN 'draft' THEN 'not published yet'
            ELSE 'cancelled' END)
        );
    END IF;
    IF v_event.sales_start > now() OR v_event.sales_end <= now() THEN
        PERFORM sales_fail('sales_closed', 'Sales for this event are not open now.');
    END IF;

    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'ticket_type_id', w.id, 'quantity', w.quantity,
               'seat_id', NULL, 'price_cents', t.price_cents
           )), '[]'::jsonb),
           coalesce(sum(w.quantity::bigint * t.price_cents), 0),
           coalesce(sum(w.quantity), 0),
           coalesce(array_agg(w.id::text) FILTER (WHERE t.id IS NULL), '{}'),
           min(t.name) FILTER (WHERE t.seating = 'assigned')
    INTO lines, order_total, v_count, v_missing, v_assigned
    FROM (
        SELECT (item->>'ticket_type_id')::uuid AS id,
               sum((item->>'quantity')::integer) AS quantity
        FROM jsonb_array_elements(coalesce(p_selection->'items', '[]')) AS item
        GROUP BY 1
    ) w
    LEFT JOIN ticket_types t ON t.id = w.id AND t.event_id = p_event;

    IF cardinality(v_missing) > 0 THEN
        PERFORM sales_fail(
            'ticket_type_not_found', 'This event has no such ticket type.',
            jsonb_build_object('ticket_type_ids', v_missing)
        );
    END IF;
    IF v_assigned IS NOT NULL THEN
        PERFORM sales_fail(
            'seat_selection_required',
            format('"%s" has assigned seating: choose seats by label.', v_assigned)
        );
    END IF;
    IF v_count > v_event.max_per_order THEN
        PERFORM sales_fail(
            'limit_exceeded',
            format('At most %s tickets per order.', v_event.max_per_order),
            jsonb_build_object('max_per_order', v_event.max_per_order)
        );
    END IF;
END $$;

-- The serialised step: the ticket-type locks (ascending key order, after the
-- event lock the caller holds), availability judged under them, the sale
-- counted. Meant to be the caller's last statement before COMMIT.
CREATE FUNCTION sales_claim_items(p_lines jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_short record;
    v_now timestamptz;
BEGIN
    PERFORM sales_lock_ticket_types(ARRAY(
        SELECT l.ticket_type_id
        FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid)
    ));
    -- Judged after the locks: whoever held them before has committed by now.
    v_now := clock_timestamp();
    SELECT t.id, t.name, greatest(left_over.available, 0) AS available
    INTO v_short
    FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid, quantity integer)
    JOIN ticket_types t ON t.id = l.ticket_type_id
    CROSS JOIN LATERAL (
        SELECT t.quantity - t.sold - sales_held(t.id, v_now) AS available
    ) left_over
    WHERE left_over.available < l.quantity
    ORDER BY t.position LIMIT 1;
    IF FOUND THEN
        PERFORM sales_fail(
            'sold_out',
            CASE WHEN v_short.available = 0
                THEN format('"%s" is sold out.', v_short.name)
                ELSE format('Only %s left of "%s".', v_short.available, v_short.name)
            END,
            jsonb_build_object(
                'ticket_type_id', v_short.id, 'available', v_short.available
            )
        );
    END IF;
    PERFORM sales_count_sold(p_lines);
END $$;

-- 4. The purchase ----------------------------------------------------------

CREATE OR REPLACE FUNCTION sales_purchase(
    p_user uuid,
    p_event uuid,
    p_selection jsonb,
    p_payment_reference text,
    p_idempotency_key text,
    p_request_hash bytea,
    p_request_id text
) RETURNS TABLE (
    status_code integer, body jsonb, replayed boolean, outbox_ids uuid[]
)
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_replay idempotency_keys;
    v_take record;
    v_order uuid;
    v_outbox uuid;
    v_body jsonb;
    v_general_only boolean :=
        jsonb_array_length(coalesce(p_selection->'seats', '[]')) = 0;
BEGIN
    PERFORM sales_require_active_user(p_user);
    v_replay := sales_idempotency_replay(p_user, p_idempotency_key, p_request_hash);
    IF v_replay.user_id IS NOT NULL THEN
        RETURN QUERY SELECT v_replay.status_code, v_replay.response_body, true,
            '{}'::uuid[];
        RETURN;
    END IF;

    IF v_general_only THEN
        SELECT * INTO v_take FROM sales_price_items(p_event, p_selection);
        v_order := sales_write_order(
            p_user, p_event, NULL, v_take.lines, v_take.order_total,
            v_take.order_currency, p_payment_reference
        );
    ELSE
        SELECT * INTO v_take FROM sales_take(p_event, p_selection);
        v_order := sales_issue_order(
            p_user, p_event, NULL, v_take.lines, v_take.order_total,
            v_take.order_currency, p_payment_reference
        );
    END IF;
    v_outbox := sales_outbox(
        'order.confirmed', sales_order_message(v_order, true), p_request_id
    );
    v_body := sales_order_json(v_order);
    PERFORM sales_idempotency_store(
        p_user, p_idempotency_key, p_request_hash, 201, v_body
    );
    IF v_general_only THEN
        PERFORM sales_claim_items(v_take.lines);
    END IF;
    RETURN QUERY SELECT 201, v_body, false, ARRAY[v_outbox];
END $$;
