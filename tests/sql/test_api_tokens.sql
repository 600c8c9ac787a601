-- authgate SQL tests: API tokens (create, Bearer check, expiry, revocation).
-- Run: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_api_tokens.sql
\ir lib/prelude.sql

-- What the daemon does with "Authorization: Bearer agt_...": base64url-decode
-- the 43 characters after the prefix and hash the 32 bytes.
CREATE FUNCTION pg_temp.token_hash(p_token text) RETURNS bytea
LANGUAGE plpgsql AS $$
DECLARE
    v_raw bytea;
BEGIN
    IF p_token !~ '^agt_[A-Za-z0-9_-]{43}$' THEN
        RAISE EXCEPTION 'FAILED: token % is not agt_ + 43 base64url characters', p_token;
    END IF;
    v_raw := decode(translate(substr(p_token, 5), '-_', '+/') || '=', 'base64');
    IF octet_length(v_raw) <> 32 THEN
        RAISE EXCEPTION 'FAILED: token decodes to % bytes', octet_length(v_raw);
    END IF;
    RETURN sha256(v_raw);
END
$$;

DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Api_' || s;
    v_id bigint;
    v_token text;
    v_token2 text;
    v_hash bytea;
    v_row record;
    v_tok authgate.api_tokens;
BEGIN
    v_id := authgate.create_user(v_name, 'pw', 'api_' || s || '@example.com');
    PERFORM authgate.grant_role(v_name, 'deploy');
    PERFORM authgate.grant_role(v_name, 'ci');

    v_token := authgate.create_api_token(upper(v_name), 'build server', interval '30 days');
    v_hash := pg_temp.token_hash(v_token);
    SELECT * INTO STRICT v_tok FROM authgate.api_tokens WHERE token_hash = v_hash;
    IF v_tok.user_id <> v_id OR v_tok.name <> 'build server'
       OR v_tok.expires_at <> now() + interval '30 days' OR v_tok.last_used_at IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: api_tokens row %', v_tok;
    END IF;
    -- only the hash is stored
    IF EXISTS (SELECT 1 FROM authgate.api_tokens AS t WHERE t::text LIKE '%' || substr(v_token, 5) || '%') THEN
        RAISE EXCEPTION 'FAILED: the token itself is stored';
    END IF;

    SELECT * INTO STRICT v_row FROM authgate.daemon_check_api_token(v_hash);
    IF v_row.user_id <> v_id OR v_row.username <> v_name OR v_row.email <> 'api_' || s || '@example.com'
       OR v_row.roles <> 'ci,deploy' OR v_row.expires_at <> now() + interval '30 days' THEN
        RAISE EXCEPTION 'FAILED: daemon_check_api_token row %', v_row;
    END IF;
    IF (SELECT last_used_at FROM authgate.api_tokens WHERE token_hash = v_hash) <> now() THEN
        RAISE EXCEPTION 'FAILED: last_used_at not set';
    END IF;
    -- last_used_at is written at most once a minute
    UPDATE authgate.api_tokens SET last_used_at = now() - interval '30 seconds' WHERE token_hash = v_hash;
    PERFORM authgate.daemon_check_api_token(v_hash);
    IF (SELECT last_used_at FROM authgate.api_tokens WHERE token_hash = v_hash) <> now() - interval '30 seconds' THEN
        RAISE EXCEPTION 'FAILED: last_used_at written within a minute';
    END IF;
    UPDATE authgate.api_tokens SET last_used_at = now() - interval '61 seconds' WHERE token_hash = v_hash;
    PERFORM authgate.daemon_check_api_token(v_hash);
    IF (SELECT last_used_at FROM authgate.api_tokens WHERE token_hash = v_hash) <> now() THEN
        RAISE EXCEPTION 'FAILED: last_used_at not refreshed after a minute';
    END IF;

    -- tokens are distinct, never-expiring ones allowed, names unique per user
    v_token2 := authgate.create_api_token(v_name, 'laptop');
    IF v_token2 = v_token THEN
        RAISE EXCEPTION 'FAILED: two identical tokens';
    END IF;
    SELECT * INTO STRICT v_row FROM authgate.daemon_check_api_token(pg_temp.token_hash(v_token2));
    IF v_row.expires_at IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: token without valid_for has an expiry';
    END IF;
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_api_token(%L, %L)', v_name, 'laptop'),
                                 '23505', 'duplicate token name');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_api_token(%L, %L)', v_name, ''),
                                 '22023', 'empty token name');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_api_token(%L, %L)', v_name, repeat('n', 101)),
                                 '22023', 'token name over 100 characters');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_api_token(%L, %L, %L)', v_name, 'neg', '-1 day'),
                                 '22023', 'negative valid_for');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_api_token(%L, %L, %L)', v_name, 'zero', '0'),
                                 '22023', 'zero valid_for');

    -- list_api_tokens: names and dates, never a hash
    IF (SELECT array_agg(t.name ORDER BY t.name) FROM authgate.list_api_tokens(v_name) AS t)
       <> ARRAY['build server', 'laptop'] THEN
        RAISE EXCEPTION 'FAILED: list_api_tokens';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proargnames) AS a(n)
                WHERE p.oid = 'authgate.list_api_tokens(text)'::regprocedure AND a.n LIKE '%hash%')
       OR pg_get_function_result('authgate.list_api_tokens(text)'::regprocedure)
          <> 'TABLE(name text, created_at timestamp with time zone, expires_at timestamp with time zone, last_used_at timestamp with time zone)' THEN
        RAISE EXCEPTION 'FAILED: list_api_tokens result columns: %',
            pg_get_function_result('authgate.list_api_tokens(text)'::regprocedure);
    END IF;

    -- unknown, mangled and expired tokens are rejected
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(sha256(convert_to(v_token, 'UTF8'))))
       OR EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(sha256(decode(repeat('00', 32), 'hex'))))
       OR EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(NULL)) THEN
        RAISE EXCEPTION 'FAILED: an unknown token was accepted';
    END IF;
    UPDATE authgate.api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = v_hash;
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_hash)) THEN
        RAISE EXCEPTION 'FAILED: expired token accepted';
    END IF;
    UPDATE authgate.api_tokens SET expires_at = now() WHERE token_hash = v_hash;
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_hash)) THEN
        RAISE EXCEPTION 'FAILED: token accepted at its expiry instant';
    END IF;
    IF authgate.purge_expired() < 1 THEN
        RAISE EXCEPTION 'FAILED: purge_expired deleted nothing';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.api_tokens WHERE token_hash = v_hash) THEN
        RAISE EXCEPTION 'FAILED: purge_expired kept an expired token';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.api_tokens WHERE name = 'laptop' AND user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: purge_expired deleted a token without expiry';
    END IF;

    -- disabled users' tokens are rejected, and work again once enabled
    v_hash := pg_temp.token_hash(v_token2);
    PERFORM authgate.disable_user(v_name);
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_hash)) THEN
        RAISE EXCEPTION 'FAILED: token of a disabled user accepted';
    END IF;
    PERFORM authgate.enable_user(v_name);
    IF NOT EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_hash)) THEN
        RAISE EXCEPTION 'FAILED: token rejected after enable_user';
    END IF;

    -- revocation
    IF NOT authgate.revoke_api_token(v_name, 'laptop') THEN
        RAISE EXCEPTION 'FAILED: revoke_api_token returned false';
    END IF;
    IF authgate.revoke_api_token(v_name, 'laptop') THEN
        RAISE EXCEPTION 'FAILED: second revoke_api_token returned true';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.daemon_check_api_token(v_hash)) THEN
        RAISE EXCEPTION 'FAILED: revoked token accepted';
    END IF;
    -- the name can be reused after revocation
    PERFORM authgate.create_api_token(v_name, 'laptop', interval '1 hour');

    IF NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'api_token_created' AND user_id = v_id AND detail = 'build server')
       OR NOT EXISTS (SELECT 1 FROM authgate.events WHERE event = 'api_token_revoked' AND user_id = v_id AND detail = 'laptop') THEN
        RAISE EXCEPTION 'FAILED: api token events';
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.events AS e WHERE e.user_id = v_id
                AND (e::text LIKE '%' || substr(v_token, 5) || '%' OR e::text LIKE '%' || substr(v_token2, 5) || '%'
                     OR e::text LIKE '%' || encode(pg_temp.token_hash(v_token), 'hex') || '%')) THEN
        RAISE EXCEPTION 'FAILED: an event holds a token or its hash';
    END IF;

    -- deleting the user deletes its tokens
    PERFORM authgate.delete_user(v_name);
    IF EXISTS (SELECT 1 FROM authgate.api_tokens WHERE user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: tokens survived delete_user';
    END IF;
END
$$;

-- Clean up.
CALL pg_temp.clean_up();
\echo test_api_tokens: ok
