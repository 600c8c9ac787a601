-- Shared start of the SQL tests: each tests/sql/test_*.sql begins with
--   \ir lib/prelude.sql
-- Not a test itself (not named test_*.sql). Everything it creates is in
-- pg_temp, private to the session, so test files may run concurrently
-- against the same database.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;

-- A random suffix for every name a test creates, so concurrent runs never
-- collide: :sfx in psql, current_setting('authgate_test.sfx') in DO blocks.
SELECT set_config('authgate_test.sfx',
                  substr(md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text), 1, 10),
                  false) AS sfx \gset

-- expect_error(sql, sqlstate, what): fails unless sql raises that SQLSTATE.
CREATE FUNCTION pg_temp.expect_error(p_sql text, p_state text, p_what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RAISE EXCEPTION 'FAILED: % : expected SQLSTATE % but it succeeded', p_what, p_state
        USING ERRCODE = 'assert_failure';
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE = 'P0004' THEN RAISE; END IF;
    IF SQLSTATE <> p_state THEN
        RAISE EXCEPTION 'FAILED: % : expected SQLSTATE % but got %: %', p_what, p_state, SQLSTATE, SQLERRM
            USING ERRCODE = 'assert_failure';
    END IF;
END
$$;

-- CALL pg_temp.clean_up([addr]) at the end of a test: deletes the users,
-- events and failure counters whose name or key holds this run's suffix,
-- and the counter of the client address `addr` when given.
CREATE PROCEDURE pg_temp.clean_up(p_addr text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    s text := current_setting('authgate_test.sfx');
BEGIN
    DELETE FROM authgate.users WHERE username ILIKE '%' || s || '%';
    DELETE FROM authgate.events WHERE username ILIKE '%' || s || '%';
    DELETE FROM authgate.login_failures
     WHERE key LIKE '%' || lower(s) || '%' OR (scope = 'addr' AND key = p_addr);
END
$$;
