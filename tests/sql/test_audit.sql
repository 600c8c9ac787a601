-- authgate SQL tests: audit retention (purge_expired's audit_retention and
-- the daemon's --audit-retention days) and the events for the use of dead
-- tokens (an expired session, an expired or disabled user's API token).
-- Run: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_audit.sql
\ir lib/prelude.sql

-- Retention.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_old text := 'AuditOld_' || s;
    v_recent text := 'AuditRecent_' || s;
BEGIN
    INSERT INTO authgate.events (at, event, username) VALUES
        (now() - interval '100 days', 'test_event', v_old),
        (now() - interval '10 days', 'test_event', v_recent);
    PERFORM authgate.purge_expired();
    PERFORM authgate.daemon_purge_expired(0);
    IF (SELECT count(*) FROM authgate.events WHERE username IN (v_old, v_recent)) <> 2 THEN
        RAISE EXCEPTION 'FAILED: purge without a retention deleted events';
    END IF;
    IF authgate.purge_expired(interval '90 days') < 1 THEN
        RAISE EXCEPTION 'FAILED: purge_expired(90 days) reported nothing deleted';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.events WHERE username = v_old)
       OR NOT EXISTS (SELECT 1 FROM authgate.events WHERE username = v_recent) THEN
        RAISE EXCEPTION 'FAILED: a 90-day retention kept the 100-day-old event or lost the 10-day-old one';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'events_purged'
                    AND at > now() - interval '1 minute' AND detail LIKE 'rows=%') THEN
        RAISE EXCEPTION 'FAILED: no events_purged event';
    END IF;
    -- the daemon's form, in days
    PERFORM authgate.daemon_purge_expired(5);
    IF EXISTS (SELECT 1 FROM authgate.events WHERE username = v_recent) THEN
        RAISE EXCEPTION 'FAILED: daemon_purge_expired(5) kept a 10-day-old event';
    END IF;
    PERFORM pg_temp.expect_error('SELECT authgate.purge_expired(interval ''-1 day'')',
                                 '22023', 'a negative retention');
END
$$;

-- An expired session's cookie: refused and recorded once per session.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'DeadSession_' || s;
    v_id bigint;
    v_idle bytea := sha256(convert_to('idle-' || s, 'UTF8'));
    v_life bytea := sha256(convert_to('life-' || s, 'UTF8'));
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    PERFORM authgate.daemon_login_success(v_id, v_idle, 3600, false, '192.0.2.5', 'ua');
    PERFORM authgate.daemon_login_success(v_id, v_life, 3600, true, '192.0.2.5', 'ua');
    UPDATE authgate.sessions SET last_seen = now() - interval '2 hours' WHERE token_hash = v_idle;
    UPDATE authgate.sessions SET expires_at = now() - interval '1 second' WHERE token_hash = v_life;
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_session(v_idle, 600, 30))
       OR EXISTS (SELECT 1 FROM authgate.daemon_check_session(v_life, 600, 30)) THEN
        RAISE EXCEPTION 'FAILED: an expired session was accepted';
    END IF;
    IF (SELECT array_agg(detail ORDER BY id) FROM authgate.events
         WHERE event = 'session_expired' AND user_id = v_id)
       IS DISTINCT FROM ARRAY['used_after=idle', 'used_after=lifetime'] THEN
        RAISE EXCEPTION 'FAILED: session_expired events %',
            (SELECT array_agg(detail ORDER BY id) FROM authgate.events
              WHERE event = 'session_expired' AND user_id = v_id);
    END IF;
    -- used again: nothing more recorded
    PERFORM authgate.daemon_check_session(v_idle, 600, 30);
    IF (SELECT count(*) FROM authgate.events WHERE event = 'session_expired' AND user_id = v_id) <> 2 THEN
        RAISE EXCEPTION 'FAILED: a second use of a dead session was recorded again';
    END IF;
END
$$;

-- API tokens: expired, or of a disabled user; at most one event a minute.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'DeadToken_' || s;
    v_id bigint;
    v_expired bytea;
    v_live bytea;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    PERFORM authgate.create_api_token(v_name, 'old', interval '1 day');
    PERFORM authgate.create_api_token(v_name, 'live', interval '1 day');
    UPDATE authgate.api_tokens SET expires_at = now() - interval '1 second'
     WHERE user_id = v_id AND name = 'old'
    RETURNING token_hash INTO v_expired;
    SELECT token_hash INTO v_live FROM authgate.api_tokens WHERE user_id = v_id AND name = 'live';
    IF NOT EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_live)) THEN
        RAISE EXCEPTION 'FAILED: a live token was refused';
    END IF;
    FOR i IN 1..3 LOOP
        IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_expired)) THEN
            RAISE EXCEPTION 'FAILED: an expired token was accepted';
        END IF;
    END LOOP;
    PERFORM authgate.disable_user(v_name);
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_live)) THEN
        RAISE EXCEPTION 'FAILED: a disabled user''s token was accepted';
    END IF;
    IF (SELECT array_agg(detail ORDER BY id) FROM authgate.events
         WHERE event = 'api_token_refused' AND user_id = v_id)
       IS DISTINCT FROM ARRAY['expired token=old', 'user_disabled token=live'] THEN
        RAISE EXCEPTION 'FAILED: api_token_refused events %',
            (SELECT array_agg(detail ORDER BY id) FROM authgate.events
              WHERE event = 'api_token_refused' AND user_id = v_id);
    END IF;
    -- an unknown token records nothing
    PERFORM authgate.daemon_check_api_token(sha256(convert_to('nothing-' || s, 'UTF8')));
    IF EXISTS (SELECT 1 FROM authgate.events WHERE event = 'api_token_refused'
                AND at > now() - interval '1 minute' AND user_id IS NULL) THEN
        RAISE EXCEPTION 'FAILED: an unknown token was recorded';
    END IF;
END
$$;

CALL pg_temp.clean_up();
\echo test_audit: ok
