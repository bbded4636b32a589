-- Indexes behind the admin's users table: each sort walks an index in its
-- own order (the id makes equal values page stably), and searching by part
-- of an email or a name uses trigram indexes where pg_trgm exists.

-- Emails are unique, so their own unique index already sorts them.
CREATE INDEX users_created_at_idx ON users (created_at, id);
CREATE INDEX users_full_name_idx ON users (full_name, id);
-- Users who never logged in come last in both directions, which one index
-- cannot serve both ways.
CREATE INDEX users_last_login_asc_idx ON users (last_login_at, id);
CREATE INDEX users_last_login_desc_idx
    ON users (last_login_at DESC NULLS LAST, id DESC);

-- pg_trgm is missing from some servers (the embedded one of local runs).
-- There the search still works, by scanning; elsewhere it uses the index.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not installed: no permission; search scans';
            RETURN;
        END;
        CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
        CREATE INDEX users_full_name_trgm_idx
            ON users USING gin (lower(full_name) gin_trgm_ops);
    END IF;
END
$$;
