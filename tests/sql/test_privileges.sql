-- authgate SQL tests: least privilege. authgate_daemon can execute the
-- daemon_* functions and schema_version() and touch no table; authgate_admin
-- runs the operator functions; PUBLIC can execute nothing; every SECURITY
-- DEFINER function has a safe search_path.
-- Run as a superuser: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_privileges.sql
\ir lib/prelude.sql

-- Catalog checks.
DO $$
DECLARE
    v_bad text;
    v_expected text[] := ARRAY[
        'daemon_change_password(bytea,bigint,text,text,text,text)',
        'daemon_basic_login(bigint,text,text,text)',
        'daemon_check_api_token(bytea)',
        'daemon_check_session(bytea,integer,integer)',
        'daemon_check_sessions(bytea,integer,integer[])',
        'daemon_login_failure(text,text,text,text)',
        'daemon_login_success(bigint,bytea,integer,boolean,text,text,bytea)',
        'daemon_reauthenticate(bytea,bigint,text,text,bytea)',
        'daemon_session_mismatch(bytea,text,text,text)',
        'daemon_login_throttle(text,text,text,integer,integer,integer,integer)',
        'daemon_logout(bytea,boolean,text,text)',
        'daemon_ping()',
        'daemon_purge_expired(integer)',
        'daemon_register(text,text,text,boolean,text,text)',
        'daemon_register_check(text,text,text,text,integer)',
        'daemon_rehash(bigint,text,text)',
        'daemon_secret()',
        'daemon_user_for_login(text)',
        'schema_version()'];
    v_got text[];
BEGIN
    -- roles exist
    IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('authgate_daemon', 'authgate_admin')) <> 2 THEN
        RAISE EXCEPTION 'FAILED: roles authgate_daemon / authgate_admin missing';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN ('authgate_daemon', 'authgate_admin')
                AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication)) THEN
        RAISE EXCEPTION 'FAILED: an authgate role has cluster privileges';
    END IF;

    -- what the daemon may execute: exactly the daemon functions
    -- (the casts also check that each signature exists exactly as the daemon calls it)
    v_expected := (SELECT array_agg(('authgate.' || x)::regprocedure::text
                                    ORDER BY ('authgate.' || x)::regprocedure::text)
                     FROM unnest(v_expected) AS x);
    SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
      INTO v_got
      FROM pg_proc p
     WHERE p.pronamespace = 'authgate'::regnamespace
       AND has_function_privilege('authgate_daemon', p.oid, 'EXECUTE');
    IF v_got IS DISTINCT FROM v_expected THEN
        RAISE EXCEPTION 'FAILED: authgate_daemon may execute %, expected %', v_got, v_expected;
    END IF;

    -- no table, column or sequence privilege for the daemon
    SELECT string_agg(c.relname, ', ') INTO v_bad
      FROM pg_class c
     WHERE c.relnamespace = 'authgate'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'S')
       AND (has_table_privilege('authgate_daemon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            OR (c.relkind = 'S' AND has_sequence_privilege('authgate_daemon', c.oid, 'USAGE, SELECT, UPDATE'))
            OR has_any_column_privilege('authgate_daemon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'));
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: authgate_daemon has privileges on %', v_bad;
    END IF;
    IF has_schema_privilege('authgate_daemon', 'authgate', 'CREATE')
       OR has_schema_privilege('authgate_admin', 'authgate', 'CREATE')
       OR NOT has_schema_privilege('authgate_daemon', 'authgate', 'USAGE') THEN
        RAISE EXCEPTION 'FAILED: schema privileges';
    END IF;

    -- PUBLIC has nothing: no function ACL may be the default (NULL) or name PUBLIC
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO v_bad
      FROM pg_proc p
     WHERE p.pronamespace = 'authgate'::regnamespace
       AND (p.proacl IS NULL
            OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0));
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: PUBLIC may execute %', v_bad;
    END IF;
    SELECT string_agg(c.relname, ', ') INTO v_bad
      FROM pg_class c
     WHERE c.relnamespace = 'authgate'::regnamespace
       AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0);
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: PUBLIC has privileges on %', v_bad;
    END IF;

    -- admin: the operator functions, not the daemon's; no hashes, no secret
    IF NOT has_function_privilege('authgate_admin', 'authgate.create_user(text,text,text)', 'EXECUTE')
       OR NOT has_function_privilege('authgate_admin', 'authgate.grant_role(text,text)', 'EXECUTE')
       OR NOT has_function_privilege('authgate_admin', 'authgate.purge_expired(interval)', 'EXECUTE')
       OR has_function_privilege('authgate_admin', 'authgate.daemon_user_for_login(text)', 'EXECUTE')
       OR has_function_privilege('authgate_admin', 'authgate.daemon_secret()', 'EXECUTE')
       OR has_function_privilege('authgate_admin', 'authgate._crypt(text,text)', 'EXECUTE')
       OR has_column_privilege('authgate_admin', 'authgate.users', 'password_hash', 'SELECT')
       OR has_column_privilege('authgate_admin', 'authgate.sessions', 'token_hash', 'SELECT')
       OR has_column_privilege('authgate_admin', 'authgate.api_tokens', 'token_hash', 'SELECT')
       OR has_table_privilege('authgate_admin', 'authgate.daemon_secret', 'SELECT')
       OR has_table_privilege('authgate_admin', 'authgate.users', 'INSERT, UPDATE, DELETE') THEN
        RAISE EXCEPTION 'FAILED: authgate_admin privileges';
    END IF;

    -- every SECURITY DEFINER function (indeed every function) pins its
    -- search_path to pg_catalog first and pg_temp last
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO v_bad
      FROM pg_proc p
     WHERE p.pronamespace = 'authgate'::regnamespace
       AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(p.proconfig, '{}')));
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: functions without search_path=pg_catalog, pg_temp: %', v_bad;
    END IF;
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO v_bad
      FROM pg_proc p
     WHERE p.pronamespace = 'authgate'::regnamespace
       AND NOT p.prosecdef
       AND (p.proname LIKE 'daemon\_%' OR p.proname NOT LIKE '\_%');
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: public functions that are not SECURITY DEFINER: %', v_bad;
    END IF;
    -- the schema belongs to the installer and nobody else may create in it
    IF EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = 'authgate'
                AND EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a
                             WHERE a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner)) THEN
        RAISE EXCEPTION 'FAILED: someone besides the owner may create in schema authgate';
    END IF;
END
$$;

-- Fixtures for the daemon, made as superuser.
SELECT set_config('authgate_test.session', encode(sha256(convert_to('priv-session-' || :'sfx', 'UTF8')), 'hex'), false) AS session_hex \gset
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
    v_token text;
BEGIN
    v_id := authgate.create_user('Priv_' || s, 'pw');
    PERFORM authgate.grant_role('Priv_' || s, 'staff');
    v_token := authgate.create_api_token('Priv_' || s, 'priv');
    PERFORM set_config('authgate_test.api_hash',
        encode(sha256(decode(translate(substr(v_token, 5), '-_', '+/') || '=', 'base64')), 'hex'), false);
    PERFORM set_config('authgate_test.user_id', v_id::text, false);
END
$$;

-- As the daemon: every table is off limits.
SET ROLE authgate_daemon;
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_table text;
    v_sql text;
BEGIN
    IF current_user <> 'authgate_daemon' THEN
        RAISE EXCEPTION 'FAILED: SET ROLE did not take effect';
    END IF;
    FOREACH v_table IN ARRAY ARRAY['users', 'user_roles', 'sessions', 'api_tokens', 'events',
                                   'daemon_secret', 'login_failures', 'schema_migrations']
    LOOP
        PERFORM pg_temp.expect_error(format('SELECT * FROM authgate.%I LIMIT 1', v_table),
                                     '42501', format('daemon SELECT from %s', v_table));
        PERFORM pg_temp.expect_error(format('DELETE FROM authgate.%I', v_table),
                                     '42501', format('daemon DELETE from %s', v_table));
    END LOOP;
    FOREACH v_sql IN ARRAY ARRAY[
        'INSERT INTO authgate.users (username, password_hash) VALUES (''x' || s || ''', ''$2b$10$' || repeat('a', 53) || ''')',
        'UPDATE authgate.users SET disabled = false',
        'UPDATE authgate.users SET password_hash = ''$argon2id$x''',
        'UPDATE authgate.sessions SET expires_at = now() + interval ''1 year''',
        'INSERT INTO authgate.user_roles (user_id, role) VALUES (1, ''admin'')',
        'INSERT INTO authgate.events (event) VALUES (''forged'')',
        'TRUNCATE authgate.events',
        'SELECT authgate.create_user(''x' || s || ''', ''pw'')',
        'SELECT authgate.create_user_with_hash(''x' || s || ''', ''$2b$10$' || repeat('a', 53) || ''')',
        'SELECT authgate.grant_role(''Priv_' || s || ''', ''admin'')',
        'SELECT authgate.revoke_role(''Priv_' || s || ''', ''staff'')',
        'SELECT authgate.set_password(''Priv_' || s || ''', ''pw2'')',
        'SELECT authgate.set_password_hash(''Priv_' || s || ''', ''$2b$10$' || repeat('a', 53) || ''')',
        'SELECT authgate.enable_user(''Priv_' || s || ''')',
        'SELECT authgate.disable_user(''Priv_' || s || ''')',
        'SELECT authgate.delete_user(''Priv_' || s || ''')',
        'SELECT authgate.revoke_sessions(''Priv_' || s || ''')',
        'SELECT authgate.create_api_token(''Priv_' || s || ''', ''evil'')',
        'SELECT authgate.revoke_api_token(''Priv_' || s || ''', ''priv'')',
        'SELECT * FROM authgate.list_api_tokens(''Priv_' || s || ''')',
        'SELECT authgate.purge_expired()',
        'SELECT authgate._crypt(''a'', ''b'')',
        'SELECT authgate._random_bytes(32)',
        'SELECT authgate._lookup_user(''Priv_' || s || ''')',
        'SELECT authgate._event(''forged'', NULL, NULL, NULL, NULL, NULL)',
        'SELECT authgate._user_event(''forged'', NULL, NULL)',
        'SELECT authgate._end_sessions(1)',
        'SELECT authgate._roles(1)',
        'SELECT authgate._set_hash(''Priv_' || s || ''', ''$2b$10$' || repeat('a', 53) || ''')',
        'SELECT authgate._insert_user(''x' || s || ''', ''$2b$10$' || repeat('a', 53) || ''', NULL, NULL)',
        'CREATE TABLE authgate.evil (x int)',
        'CREATE FUNCTION authgate.evil() RETURNS int LANGUAGE sql AS ''SELECT 1''']
    LOOP
        PERFORM pg_temp.expect_error(v_sql, '42501', 'daemon: ' || v_sql);
    END LOOP;
END
$$;

-- As the daemon: the daemon functions work.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint := current_setting('authgate_test.user_id')::bigint;
    v_session bytea := decode(current_setting('authgate_test.session'), 'hex');
    v_api bytea := decode(current_setting('authgate_test.api_hash'), 'hex');
    v_hash text;
    v_row record;
BEGIN
    IF authgate.daemon_ping() <> 1 THEN
        RAISE EXCEPTION 'FAILED: daemon_ping';
    END IF;
    IF authgate.schema_version() < 1 THEN
        RAISE EXCEPTION 'FAILED: schema_version';
    END IF;
    IF octet_length(authgate.daemon_secret()) <> 32 THEN
        RAISE EXCEPTION 'FAILED: daemon_secret';
    END IF;
    SELECT * INTO STRICT v_row FROM authgate.daemon_user_for_login('priv_' || s);
    IF v_row.user_id <> v_id THEN
        RAISE EXCEPTION 'FAILED: daemon_user_for_login as the daemon';
    END IF;
    v_hash := v_row.password_hash;
    IF authgate.daemon_login_throttle('Priv_' || s, '192.0.2.200', 'ua', 300, 300, 100, 0) <> 0 THEN
        RAISE EXCEPTION 'FAILED: daemon_login_throttle';
    END IF;
    PERFORM authgate.daemon_login_failure('Priv_' || s, 'bad_password', '192.0.2.200', 'ua');
    PERFORM authgate.daemon_login_success(v_id, v_session, 600, false, '192.0.2.200', 'ua');
    SELECT * INTO STRICT v_row FROM authgate.daemon_check_session(v_session, 7200, 60);
    IF v_row.user_id <> v_id OR v_row.roles <> 'staff' THEN
        RAISE EXCEPTION 'FAILED: daemon_check_session as the daemon';
    END IF;
    IF NOT authgate.daemon_rehash(v_id, v_hash,
            '$argon2id$v=19$m=19456,t=2,p=1$cHJpdnNhbHRwcml2c2FsdA$cHJpdmhhc2hwcml2aGFzaHByaXZoYXNocHJpdmhhc2g') THEN
        RAISE EXCEPTION 'FAILED: daemon_rehash as the daemon';
    END IF;
    SELECT * INTO STRICT v_row FROM authgate.daemon_check_api_token(v_api);
    IF v_row.user_id <> v_id THEN
        RAISE EXCEPTION 'FAILED: daemon_check_api_token as the daemon';
    END IF;
    IF authgate.daemon_logout(v_session, true, '192.0.2.200', 'ua') <> 1 THEN
        RAISE EXCEPTION 'FAILED: daemon_logout as the daemon';
    END IF;
    PERFORM authgate.daemon_purge_expired(90);
END
$$;
RESET ROLE;

-- As an operator holding authgate_admin (not a superuser).
SET ROLE authgate_admin;
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
BEGIN
    PERFORM authgate.create_user('Op_' || s, 'pw');
    PERFORM authgate.grant_role('Op_' || s, 'ops');
    PERFORM authgate.revoke_sessions('Op_' || s);
    PERFORM authgate.disable_user('Op_' || s);
    PERFORM authgate.enable_user('Op_' || s);
    IF (SELECT count(*) FROM authgate.users WHERE username = 'Op_' || s) <> 1 THEN
        RAISE EXCEPTION 'FAILED: admin cannot list users';
    END IF;
    PERFORM count(*) FROM authgate.events;
    PERFORM pg_temp.expect_error('SELECT password_hash FROM authgate.users', '42501', 'admin reads password hashes');
    PERFORM pg_temp.expect_error('SELECT token_hash FROM authgate.sessions', '42501', 'admin reads session hashes');
    PERFORM pg_temp.expect_error('SELECT * FROM authgate.daemon_secret', '42501', 'admin reads the secret');
    PERFORM pg_temp.expect_error(format('SELECT * FROM authgate.daemon_user_for_login(%L)', 'Op_' || s),
                                 '42501', 'admin calls a daemon function');
    PERFORM pg_temp.expect_error(format('UPDATE authgate.users SET disabled = true WHERE username = %L', 'Op_' || s),
                                 '42501', 'admin writes users directly');
    PERFORM authgate.delete_user('Op_' || s);
END
$$;
RESET ROLE;

-- Clean up.
CALL pg_temp.clean_up('192.0.2.200');
\echo test_privileges: ok
