-- name: seed_users
-- Many users at once, all sharing one precomputed password hash: a mix of
-- roles, some inactive, sign-ups spread over two years, a quarter who never
-- logged in.
INSERT INTO users (email, full_name, role, is_active, password_hash,
                   created_at, last_login_at)
SELECT 'user' || i || '@' || (ARRAY['example.com', 'mail.test', 'corp.example'])[1 + i %% 3],
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances',
              'Ken', 'Margaret', 'Niklaus'])[1 + i %% 10]
           || ' '
           || (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov',
                     'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Wirth',
                     'Smith', 'Jones', 'Garcia'])[1 + (i / 10) %% 13]
           || ' ' || i,
       CASE WHEN i %% 97 = 0 THEN 'organizer' ELSE 'customer' END,
       i %% 17 <> 0,
       %(password_hash)s,
       now() - (i %% 730) * interval '1 day' - (i %% 86400) * interval '1 second',
       CASE WHEN i %% 4 = 0 THEN NULL
            ELSE now() - (i %% 300) * interval '1 hour' END
FROM generate_series(1, %(count)s) AS i;

-- name: promote_one_admin
-- The caller of the timed requests: one seeded organizer made an admin.
UPDATE users
SET role = 'admin', is_active = true
WHERE id = (SELECT id FROM users WHERE role = 'organizer' ORDER BY id LIMIT 1)
RETURNING id, email;
