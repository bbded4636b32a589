-- The serialised step of a general admission purchase in one statement: the
-- sale is counted by an UPDATE whose condition is the availability check, so
-- the common case (enough left) runs one query under the ticket-type locks
-- instead of a check and then a write. Only a refusal looks again, to name
-- the ticket type that is short; it raises, which rolls the count back.
CREATE OR REPLACE FUNCTION sales_claim_items(p_lines jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_short record;
    v_now timestamptz;
    v_counted uuid[];
BEGIN
    PERFORM sales_lock_ticket_types(ARRAY(
        SELECT l.ticket_type_id
        FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid)
    ));
    -- Judged after the locks: whoever held them before has committed by now.
    v_now := clock_timestamp();
    WITH counted AS (
        UPDATE ticket_types t SET sold = t.sold + l.quantity
        FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid, quantity integer)
        WHERE t.id = l.ticket_type_id
          AND t.quantity - t.sold - sales_held(t.id, v_now) >= l.quantity
        RETURNING t.id
    )
    SELECT coalesce(array_agg(id), '{}') INTO v_counted FROM counted;
    IF cardinality(v_counted) = jsonb_array_length(p_lines) THEN
        RETURN;
    END IF;

    -- The types left uncounted are the short ones (lines are one per type).
    SELECT t.id, t.name,
           greatest(t.quantity - t.sold - sales_held(t.id, v_now), 0) AS available
    INTO v_short
    FROM jsonb_to_recordset(p_lines) AS l(ticket_type_id uuid)
    JOIN ticket_types t ON t.id = l.ticket_type_id
    WHERE t.id <> ALL (v_counted)
    ORDER BY t.position LIMIT 1;
    PERFORM sales_fail(
        'sold_out',
        CASE WHEN v_short.available = 0
            THEN format('"%s" is sold out.', v_short.name)
            ELSE format('Only %s left of "%s".', v_short.available, v_short.name)
        END,
        jsonb_build_object('ticket_type_id', v_short.id, 'available', v_short.available)
    );
END $$;
