-- authgate SQL tests: users, usernames, passwords, hashes, emails, roles.
-- Run: psql -X -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -f tests/sql/test_users.sql
-- against a database where sql/install.sql was applied (as a superuser).
-- Every name ends with a random suffix, so tests can run concurrently.
\ir lib/prelude.sql

-- pgcrypto's crypt(), wherever the extension lives.
CREATE FUNCTION pg_temp.pgcrypto_crypt(p_password text, p_salt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_schema text;
    v_result text;
BEGIN
    SELECT n.nspname INTO STRICT v_schema FROM pg_extension e
      JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto';
    EXECUTE format('SELECT %I.crypt($1, $2)', v_schema) INTO v_result USING p_password, p_salt;
    RETURN v_result;
END
$$;

-- create_user: bcrypt hash that crypt() verifies; case-insensitive uniqueness.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Alice_' || s;
    v_id bigint;
    v_user authgate.users;
BEGIN
    v_id := authgate.create_user(v_name, 'correct horse', 'Alice_' || s || '@Example.com');
    SELECT * INTO STRICT v_user FROM authgate.users WHERE id = v_id;
    IF v_user.username <> v_name THEN
        RAISE EXCEPTION 'FAILED: username stored as %, expected %', v_user.username, v_name;
    END IF;
    IF v_user.password_hash !~ '^\$2[ab]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' THEN
        RAISE EXCEPTION 'FAILED: create_user did not store a bcrypt hash: %', left(v_user.password_hash, 7);
    END IF;
    IF pg_temp.pgcrypto_crypt('correct horse', v_user.password_hash) <> v_user.password_hash THEN
        RAISE EXCEPTION 'FAILED: bcrypt hash from create_user does not verify with crypt()';
    END IF;
    IF pg_temp.pgcrypto_crypt('wrong horse', v_user.password_hash) = v_user.password_hash THEN
        RAISE EXCEPTION 'FAILED: bcrypt hash verifies a wrong password';
    END IF;
    IF v_user.disabled OR v_user.created_at IS NULL OR v_user.password_changed_at IS NULL THEN
        RAISE EXCEPTION 'FAILED: new user row has wrong defaults';
    END IF;

    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', upper(v_name), 'pw'),
                                 '23505', 'create_user with an upper-case duplicate');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', lower(v_name), 'pw'),
                                 '23505', 'create_user with a lower-case duplicate');
    PERFORM pg_temp.expect_error(
        format('SELECT authgate.create_user_with_hash(%L, %L)', upper(v_name), v_user.password_hash),
        '23505', 'create_user_with_hash with a case-variant duplicate');
    -- the table itself enforces it too
    PERFORM pg_temp.expect_error(
        format('INSERT INTO authgate.users (username, password_hash) VALUES (%L, %L)',
               upper(v_name), v_user.password_hash),
        '23505', 'direct INSERT of a case-variant duplicate');
    -- emails are unique case-insensitively
    PERFORM pg_temp.expect_error(
        format('SELECT authgate.create_user(%L, %L, %L)', 'Other_' || s, 'pw', upper('Alice_' || s || '@example.com')),
        '23505', 'duplicate email in another case');

    -- lookups are case-insensitive
    IF (SELECT count(*) FROM authgate.daemon_user_for_login(upper(v_name))) <> 1 THEN
        RAISE EXCEPTION 'FAILED: daemon_user_for_login is not case-insensitive';
    END IF;
    PERFORM authgate.grant_role(upper(v_name), 'viewer');
    IF NOT EXISTS (SELECT 1 FROM authgate.user_roles WHERE user_id = v_id AND role = 'viewer') THEN
        RAISE EXCEPTION 'FAILED: grant_role with an upper-case username';
    END IF;
END
$$;

-- Non-ASCII case folding and NFC normalization.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
BEGIN
    -- 'é' decomposed (e + U+0301) is stored composed and found either way
    v_id := authgate.create_user(E'Re\u0301my_' || s, 'pw');
    IF (SELECT username FROM authgate.users WHERE id = v_id) <> E'R\u00e9my_' || s THEN
        RAISE EXCEPTION 'FAILED: username not stored in NFC';
    END IF;
    IF (SELECT user_id FROM authgate.daemon_user_for_login(E'R\u00e9my_' || s)) IS DISTINCT FROM v_id
       OR (SELECT user_id FROM authgate.daemon_user_for_login(E'Re\u0301my_' || s)) IS DISTINCT FROM v_id THEN
        RAISE EXCEPTION 'FAILED: lookup does not normalize to NFC';
    END IF;
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', E'R\u00e9my_' || s, 'pw'),
                                 '23505', 'NFC duplicate of a decomposed username');
    -- Only where the database locale folds non-ASCII letters (not in a "C" locale).
    IF lower(E'\u00c9') = E'\u00e9' THEN
        PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', E'R\u00c9MY_' || s, 'pw'),
                                     '23505', 'non-ASCII case-variant duplicate');
        IF (SELECT user_id FROM authgate.daemon_user_for_login(E'R\u00c9MY_' || s)) IS DISTINCT FROM v_id THEN
            RAISE EXCEPTION 'FAILED: non-ASCII case-insensitive lookup';
        END IF;
    END IF;
END
$$;

-- Username validation: control characters, outer spaces, length.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_bad text;
    v_hash text := '$2b$10$' || repeat('a', 53);
BEGIN
    FOREACH v_bad IN ARRAY ARRAY[
        E'ctl\u0001_' || s, E'tab\t_' || s, E'nl\n_' || s, E'cr\r_' || s, E'esc\u001b_' || s,
        E'del\u007f_' || s, E'c1\u0080_' || s, E'nel\u0085_' || s, E'c1\u009f_' || s,
        ' lead_' || s, 'trail_' || s || ' ', E'\u00a0nbsp_' || s, 'nbsp_' || s || E'\u00a0',
        E'\u3000ideo_' || s, '']
    LOOP
        PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', v_bad, 'pw'),
                                     '22023', format('create_user(%L)', v_bad));
        PERFORM pg_temp.expect_error(format('SELECT authgate.create_user_with_hash(%L, %L)', v_bad, v_hash),
                                     '22023', format('create_user_with_hash(%L)', v_bad));
        -- the CHECK constraints are the backstop for direct writes
        IF v_bad <> '' THEN
            PERFORM pg_temp.expect_error(
                format('INSERT INTO authgate.users (username, password_hash) VALUES (%L, %L)', v_bad, v_hash),
                '23514', format('direct INSERT of %L', v_bad));
        END IF;
    END LOOP;
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(NULL, %L)', 'pw'),
                                 '22023', 'NULL username');
    -- inner spaces and non-ASCII letters are fine
    PERFORM authgate.create_user('Jane Doe_' || s, 'pw');
    -- 150 bytes is the limit (bytes, not characters)
    PERFORM authgate.create_user(rpad('L_' || s, 150, 'x'), 'pw');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', rpad('M_' || s, 151, 'x'), 'pw'),
                                 '22023', '151-byte username');
    PERFORM authgate.create_user('E_' || s || repeat(E'\u00e9', (150 - 12) / 2), 'pw');
    PERFORM pg_temp.expect_error(
        format('SELECT authgate.create_user(%L, %L)', 'F_' || s || repeat(E'\u00e9', (150 - 12) / 2 + 1), 'pw'),
        '22023', 'username over 150 bytes in multi-byte characters');
END
$$;

-- Passwords and hashes.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_argon text := '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG0123456789A';
    v_id bigint;
BEGIN
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', 'P1_' || s, ''),
                                 '22023', 'empty password');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, NULL)', 'P1_' || s),
                                 '22023', 'NULL password');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', 'P1_' || s, repeat('p', 1025)),
                                 '22023', 'password over 1024 bytes');
    -- bcrypt reads only 72 bytes: refused rather than truncated
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L)', 'P1_' || s, repeat('p', 73)),
                                 '22023', 'password over 72 bytes for bcrypt');
    v_id := authgate.create_user('P1_' || s, repeat('p', 72));
    IF pg_temp.pgcrypto_crypt(repeat('p', 72), (SELECT password_hash FROM authgate.users WHERE id = v_id))
       <> (SELECT password_hash FROM authgate.users WHERE id = v_id) THEN
        RAISE EXCEPTION 'FAILED: 72-byte password does not verify';
    END IF;

    -- create_user_with_hash accepts argon2id and bcrypt, nothing else
    v_id := authgate.create_user_with_hash('H1_' || s, v_argon);
    IF (SELECT password_hash FROM authgate.users WHERE id = v_id) <> v_argon THEN
        RAISE EXCEPTION 'FAILED: create_user_with_hash did not store the hash as given';
    END IF;
    PERFORM authgate.create_user_with_hash('H2_' || s, '$2a$10$' || repeat('b', 53));
    PERFORM authgate.create_user_with_hash('H3_' || s, '$2b$12$' || repeat('c', 53));
    PERFORM authgate.create_user_with_hash('H4_' || s, '$2y$10$' || repeat('d', 53));
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user_with_hash(%L, %L)', 'H5_' || s, 'secret'),
                                 '22023', 'plain text as a hash');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user_with_hash(%L, %L)', 'H5_' || s,
                                        '$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
                                 '22023', 'argon2i hash');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user_with_hash(%L, %L)', 'H5_' || s,
                                        '$1$saltsalt$abcdefghijklmnopqrstuv'),
                                 '22023', 'md5-crypt hash');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user_with_hash(%L, %L)', 'H5_' || s, ''),
                                 '22023', 'empty hash');
    PERFORM pg_temp.expect_error(format('SELECT authgate.set_password_hash(%L, %L)', 'H1_' || s, 'nope'),
                                 '22023', 'set_password_hash with a bad hash');
    PERFORM pg_temp.expect_error(format('SELECT authgate.set_password(%L, %L)', 'H1_' || s, ''),
                                 '22023', 'set_password with an empty password');
    PERFORM pg_temp.expect_error(format('SELECT authgate.set_password(%L, %L)', 'H1_' || s, repeat('x', 1025)),
                                 '22023', 'set_password with a password over 1024 bytes');

    -- set_password replaces the hash and moves password_changed_at
    UPDATE authgate.users SET password_changed_at = now() - interval '1 day' WHERE id = v_id;
    PERFORM authgate.set_password('h1_' || s, 'new password');
    IF pg_temp.pgcrypto_crypt('new password', (SELECT password_hash FROM authgate.users WHERE id = v_id))
       <> (SELECT password_hash FROM authgate.users WHERE id = v_id) THEN
        RAISE EXCEPTION 'FAILED: set_password hash does not verify';
    END IF;
    IF (SELECT password_changed_at FROM authgate.users WHERE id = v_id) < now() THEN
        RAISE EXCEPTION 'FAILED: set_password did not update password_changed_at';
    END IF;
    PERFORM authgate.set_password_hash('H1_' || s, v_argon);
    IF (SELECT password_hash FROM authgate.users WHERE id = v_id) <> v_argon THEN
        RAISE EXCEPTION 'FAILED: set_password_hash did not store the hash';
    END IF;
END
$$;

-- Emails.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
BEGIN
    v_id := authgate.create_user('Mail0_' || s, 'pw', '');
    IF (SELECT email FROM authgate.users WHERE id = v_id) IS NOT NULL THEN
        RAISE EXCEPTION 'FAILED: empty email not stored as NULL';
    END IF;
    PERFORM authgate.create_user('Mail1_' || s, 'pw');   -- several users without email
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L, %L)', 'Mail2_' || s, 'pw', 'no-at-sign'),
                                 '22023', 'email without @');
    PERFORM pg_temp.expect_error(format('SELECT authgate.create_user(%L, %L, %L)', 'Mail2_' || s, 'pw',
                                        E'a@b\r\nX-Auth-Roles: admin'),
                                 '22023', 'email with CR LF');
END
$$;

-- Unknown usernames raise no_data_found with a clear message.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_ghost text := 'ghost_' || s;
    v_sql text;
    v_msg text;
BEGIN
    FOREACH v_sql IN ARRAY ARRAY[
        'SELECT authgate.set_password(%L, ''pw'')',
        'SELECT authgate.set_password_hash(%L, ''$2b$10$' || repeat('a', 53) || ''')',
        'SELECT authgate.disable_user(%L)',
        'SELECT authgate.enable_user(%L)',
        'SELECT authgate.delete_user(%L)',
        'SELECT authgate.grant_role(%L, ''admin'')',
        'SELECT authgate.revoke_role(%L, ''admin'')',
        'SELECT authgate.revoke_sessions(%L)',
        'SELECT authgate.create_api_token(%L, ''t'')',
        'SELECT authgate.revoke_api_token(%L, ''t'')',
        'SELECT * FROM authgate.list_api_tokens(%L)']
    LOOP
        PERFORM pg_temp.expect_error(format(v_sql, v_ghost), 'P0002', format(v_sql, v_ghost));
    END LOOP;
    BEGIN
        PERFORM authgate.disable_user(v_ghost);
    EXCEPTION WHEN no_data_found THEN
        GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT;
    END;
    IF v_msg <> format('authgate: no user named "%s"', v_ghost) THEN
        RAISE EXCEPTION 'FAILED: unexpected message for an unknown user: %', v_msg;
    END IF;
    IF EXISTS (SELECT 1 FROM authgate.daemon_user_for_login(v_ghost)) THEN
        RAISE EXCEPTION 'FAILED: daemon_user_for_login returned a row for an unknown user';
    END IF;
END
$$;

-- Roles: idempotent grant/revoke, name validation, sorted comma list.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Roles_' || s;
    v_id bigint;
    v_bad text;
BEGIN
    v_id := authgate.create_user(v_name, 'pw');
    PERFORM authgate.grant_role(v_name, 'editor');
    PERFORM authgate.grant_role(v_name, 'editor');
    PERFORM authgate.grant_role(v_name, 'Admin');
    PERFORM authgate.grant_role(v_name, 'app:read-only.v2');
    IF (SELECT count(*) FROM authgate.user_roles WHERE user_id = v_id) <> 3 THEN
        RAISE EXCEPTION 'FAILED: grant_role is not idempotent';
    END IF;
    IF (SELECT count(*) FROM authgate.events WHERE user_id = v_id AND event = 'role_granted' AND detail = 'editor') <> 1 THEN
        RAISE EXCEPTION 'FAILED: role_granted event missing or repeated';
    END IF;
    PERFORM authgate.daemon_login_success(v_id, sha256(convert_to('roles' || s, 'UTF8')), 60, false, NULL, NULL);
    IF (SELECT roles FROM authgate.daemon_check_session(sha256(convert_to('roles' || s, 'UTF8')), 60, 60))
       <> 'Admin,app:read-only.v2,editor' THEN
        RAISE EXCEPTION 'FAILED: roles not sorted/joined: %',
            (SELECT roles FROM authgate.daemon_check_session(sha256(convert_to('roles' || s, 'UTF8')), 60, 60));
    END IF;
    FOREACH v_bad IN ARRAY ARRAY['', 'a b', 'a,b', 'caf' || E'\u00e9', repeat('r', 65), E'x\ny']
    LOOP
        PERFORM pg_temp.expect_error(format('SELECT authgate.grant_role(%L, %L)', v_name, v_bad),
                                     '22023', format('grant_role(%L)', v_bad));
    END LOOP;
    PERFORM authgate.grant_role(v_name, repeat('r', 64));
    PERFORM authgate.revoke_role(v_name, 'editor');
    PERFORM authgate.revoke_role(v_name, 'editor');
    PERFORM authgate.revoke_role(v_name, 'never-granted');
    IF EXISTS (SELECT 1 FROM authgate.user_roles WHERE user_id = v_id AND role = 'editor') THEN
        RAISE EXCEPTION 'FAILED: revoke_role';
    END IF;
    IF (SELECT count(*) FROM authgate.events WHERE user_id = v_id AND event = 'role_revoked') <> 1
       OR NOT EXISTS (SELECT 1 FROM authgate.events WHERE user_id = v_id AND event = 'role_revoked' AND detail = 'editor') THEN
        RAISE EXCEPTION 'FAILED: role_revoked event missing or repeated';
    END IF;
END
$$;

-- disable / enable / delete.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_name text := 'Life_' || s;
    v_id bigint;
BEGIN
    v_id := authgate.create_user(v_name, 'pw', 'life_' || s || '@example.com');
    PERFORM authgate.disable_user(upper(v_name));
    IF NOT (SELECT disabled FROM authgate.daemon_user_for_login(v_name)) THEN
        RAISE EXCEPTION 'FAILED: disable_user';
    END IF;
    PERFORM authgate.enable_user(v_name);
    IF (SELECT disabled FROM authgate.users WHERE id = v_id) THEN
        RAISE EXCEPTION 'FAILED: enable_user';
    END IF;
    PERFORM authgate.grant_role(v_name, 'admin');
    PERFORM authgate.create_api_token(v_name, 'ci');
    PERFORM authgate.daemon_login_success(v_id, sha256(convert_to('life' || s, 'UTF8')), 3600, false, NULL, NULL);
    PERFORM authgate.delete_user(lower(v_name));
    IF EXISTS (SELECT 1 FROM authgate.users WHERE id = v_id)
       OR EXISTS (SELECT 1 FROM authgate.user_roles WHERE user_id = v_id)
       OR EXISTS (SELECT 1 FROM authgate.api_tokens WHERE user_id = v_id)
       OR EXISTS (SELECT 1 FROM authgate.sessions WHERE user_id = v_id) THEN
        RAISE EXCEPTION 'FAILED: delete_user left rows behind';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM authgate.events
                    WHERE event = 'user_deleted' AND user_id = v_id AND username = v_name) THEN
        RAISE EXCEPTION 'FAILED: user_deleted event lacks user_id/username';
    END IF;
    -- the name is free again
    PERFORM authgate.create_user(v_name, 'pw');
END
$$;

-- updated_at follows changes made outside the functions too.
DO $$
DECLARE
    s text := current_setting('authgate_test.sfx');
    v_id bigint;
BEGIN
    v_id := authgate.create_user('Upd_' || s, 'pw');
    UPDATE authgate.users SET updated_at = now() - interval '1 hour' WHERE id = v_id;
    IF (SELECT updated_at FROM authgate.users WHERE id = v_id) <> now() THEN
        RAISE EXCEPTION 'FAILED: updated_at trigger';
    END IF;
END
$$;

-- Clean up.
CALL pg_temp.clean_up();
\echo test_users: ok
