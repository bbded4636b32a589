-- The data model. Constraints here are the last line of defence: even if a
-- procedure were wrong, a ticket type cannot be sold beyond its quantity and
-- a seat cannot carry two live tickets.

-- People -------------------------------------------------------------------

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    full_name text NOT NULL,
    role text NOT NULL DEFAULT 'customer'
        CHECK (role IN ('admin', 'organizer', 'customer')),
    is_active boolean NOT NULL DEFAULT true,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    anonymised_at timestamptz,
    CONSTRAINT users_email_lower CHECK (email = lower(email)),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Every token descended from one login shares a family, so that reuse of
    -- a rotated token can revoke the whole family at once.
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    client_ip text NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (client_ip, attempted_at);

-- Events and their inventory ----------------------------------------------

CREATE TABLE events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    venue text NOT NULL CHECK (length(venue) BETWEEN 1 AND 200),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'published', 'cancelled')),
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    sales_start timestamptz,
    sales_end timestamptz,
    max_per_order integer NOT NULL DEFAULT 10 CHECK (max_per_order > 0),
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CHECK (sales_end IS NULL OR sales_start IS NULL OR sales_end >= sales_start)
);
CREATE INDEX events_starts_at_idx ON events (starts_at);
CREATE INDEX events_created_by_idx ON events (created_by);

CREATE TABLE ticket_types (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    quantity integer NOT NULL CHECK (quantity >= 0),
    seating text NOT NULL DEFAULT 'general'
        CHECK (seating IN ('general', 'assigned')),
    -- Confirmed tickets. Holds are not counted here: a hold counts only while
    -- it is live, so it is summed from reservation_items when needed.
    sold integer NOT NULL DEFAULT 0,
    position integer NOT NULL DEFAULT 0,
    CONSTRAINT ticket_types_never_oversold CHECK (sold BETWEEN 0 AND quantity),
    UNIQUE (event_id, name)
);
CREATE INDEX ticket_types_event_idx ON ticket_types (event_id);

CREATE TABLE seats (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    ticket_type_id uuid NOT NULL REFERENCES ticket_types (id) ON DELETE CASCADE,
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 50),
    CONSTRAINT seats_label_unique_per_event UNIQUE (event_id, label)
);
CREATE INDEX seats_ticket_type_idx ON seats (ticket_type_id);

-- Selling ------------------------------------------------------------------

CREATE TABLE reservations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    event_id uuid NOT NULL REFERENCES events (id),
    status text NOT NULL DEFAULT 'held'
        CHECK (status IN ('held', 'confirmed', 'released', 'expired')),
    expires_at timestamptz NOT NULL,
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    currency char(3) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_user_idx ON reservations (user_id);
CREATE INDEX reservations_live_idx ON reservations (event_id, expires_at)
    WHERE status = 'held';

CREATE TABLE reservation_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reservation_id uuid NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    ticket_type_id uuid NOT NULL REFERENCES ticket_types (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    -- Set for assigned seating: one item per seat, quantity 1.
    seat_id uuid REFERENCES seats (id),
    CHECK (seat_id IS NULL OR quantity = 1)
);
CREATE INDEX reservation_items_reservation_idx
    ON reservation_items (reservation_id);
CREATE INDEX reservation_items_ticket_type_idx
    ON reservation_items (ticket_type_id);
CREATE INDEX reservation_items_seat_idx ON reservation_items (seat_id)
    WHERE seat_id IS NOT NULL;

CREATE TABLE orders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id),
    event_id uuid NOT NULL REFERENCES events (id),
    reservation_id uuid UNIQUE REFERENCES reservations (id),
    status text NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('confirmed', 'refunded')),
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    currency char(3) NOT NULL,
    payment_reference text,
    created_at timestamptz NOT NULL DEFAULT now(),
    refunded_at timestamptz
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at);
CREATE INDEX orders_event_idx ON orders (event_id, created_at);

CREATE TABLE tickets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code text NOT NULL UNIQUE CHECK (length(code) >= 22),
    order_id uuid NOT NULL REFERENCES orders (id),
    event_id uuid NOT NULL REFERENCES events (id),
    ticket_type_id uuid NOT NULL REFERENCES ticket_types (id),
    seat_id uuid REFERENCES seats (id),
    status text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'void')),
    checked_in_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tickets_order_idx ON tickets (order_id);
CREATE INDEX tickets_event_idx ON tickets (event_id);
-- A seat carries at most one live ticket, whatever any procedure does.
CREATE UNIQUE INDEX tickets_one_live_ticket_per_seat ON tickets (seat_id)
    WHERE seat_id IS NOT NULL AND status = 'valid';

CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status_code integer,
    response_body jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Messages -----------------------------------------------------------------

CREATE TABLE outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topic text NOT NULL,
    payload jsonb NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished_idx ON outbox (created_at)
    WHERE published_at IS NULL;

CREATE TABLE processed_messages (
    message_id uuid PRIMARY KEY,
    topic text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_messages_processed_at_idx
    ON processed_messages (processed_at);
