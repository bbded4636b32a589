-- name: user_by_id
-- One user as the API shows it.
SELECT id, email, full_name, role, is_active, created_at, updated_at,
       last_login_at
FROM users
WHERE id = %(id)s;

-- name: insert_user
-- Create an account; the unique email constraint answers a taken email.
INSERT INTO users (email, full_name, role, is_active, password_hash)
VALUES (%(email)s, %(full_name)s, %(role)s, %(is_active)s, %(password_hash)s)
RETURNING id, email, full_name, role, is_active, created_at, updated_at,
          last_login_at;

-- name: update_user
-- Change the given fields of an account; a NULL leaves a field as it is.
UPDATE users
SET full_name = coalesce(%(full_name)s, full_name),
    role = coalesce(%(role)s, role),
    is_active = coalesce(%(is_active)s, is_active),
    password_hash = coalesce(%(password_hash)s, password_hash),
    tokens_valid_after = CASE
        WHEN %(password_hash)s::text IS NULL THEN tokens_valid_after
        ELSE date_trunc('second', now())
    END,
    updated_at = now()
WHERE id = %(id)s
RETURNING id, email, full_name, role, is_active, created_at, updated_at,
          last_login_at;

-- name: revoke_refresh_tokens
-- End every session of a user: none of their refresh tokens works any more.
UPDATE refresh_tokens
SET revoked_at = now()
WHERE user_id = %(user_id)s AND revoked_at IS NULL;
