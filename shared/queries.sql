-- name: lock_admin_bootstrap
-- Serialise first-admin creation between processes starting at once.
SELECT pg_advisory_xact_lock(%(lock_class)s, 0);

-- name: active_admin_exists
-- Is there at least one active admin?
SELECT EXISTS (
    SELECT 1 FROM users WHERE role = 'admin' AND is_active
) AS exists;

-- name: upsert_admin
-- Create the admin, or make an existing account with that email an active
-- admin with the given password (which ends its earlier sessions).
INSERT INTO users (email, full_name, role, password_hash)
VALUES (%(email)s, %(full_name)s, 'admin', %(password_hash)s)
ON CONFLICT (email) DO UPDATE
SET role = 'admin',
    is_active = true,
    password_hash = EXCLUDED.password_hash,
    tokens_valid_after = date_trunc('second', now()),
    updated_at = now()
RETURNING id, email;

-- name: revoke_refresh_tokens
-- A new password ends every session of the account.
UPDATE refresh_tokens
SET revoked_at = now()
WHERE user_id = %(user_id)s AND revoked_at IS NULL;
