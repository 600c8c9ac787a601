-- authgate SQL tests: sessions as the daemon sees them (login, check, touch,
-- idle/absolute expiry, remember, logout, revocation, rehash, throttling).
-- Run: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_sessions.sql
-- As a superuser: the test backdates timestamps with UPDATE.
\ir lib/prelude.sql

-- A fresh session token hash: SHA-256 of 32 random bytes, as the daemon makes it.
CREATE FUNCTION pg_temp.new_token_hash() RETURNS bytea
LANGUAGE sql AS $$
    SELECT sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
$$;

CREATE FUNCTION pg_temp.valid(p_hash bytea, p_idle integer DEFAULT 7200, p_touch integer DEFAULT 60)
RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT 1 FROM authgate.daemon_check_session(p_hash, p_idle, p_touch));
$$;

-- daemon_user_for_login and daemon_login_success.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Sess_' || s;
    v_id bigint;
    v_h bytea := pg_temp.new_token_hash();
    v_row record;
    v_sess authgate.sessions;
BEGIN
    v_id := authgate.create_user(v_name, 'pw', 'sess_' || s || '@example.com');
    SELECT * INTO STRICT v_row FROM authgate.daemon_user_for_login(upper(v_name));
    IF v_row.user_id <> v_id OR v_row.disabled OR v_row.password_hash !~ '^\$2' THEN
        RAISE EXCEPTION 'FAILED: daemon_user_for_login returned %', v_row;
    END IF;

    PERFORM authgate.daemon_login_success(v_id, v_h, 3600, false, '192.0.2.7',
                                          E'Mozilla/5.0\r\nInjected: yes ' || repeat('x', 600));
    SELECT * INTO STRICT v_sess FROM authgate.sessions WHERE token_hash = v_h;
    IF v_sess.user_id <> v_id OR v_sess.remember
       OR v_sess.created_at <> now() OR v_sess.authenticated_at <> now() OR v_sess.last_seen <> now()
       OR v_sess.expires_at <> now() + interval '3600 seconds'
       OR v_sess.client_addr <> '192.0.2.7'::inet THEN
        RAISE EXCEPTION 'FAILED: session row %', v_sess;
    END IF;
    IF char_length(v_sess.user_agent) <> 512 OR v_sess.user_agent ~ '[\r\n]' THEN
        RAISE EXCEPTION 'FAILED: user agent not cleaned/truncated (% chars)', char_length(v_sess.user_agent);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'login' AND user_id = v_id
                      AND username = v_name AND client_addr = '192.0.2.7'::inet) THEN
        RAISE EXCEPTION 'FAILED: login event missing';
    END IF;

    -- client address: null, '' or garbage is stored as null; IPv6 works
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 60, false, '', NULL);
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 60, false, NULL, '');
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 60, false, 'unix:', 'x');
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 60, true, '2001:db8::1', 'x');
    IF (SELECT count(*) FROM authgate.sessions WHERE user_id = v_id AND client_addr IS NULL) <> 3
       OR (SELECT count(*) FROM authgate.sessions WHERE user_id = v_id AND client_addr = '2001:db8::1'::inet) <> 1
       OR (SELECT count(*) FROM authgate.sessions WHERE user_id = v_id AND user_agent IS NULL) <> 2 THEN
        RAISE EXCEPTION 'FAILED: client_addr/user_agent normalization';
    END IF;

    -- bad arguments
    PERFORM pg_temp.expect_error(format('SELECT authgate.daemon_login_success(%s, %L::bytea, 0, false, NULL, NULL)',
                                        v_id, pg_temp.new_token_hash()), '22023', 'zero lifetime');
    PERFORM pg_temp.expect_error(format('SELECT authgate.daemon_login_success(%s, %L::bytea, 60, false, NULL, NULL)',
                                        v_id, '\x0102'), '23514', 'token hash not 32 bytes');
    PERFORM pg_temp.expect_error(format('SELECT authgate.daemon_login_success(%s, %L::bytea, 60, false, NULL, NULL)',
                                        v_id, v_h), '23505', 'duplicate token hash');
    PERFORM pg_temp.expect_error(format('SELECT authgate.daemon_login_success(%s, %L::bytea, 60, false, NULL, NULL)',
                                        -1, pg_temp.new_token_hash()), 'P0002', 'unknown user id');
END
$$;

-- daemon_check_session: identity, roles, expiry, idle, remember, touch.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Chk_' || s;
    v_id bigint;
    v_h bytea := pg_temp.new_token_hash();
    v_r bytea := pg_temp.new_token_hash();
    v_row record;
BEGIN
    v_id := authgate.create_user(v_name, 'pw', 'chk_' || s || '@example.com');
    PERFORM authgate.daemon_login_success(v_id, v_h, 43200, false, '198.51.100.1', 'ua');
    PERFORM authgate.daemon_login_success(v_id, v_r, 2592000, true, '198.51.100.1', 'ua');

    SELECT * INTO STRICT v_row FROM authgate.daemon_check_session(v_h, 7200, 60);
    IF v_row.user_id <> v_id OR v_row.username <> v_name OR v_row.email <> 'chk_' || s || '@example.com'
       OR v_row.roles <> '' OR v_row.remember
       OR v_row.created_at <> now() OR v_row.authenticated_at <> now() THEN
        RAISE EXCEPTION 'FAILED: check_session row %', v_row;
    END IF;
    -- effective expiry of a non-remember session: last_seen + idle
    IF v_row.expires_at <> now() + interval '7200 seconds' THEN
        RAISE EXCEPTION 'FAILED: effective expiry % (expected last_seen + idle)', v_row.expires_at;
    END IF;
    -- ... but never past the absolute expiry
    SELECT * INTO STRICT v_row FROM authgate.daemon_check_session(v_h, 86400, 60);
    IF v_row.expires_at <> now() + interval '43200 seconds' THEN
        RAISE EXCEPTION 'FAILED: effective expiry beyond absolute expiry: %', v_row.expires_at;
    END IF;
    SELECT * INTO STRICT v_row FROM authgate.daemon_check_session(v_r, 7200, 60);
    IF NOT v_row.remember OR v_row.expires_at <> now() + interval '2592000 seconds' THEN
        RAISE EXCEPTION 'FAILED: remember session row %', v_row;
    END IF;

    PERFORM authgate.grant_role(v_name, 'zeta');
    PERFORM authgate.grant_role(v_name, 'Alpha');
    PERFORM authgate.grant_role(v_name, 'beta');
    IF (SELECT roles FROM authgate.daemon_check_session(v_h, 7200, 60)) <> 'Alpha,beta,zeta' THEN
        RAISE EXCEPTION 'FAILED: roles %', (SELECT roles FROM authgate.daemon_check_session(v_h, 7200, 60));
    END IF;

    -- unknown token
    IF pg_temp.valid(pg_temp.new_token_hash()) OR pg_temp.valid(NULL) THEN
        RAISE EXCEPTION 'FAILED: unknown token accepted';
    END IF;

    -- touch interval: last_seen is written at most once per interval
    UPDATE authgate.sessions SET last_seen = now() - interval '30 seconds' WHERE token_hash = v_h;
    PERFORM pg_temp.valid(v_h, 7200, 60);
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_h) <> now() - interval '30 seconds' THEN
        RAISE EXCEPTION 'FAILED: last_seen written within the touch interval';
    END IF;
    SELECT * INTO STRICT v_row FROM authgate.daemon_check_session(v_h, 7200, 60);
    IF v_row.expires_at <> now() - interval '30 seconds' + interval '7200 seconds' THEN
        RAISE EXCEPTION 'FAILED: effective expiry not based on stored last_seen: %', v_row.expires_at;
    END IF;
    PERFORM pg_temp.valid(v_h, 7200, 10);
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_h) <> now() THEN
        RAISE EXCEPTION 'FAILED: last_seen not touched after the touch interval';
    END IF;
    -- a huge touch interval (passive checks) never writes
    UPDATE authgate.sessions SET last_seen = now() - interval '3000 seconds' WHERE token_hash = v_h;
    PERFORM pg_temp.valid(v_h, 7200, 2147483647);
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_h) <> now() - interval '3000 seconds' THEN
        RAISE EXCEPTION 'FAILED: passive check touched last_seen';
    END IF;

    -- idle timeout applies to non-remember sessions only
    UPDATE authgate.sessions SET last_seen = now() - interval '7201 seconds' WHERE user_id = v_id;
    IF pg_temp.valid(v_h, 7200, 60) THEN
        RAISE EXCEPTION 'FAILED: idle session accepted';
    END IF;
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_h) <> now() - interval '7201 seconds' THEN
        RAISE EXCEPTION 'FAILED: rejected check touched the session';
    END IF;
    IF NOT pg_temp.valid(v_r, 7200, 60) THEN
        RAISE EXCEPTION 'FAILED: remember session subject to the idle timeout';
    END IF;
    IF NOT pg_temp.valid(v_h, 8000, 60) THEN
        RAISE EXCEPTION 'FAILED: idle timeout is not the one passed in';
    END IF;

    -- absolute expiry applies to both
    UPDATE authgate.sessions SET last_seen = now(), expires_at = now() - interval '1 second' WHERE user_id = v_id;
    IF pg_temp.valid(v_h) OR pg_temp.valid(v_r) THEN
        RAISE EXCEPTION 'FAILED: expired session accepted';
    END IF;
    UPDATE authgate.sessions SET expires_at = now() WHERE user_id = v_id;
    IF pg_temp.valid(v_h) OR pg_temp.valid(v_r) THEN
        RAISE EXCEPTION 'FAILED: session accepted at its expiry instant';
    END IF;
    UPDATE authgate.sessions SET expires_at = now() + interval '1 hour' WHERE user_id = v_id;
    IF NOT pg_temp.valid(v_h) OR NOT pg_temp.valid(v_r) THEN
        RAISE EXCEPTION 'FAILED: session rejected before expiry';
    END IF;

    -- a disabled user (even set directly in the table) has no valid session
    UPDATE authgate.users SET disabled = true WHERE id = v_id;
    IF pg_temp.valid(v_h) OR pg_temp.valid(v_r) THEN
        RAISE EXCEPTION 'FAILED: session of a disabled user accepted';
    END IF;
    UPDATE authgate.users SET disabled = false WHERE id = v_id;

    -- sessions authenticated before the last password change are invalid
    UPDATE authgate.sessions SET authenticated_at = now() - interval '1 hour' WHERE token_hash = v_h;
    UPDATE authgate.users SET password_changed_at = now() - interval '1 minute' WHERE id = v_id;
    IF pg_temp.valid(v_h) THEN
        RAISE EXCEPTION 'FAILED: session older than the password accepted';
    END IF;
    IF NOT pg_temp.valid(v_r) THEN
        RAISE EXCEPTION 'FAILED: session newer than the password rejected';
    END IF;
END
$$;

-- daemon_check_sessions (a batch) answers as daemon_check_session does,
-- each row numbered by its hash's place in the batch.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
    v_off bigint;
    v_valid bytea := pg_temp.new_token_hash();
    v_remember bytea := pg_temp.new_token_hash();
    v_idle bytea := pg_temp.new_token_hash();
    v_expired bytea := pg_temp.new_token_hash();
    v_disabled bytea := pg_temp.new_token_hash();
    v_unknown bytea := pg_temp.new_token_hash();
    v_batch bytea;
    v_got text;
    v_want text;
BEGIN
    v_id := authgate.create_user('Batch_' || s, 'pw', 'batch_' || s || '@example.com');
    v_off := authgate.create_user('BatchOff_' || s, 'pw');
    PERFORM authgate.grant_role('Batch_' || s, 'beta');
    PERFORM authgate.grant_role('Batch_' || s, 'alpha');
    PERFORM authgate.daemon_login_success(v_id, v_valid, 43200, false, '198.51.100.2', 'ua',
                                          sha256('fingerprint'::bytea));
    PERFORM authgate.daemon_login_success(v_id, v_remember, 2592000, true, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, v_idle, 43200, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, v_expired, 43200, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_off, v_disabled, 43200, false, NULL, NULL);
    UPDATE authgate.sessions SET last_seen = now() - interval '7201 seconds' WHERE token_hash = v_idle;
    UPDATE authgate.sessions SET expires_at = now() - interval '1 second' WHERE token_hash = v_expired;
    UPDATE authgate.users SET disabled = true WHERE id = v_off;
    UPDATE authgate.sessions SET last_seen = now() - interval '30 seconds'
     WHERE token_hash IN (v_valid, v_remember);

    -- the valid session twice: each place gets its row
    v_batch := v_idle || v_valid || v_unknown || v_remember || v_expired || v_disabled || v_valid;
    SELECT string_agg(format('%s:%s', b.ord, row(b.user_id, b.username, b.email, b.roles,
                                                  b.created_at, b.authenticated_at, b.expires_at,
                                                  b.remember, b.fingerprint, b.stale)), ' ' ORDER BY b.ord)
      INTO v_got
      FROM authgate.daemon_check_sessions(v_batch, 7200, ARRAY[60, 60, 60, 60, 60, 60, 60]) AS b;
    SELECT string_agg(format('%s:%s', o, row(c.*)), ' ' ORDER BY o)
      INTO v_want
      FROM (VALUES (2, v_valid), (4, v_remember), (7, v_valid)) AS q(o, h),
           LATERAL authgate.daemon_check_session(q.h, 7200, 2147483647) AS c;
    IF v_got IS DISTINCT FROM v_want THEN
        RAISE EXCEPTION 'FAILED: batch answered % instead of %', v_got, v_want;
    END IF;
    IF v_got NOT LIKE '%alpha,beta%' THEN
        RAISE EXCEPTION 'FAILED: batch roles in %', v_got;
    END IF;

    -- touch: at most once per interval, per check's own interval
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_valid) <> now() - interval '30 seconds' THEN
        RAISE EXCEPTION 'FAILED: batch touched within the touch interval';
    END IF;
    PERFORM authgate.daemon_check_sessions(v_valid || v_remember, 7200, ARRAY[10, 2147483647]);
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_valid) <> now()
       OR (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_remember)
          <> now() - interval '30 seconds' THEN
        RAISE EXCEPTION 'FAILED: batch touch (10 s interval touches, passive does not)';
    END IF;

    -- the first use of a dead session is recorded, once
    IF (SELECT count(*) FROM authgate.events WHERE event = 'session_expired'
          AND user_id IN (v_id, v_off)) <> 3
       OR (SELECT count(*) FROM authgate.sessions WHERE dead_use_at IS NOT NULL
             AND token_hash IN (v_idle, v_expired, v_disabled)) <> 3 THEN
        RAISE EXCEPTION 'FAILED: dead sessions used in a batch not recorded';
    END IF;
    PERFORM authgate.daemon_check_sessions(v_idle || v_expired, 7200, ARRAY[60, 60]);
    IF (SELECT count(*) FROM authgate.events WHERE event = 'session_expired'
          AND user_id IN (v_id, v_off)) <> 3 THEN
        RAISE EXCEPTION 'FAILED: a dead session''s use recorded twice';
    END IF;

    -- malformed batches
    PERFORM pg_temp.expect_error(format('SELECT * FROM authgate.daemon_check_sessions(%L::bytea, 7200, ARRAY[60])',
                                        '\x0102'), '22023', 'hashes not 32 bytes each');
    PERFORM pg_temp.expect_error(format('SELECT * FROM authgate.daemon_check_sessions(%L::bytea, 7200, ARRAY[60, 60])',
                                        v_valid), '22023', 'touch intervals not one per hash');
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_sessions(''::bytea, 7200, ARRAY[]::integer[])) THEN
        RAISE EXCEPTION 'FAILED: an empty batch answered';
    END IF;
END
$$;

-- Checks in separate transactions: last_seen really advances.
SELECT set_config('authgate_test.touch_hash', encode(pg_temp.new_token_hash(), 'hex'), false) AS touch_hash \gset
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
BEGIN
    v_id := authgate.create_user('Touch_' || s, 'pw');
    PERFORM authgate.daemon_login_success(v_id, decode(current_setting('authgate_test.touch_hash'), 'hex'),
                                          3600, false, NULL, NULL);
END
$$;
DO $$ BEGIN PERFORM pg_sleep(0.05); END $$;
DO $$
DECLARE
    v_h bytea := decode(current_setting('authgate_test.touch_hash'), 'hex');
    v_before timestamptz := (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_h);
BEGIN
    IF NOT pg_temp.valid(v_h, 7200, 0) THEN
        RAISE EXCEPTION 'FAILED: fresh session rejected';
    END IF;
    IF (SELECT last_seen FROM authgate.sessions WHERE token_hash = v_h) <= v_before THEN
        RAISE EXCEPTION 'FAILED: touch interval 0 did not advance last_seen';
    END IF;
END
$$;

-- Every way of ending sessions.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'End_' || s;
    v_other text := 'Keep_' || s;
    v_id bigint;
    v_other_id bigint;
    v_keep bytea := pg_temp.new_token_hash();
    v_h1 bytea;
    v_h2 bytea;
    v_n integer;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    v_other_id := authgate.create_user(v_other, 'pw');
    PERFORM authgate.daemon_login_success(v_other_id, v_keep, 3600, true, NULL, NULL);

    -- set_password
    v_h1 := pg_temp.new_token_hash();
    PERFORM authgate.daemon_login_success(v_id, v_h1, 3600, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 3600, true, NULL, NULL);
    PERFORM authgate.set_password(upper(v_name), 'another password');
    IF EXISTS (SELECT 1 FROM authgate.sessions WHERE user_id = v_id) OR pg_temp.valid(v_h1) THEN
        RAISE EXCEPTION 'FAILED: set_password left sessions';
    END IF;

    -- set_password_hash
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 3600, false, NULL, NULL);
    PERFORM authgate.set_password_hash(v_name, '$2b$10$' || repeat('z', 53));
    IF EXISTS (SELECT 1 FROM authgate.sessions WHERE user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: set_password_hash left sessions';
    END IF;

    -- revoke_sessions returns the number ended
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 3600, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 3600, true, NULL, NULL);
    v_n := authgate.revoke_sessions(v_name);
    IF v_n <> 2 OR EXISTS (SELECT 1 FROM authgate.sessions WHERE user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: revoke_sessions returned % / left sessions', v_n;
    END IF;
    IF authgate.revoke_sessions(v_name) <> 0 THEN
        RAISE EXCEPTION 'FAILED: revoke_sessions on no sessions';
    END IF;

    -- disable_user; a disabled user cannot get a new session
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 3600, true, NULL, NULL);
    PERFORM authgate.disable_user(v_name);
    IF EXISTS (SELECT 1 FROM authgate.sessions WHERE user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: disable_user left sessions';
    END IF;
    PERFORM pg_temp.expect_error(format('SELECT authgate.daemon_login_success(%s, %L::bytea, 60, false, NULL, NULL)',
                                        v_id, pg_temp.new_token_hash()), 'P0002', 'login of a disabled user');
    PERFORM authgate.enable_user(v_name);

    -- delete_user
    v_h2 := pg_temp.new_token_hash();
    PERFORM authgate.daemon_login_success(v_id, v_h2, 3600, false, NULL, NULL);
    PERFORM authgate.delete_user(v_name);
    IF EXISTS (SELECT 1 FROM authgate.sessions WHERE token_hash = v_h2) THEN
        RAISE EXCEPTION 'FAILED: delete_user left sessions';
    END IF;

    -- the other user was never touched
    IF NOT pg_temp.valid(v_keep) THEN
        RAISE EXCEPTION 'FAILED: another user''s session was ended';
    END IF;
END
$$;

-- daemon_logout: one session, all sessions, unknown token.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Out_' || s;
    v_id bigint;
    v_h1 bytea := pg_temp.new_token_hash();
    v_h2 bytea := pg_temp.new_token_hash();
    v_h3 bytea := pg_temp.new_token_hash();
    v_events integer;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    PERFORM authgate.daemon_login_success(v_id, v_h1, 3600, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, v_h2, 3600, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, v_h3, 3600, true, NULL, NULL);

    IF authgate.daemon_logout(v_h1, false, '203.0.113.9', 'ua') <> 1 THEN
        RAISE EXCEPTION 'FAILED: logout did not return 1';
    END IF;
    IF pg_temp.valid(v_h1) OR NOT pg_temp.valid(v_h2) OR NOT pg_temp.valid(v_h3) THEN
        RAISE EXCEPTION 'FAILED: logout ended the wrong sessions';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'logout' AND user_id = v_id
                      AND username = v_name AND client_addr = '203.0.113.9'::inet) THEN
        RAISE EXCEPTION 'FAILED: logout event missing';
    END IF;

    v_events := (SELECT count(*) FROM authgate.events WHERE user_id = v_id);
    IF authgate.daemon_logout(v_h1, false, NULL, NULL) <> 0
       OR authgate.daemon_logout(v_h1, true, NULL, NULL) <> 0
       OR authgate.daemon_logout(pg_temp.new_token_hash(), true, NULL, NULL) <> 0 THEN
        RAISE EXCEPTION 'FAILED: logout of an unknown token did not return 0';
    END IF;
    IF (SELECT count(*) FROM authgate.events WHERE user_id = v_id) <> v_events THEN
        RAISE EXCEPTION 'FAILED: logout of an unknown token wrote an event';
    END IF;

    IF authgate.daemon_logout(v_h2, true, NULL, NULL) <> 2 THEN
        RAISE EXCEPTION 'FAILED: logout_all did not return 2';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.sessions WHERE user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: logout_all left sessions';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'logout_all' AND user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: logout_all event missing';
    END IF;
END
$$;

-- daemon_login_failure.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Fail_' || s;
    v_id bigint;
    v_first bigint;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    PERFORM authgate.daemon_login_failure(upper(v_name), 'bad_password', '192.0.2.55', 'ua');
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'login_failed' AND user_id = v_id
                      AND username = upper(v_name) AND detail = 'bad_password'
                      AND client_addr = '192.0.2.55'::inet AND user_agent = 'ua') THEN
        RAISE EXCEPTION 'FAILED: login_failed event for a known user';
    END IF;
    PERFORM authgate.daemon_login_failure('Nobody_' || s, 'unknown_user', '', NULL);
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'login_failed' AND user_id IS NULL
                      AND username = 'Nobody_' || s AND detail = 'unknown_user' AND client_addr IS NULL) THEN
        RAISE EXCEPTION 'FAILED: login_failed event for an unknown user';
    END IF;
    -- any string up to 150 bytes, stored as given
    PERFORM authgate.daemon_login_failure(' odd<>"name ' || s || ' ', 'unknown_user', NULL, NULL);
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE username = ' odd<>"name ' || s || ' ') THEN
        RAISE EXCEPTION 'FAILED: failed username not stored as given';
    END IF;
    v_first := (SELECT max(id) FROM authgate.events);
    PERFORM authgate.daemon_login_failure(NULL, 'unknown_user', NULL, NULL);
    PERFORM authgate.daemon_login_failure('', 'unknown_user', NULL, NULL);
    IF (SELECT count(*) FROM authgate.events WHERE id > v_first AND event = 'login_failed'
          AND coalesce(username, '') = '' AND user_id IS NULL) < 2 THEN
        RAISE EXCEPTION 'FAILED: login_failed events for an empty username';
    END IF;
    DELETE FROM authgate.events WHERE id > v_first AND event = 'login_failed'
       AND coalesce(username, '') = '' AND user_id IS NULL;
    DELETE FROM authgate.login_failures WHERE scope = 'addr' AND key = '192.0.2.55';
END
$$;

-- daemon_rehash: compare-and-set, argon2id only, sessions and
-- password_changed_at untouched.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Rehash_' || s;
    v_id bigint;
    v_h bytea := pg_temp.new_token_hash();
    v_old text;
    v_changed timestamptz;
    v_new text := '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$9ZyQ3ZJ3aG9wZWZ1bGx5YW5hcmdvbjJoYXNodmFsdWU';
    v_newer text := '$argon2id$v=19$m=65536,t=3,p=1$b3RoZXJzYWx0b3RoZXI$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNoMTIzNA';
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    UPDATE authgate.users SET password_changed_at = now() - interval '1 day' WHERE id = v_id;
    PERFORM authgate.daemon_login_success(v_id, v_h, 3600, false, NULL, NULL);
    SELECT password_hash, password_changed_at INTO v_old, v_changed FROM authgate.users WHERE id = v_id;

    IF authgate.daemon_rehash(v_id, '$2a$10$' || repeat('q', 53), v_new) THEN
        RAISE EXCEPTION 'FAILED: rehash with a stale old hash succeeded';
    END IF;
    IF authgate.daemon_rehash(v_id, v_old, '$2b$10$' || repeat('w', 53)) THEN
        RAISE EXCEPTION 'FAILED: rehash to bcrypt succeeded';
    END IF;
    IF authgate.daemon_rehash(v_id, v_old, 'plaintext') OR authgate.daemon_rehash(v_id, v_old, NULL)
       OR authgate.daemon_rehash(v_id, v_old, '$argon2id$garbage') THEN
        RAISE EXCEPTION 'FAILED: rehash to garbage succeeded';
    END IF;
    IF authgate.daemon_rehash(-1, v_old, v_new) THEN
        RAISE EXCEPTION 'FAILED: rehash of an unknown user succeeded';
    END IF;
    IF (SELECT password_hash FROM authgate.users WHERE id = v_id) <> v_old THEN
        RAISE EXCEPTION 'FAILED: a refused rehash changed the hash';
    END IF;

    IF NOT authgate.daemon_rehash(v_id, v_old, v_new) THEN
        RAISE EXCEPTION 'FAILED: rehash refused';
    END IF;
    IF (SELECT password_hash FROM authgate.users WHERE id = v_id) <> v_new
       OR (SELECT password_changed_at FROM authgate.users WHERE id = v_id) <> v_changed THEN
        RAISE EXCEPTION 'FAILED: rehash result';
    END IF;
    IF NOT pg_temp.valid(v_h) THEN
        RAISE EXCEPTION 'FAILED: rehash ended the session';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'password_rehashed' AND user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: password_rehashed event missing';
    END IF;
    -- the old hash no longer matches: a second (concurrent) rehash loses
    IF authgate.daemon_rehash(v_id, v_old, v_newer) THEN
        RAISE EXCEPTION 'FAILED: second rehash with the old hash succeeded';
    END IF;
    -- argon2id with old parameters may be upgraded too
    IF NOT authgate.daemon_rehash(v_id, v_new, v_newer) THEN
        RAISE EXCEPTION 'FAILED: argon2id -> argon2id rehash refused';
    END IF;
    -- an operator's set_password between verify and rehash wins
    PERFORM authgate.set_password(v_name, 'operator choice');
    IF authgate.daemon_rehash(v_id, v_newer, v_new) THEN
        RAISE EXCEPTION 'FAILED: rehash overwrote set_password';
    END IF;
END
$$;

-- purge_expired.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
    v_live bytea := pg_temp.new_token_hash();
    v_idle bytea := pg_temp.new_token_hash();
    v_dead bytea := pg_temp.new_token_hash();
    v_n integer;
BEGIN
    v_id := authgate.create_user('Purge_' || s, 'pw');
    PERFORM authgate.daemon_login_success(v_id, v_live, 3600, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, v_idle, 3600, false, NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, v_dead, 3600, false, NULL, NULL);
    UPDATE authgate.sessions SET last_seen = now() - interval '1 day' WHERE token_hash = v_idle;
    UPDATE authgate.sessions SET expires_at = now() - interval '1 second' WHERE token_hash = v_dead;
    v_n := authgate.purge_expired();
    IF v_n < 1 THEN
        RAISE EXCEPTION 'FAILED: purge_expired returned %', v_n;
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.sessions WHERE token_hash = v_dead) THEN
        RAISE EXCEPTION 'FAILED: purge_expired kept an expired session';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.sessions WHERE token_hash = v_live)
       OR NOT EXISTS (SELECT 1 FROM authgate.sessions WHERE token_hash = v_idle) THEN
        RAISE EXCEPTION 'FAILED: purge_expired deleted a session before its absolute expiry';
    END IF;
    IF authgate.daemon_purge_expired(0) < 0 THEN
        RAISE EXCEPTION 'FAILED: daemon_purge_expired';
    END IF;
END
$$;

-- Brute-force throttling shared through the database.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Brute_' || s;
    v_id bigint;
    v_addr text := '10.' || (random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int;
    v_wait integer;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    -- 3 failures per account allowed within 300 s; the address limit is high
    FOR i IN 1..3 LOOP
        IF authgate.daemon_login_throttle(v_name, v_addr, 'ua', 300, 300, 3, 1000) <> 0 THEN
            RAISE EXCEPTION 'FAILED: throttled after % failures', i - 1;
        END IF;
        PERFORM authgate.daemon_login_failure(lower(v_name), 'bad_password', v_addr, 'ua');
    END LOOP;
    v_wait := authgate.daemon_login_throttle(upper(v_name), NULL, 'ua', 300, 300, 3, 1000);
    IF v_wait NOT BETWEEN 299 AND 300 THEN
        RAISE EXCEPTION 'FAILED: account not locked (retry after %)', v_wait;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'login_locked' AND user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: login_locked event missing';
    END IF;
    -- a limit of 0 disables the check
    IF authgate.daemon_login_throttle(v_name, v_addr, 'ua', 300, 300, 0, 0) <> 0 THEN
        RAISE EXCEPTION 'FAILED: limit 0 still throttles';
    END IF;
    -- the address counter is separate
    IF authgate.daemon_login_throttle('Someone_' || s, v_addr, 'ua', 300, 300, 3, 3) = 0 THEN
        RAISE EXCEPTION 'FAILED: address not throttled after 3 failures';
    END IF;
    IF authgate.daemon_login_throttle('Someone_' || s, '10.255.255.254', 'ua', 300, 300, 3, 3) <> 0 THEN
        RAISE EXCEPTION 'FAILED: another address throttled';
    END IF;
    -- the lock ends a window after the last failure
    UPDATE authgate.login_failures SET last_at = now() - interval '301 seconds'
     WHERE scope = 'user' AND key = lower(v_name);
    IF authgate.daemon_login_throttle(v_name, NULL, 'ua', 300, 300, 3, 1000) <> 0 THEN
        RAISE EXCEPTION 'FAILED: lock outlived its window';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.login_failures WHERE scope = 'user' AND key = lower(v_name)) THEN
        RAISE EXCEPTION 'FAILED: stale counter not reset';
    END IF;
    -- a successful login clears the account counter
    PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    PERFORM authgate.daemon_login_success(v_id, pg_temp.new_token_hash(), 60, false, v_addr, NULL);
    IF EXISTS (SELECT 1 FROM authgate.login_failures WHERE scope = 'user' AND key = lower(v_name)) THEN
        RAISE EXCEPTION 'FAILED: login did not clear the account counter';
    END IF;
    DELETE FROM authgate.login_failures WHERE scope = 'addr' AND key = v_addr;
END
$$;

-- Clean up.
CALL pg_temp.clean_up();
\echo test_sessions: ok
