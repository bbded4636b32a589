-- Selling: every change to inventory goes through the functions below.
--
-- Locking rules, the same in every function so that no two can deadlock:
--   1. the Idempotency-Key lock (class 5), when there is one;
--   2. the event lock (class 3): shared while buying, releasing or refunding,
--      exclusive while cancelling the event or changing its capacity;
--   3. the ticket type locks (class 2), taken in ascending key order;
--   4. only then row locks (SELECT ... FOR UPDATE).
-- Every lock is transaction-scoped (safe behind a transaction pooler), and
-- the public functions carry their own lock_timeout: a stuck lock fails with
-- SQLSTATE 55P03, which the application answers as "503 busy".
--
-- A hold counts only while its expiry lies ahead, measured after the locks
-- are taken, so an expired hold frees its tickets even if no sweeper ran.
--
-- Business refusals are raised as SQLSTATE P0001 with the API's error code as
-- MESSAGE, a sentence for the buyer as DETAIL and extra fields (jsonb) as HINT.

ALTER TABLE seats ADD COLUMN position integer NOT NULL DEFAULT 0;

ALTER TABLE reservation_items
    ADD COLUMN price_cents integer NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    -- The reservation's expiry while it holds; NULL once it is confirmed,
    -- released or expired. Live holds of a ticket type are then one short
    -- range of the partial index below, however many orders came before.
    ADD COLUMN held_until timestamptz;

ALTER TABLE tickets
    ADD COLUMN price_cents integer NOT NULL DEFAULT 0 CHECK (price_cents >= 0);

CREATE INDEX reservation_items_live_holds_idx
    ON reservation_items (ticket_type_id, held_until) INCLUDE (quantity)
    WHERE held_until IS NOT NULL;
CREATE INDEX reservation_items_live_seat_holds_idx
    ON reservation_items (seat_id, held_until)
    WHERE held_until IS NOT NULL AND seat_id IS NOT NULL;
CREATE INDEX reservations_held_expiry_idx ON reservations (expires_at)
    WHERE status = 'held';
CREATE INDEX tickets_ticket_type_idx ON tickets (ticket_type_id);

-- Helpers ------------------------------------------------------------------

CREATE FUNCTION sales_fail(p_code text, p_detail text, p_extra jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'P0001', MESSAGE = p_code, DETAIL = p_detail, HINT = p_extra::text;
END $$;

CREATE FUNCTION sales_lock_event(p_event uuid, p_exclusive boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_exclusive THEN
        PERFORM pg_advisory_xact_lock(3, hashtext(p_event::text));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(3, hashtext(p_event::text));
    END IF;
END $$;

-- For an organiser's change to an event (its capacity, its ticket types):
-- taken before the change writes anything, so that it waits for the sales
-- in flight instead of holding rows they need.
CREATE FUNCTION sales_lock_event_for_change(p_event uuid)
RETURNS void LANGUAGE plpgsql SET lock_timeout = '2s' AS $$
BEGIN
    PERFORM sales_lock_event(p_event, true);
END $$;

CREATE FUNCTION sales_lock_ticket_types(p_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_key integer;
BEGIN
    -- Ordered by the lock key itself, not the id, so that even two ids whose
    -- keys collide are taken in the same order by everyone.
    FOR v_key IN
        SELECT DISTINCT hashtext(id::text) FROM unnest(p_ids) AS id ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(2, v_key);
    END LOOP;
END $$;

CREATE FUNCTION sales_held(p_ticket_type uuid, p_now timestamptz)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(quantity), 0)::integer
    FROM reservation_items
    WHERE ticket_type_id = p_ticket_type AND held_until > p_now
$$;

CREATE FUNCTION sales_seat_status(p_seat uuid, p_now timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (
            SELECT 1 FROM tickets WHERE seat_id = p_seat AND status = 'valid'
        ) THEN 'sold'
        WHEN EXISTS (
            SELECT 1 FROM reservation_items
            WHERE seat_id = p_seat AND held_until > p_now
        ) THEN 'held'
        ELSE 'available'
    END
$$;

CREATE FUNCTION sales_new_ticket_code()
RETURNS text LANGUAGE sql VOLATILE AS $$
    -- Two random UUIDs carry 244 random bits; URL-safe base64 without padding.
    SELECT rtrim(translate(encode(
        uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'
    ), '+/', '-_'), '=')
$$;

CREATE FUNCTION sales_require_active_user(p_user uuid)
RETURNS users LANGUAGE plpgsql AS $$
DECLARE
    v_user users;
BEGIN
    SELECT * INTO v_user FROM users WHERE id = p_user AND is_active;
    IF NOT FOUND THEN
        PERFORM sales_fail(
            'invalid_token', 'This account no longer exists or is disabled.'
        );
    END IF;
    RETURN v_user;
END $$;

-- Idempotency: the key's lock is held to the end of the transaction, so ten
-- requests with one key run one at a time and the later ones replay.

CREATE FUNCTION sales_idempotency_replay(p_user uuid, p_key text, p_hash bytea)
RETURNS idempotency_keys LANGUAGE plpgsql AS $$
DECLARE
    v_row idempotency_keys;
BEGIN
    IF p_key IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(5, hashtext(p_user::text || ':' || p_key));
    SELECT * INTO v_row FROM idempotency_keys WHERE user_id = p_user AND key = p_key;
    IF FOUND AND v_row.expires_at <= clock_timestamp() THEN
        DELETE FROM idempotency_keys WHERE user_id = p_user AND key = p_key;
        RETURN NULL;
    END IF;
    IF FOUND AND v_row.request_hash <> p_hash THEN
        PERFORM sales_fail(
            'idempotency_conflict',
            'This Idempotency-Key was already used with a different request.'
        );
    END IF;
    RETURN v_row;
END $$;

CREATE FUNCTION sales_idempotency_store(
    p_user uuid, p_key text, p_hash bytea, p_status integer, p_body jsonb
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO idempotency_keys
        (user_id, key, request_hash, status_code, response_body, expires_at)
    SELECT p_user, p_key, p_hash, p_status, p_body, now() + interval '24 hours'
    WHERE p_key IS NOT NULL
$$;

CREATE FUNCTION sales_iso(p_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    -- The same ISO 8601 form the API's pydantic models write: UTC as "Z",
    -- microseconds only when there are any.
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_part('microseconds', p_at)::integer % 1000000 = 0
           THEN '' ELSE to_char(p_at AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;

-- The JSON the API answers ---------------------------------------------------

CREATE FUNCTION sales_event_summary(p_event uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', id, 'name', name, 'venue', venue, 'starts_at', sales_iso(starts_at)
    )
    FROM events WHERE id = p_event
$$;

CREATE FUNCTION sales_ticket_types_json(p_event uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'id', t.id,
        'name', t.name,
        'price_cents', t.price_cents,
        'quantity', t.quantity,
        'available',
            greatest(t.quantity - t.sold - sales_held(t.id, clock_timestamp()), 0),
        'seating', t.seating
    ) ORDER BY t.position, t.name), '[]'::jsonb)
    FROM ticket_types t WHERE t.event_id = p_event
$$;

CREATE FUNCTION sales_ticket_json(p_ticket uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id,
        'code', t.code,
        'event_id', t.event_id,
        'ticket_type_id', t.ticket_type_id,
        'seat', s.label,
        'status', t.status,
        'checked_in_at', sales_iso(t.checked_in_at),
        'order_id', t.order_id
    )
    FROM tickets t LEFT JOIN seats s ON s.id = t.seat_id
    WHERE t.id = p_ticket
$$;

CREATE FUNCTION sales_order_json(p_order uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
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
$$;

CREATE FUNCTION sales_reservation_json(p_reservation uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', r.id,
        'event_id', r.event_id,
        'user_id', r.user_id,
        'status', CASE
            WHEN r.status = 'held' AND r.expires_at <= clock_timestamp()
            THEN 'expired' ELSE r.status END,
        'expires_at', sales_iso(r.expires_at),
        'items', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                'ticket_type_id', i.ticket_type_id,
                'quantity', i.quantity,
                'seats', i.seats
            ) ORDER BY i.position)
            FROM (
                SELECT ri.ticket_type_id,
                       sum(ri.quantity)::integer AS quantity,
                       coalesce(
                           array_agg(s.label ORDER BY s.position)
                               FILTER (WHERE s.label IS NOT NULL),
                           '{}'
                       ) AS seats,
                       min(tt.position) AS position
                FROM reservation_items ri
                JOIN ticket_types tt ON tt.id = ri.ticket_type_id
                LEFT JOIN seats s ON s.id = ri.seat_id
                WHERE ri.reservation_id = r.id
                GROUP BY ri.ticket_type_id
            ) i
        ), '[]'::jsonb),
        'total_cents', r.total_cents,
        'currency', r.currency,
        'created_at', sales_iso(r.created_at),
        'order_id', (SELECT o.id FROM orders o WHERE o.reservation_id = r.id)
    )
    FROM reservations r WHERE r.id = p_reservation
$$;

-- What the worker's emails need (the payload contract of the outbox).

CREATE FUNCTION sales_order_message(p_order uuid, p_with_tickets boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
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
$$;

CREATE FUNCTION sales_outbox(p_topic text, p_payload jsonb, p_request_id text)
RETURNS uuid LANGUAGE sql AS $$
    INSERT INTO outbox (topic, payload, headers)
    VALUES (p_topic, p_payload, jsonb_build_object('request_id', p_request_id))
    RETURNING id
$$;

-- Taking tickets -------------------------------------------------------------

-- Checks a selection against the event and takes the locks for it. Returns
-- the lines to hold or sell (one per general admission ticket type, one per
-- seat), their total, and the moment availability was judged.
CREATE FUNCTION sales_take(
    p_event uuid,
    p_selection jsonb,
    OUT lines jsonb,
    OUT order_total bigint,
    OUT order_currency text,
    OUT taken_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
    v_event events;
    v_wanted jsonb;
    v_labels text[];
    v_missing text[];
    v_count integer;
    v_short record;
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
        'ticket_type_id', w.id, 'quantity', w.quantity
    )), '[]'::jsonb)
    INTO v_wanted
    FROM (
        SELECT (item->>'ticket_type_id')::uuid AS id,
               sum((item->>'quantity')::integer) AS quantity
        FROM jsonb_array_elements(coalesce(p_selection->'items', '[]')) AS item
        GROUP BY 1
    ) w;
    v_labels := ARRAY(
        SELECT DISTINCT jsonb_array_elements_text(
            coalesce(p_selection->'seats', '[]')
        )
    );

    v_missing := ARRAY(
        SELECT w.ticket_type_id::text
        FROM jsonb_to_recordset(v_wanted) AS w(ticket_type_id uuid, quantity integer)
        LEFT JOIN ticket_types t ON t.id = w.ticket_type_id AND t.event_id = p_event
        WHERE t.id IS NULL
    );
    IF cardinality(v_missing) > 0 THEN
        PERFORM sales_fail(
            'ticket_type_not_found', 'This event has no such ticket type.',
            jsonb_build_object('ticket_type_ids', v_missing)
        );
    END IF;
    SELECT t.name INTO v_short
    FROM jsonb_to_recordset(v_wanted) AS w(ticket_type_id uuid, quantity integer)
    JOIN ticket_types t ON t.id = w.ticket_type_id
    WHERE t.seating = 'assigned' LIMIT 1;
    IF FOUND THEN
        PERFORM sales_fail(
            'seat_selection_required',
            format('"%s" has assigned seating: choose seats by label.', v_short.name)
        );
    END IF;
    v_missing := ARRAY(
        SELECT wanted.label FROM unnest(v_labels) AS wanted (label)
        WHERE NOT EXISTS (
            SELECT 1 FROM seats s
            WHERE s.event_id = p_event AND s.label = wanted.label
        )
        ORDER BY 1
    );
    IF cardinality(v_missing) > 0 THEN
        PERFORM sales_fail(
            'seat_not_found', 'This event has no seat with these labels.',
            jsonb_build_object('seats', v_missing)
        );
    END IF;

    SELECT coalesce(sum(w.quantity), 0) + cardinality(v_labels) INTO v_count
    FROM jsonb_to_recordset(v_wanted) AS w(ticket_type_id uuid, quantity integer);
    IF v_count > v_event.max_per_order THEN
        PERFORM sales_fail(
            'limit_exceeded',
            format('At most %s tickets per order.', v_event.max_per_order),
            jsonb_build_object('max_per_order', v_event.max_per_order)
        );
    END IF;

    PERFORM sales_lock_ticket_types(ARRAY(
        SELECT w.ticket_type_id
        FROM jsonb_to_recordset(v_wanted) AS w(ticket_type_id uuid, quantity integer)
        UNION
        SELECT s.ticket_type_id FROM seats s
        WHERE s.event_id = p_event AND s.label = ANY (v_labels)
    ));
    -- Judged after the locks: whoever held them before has committed by now.
    taken_at := clock_timestamp();

    SELECT t.id, t.name, greatest(left_over.available, 0) AS available
    INTO v_short
    FROM jsonb_to_recordset(v_wanted) AS w(ticket_type_id uuid, quantity integer)
    JOIN ticket_types t ON t.id = w.ticket_type_id
    CROSS JOIN LATERAL (
        SELECT t.quantity - t.sold - sales_held(t.id, taken_at) AS available
    ) left_over
    WHERE left_over.available < w.quantity
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
    v_missing := ARRAY(
        SELECT s.label FROM seats s
        WHERE s.event_id = p_event AND s.label = ANY (v_labels)
          AND sales_seat_status(s.id, taken_at) <> 'available'
        ORDER BY s.position, s.label
    );
    IF cardinality(v_missing) > 0 THEN
        PERFORM sales_fail(
            'seat_unavailable', 'Some of these seats are already taken.',
            jsonb_build_object('seats', v_missing)
        );
    END IF;

    SELECT coalesce(jsonb_agg(line), '[]'::jsonb),
           coalesce(sum((line->>'quantity')::bigint * (line->>'price_cents')::bigint), 0)
    INTO lines, order_total
    FROM (
        SELECT jsonb_build_object(
            'ticket_type_id', t.id, 'quantity', w.quantity,
            'seat_id', NULL, 'price_cents', t.price_cents
        ) AS line
        FROM jsonb_to_recordset(v_wanted) AS w(ticket_type_id uuid, quantity integer)
        JOIN ticket_types t ON t.id = w.ticket_type_id
        UNION ALL
        SELECT jsonb_build_object(
            'ticket_type_id', t.id, 'quantity', 1,
            'seat_id', s.id, 'price_cents', t.price_cents
        )
        FROM seats s JOIN ticket_types t ON t.id = s.ticket_type_id
        WHERE s.event_id = p_event AND s.label = ANY (v_labels)
    ) l;
END $$;

-- Creates the order and its tickets for lines already checked under lock.
CREATE FUNCTION sales_issue_order(
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

    UPDATE ticket_types t SET sold = t.sold + l.quantity
    FROM (
        SELECT ticket_type_id, sum(quantity)::integer AS quantity
        FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid, quantity integer)
        GROUP BY 1
    ) l
    WHERE t.id = l.ticket_type_id;
    RETURN v_order;
END $$;

-- Voids the tickets of confirmed orders, gives their places back at once and
-- marks the orders refunded. The caller holds the locks.
CREATE FUNCTION sales_void_orders(p_orders uuid[])
RETURNS void LANGUAGE sql AS $$
    WITH voided AS (
        UPDATE tickets SET status = 'void'
        WHERE order_id = ANY (p_orders) AND status = 'valid'
        RETURNING ticket_type_id
    )
    UPDATE ticket_types t SET sold = t.sold - v.tickets
    FROM (
        SELECT ticket_type_id, count(*)::integer AS tickets FROM voided GROUP BY 1
    ) v
    WHERE t.id = v.ticket_type_id;

    UPDATE orders SET status = 'refunded', refunded_at = now()
    WHERE id = ANY (p_orders) AND status = 'confirmed';
$$;

-- The public procedures ------------------------------------------------------

CREATE FUNCTION sales_hold(
    p_user uuid,
    p_event uuid,
    p_selection jsonb,
    p_hold_seconds integer,
    p_idempotency_key text,
    p_request_hash bytea
) RETURNS TABLE (status_code integer, body jsonb, replayed boolean)
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_replay idempotency_keys;
    v_take record;
    v_id uuid;
    v_body jsonb;
BEGIN
    PERFORM sales_require_active_user(p_user);
    v_replay := sales_idempotency_replay(p_user, p_idempotency_key, p_request_hash);
    IF v_replay.user_id IS NOT NULL THEN
        RETURN QUERY SELECT v_replay.status_code, v_replay.response_body, true;
        RETURN;
    END IF;

    SELECT * INTO v_take FROM sales_take(p_event, p_selection);
    INSERT INTO reservations (user_id, event_id, expires_at, total_cents, currency)
    VALUES (
        p_user, p_event, v_take.taken_at + make_interval(secs => p_hold_seconds),
        v_take.order_total, v_take.order_currency
    )
    RETURNING id INTO v_id;
    INSERT INTO reservation_items
        (reservation_id, ticket_type_id, quantity, seat_id, price_cents, held_until)
    SELECT v_id, l.ticket_type_id, l.quantity, l.seat_id, l.price_cents,
           v_take.taken_at + make_interval(secs => p_hold_seconds)
    FROM jsonb_to_recordset(v_take.lines)
        AS l(ticket_type_id uuid, quantity integer, seat_id uuid, price_cents integer);

    v_body := sales_reservation_json(v_id);
    PERFORM sales_idempotency_store(
        p_user, p_idempotency_key, p_request_hash, 201, v_body
    );
    RETURN QUERY SELECT 201, v_body, false;
END $$;

CREATE FUNCTION sales_purchase(
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
BEGIN
    PERFORM sales_require_active_user(p_user);
    v_replay := sales_idempotency_replay(p_user, p_idempotency_key, p_request_hash);
    IF v_replay.user_id IS NOT NULL THEN
        RETURN QUERY SELECT v_replay.status_code, v_replay.response_body, true,
            '{}'::uuid[];
        RETURN;
    END IF;

    SELECT * INTO v_take FROM sales_take(p_event, p_selection);
    v_order := sales_issue_order(
        p_user, p_event, NULL, v_take.lines, v_take.order_total, v_take.order_currency,
        p_payment_reference
    );
    v_outbox := sales_outbox(
        'order.confirmed', sales_order_message(v_order, true), p_request_id
    );

    v_body := sales_order_json(v_order);
    PERFORM sales_idempotency_store(
        p_user, p_idempotency_key, p_request_hash, 201, v_body
    );
    RETURN QUERY SELECT 201, v_body, false, ARRAY[v_outbox];
END $$;

CREATE FUNCTION sales_confirm(
    p_user uuid, p_reservation uuid, p_payment_reference text, p_request_id text
) RETURNS TABLE (body jsonb, outbox_ids uuid[])
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_res reservations;
    v_lines jsonb;
    v_order uuid;
    v_outbox uuid;
BEGIN
    PERFORM sales_require_active_user(p_user);
    SELECT * INTO v_res FROM reservations WHERE id = p_reservation AND user_id = p_user;
    IF NOT FOUND THEN
        PERFORM sales_fail('reservation_not_found', 'There is no such reservation.');
    END IF;
    IF v_res.status = 'held' THEN
        PERFORM sales_lock_event(v_res.event_id, false);
        PERFORM sales_lock_ticket_types(ARRAY(
            SELECT ticket_type_id FROM reservation_items
            WHERE reservation_id = p_reservation
        ));
        SELECT * INTO v_res FROM reservations WHERE id = p_reservation FOR UPDATE;
    END IF;

    IF v_res.status = 'confirmed' THEN
        RETURN QUERY SELECT sales_order_json(o.id), '{}'::uuid[]
            FROM orders o WHERE o.reservation_id = p_reservation;
        RETURN;
    END IF;
    IF v_res.status = 'released' THEN
        PERFORM sales_fail(
            'reservation_released', 'This reservation was released; hold again.'
        );
    END IF;
    IF v_res.status = 'expired' OR v_res.expires_at <= clock_timestamp() THEN
        PERFORM sales_fail(
            'reservation_expired', 'This reservation has expired; hold again.',
            jsonb_build_object('expires_at', sales_iso(v_res.expires_at))
        );
    END IF;

    SELECT jsonb_agg(jsonb_build_object(
        'ticket_type_id', ticket_type_id, 'quantity', quantity,
        'seat_id', seat_id, 'price_cents', price_cents
    ))
    INTO v_lines
    FROM reservation_items WHERE reservation_id = p_reservation;
    v_order := sales_issue_order(
        p_user, v_res.event_id, p_reservation, v_lines, v_res.total_cents,
        v_res.currency, p_payment_reference
    );
    UPDATE reservations SET status = 'confirmed', updated_at = now()
    WHERE id = p_reservation;
    UPDATE reservation_items SET held_until = NULL WHERE reservation_id = p_reservation;
    v_outbox := sales_outbox(
        'order.confirmed', sales_order_message(v_order, true), p_request_id
    );
    RETURN QUERY SELECT sales_order_json(v_order), ARRAY[v_outbox];
END $$;

CREATE FUNCTION sales_release(p_reservation uuid, p_caller uuid, p_is_admin boolean)
RETURNS void
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_res reservations;
BEGIN
    SELECT * INTO v_res FROM reservations
    WHERE id = p_reservation AND (user_id = p_caller OR p_is_admin);
    IF NOT FOUND THEN
        PERFORM sales_fail('reservation_not_found', 'There is no such reservation.');
    END IF;
    PERFORM sales_lock_event(v_res.event_id, false);
    PERFORM sales_lock_ticket_types(ARRAY(
        SELECT ticket_type_id FROM reservation_items WHERE reservation_id = p_reservation
    ));
    SELECT * INTO v_res FROM reservations WHERE id = p_reservation FOR UPDATE;
    IF v_res.status = 'confirmed' THEN
        PERFORM sales_fail(
            'invalid_state',
            'This reservation is already an order; cancel the order instead.'
        );
    END IF;
    UPDATE reservations
    SET status = CASE WHEN expires_at <= clock_timestamp() THEN 'expired'
                 ELSE 'released' END,
        updated_at = now()
    WHERE id = p_reservation AND status = 'held';
    UPDATE reservation_items SET held_until = NULL
    WHERE reservation_id = p_reservation AND held_until IS NOT NULL;
END $$;

-- The sweeper's job. Not needed for correctness (an expired hold already
-- counts for nothing); it keeps statuses honest and the live-hold index short.
CREATE FUNCTION sales_expire_holds(p_limit integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_ids uuid[];
    v_count integer;
BEGIN
    v_ids := ARRAY(
        SELECT id FROM reservations
        WHERE status = 'held' AND expires_at <= clock_timestamp()
        ORDER BY expires_at LIMIT p_limit
    );
    PERFORM sales_lock_ticket_types(ARRAY(
        SELECT ticket_type_id FROM reservation_items
        WHERE reservation_id = ANY (v_ids)
    ));
    WITH expired AS (
        UPDATE reservations SET status = 'expired', updated_at = now()
        WHERE id = ANY (v_ids) AND status = 'held'
        RETURNING id
    ), cleared AS (
        UPDATE reservation_items SET held_until = NULL
        WHERE reservation_id IN (SELECT id FROM expired)
    )
    SELECT count(*) INTO v_count FROM expired;
    RETURN v_count;
END $$;

CREATE FUNCTION sales_refund(
    p_order uuid, p_caller uuid, p_caller_role text, p_request_id text
) RETURNS TABLE (body jsonb, outbox_ids uuid[])
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_order record;
    v_is_admin boolean := p_caller_role = 'admin';
    v_outbox uuid;
BEGIN
    SELECT o.user_id, o.event_id, o.status, e.created_by, e.starts_at
    INTO v_order
    FROM orders o JOIN events e ON e.id = o.event_id
    WHERE o.id = p_order;
    IF NOT FOUND OR NOT (
        v_is_admin OR v_order.user_id = p_caller OR v_order.created_by = p_caller
    ) THEN
        PERFORM sales_fail('order_not_found', 'There is no such order.');
    END IF;
    IF NOT (v_is_admin OR v_order.user_id = p_caller) THEN
        PERFORM sales_fail(
            'forbidden', 'Only the buyer or an admin can cancel an order.'
        );
    END IF;
    IF v_order.status = 'confirmed' AND NOT v_is_admin
       AND clock_timestamp() >= v_order.starts_at THEN
        PERFORM sales_fail(
            'event_started',
            'The event has started; only an admin can cancel this order now.'
        );
    END IF;

    PERFORM sales_lock_event(v_order.event_id, false);
    PERFORM sales_lock_ticket_types(ARRAY(
        SELECT ticket_type_id FROM tickets WHERE order_id = p_order
    ));
    IF (SELECT status FROM orders WHERE id = p_order FOR UPDATE) = 'refunded' THEN
        RETURN QUERY SELECT sales_order_json(p_order), '{}'::uuid[];
        RETURN;
    END IF;
    PERFORM sales_void_orders(ARRAY[p_order]);
    v_outbox := sales_outbox(
        'order.refunded', sales_order_message(p_order, false), p_request_id
    );
    RETURN QUERY SELECT sales_order_json(p_order), ARRAY[v_outbox];
END $$;

CREATE FUNCTION sales_cancel_event(p_event uuid, p_request_id text)
RETURNS uuid[]
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_status text;
    v_orders uuid[];
    v_recipients jsonb;
BEGIN
    -- Exclusive: no purchase, hold or refund of this event runs meanwhile.
    PERFORM sales_lock_event(p_event, true);
    SELECT status INTO v_status FROM events WHERE id = p_event FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM sales_fail('event_not_found', 'There is no such event.');
    END IF;
    IF v_status = 'cancelled' THEN
        PERFORM sales_fail('invalid_state', 'This event is already cancelled.');
    END IF;

    v_orders := ARRAY(
        SELECT id FROM orders WHERE event_id = p_event AND status = 'confirmed'
    );
    PERFORM sales_void_orders(v_orders);
    UPDATE reservation_items SET held_until = NULL
    WHERE held_until IS NOT NULL AND reservation_id IN (
        SELECT id FROM reservations WHERE event_id = p_event AND status = 'held'
    );
    UPDATE reservations SET status = 'released', updated_at = now()
    WHERE event_id = p_event AND status = 'held';
    UPDATE events SET status = 'cancelled', updated_at = now() WHERE id = p_event;

    IF cardinality(v_orders) = 0 THEN
        RETURN '{}'::uuid[];
    END IF;
    -- One message, one email per buyer: not one order.refunded per order.
    SELECT jsonb_agg(jsonb_build_object(
        'user_id', u.id, 'email', u.email, 'full_name', u.full_name,
        'order_ids', b.order_ids
    ) ORDER BY u.email)
    INTO v_recipients
    FROM (
        SELECT user_id, jsonb_agg(id ORDER BY created_at) AS order_ids
        FROM orders WHERE id = ANY (v_orders) GROUP BY user_id
    ) b JOIN users u ON u.id = b.user_id;
    RETURN ARRAY[sales_outbox(
        'event.cancelled',
        jsonb_build_object(
            'event', sales_event_summary(p_event), 'recipients', v_recipients
        ),
        p_request_id
    )];
END $$;

CREATE FUNCTION sales_set_quantity(p_ticket_type uuid, p_quantity integer)
RETURNS void
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_type ticket_types;
    v_taken integer;
BEGIN
    SELECT * INTO v_type FROM ticket_types WHERE id = p_ticket_type;
    IF NOT FOUND THEN
        PERFORM sales_fail('ticket_type_not_found', 'This event has no such ticket type.');
    END IF;
    PERFORM sales_lock_event(v_type.event_id, true);
    PERFORM sales_lock_ticket_types(ARRAY[p_ticket_type]);
    SELECT * INTO v_type FROM ticket_types WHERE id = p_ticket_type FOR UPDATE;
    v_taken := v_type.sold + sales_held(p_ticket_type, clock_timestamp());
    IF p_quantity < v_taken THEN
        PERFORM sales_fail(
            'capacity_below_sold',
            format('"%s" already has %s tickets sold or held.', v_type.name, v_taken),
            jsonb_build_object('ticket_type_id', p_ticket_type, 'taken', v_taken)
        );
    END IF;
    UPDATE ticket_types SET quantity = p_quantity WHERE id = p_ticket_type;
END $$;

-- Replace the seats of an assigned-seating type with a new list of labels.
-- New labels are added after the others; a label left out is removed only if
-- no ticket or reservation ever named it (sold or held: capacity_below_sold).
CREATE FUNCTION sales_set_seats(p_ticket_type uuid, p_labels text[])
RETURNS void
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_type ticket_types;
    v_now timestamptz;
    v_dropped text[];
BEGIN
    SELECT * INTO v_type FROM ticket_types
    WHERE id = p_ticket_type AND seating = 'assigned';
    IF NOT FOUND THEN
        PERFORM sales_fail(
            'ticket_type_not_found', 'This event has no such assigned-seating type.'
        );
    END IF;
    PERFORM sales_lock_event(v_type.event_id, true);
    PERFORM sales_lock_ticket_types(ARRAY[p_ticket_type]);
    v_now := clock_timestamp();
    v_dropped := ARRAY(
        SELECT label FROM seats
        WHERE ticket_type_id = p_ticket_type AND label <> ALL (p_labels)
          AND sales_seat_status(id, v_now) <> 'available'
        ORDER BY position
    );
    IF cardinality(v_dropped) > 0 THEN
        PERFORM sales_fail(
            'capacity_below_sold', 'These seats are sold or held.',
            jsonb_build_object('seats', v_dropped)
        );
    END IF;
    v_dropped := ARRAY(
        SELECT s.label FROM seats s
        WHERE s.ticket_type_id = p_ticket_type AND s.label <> ALL (p_labels)
          AND (EXISTS (SELECT 1 FROM tickets t WHERE t.seat_id = s.id)
               OR EXISTS (SELECT 1 FROM reservation_items i WHERE i.seat_id = s.id))
        ORDER BY s.position
    );
    IF cardinality(v_dropped) > 0 THEN
        PERFORM sales_fail(
            'invalid_state', 'Seats that were ever sold or held cannot be removed.',
            jsonb_build_object('seats', v_dropped)
        );
    END IF;

    DELETE FROM seats
    WHERE ticket_type_id = p_ticket_type AND label <> ALL (p_labels);
    INSERT INTO seats (event_id, ticket_type_id, label, position)
    SELECT v_type.event_id, p_ticket_type, given.label,
           (SELECT coalesce(max(position), -1) FROM seats
            WHERE ticket_type_id = p_ticket_type) + given.n
    FROM unnest(p_labels) WITH ORDINALITY AS given (label, n)
    WHERE NOT EXISTS (
        SELECT 1 FROM seats s
        WHERE s.ticket_type_id = p_ticket_type AND s.label = given.label
    );
    UPDATE ticket_types SET quantity = cardinality(p_labels) WHERE id = p_ticket_type;
END $$;

CREATE FUNCTION sales_check_in(p_code text, p_caller uuid, p_is_admin boolean)
RETURNS jsonb
LANGUAGE plpgsql SET lock_timeout = '2s' SET TimeZone = 'UTC' AS $$
DECLARE
    v_ticket record;
BEGIN
    SELECT t.id, t.status, t.checked_in_at, e.created_by INTO v_ticket
    FROM tickets t JOIN events e ON e.id = t.event_id
    WHERE t.code = p_code
    FOR UPDATE OF t;
    IF NOT FOUND OR NOT (p_is_admin OR v_ticket.created_by = p_caller) THEN
        PERFORM sales_fail('ticket_not_found', 'There is no such ticket.');
    END IF;
    IF v_ticket.status = 'void' THEN
        PERFORM sales_fail('ticket_void', 'This ticket was cancelled: do not admit.');
    END IF;
    IF v_ticket.checked_in_at IS NOT NULL THEN
        PERFORM sales_fail(
            'already_checked_in',
            format(
                'This ticket was already scanned at %s.',
                sales_iso(v_ticket.checked_in_at)
            ),
            jsonb_build_object('checked_in_at', sales_iso(v_ticket.checked_in_at))
        );
    END IF;
    UPDATE tickets SET checked_in_at = clock_timestamp() WHERE id = v_ticket.id;
    RETURN sales_ticket_json(v_ticket.id);
END $$;
