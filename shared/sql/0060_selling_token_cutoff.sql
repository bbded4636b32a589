-- The hold and purchase routes take the buyer from the access token alone,
-- so the procedures must also refuse a token issued before the buyer's
-- password changed (users.tokens_valid_after), as every other route does.
-- These wrappers check that, then do the work, in the same statement and
-- transaction; the check takes no lock, so the lock order is unchanged.

CREATE FUNCTION sales_require_current_token(
    p_user uuid, p_token_issued_at timestamptz
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM users
        WHERE id = p_user AND tokens_valid_after > p_token_issued_at
    ) THEN
        PERFORM sales_fail(
            'invalid_token', 'This session ended when the password changed.'
        );
    END IF;
END $$;

CREATE FUNCTION sales_hold_with_token(
    p_token_issued_at timestamptz,
    p_user uuid,
    p_event uuid,
    p_selection jsonb,
    p_hold_seconds integer,
    p_idempotency_key text,
    p_request_hash bytea
) RETURNS TABLE (status_code integer, body jsonb, replayed boolean)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales_require_current_token(p_user, p_token_issued_at);
    RETURN QUERY SELECT * FROM sales_hold(
        p_user, p_event, p_selection, p_hold_seconds,
        p_idempotency_key, p_request_hash
    );
END $$;

CREATE FUNCTION sales_purchase_with_token(
    p_token_issued_at timestamptz,
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
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales_require_current_token(p_user, p_token_issued_at);
    RETURN QUERY SELECT * FROM sales_purchase(
        p_user, p_event, p_selection, p_payment_reference,
        p_idempotency_key, p_request_hash, p_request_id
    );
END $$;
