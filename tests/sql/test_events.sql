-- authgate SQL tests: the audit trail in authgate.events. Every operator and
-- daemon action leaves the right event, and no event (nor any table) holds a
-- password, a token or a hash.
-- Run: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_events.sql
\ir lib/prelude.sql

DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Audit_' || s;
    v_pw1 text := 'Pw1-' || s || '-s3cret!';
    v_pw2 text := 'Pw2-' || s || '-hunter2';
    v_argon text := '$argon2id$v=19$m=19456,t=2,p=1$YXVkaXRzYWx0YXVkaXQ$' || s || 'YXVkaXRoYXNoYXVkaXRoYXNoYXVkaXQ';
    v_id bigint;
    v_hashes text[] := '{}';
    v_session bytea := sha256(convert_to('session-' || s, 'UTF8'));
    v_token text;
    v_got text[];
    v_want text[] := ARRAY[
        'user_created', 'role_granted', 'role_revoked', 'login_failed', 'login',
        'password_rehashed', 'api_token_created', 'api_token_revoked', 'logout',
        'password_changed', 'password_changed', 'sessions_revoked', 'user_disabled',
        'user_enabled', 'login_failed', 'login_locked', 'user_deleted'];
    v_secret text;
BEGIN
    v_id := authgate.create_user(v_name, v_pw1, 'audit_' || s || '@example.com');
    v_hashes := v_hashes || (SELECT password_hash FROM authgate.users WHERE id = v_id);
    PERFORM authgate.grant_role(v_name, 'auditor');
    PERFORM authgate.grant_role(v_name, 'auditor');          -- no second event
    PERFORM authgate.revoke_role(v_name, 'auditor');
    PERFORM authgate.revoke_role(v_name, 'auditor');         -- no second event
    PERFORM authgate.daemon_login_failure(v_name, 'bad_password', '192.0.2.1', 'test-agent');
    PERFORM authgate.daemon_login_success(v_id, v_session, 600, false, '192.0.2.1', 'test-agent');
    PERFORM authgate.daemon_rehash(v_id, v_hashes[1], v_argon);
    v_token := authgate.create_api_token(v_name, 'audit token');
    PERFORM authgate.revoke_api_token(v_name, 'audit token');
    PERFORM authgate.revoke_api_token(v_name, 'audit token'); -- no second event
    PERFORM authgate.daemon_logout(v_session, false, '192.0.2.1', 'test-agent');
    PERFORM authgate.daemon_logout(v_session, false, '192.0.2.1', 'test-agent'); -- unknown: no event
    PERFORM authgate.set_password(v_name, v_pw2);
    v_hashes := v_hashes || (SELECT password_hash FROM authgate.users WHERE id = v_id);
    PERFORM authgate.set_password_hash(v_name, v_argon);
    PERFORM authgate.revoke_sessions(v_name);
    PERFORM authgate.disable_user(v_name);
    PERFORM authgate.enable_user(v_name);
    PERFORM authgate.daemon_login_failure(v_name, 'bad_password', NULL, NULL);
    IF authgate.daemon_login_throttle(v_name, NULL, NULL, 60, 60, 1, 0) = 0 THEN
        RAISE EXCEPTION 'FAILED: throttle did not lock';
    END IF;
    PERFORM authgate.delete_user(v_name);
    DELETE FROM authgate.login_failures WHERE scope = 'user' AND key = lower(v_name);

    -- events of this user, in order; login_failed events with its name as
    -- typed are included (the user_id is filled in while the user exists)
    SELECT array_agg(e.event ORDER BY e.id) INTO v_got FROM authgate.events AS e WHERE e.user_id = v_id;
    IF v_got IS DISTINCT FROM v_want THEN
        RAISE EXCEPTION 'FAILED: events %, expected %', v_got, v_want;
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.events AS e WHERE e.user_id = v_id
                AND (e.username IS DISTINCT FROM v_name OR e.at IS NULL OR e.actor IS NULL)) THEN
        RAISE EXCEPTION 'FAILED: events with a wrong username, time or actor';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events AS e WHERE e.user_id = v_id AND e.event = 'login'
                      AND e.client_addr = '192.0.2.1'::inet AND e.user_agent = 'test-agent') THEN
        RAISE EXCEPTION 'FAILED: login event without client address / user agent';
    END IF;
    IF (SELECT e.detail FROM authgate.events AS e WHERE e.user_id = v_id AND e.event = 'login_failed'
         ORDER BY e.id LIMIT 1) <> 'bad_password' THEN
        RAISE EXCEPTION 'FAILED: login_failed detail is not the reason';
    END IF;
    IF (SELECT e.detail FROM authgate.events AS e WHERE e.user_id = v_id AND e.event = 'role_granted') <> 'auditor'
       OR (SELECT e.detail FROM authgate.events AS e WHERE e.user_id = v_id AND e.event = 'api_token_created') <> 'audit token' THEN
        RAISE EXCEPTION 'FAILED: event details';
    END IF;

    -- events outlive the user (no foreign key)
    IF EXISTS (SELECT 1 FROM authgate.users WHERE id = v_id) THEN
        RAISE EXCEPTION 'FAILED: user not deleted';
    END IF;

    -- no secret anywhere in the events, nor in any authgate table
    v_secret := NULL;
    SELECT x INTO v_secret
      FROM unnest(ARRAY[v_pw1, v_pw2, v_argon, substr(v_token, 5), encode(v_session, 'hex'),
                        encode(sha256(decode(translate(substr(v_token, 5), '-_', '+/') || '=', 'base64')), 'hex')]
                  || v_hashes) AS x
     WHERE EXISTS (SELECT 1 FROM authgate.events AS e
                    WHERE strpos(e::text, x) > 0 OR strpos(e::text, replace(x, '\', '\\')) > 0);
    IF v_secret IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: an event holds a secret (%...)', left(v_secret, 6);
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.users AS u WHERE strpos(u::text, v_pw1) > 0 OR strpos(u::text, v_pw2) > 0)
       OR EXISTS (SELECT 1 FROM authgate.sessions AS t WHERE strpos(t::text, v_pw1) > 0)
       OR EXISTS (SELECT 1 FROM authgate.login_failures AS f WHERE strpos(f::text, v_pw1) > 0) THEN
        RAISE EXCEPTION 'FAILED: a password is stored in clear';
    END IF;
END
$$;

-- The events table has no column for secrets and no foreign key.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = 'authgate' AND table_name = 'events'
                  AND (column_name LIKE '%password%' OR column_name LIKE '%hash%' OR column_name LIKE '%token%')) THEN
        RAISE EXCEPTION 'FAILED: events has a column for secrets';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'authgate.events'::regclass AND contype = 'f') THEN
        RAISE EXCEPTION 'FAILED: events has a foreign key';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = 'authgate.events'::regclass AND a.attname = 'at') THEN
        RAISE EXCEPTION 'FAILED: no index on events.at';
    END IF;
END
$$;

-- Clean up.
CALL pg_temp.clean_up('192.0.2.1');
\echo test_events: ok
