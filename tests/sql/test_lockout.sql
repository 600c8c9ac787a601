-- authgate SQL tests: the brute-force window is separate from the lock
-- duration (failures count for p_window_seconds from the first one; the
-- limit then locks for p_lockout_seconds), and operators can lift a lock.
-- Time passes by moving the counters' timestamps back, never by sleeping.
-- Run: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_lockout.sql
\ir lib/prelude.sql

-- throttle(username, addr) with a 600 s window, a 900 s lock and a limit of
-- 3 per account and 4 per address.
CREATE FUNCTION pg_temp.throttle(p_username text, p_addr text) RETURNS integer
LANGUAGE sql AS $$
    SELECT authgate.daemon_login_throttle(p_username, p_addr, 'ua', 600, 900, 3, 4);
$$;

CREATE FUNCTION pg_temp.age_counter(p_scope text, p_key text, p_seconds integer) RETURNS void
LANGUAGE sql AS $$
    UPDATE authgate.login_failures
       SET first_at = first_at - make_interval(secs => p_seconds),
           last_at = last_at - make_interval(secs => p_seconds)
     WHERE scope = p_scope AND key = p_key;
$$;

DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Lock_' || s;
    v_key text := lower('Lock_' || s);
    v_addr text := '198.18.' || (random() * 255)::int || '.' || (1 + random() * 250)::int;
    v_wait integer;
    v_id bigint;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');

    -- failures spread over more than the window never lock
    FOR i IN 1..2 LOOP
        PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    END LOOP;
    PERFORM pg_temp.age_counter('user', v_key, 601);
    IF pg_temp.throttle(v_name, NULL) <> 0 THEN
        RAISE EXCEPTION 'FAILED: a window that ended below the limit locked';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.login_failures WHERE scope = 'user' AND key = v_key) THEN
        RAISE EXCEPTION 'FAILED: the counter of an ended window was not reset';
    END IF;

    -- 3 failures within the window lock for the lockout (900 s), not the window
    FOR i IN 1..3 LOOP
        IF pg_temp.throttle(v_name, NULL) <> 0 THEN
            RAISE EXCEPTION 'FAILED: locked after % failures', i - 1;
        END IF;
        PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    END LOOP;
    v_wait := pg_temp.throttle(v_name, NULL);
    IF v_wait NOT BETWEEN 899 AND 900 THEN
        RAISE EXCEPTION 'FAILED: retry after % s, expected the 900 s lockout', v_wait;
    END IF;
    -- past the window but inside the lock: still locked
    PERFORM pg_temp.age_counter('user', v_key, 700);
    v_wait := pg_temp.throttle(v_name, NULL);
    IF v_wait NOT BETWEEN 199 AND 200 THEN
        RAISE EXCEPTION 'FAILED: 700 s into a 900 s lock, retry after % s', v_wait;
    END IF;
    -- the lock served: count afresh
    PERFORM pg_temp.age_counter('user', v_key, 201);
    IF pg_temp.throttle(v_name, NULL) <> 0 THEN
        RAISE EXCEPTION 'FAILED: the lock outlived the lockout';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.login_failures WHERE scope = 'user' AND key = v_key) THEN
        RAISE EXCEPTION 'FAILED: the counter of a served lock was not reset';
    END IF;

    -- a lock shorter than the window ends on time as well
    FOR i IN 1..3 LOOP
        PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    END LOOP;
    PERFORM pg_temp.age_counter('user', v_key, 61);
    IF authgate.daemon_login_throttle(v_name, NULL, 'ua', 600, 60, 3, 4) <> 0 THEN
        RAISE EXCEPTION 'FAILED: a 60 s lock lasted the 600 s window';
    END IF;

    -- unlock_user lifts a lock at once, whatever case the name was typed in
    FOR i IN 1..3 LOOP
        PERFORM authgate.daemon_login_failure(upper(v_name), 'bad_password', NULL, NULL);
    END LOOP;
    IF pg_temp.throttle(v_name, NULL) = 0 THEN
        RAISE EXCEPTION 'FAILED: not locked before unlock_user';
    END IF;
    IF NOT authgate.unlock_user(v_name) THEN
        RAISE EXCEPTION 'FAILED: unlock_user found no counter';
    END IF;
    IF pg_temp.throttle(v_name, NULL) <> 0 THEN
        RAISE EXCEPTION 'FAILED: still locked after unlock_user';
    END IF;
    IF authgate.unlock_user(v_name) THEN
        RAISE EXCEPTION 'FAILED: unlock_user of an unlocked account returned true';
    END IF;
    IF (SELECT count(*) FROM authgate.events WHERE event = 'user_unlocked' AND user_id = v_id) <> 2 THEN
        RAISE EXCEPTION 'FAILED: user_unlocked events missing';
    END IF;
    PERFORM pg_temp.expect_error(format('SELECT authgate.unlock_user(%L)', 'Nobody_' || s),
                                 'P0002', 'unlock_user of an unknown user');

    -- the address limit, and unlock_address
    FOR i IN 1..4 LOOP
        PERFORM authgate.daemon_login_failure('Other' || i || '_' || s, 'unknown_user', v_addr, NULL);
    END LOOP;
    v_wait := pg_temp.throttle('Fresh_' || s, v_addr);
    IF v_wait NOT BETWEEN 899 AND 900 THEN
        RAISE EXCEPTION 'FAILED: address not locked for the lockout (retry after %)', v_wait;
    END IF;
    IF NOT authgate.unlock_address(v_addr::inet) OR pg_temp.throttle('Fresh_' || s, v_addr) <> 0 THEN
        RAISE EXCEPTION 'FAILED: unlock_address did not lift the lock';
    END IF;

    -- a successful login resets the account's count
    FOR i IN 1..2 LOOP
        PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    END LOOP;
    PERFORM authgate.daemon_login_success(v_id, sha256(convert_to('lock-' || s, 'UTF8')), 60,
                                          false, NULL, NULL);
    PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    IF pg_temp.throttle(v_name, NULL) <> 0 THEN
        RAISE EXCEPTION 'FAILED: failures before a successful login still counted';
    END IF;
    IF (SELECT failures FROM authgate.login_failures WHERE scope = 'user' AND key = v_key) <> 1 THEN
        RAISE EXCEPTION 'FAILED: the count did not restart after a successful login';
    END IF;

    -- operators may unlock; the daemon may not
    IF NOT has_function_privilege('authgate_admin', 'authgate.unlock_user(text)', 'EXECUTE')
       OR NOT has_function_privilege('authgate_admin', 'authgate.unlock_address(inet)', 'EXECUTE')
       OR has_function_privilege('authgate_daemon', 'authgate.unlock_user(text)', 'EXECUTE') THEN
        RAISE EXCEPTION 'FAILED: unlock privileges';
    END IF;
END
$$;

CALL pg_temp.clean_up();
\echo test_lockout: ok
