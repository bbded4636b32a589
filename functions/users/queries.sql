-- name: list_users
-- One page of the users that pass the filters, in the order asked for.
SELECT id, email, full_name, role, is_active, created_at, updated_at,
       last_login_at
FROM users
WHERE {filters}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_users
-- How many users pass the filters, for the page's total.
SELECT count(*) AS total FROM users WHERE {filters};

-- name: filter_text
-- Part of the email or the name, in any case; the pattern escapes LIKE
-- wildcards itself. Emails are stored lower-case already. LIKE on lower()
-- scans about twice as fast as ILIKE, for searches no index can serve.
(email LIKE lower(%(pattern)s) OR lower(full_name) LIKE lower(%(pattern)s))

-- name: prefer_index_scans
-- For this transaction only: the planner prices LIKE as cheap and, when a
-- search matches a few percent of users, counts them by scanning every row
-- (hundreds of ms at 100,000 users) instead of through the trigram indexes
-- (tens). Where pg_trgm is missing a scan is still the only plan, and taken.
SET LOCAL enable_seqscan = off;

-- name: filter_role
-- Only users of one role.
role = %(role)s

-- name: filter_active
-- Only active users, or only inactive ones.
is_active = %(is_active)s

-- name: order_ascending
-- Smallest first; NULLs (never logged in) come last. The id keeps pages
-- stable between equal values.
{column} ASC, id ASC

-- name: order_descending
-- Largest first, for columns that are never NULL.
{column} DESC, id DESC

-- name: order_descending_nulls_last
-- Largest first, with users who never logged in still at the end.
{column} DESC NULLS LAST, id DESC

-- name: lock_admins
-- Serialise changes that may remove an admin (the same lock guards the
-- first admin's creation), so two of them cannot each leave the other last.
SELECT pg_advisory_xact_lock(%(lock_class)s, 0);

-- name: is_last_active_admin
-- Is this user an active admin with no other active admin beside them?
SELECT EXISTS (
        SELECT 1 FROM users WHERE id = %(id)s AND role = 'admin' AND is_active
    )
    AND NOT EXISTS (
        SELECT 1 FROM users WHERE id <> %(id)s AND role = 'admin' AND is_active
    ) AS last_admin;

-- name: delete_user
-- Remove a user outright; fails on a foreign key when they have history.
DELETE FROM users WHERE id = %(id)s;

-- name: anonymise_user
-- Keep the row that orders point to, but nothing that identifies the person.
-- The address stays lower-case and unique, under a reserved domain.
UPDATE users
SET email = 'deleted-' || id::text || '@deleted.invalid',
    full_name = 'Deleted user',
    password_hash = '',
    is_active = false,
    anonymised_at = now(),
    updated_at = now()
WHERE id = %(id)s;
