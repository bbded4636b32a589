-- name: account_by_email
-- What a login needs to know about the account behind an email.
SELECT id, role, is_active, password_hash
FROM users
WHERE email = %(email)s;

-- name: password_hash_by_id
-- The stored hash, to check a current password against.
SELECT password_hash FROM users WHERE id = %(id)s;

-- name: record_login
-- Note a successful login, and store an upgraded hash when there is one.
UPDATE users
SET last_login_at = now(),
    password_hash = coalesce(%(new_hash)s, password_hash)
WHERE id = %(id)s;

-- name: lock_login_throttle
-- Serialise counting and recording attempts for one email and one address,
-- so concurrent guesses cannot all slip in under the limit. Always email
-- first, then address: two logins can never wait for each other in a cycle.
SELECT pg_advisory_xact_lock(%(email_class)s, hashtext(%(email)s)),
       pg_advisory_xact_lock(%(address_class)s, hashtext(%(client_ip)s));

-- name: throttled_for
-- Seconds until the key (an email or an address) is under its limit again;
-- 0 when it is under it already. The wait ends when the oldest of its latest
-- `limit` attempts leaves the window.
SELECT CASE
    WHEN count(*) < %(limit)s THEN 0
    ELSE ceil(extract(epoch FROM
        min(attempted_at) + make_interval(secs => %(window)s) - now()))::int
    END AS retry_after
FROM (
    SELECT attempted_at
    FROM login_attempts
    WHERE {key_column} = %(key)s
      AND attempted_at > now() - make_interval(secs => %(window)s)
    ORDER BY attempted_at DESC
    LIMIT %(limit)s
) AS latest;

-- name: record_attempt
-- Count an attempt as failed until the login proves otherwise.
INSERT INTO login_attempts (email, client_ip)
VALUES (%(email)s, %(client_ip)s);

-- name: clear_attempts
-- A successful login forgives the email's earlier failures.
DELETE FROM login_attempts WHERE email = %(email)s;

-- name: insert_refresh_token
-- Store a new refresh token of a login family, by its hash only.
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
VALUES (%(user_id)s, %(family_id)s, %(token_hash)s,
        now() + make_interval(days => %(days)s));

-- name: use_refresh_token
-- Spend a live token of an active user, exactly once: of two concurrent
-- uses, the second waits for the first's row lock and then no longer matches.
UPDATE refresh_tokens AS token
SET used_at = now()
FROM users
WHERE token.token_hash = %(token_hash)s
  AND token.used_at IS NULL
  AND token.revoked_at IS NULL
  AND token.expires_at > now()
  AND users.id = token.user_id
  AND users.is_active
RETURNING token.user_id, token.family_id, users.role;

-- name: revoke_family_if_used
-- Presenting a token that was already spent means it was copied: end the
-- whole family, the thief's descendants and the owner's alike.
UPDATE refresh_tokens
SET revoked_at = coalesce(revoked_at, now())
WHERE family_id = (
    SELECT family_id FROM refresh_tokens
    WHERE token_hash = %(token_hash)s AND used_at IS NOT NULL
)
RETURNING id;

-- name: revoke_family_of_token
-- Log out: end the session the token belongs to.
UPDATE refresh_tokens
SET revoked_at = now()
WHERE revoked_at IS NULL
  AND family_id = (
      SELECT family_id FROM refresh_tokens WHERE token_hash = %(token_hash)s
  );
