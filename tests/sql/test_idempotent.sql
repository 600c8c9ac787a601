-- authgate SQL tests: sql/install.sql applied again is a no-op. It must not
-- add a migration, touch a catalog row (every object, privilege, comment
-- and role keeps its xmin), change the CSRF secret or any data.
-- Run as a superuser or as the role that installed the schema:
--   psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_idempotent.sql
-- (sql/install.sql is found relative to this script).
\ir lib/prelude.sql

-- A user and a session that must come through unchanged.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
BEGIN
    v_id := authgate.create_user('Idem_' || s, 'pw', 'idem_' || s || '@example.com');
    PERFORM authgate.grant_role('Idem_' || s, 'keep');
    PERFORM authgate.daemon_login_success(v_id, sha256(convert_to('idem-' || s, 'UTF8')), 3600, true, NULL, NULL);
END
$$;

-- Everything the installer creates, with the xmin of its catalog row.
CREATE TEMP VIEW authgate_fingerprint AS
    SELECT 'proc' AS kind, p.oid::regprocedure::text AS name,
           concat_ws('|', p.xmin, md5(p.prosrc), p.proconfig::text, p.proacl::text, p.prosecdef,
                     p.provolatile, pg_get_userbyid(p.proowner)) AS state
      FROM pg_proc p WHERE p.pronamespace = 'authgate'::regnamespace
    UNION ALL
    SELECT 'class', c.relname,
           concat_ws('|', c.xmin, c.relkind, c.relacl::text, c.relnatts, pg_get_userbyid(c.relowner))
      FROM pg_class c WHERE c.relnamespace = 'authgate'::regnamespace
    UNION ALL
    SELECT 'attribute', a.attrelid::regclass::text || '.' || a.attname,
           concat_ws('|', a.xmin, a.atttypid, a.attnotnull, a.attacl::text)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'authgate'::regnamespace AND a.attnum > 0
    UNION ALL
    SELECT 'constraint', con.conname,
           concat_ws('|', con.xmin, pg_get_constraintdef(con.oid))
      FROM pg_constraint con WHERE con.connamespace = 'authgate'::regnamespace
    UNION ALL
    SELECT 'trigger', t.tgname, concat_ws('|', t.xmin, t.tgrelid::regclass::text)
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'authgate'::regnamespace
    UNION ALL
    SELECT 'schema', n.nspname, concat_ws('|', n.xmin, n.nspacl::text, pg_get_userbyid(n.nspowner))
      FROM pg_namespace n WHERE n.nspname = 'authgate'
    UNION ALL
    SELECT 'comment', d.objoid::text || '/' || d.objsubid, concat_ws('|', d.xmin, md5(d.description))
      FROM pg_description d
     WHERE d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'authgate'::regnamespace
                        UNION ALL SELECT oid FROM pg_class WHERE relnamespace = 'authgate'::regnamespace
                        UNION ALL SELECT 'authgate'::regnamespace::oid)
    UNION ALL
    SELECT 'extension', e.extname, concat_ws('|', e.xmin, e.extversion, e.extnamespace::regnamespace::text)
      FROM pg_extension e WHERE e.extname = 'pgcrypto'
    UNION ALL
    SELECT 'role', r.rolname, concat_ws('|', r.oid, r.rolcanlogin, r.rolinherit, r.rolsuper)
      FROM pg_roles r WHERE r.rolname IN ('authgate_daemon', 'authgate_admin')
    UNION ALL
    SELECT 'migration', m.version::text, m.applied_at::text FROM authgate.schema_migrations m
    UNION ALL
    SELECT 'secret', d.id::text, concat_ws('|', d.xmin, md5(d.key::text), d.created_at)
      FROM authgate.daemon_secret d
    UNION ALL
    SELECT 'data', u.username, concat_ws('|', u.xmin, u::text,
               (SELECT string_agg(r::text, ';') FROM authgate.user_roles r WHERE r.user_id = u.id),
               (SELECT string_agg(x::text, ';') FROM authgate.sessions x WHERE x.user_id = u.id))
      FROM authgate.users u WHERE u.username = 'Idem_' || current_setting('authgate_test.sfx');

CREATE TEMP TABLE authgate_before AS SELECT * FROM authgate_fingerprint;

DO $$
BEGIN
    IF authgate.schema_version() <> (SELECT max(version) FROM authgate.schema_migrations) THEN
        RAISE EXCEPTION 'FAILED: schema_version() disagrees with schema_migrations';
    END IF;
    IF authgate.schema_version() < 1 THEN
        RAISE EXCEPTION 'FAILED: schema_version() = %', authgate.schema_version();
    END IF;
    IF (SELECT count(*) FROM authgate_before WHERE kind = 'secret') <> 1 THEN
        RAISE EXCEPTION 'FAILED: daemon_secret does not have exactly one row';
    END IF;
    IF (SELECT count(*) FROM authgate_before WHERE kind = 'data') <> 1 THEN
        RAISE EXCEPTION 'FAILED: fixture user missing';
    END IF;
END
$$;

-- Apply the installer once more (its own BEGIN ... COMMIT), as the owner of
-- schema authgate: the installer refuses a schema owned by another role
-- unless that role is a superuser.
SELECT pg_get_userbyid(n.nspowner) AS authgate_owner FROM pg_namespace n WHERE n.nspname = 'authgate' \gset
SET ROLE :"authgate_owner";
\o /dev/null
\ir ../../sql/install.sql
\o
RESET ROLE;
SET client_min_messages = warning;

DO $$
DECLARE
    v_diff text;
BEGIN
    SELECT string_agg(format('%s %s: %s -> %s', coalesce(b.kind, a.kind), coalesce(b.name, a.name),
                             coalesce(b.state, '(none)'), coalesce(a.state, '(none)')), E'\n')
      INTO v_diff
      FROM authgate_before b
      FULL JOIN authgate_fingerprint a ON a.kind = b.kind AND a.name = b.name
     WHERE a.state IS DISTINCT FROM b.state;
    IF v_diff IS NOT NULL THEN
        RAISE EXCEPTION E'FAILED: a second install changed:\n%', v_diff;
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.schema_migrations GROUP BY version HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'FAILED: a migration recorded twice';
    END IF;
END
$$;

-- The guarded structure: every applied version is skipped, and the session
-- created before the re-install still works.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM authgate.daemon_check_session(sha256(convert_to('idem-' || s, 'UTF8')), 7200, 3600)) THEN
        RAISE EXCEPTION 'FAILED: session lost across a re-install';
    END IF;
END
$$;

-- Clean up.
DROP VIEW authgate_fingerprint;
DROP TABLE authgate_before;
CALL pg_temp.clean_up();
\echo test_idempotent: ok
