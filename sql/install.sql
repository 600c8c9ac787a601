-- authgate database schema: install or upgrade.
--
--   psql -X -v ON_ERROR_STOP=1 -d DBNAME -f sql/install.sql
--
-- Run it as a superuser, or as the database owner if the roles below already
-- exist (creating them needs CREATEROLE) and pgcrypto is installed or may be
-- created by the owner (pgcrypto is a trusted extension). Every object belongs
-- to whoever runs the install.
--
-- The file is plain SQL (no psql meta-commands), so any client that can send
-- a multi-statement script works too. It is:
--   * transactional: one BEGIN ... COMMIT, all or nothing;
--   * serialized: a transaction-level advisory lock makes two concurrent
--     installs on the same database run one after the other;
--   * versioned and idempotent: each migration is a DO block guarded by its
--     version number in authgate.schema_migrations, so running the file again
--     changes nothing. To change the schema later, append a new guarded block
--     ("version 2") before the COMMIT and never edit an applied one.
--
-- Requirements: PostgreSQL 13 or later (15 is the supported version) and a
-- UTF8 database (usernames are Unicode, compared case-insensitively and in
-- NFC). Case folding of non-ASCII letters follows the database's LC_CTYPE
-- (C.UTF-8 or en_US.UTF-8 fold them; a "C" locale folds ASCII only).
--
-- Roles (cluster-wide, created only when missing, both NOLOGIN):
--   authgate_daemon  what the daemon runs as. It can execute the daemon_*
--                    functions and schema_version() and nothing else: no
--                    table privilege at all. Give it a way to log in, either
--                      ALTER ROLE authgate_daemon LOGIN PASSWORD '...';
--                    or, better, a separate login role that is a member:
--                      CREATE ROLE authgate_app LOGIN PASSWORD '...'
--                        IN ROLE authgate_daemon;
--   authgate_admin   for operators who are not superusers: it can execute the
--                    user-management functions below and read the tables,
--                    except password hashes, token hashes and the secret.
--                      GRANT authgate_admin TO alice;
--
-- Operator functions (schema authgate; usernames are case-insensitive; an
-- unknown username raises SQLSTATE P0002 "authgate: no user named ..."):
--   create_user(username, password, email default null) -> id
--   create_user_with_hash(username, phc_hash, email default null) -> id
--   set_password(username, password), set_password_hash(username, phc_hash)
--   disable_user(username), enable_user(username), delete_user(username)
--   grant_role(username, role), revoke_role(username, role)
--   revoke_sessions(username) -> sessions ended
--   create_api_token(username, name, valid_for interval default null) -> token
--   revoke_api_token(username, name) -> boolean
--   list_api_tokens(username) -> (name, created_at, expires_at, last_used_at)
--   unlock_user(username), unlock_address(inet) -> boolean (lift a lockout)
--   purge_expired(audit_retention interval default null) -> rows deleted
-- Every change is recorded in authgate.events (never a password, token or
-- hash). Use the functions rather than writing to the tables: they end
-- sessions where needed and keep the audit trail.
--
-- Daemon functions (SECURITY DEFINER, executable by authgate_daemon only):
--   daemon_ping(), daemon_secret(), schema_version(),
--   daemon_user_for_login, daemon_login_throttle, daemon_login_success,
--   daemon_login_failure, daemon_rehash, daemon_check_session, daemon_logout,
--   daemon_check_api_token, daemon_purge_expired, daemon_change_password,
--   daemon_register_check, daemon_register (see their definitions).
-- Token hashes are SHA-256 of the 32 raw random bytes (not of their base64
-- text), for session cookies and for 'agt_' API tokens alike.
--
-- The CSRF key shared by every daemon lives in authgate.daemon_secret. To
-- rotate it: DELETE FROM authgate.daemon_secret; run this file again; restart
-- the daemons (pending login forms then fail their CSRF check once).

BEGIN;

SET LOCAL client_min_messages = warning;

DO $preflight$
DECLARE
    v_owner oid;
BEGIN
    -- Concurrent installs wait here for each other. The key is 'authgate'
    -- in ASCII, as a bigint.
    PERFORM pg_catalog.pg_advisory_xact_lock(7022364806442497125);

    IF pg_catalog.current_setting('server_version_num')::integer < 130000 THEN
        RAISE EXCEPTION 'authgate: PostgreSQL 13 or later is required (this is %)',
            pg_catalog.current_setting('server_version');
    END IF;
    IF pg_catalog.current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'authgate: database "%" uses encoding %; authgate needs UTF8',
                pg_catalog.current_database(), pg_catalog.current_setting('server_encoding')
            USING HINT = 'Create the database with ENCODING ''UTF8'' TEMPLATE template0 '
                         '(or initdb -E UTF8).';
    END IF;
    -- Refuse a schema named authgate that someone else prepared: its owner
    -- could replace the functions that run with our privileges.
    SELECT n.nspowner INTO v_owner FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'authgate';
    IF FOUND AND v_owner <> (SELECT r.oid FROM pg_catalog.pg_roles AS r
                              WHERE r.rolname = current_user)
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = v_owner) THEN
        RAISE EXCEPTION 'authgate: schema authgate already exists and belongs to %, not to %',
            (SELECT r.rolname FROM pg_catalog.pg_roles AS r WHERE r.oid = v_owner), current_user
            USING HINT = 'Run the install as the owner of schema authgate.';
    END IF;
END
$preflight$;

-- Roles are cluster-wide: another database may have created them already.
DO $roles$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['authgate_daemon', 'authgate_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = v_role) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', v_role);
            EXCEPTION
                WHEN duplicate_object THEN
                    NULL;   -- created meanwhile by an install into another database
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'authgate: role % does not exist and % may not create it',
                            v_role, current_user
                        USING HINT = 'Run the install once as a superuser or a role with CREATEROLE.';
            END;
        END IF;
    END LOOP;
END
$roles$;

-- pgcrypto provides crypt(), gen_salt('bf') and gen_random_bytes(). It may
-- already live in any schema (often public); the helpers below call it
-- schema-qualified, so no function of ours needs that schema in its
-- search_path.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- From here on nothing depends on the installer's search_path: every name is
-- schema-qualified or built in.
SET LOCAL search_path = pg_catalog, pg_temp;

CREATE SCHEMA IF NOT EXISTS authgate;

CREATE TABLE IF NOT EXISTS authgate.schema_migrations (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Bind the pgcrypto helpers to the schema pgcrypto lives in. They are
-- (re)created only when missing or pointing elsewhere (e.g. after ALTER
-- EXTENSION pgcrypto SET SCHEMA), so a second run writes nothing.
DO $pgcrypto$
DECLARE
    v_schema text;
    v_def record;
    v_src text;
BEGIN
    SELECT n.nspname INTO STRICT v_schema
      FROM pg_catalog.pg_extension AS e
      JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgcrypto';

    FOR v_def IN
        SELECT * FROM (VALUES
            ('_crypt(text, text)', 'text', 'IMMUTABLE STRICT',
             pg_catalog.format('SELECT %I.crypt($1, $2)', v_schema)),
            ('_gen_salt_bf(integer)', 'text', 'VOLATILE STRICT',
             pg_catalog.format('SELECT %I.gen_salt(''bf'', $1)', v_schema)),
            ('_random_bytes(integer)', 'bytea', 'VOLATILE STRICT',
             pg_catalog.format('SELECT %I.gen_random_bytes($1)', v_schema))
        ) AS d(signature, result, attributes, body)
    LOOP
        SELECT p.prosrc INTO v_src FROM pg_catalog.pg_proc AS p
         WHERE p.oid = pg_catalog.to_regprocedure('authgate.' || v_def.signature);
        IF v_src IS DISTINCT FROM v_def.body THEN
            EXECUTE pg_catalog.format(
                'CREATE OR REPLACE FUNCTION authgate.%s RETURNS %s LANGUAGE sql %s '
                'PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS %L',
                v_def.signature, v_def.result, v_def.attributes, v_def.body);
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION authgate.%s FROM PUBLIC',
                                      v_def.signature);
        END IF;
    END LOOP;
END
$pgcrypto$;


-- ===========================================================================
-- Version 1
-- ===========================================================================
DO $migration_1$
BEGIN
IF EXISTS (SELECT 1 FROM authgate.schema_migrations WHERE version = 1) THEN
    RETURN;
END IF;

COMMENT ON SCHEMA authgate IS 'authgate: users, sessions and API tokens for nginx auth_request';

-- ---------------------------------------------------------------- tables --

CREATE TABLE authgate.users (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username            text NOT NULL,
    email               text,
    password_hash       text NOT NULL,
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_length
        CHECK (octet_length(username) BETWEEN 1 AND 150),
    -- C0 controls, DEL and the C1 controls U+0080..U+009F.
    CONSTRAINT users_username_no_control
        CHECK (username !~ '[\u0001-\u001f\u007f-\u009f]'),
    CONSTRAINT users_username_no_outer_space
        CHECK (username !~ '^[ \u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]'
           AND username !~ '[ \u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]$'),
    CONSTRAINT users_username_nfc
        CHECK (username IS NFC NORMALIZED),
    CONSTRAINT users_email_format
        CHECK (email IS NULL
               OR (octet_length(email) BETWEEN 3 AND 254
                   AND email !~ '[\u0001-\u0020\u007f-\u009f]'
                   AND position('@' IN email) > 1)),
    CONSTRAINT users_password_hash_format
        CHECK (password_hash ~ '^\$(argon2id|2[aby])\$'
               AND octet_length(password_hash) <= 1024)
);
CREATE UNIQUE INDEX users_username_lower_key ON authgate.users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON authgate.users (lower(email))
    WHERE email IS NOT NULL;
COMMENT ON TABLE authgate.users IS
    'authgate users; manage them with the authgate.* functions, not by writing here';

CREATE TABLE authgate.user_roles (
    user_id    bigint NOT NULL REFERENCES authgate.users (id) ON DELETE CASCADE,
    role       text NOT NULL CONSTRAINT user_roles_role_format
                   CHECK (role ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE authgate.sessions (
    -- SHA-256 of the 32 random bytes of the cookie token; the token itself
    -- never reaches the database.
    token_hash       bytea PRIMARY KEY
                         CONSTRAINT sessions_token_hash_length CHECK (octet_length(token_hash) = 32),
    user_id          bigint NOT NULL REFERENCES authgate.users (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    authenticated_at timestamptz NOT NULL DEFAULT now(),  -- password last entered
    last_seen        timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,                -- absolute expiry
    remember         boolean NOT NULL DEFAULT false,
    client_addr      inet,
    user_agent       text CONSTRAINT sessions_user_agent_length
                         CHECK (char_length(user_agent) <= 512),
    -- Session protection: SHA-256 of the user agent and the client's
    -- network at login (the daemon computes it), and whether a mismatch
    -- has made the session not fresh.
    fingerprint      bytea CONSTRAINT sessions_fingerprint_length
                         CHECK (octet_length(fingerprint) = 32),
    stale            boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_user_id_idx ON authgate.sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON authgate.sessions (expires_at);

CREATE TABLE authgate.api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES authgate.users (id) ON DELETE CASCADE,
    name         text NOT NULL CONSTRAINT api_tokens_name_format
                     CHECK (char_length(name) BETWEEN 1 AND 100
                            AND name !~ '[\u0001-\u001f\u007f-\u009f]'),
    -- SHA-256 of the 32 random bytes encoded in the token.
    token_hash   bytea NOT NULL UNIQUE
                     CONSTRAINT api_tokens_token_hash_length CHECK (octet_length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,            -- null: never
    last_used_at timestamptz,
    CONSTRAINT api_tokens_user_id_name_key UNIQUE (user_id, name)
);

-- Audit log. No foreign key: events outlive the users they mention.
-- Never holds a password, a token or a hash.
CREATE TABLE authgate.events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    event       text NOT NULL,
    user_id     bigint,
    username    text,
    client_addr inet,
    user_agent  text,
    detail      text,
    actor       text DEFAULT session_user   -- the database login that caused it
);
CREATE INDEX events_at_idx ON authgate.events (at);

-- Failed-login counters shared by every daemon (brute-force throttling).
-- scope 'user': key = lower(NFC(username as typed)); scope 'addr': key =
-- client address. See daemon_login_throttle().
CREATE TABLE authgate.login_failures (
    scope    text NOT NULL CONSTRAINT login_failures_scope CHECK (scope IN ('user', 'addr')),
    key      text NOT NULL,
    failures integer NOT NULL DEFAULT 1,
    first_at timestamptz NOT NULL DEFAULT now(),
    last_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- One row: the HMAC key the daemons use for CSRF tokens.
CREATE TABLE authgate.daemon_secret (
    id         boolean PRIMARY KEY DEFAULT true CONSTRAINT daemon_secret_one_row CHECK (id),
    key        bytea NOT NULL CONSTRAINT daemon_secret_key_length CHECK (octet_length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- -------------------------------------------------------- internal helpers --
-- Not SECURITY DEFINER; called from the functions that are. PUBLIC cannot
-- execute them (see the REVOKE at the end).

CREATE FUNCTION authgate._set_updated_at() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON authgate.users
    FOR EACH ROW EXECUTE FUNCTION authgate._set_updated_at();

CREATE FUNCTION authgate._event(p_event text, p_user_id bigint, p_username text,
                                p_client_addr inet, p_user_agent text, p_detail text)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    INSERT INTO authgate.events (event, user_id, username, client_addr, user_agent, detail)
    VALUES (p_event, p_user_id, p_username, p_client_addr, p_user_agent, p_detail);
$fn$;

-- The event of an operator function about a user it looked up: no client
-- address or user agent (the operator is in the event's actor column).
CREATE FUNCTION authgate._user_event(p_event text, p_user authgate.users, p_detail text)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT authgate._event(p_event, (p_user).id, (p_user).username, NULL, NULL, p_detail);
$fn$;

-- Ends every session of a user; returns how many there were.
CREATE FUNCTION authgate._end_sessions(p_user_id bigint) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_ended integer;
BEGIN
    DELETE FROM authgate.sessions AS s WHERE s.user_id = p_user_id;
    GET DIAGNOSTICS v_ended = ROW_COUNT;
    RETURN v_ended;
END
$fn$;

-- The X-Auth-Roles value: the user's roles sorted by byte value (COLLATE
-- "C") and comma-joined, '' when none.
CREATE FUNCTION authgate._roles(p_user_id bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT coalesce(string_agg(r.role, ',' ORDER BY r.role COLLATE "C"), '')
      FROM authgate.user_roles AS r WHERE r.user_id = p_user_id;
$fn$;

-- Client address as sent by the daemon: null, '' or anything that is not an
-- address (e.g. 'unix:') is stored as null.
CREATE FUNCTION authgate._inet(p_addr text) RETURNS inet
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF p_addr IS NULL OR p_addr = '' OR octet_length(p_addr) > 100 THEN
        RETURN NULL;
    END IF;
    RETURN p_addr::inet;
EXCEPTION
    WHEN invalid_text_representation OR invalid_parameter_value THEN
        RETURN NULL;
END
$fn$;

-- User-Agent: control characters removed, at most 512 characters, '' -> null.
CREATE FUNCTION authgate._ua(p_user_agent text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT nullif(left(regexp_replace(p_user_agent, '[\u0001-\u001f\u007f-\u009f]', '', 'g'), 512), '');
$fn$;

-- Key of the per-account failure counter for a username as typed.
CREATE FUNCTION authgate._user_key(p_username text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT lower(normalize(left(p_username, 150), NFC));
$fn$;

CREATE FUNCTION authgate._lookup_user(p_username text) RETURNS authgate.users
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
BEGIN
    SELECT * INTO v_user FROM authgate.users AS u
     WHERE lower(u.username) = lower(normalize(p_username, NFC));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'authgate: no user named "%"', p_username
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_user;
END
$fn$;

-- Validates a new username and returns it in NFC.
CREATE FUNCTION authgate._check_username(p_username text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_name text;
BEGIN
    IF p_username IS NULL OR p_username = '' THEN
        RAISE EXCEPTION 'authgate: the username must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_username ~ '[\u0001-\u001f\u007f-\u009f]' THEN
        RAISE EXCEPTION 'authgate: the username must not contain control characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_name := normalize(p_username, NFC);
    IF octet_length(v_name) > 150 THEN
        RAISE EXCEPTION 'authgate: the username is longer than 150 bytes'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_name ~ '^[ \u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]'
       OR v_name ~ '[ \u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]$' THEN
        RAISE EXCEPTION 'authgate: the username must not begin or end with a space'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_name;
END
$fn$;

-- Validates an email address ('' means none) and returns it.
CREATE FUNCTION authgate._check_email(p_email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF p_email IS NULL OR p_email = '' THEN
        RETURN NULL;
    END IF;
    IF octet_length(p_email) NOT BETWEEN 3 AND 254
       OR p_email ~ '[\u0001-\u0020\u007f-\u009f]'
       OR position('@' IN p_email) < 2 THEN
        RAISE EXCEPTION 'authgate: "%" is not a usable email address', p_email
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN p_email;
END
$fn$;

-- Passwords given to create_user/set_password are hashed with bcrypt, which
-- only reads the first 72 bytes: longer ones are refused rather than silently
-- truncated (hash them with `authgate hash-password` instead).
CREATE FUNCTION authgate._check_password(p_password text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF p_password IS NULL OR p_password = '' THEN
        RAISE EXCEPTION 'authgate: the password must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(p_password) > 1024 THEN
        RAISE EXCEPTION 'authgate: the password is longer than 1024 bytes'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(p_password) > 72 THEN
        RAISE EXCEPTION 'authgate: bcrypt would use only the first 72 bytes of this password'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Hash it with `authgate hash-password` and use '
                         'create_user_with_hash() or set_password_hash().';
    END IF;
END
$fn$;

-- A password hash authgate can verify: an argon2id PHC string or bcrypt.
CREATE FUNCTION authgate._is_password_hash(p_hash text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT coalesce(octet_length(p_hash) <= 1024
           AND (p_hash ~ '^\$argon2id\$(v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+(,[a-z]+=[A-Za-z0-9+/]*)*\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$'
                OR p_hash ~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'), false);
$fn$;

CREATE FUNCTION authgate._check_hash(p_hash text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT authgate._is_password_hash(p_hash) THEN
        RAISE EXCEPTION 'authgate: not an argon2id PHC string or a bcrypt hash'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use the output of `authgate hash-password` ($argon2id$...) '
                         'or a bcrypt hash ($2a$, $2b$ or $2y$).';
    END IF;
END
$fn$;

CREATE FUNCTION authgate._insert_user(p_username text, p_hash text, p_email text,
                                      p_detail text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_id bigint;
    v_constraint text;
BEGIN
    BEGIN
        INSERT INTO authgate.users (username, email, password_hash)
        VALUES (p_username, p_email, p_hash)
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        IF v_constraint = 'users_email_lower_key' THEN
            RAISE EXCEPTION 'authgate: another user already has the email address "%"', p_email
                USING ERRCODE = 'unique_violation';
        END IF;
        RAISE EXCEPTION 'authgate: a user named "%" already exists', p_username
            USING ERRCODE = 'unique_violation';
    END;
    PERFORM authgate._event('user_created', v_id, p_username, NULL, NULL, p_detail);
    RETURN v_id;
END
$fn$;

CREATE FUNCTION authgate._set_hash(p_username text, p_hash text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_ended integer;
BEGIN
    v_user := authgate._lookup_user(p_username);
    UPDATE authgate.users AS u
       SET password_hash = p_hash, password_changed_at = now()
     WHERE u.id = v_user.id;
    v_ended := authgate._end_sessions(v_user.id);
    -- A new password also lifts a lockout of the account.
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'user' AND f.key = lower(v_user.username);
    PERFORM authgate._user_event('password_changed', v_user, 'sessions_ended=' || v_ended);
END
$fn$;

-- ----------------------------------------------------- operator functions --

CREATE FUNCTION authgate.schema_version() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT coalesce(max(m.version), 0) FROM authgate.schema_migrations AS m;
$fn$;
COMMENT ON FUNCTION authgate.schema_version() IS 'highest applied schema version';

CREATE FUNCTION authgate.create_user(username text, password text, email text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_name text;
    v_email text;
BEGIN
    v_name := authgate._check_username(create_user.username);
    v_email := authgate._check_email(create_user.email);
    PERFORM authgate._check_password(create_user.password);
    IF EXISTS (SELECT 1 FROM authgate.users AS u WHERE lower(u.username) = lower(v_name)) THEN
        RAISE EXCEPTION 'authgate: a user named "%" already exists', v_name
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN authgate._insert_user(v_name,
        authgate._crypt(create_user.password, authgate._gen_salt_bf(10)), v_email, NULL);
END
$fn$;
COMMENT ON FUNCTION authgate.create_user(text, text, text) IS
    'create a user with a bcrypt hash (upgraded to argon2id at the first login); returns its id';

CREATE FUNCTION authgate.create_user_with_hash(username text, phc_hash text,
                                               email text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_name text;
    v_email text;
BEGIN
    v_name := authgate._check_username(create_user_with_hash.username);
    v_email := authgate._check_email(create_user_with_hash.email);
    PERFORM authgate._check_hash(create_user_with_hash.phc_hash);
    RETURN authgate._insert_user(v_name, create_user_with_hash.phc_hash, v_email, 'with_hash');
END
$fn$;
COMMENT ON FUNCTION authgate.create_user_with_hash(text, text, text) IS
    'create a user from `authgate hash-password` output (or a bcrypt hash); returns its id';

CREATE FUNCTION authgate.set_password(username text, password text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM authgate._check_password(set_password.password);
    PERFORM authgate._lookup_user(set_password.username);   -- fail before hashing
    PERFORM authgate._set_hash(set_password.username,
        authgate._crypt(set_password.password, authgate._gen_salt_bf(10)));
END
$fn$;
COMMENT ON FUNCTION authgate.set_password(text, text) IS
    'set a new password (bcrypt) and end every session of the user';

CREATE FUNCTION authgate.set_password_hash(username text, phc_hash text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    PERFORM authgate._check_hash(set_password_hash.phc_hash);
    PERFORM authgate._set_hash(set_password_hash.username, set_password_hash.phc_hash);
END
$fn$;
COMMENT ON FUNCTION authgate.set_password_hash(text, text) IS
    'set a new password hash (`authgate hash-password` output) and end every session of the user';

CREATE FUNCTION authgate.disable_user(username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_ended integer;
BEGIN
    v_user := authgate._lookup_user(disable_user.username);
    UPDATE authgate.users AS u SET disabled = true WHERE u.id = v_user.id;
    v_ended := authgate._end_sessions(v_user.id);
    PERFORM authgate._user_event('user_disabled', v_user, 'sessions_ended=' || v_ended);
END
$fn$;
COMMENT ON FUNCTION authgate.disable_user(text) IS
    'forbid logins and end every session of the user';

CREATE FUNCTION authgate.enable_user(username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
BEGIN
    v_user := authgate._lookup_user(enable_user.username);
    UPDATE authgate.users AS u SET disabled = false WHERE u.id = v_user.id;
    PERFORM authgate._user_event('user_enabled', v_user, NULL);
END
$fn$;
COMMENT ON FUNCTION authgate.enable_user(text) IS 'allow a disabled user to log in again';

CREATE FUNCTION authgate.delete_user(username text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
BEGIN
    v_user := authgate._lookup_user(delete_user.username);
    -- sessions, roles and API tokens go by cascade
    DELETE FROM authgate.users AS u WHERE u.id = v_user.id;
    PERFORM authgate._user_event('user_deleted', v_user, NULL);
END
$fn$;
COMMENT ON FUNCTION authgate.delete_user(text) IS
    'delete the user with its sessions, roles and API tokens (its events stay)';

CREATE FUNCTION authgate.grant_role(username text, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_added integer;
BEGIN
    v_user := authgate._lookup_user(grant_role.username);
    IF grant_role.role IS NULL OR grant_role.role !~ '^[A-Za-z0-9_.:-]{1,64}$' THEN
        RAISE EXCEPTION 'authgate: "%" is not a valid role name (1 to 64 of A-Z a-z 0-9 _ . : -)',
                grant_role.role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO authgate.user_roles (user_id, role) VALUES (v_user.id, grant_role.role)
        ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_added = ROW_COUNT;
    IF v_added > 0 THEN
        PERFORM authgate._user_event('role_granted', v_user, grant_role.role);
    END IF;
END
$fn$;
COMMENT ON FUNCTION authgate.grant_role(text, text) IS
    'give the user a role (X-Auth-Roles); granting it twice is harmless';

CREATE FUNCTION authgate.revoke_role(username text, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_removed integer;
BEGIN
    v_user := authgate._lookup_user(revoke_role.username);
    DELETE FROM authgate.user_roles AS r
     WHERE r.user_id = v_user.id AND r.role = revoke_role.role;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    IF v_removed > 0 THEN
        PERFORM authgate._user_event('role_revoked', v_user, revoke_role.role);
    END IF;
END
$fn$;
COMMENT ON FUNCTION authgate.revoke_role(text, text) IS
    'take a role away from the user; revoking a role it lacks is harmless';

CREATE FUNCTION authgate.revoke_sessions(username text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_ended integer;
BEGIN
    v_user := authgate._lookup_user(revoke_sessions.username);
    v_ended := authgate._end_sessions(v_user.id);
    PERFORM authgate._user_event('sessions_revoked', v_user, 'sessions_ended=' || v_ended);
    RETURN v_ended;
END
$fn$;
COMMENT ON FUNCTION authgate.revoke_sessions(text) IS
    'log the user out everywhere; returns the number of sessions ended';

CREATE FUNCTION authgate.create_api_token(username text, name text,
                                          valid_for interval DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_raw bytea;
BEGIN
    v_user := authgate._lookup_user(create_api_token.username);
    IF create_api_token.name IS NULL
       OR char_length(create_api_token.name) NOT BETWEEN 1 AND 100
       OR create_api_token.name ~ '[\u0001-\u001f\u007f-\u009f]' THEN
        RAISE EXCEPTION 'authgate: an API token name has 1 to 100 characters and no control characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF create_api_token.valid_for IS NOT NULL
       AND now() + create_api_token.valid_for <= now() THEN
        RAISE EXCEPTION 'authgate: valid_for must be a positive interval (or null for no expiry)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_raw := authgate._random_bytes(32);
    BEGIN
        INSERT INTO authgate.api_tokens (user_id, name, token_hash, expires_at)
        VALUES (v_user.id, create_api_token.name, sha256(v_raw),
                now() + create_api_token.valid_for);
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'authgate: user "%" already has an API token named "%"',
                v_user.username, create_api_token.name
            USING ERRCODE = 'unique_violation',
                  HINT = 'Revoke it first with authgate.revoke_api_token().';
    END;
    PERFORM authgate._user_event('api_token_created', v_user, create_api_token.name);
    -- 'agt_' || base64url without padding of the 32 raw bytes (43 characters).
    RETURN 'agt_' || translate(encode(v_raw, 'base64'), E'+/=\n', '-_');
END
$fn$;
COMMENT ON FUNCTION authgate.create_api_token(text, text, interval) IS
    'create a Bearer token for the user; the token is shown only this once';

CREATE FUNCTION authgate.revoke_api_token(username text, name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
    v_removed integer;
BEGIN
    v_user := authgate._lookup_user(revoke_api_token.username);
    DELETE FROM authgate.api_tokens AS t
     WHERE t.user_id = v_user.id AND t.name = revoke_api_token.name;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    IF v_removed > 0 THEN
        PERFORM authgate._user_event('api_token_revoked', v_user, revoke_api_token.name);
    END IF;
    RETURN v_removed > 0;
END
$fn$;
COMMENT ON FUNCTION authgate.revoke_api_token(text, text) IS
    'delete the named API token of the user; false when there was none';

CREATE FUNCTION authgate.list_api_tokens(username text)
RETURNS TABLE (name text, created_at timestamptz, expires_at timestamptz,
               last_used_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
BEGIN
    v_user := authgate._lookup_user(list_api_tokens.username);
    RETURN QUERY
        SELECT t.name, t.created_at, t.expires_at, t.last_used_at
          FROM authgate.api_tokens AS t
         WHERE t.user_id = v_user.id
         ORDER BY t.name;
END
$fn$;
COMMENT ON FUNCTION authgate.list_api_tokens(text) IS 'the API tokens of the user (never their hashes)';

CREATE FUNCTION authgate.purge_expired() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_n integer;
    v_total integer := 0;
BEGIN
    DELETE FROM authgate.sessions AS s WHERE s.expires_at <= now();
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;
    DELETE FROM authgate.api_tokens AS t WHERE t.expires_at <= now();
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;
    -- Failure counters older than a day no longer count for any sane window.
    DELETE FROM authgate.login_failures AS f WHERE f.last_at < now() - interval '1 day';
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_total + v_n;
END
$fn$;
COMMENT ON FUNCTION authgate.purge_expired() IS
    'delete sessions past their absolute expiry, expired API tokens and day-old failure counters; returns rows deleted';

-- ------------------------------------------------------- daemon functions --
-- The daemon calls these as prepared statements, SELECT * FROM authgate.f($1, ...).

CREATE FUNCTION authgate.daemon_ping() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT 1;
$fn$;

CREATE FUNCTION authgate.daemon_secret() RETURNS bytea
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT d.key FROM authgate.daemon_secret AS d;
$fn$;

CREATE FUNCTION authgate.daemon_user_for_login(p_username text)
RETURNS TABLE (user_id bigint, password_hash text, disabled boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT u.id, u.password_hash, u.disabled
      FROM authgate.users AS u
     WHERE lower(u.username) = lower(normalize(p_username, NFC));
$fn$;

CREATE FUNCTION authgate.daemon_login_success(p_user_id bigint, p_token_hash bytea,
                                              p_lifetime_seconds integer, p_remember boolean,
                                              p_client_addr text, p_user_agent text,
                                              p_fingerprint bytea DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_username text;
    v_addr inet := authgate._inet(p_client_addr);
    v_ua text := authgate._ua(p_user_agent);
BEGIN
    IF p_lifetime_seconds IS NULL OR p_lifetime_seconds <= 0 THEN
        RAISE EXCEPTION 'authgate: the session lifetime must be a positive number of seconds'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- FOR SHARE waits for a concurrent disable_user/set_password/delete_user
    -- to commit, so a session can never outlive one of them.
    SELECT u.username INTO v_username
      FROM authgate.users AS u
     WHERE u.id = p_user_id AND NOT u.disabled
       FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'authgate: user % does not exist or is disabled', p_user_id
            USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO authgate.sessions (token_hash, user_id, created_at, authenticated_at,
                                   last_seen, expires_at, remember, client_addr, user_agent,
                                   fingerprint)
    VALUES (p_token_hash, p_user_id, now(), now(), now(),
            now() + make_interval(secs => p_lifetime_seconds),
            coalesce(p_remember, false), v_addr, v_ua, p_fingerprint);
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'user' AND f.key = lower(v_username);
    PERFORM authgate._event('login', p_user_id, v_username, v_addr, v_ua,
                            CASE WHEN p_remember THEN 'remember' END);
END
$fn$;

CREATE FUNCTION authgate.daemon_login_failure(p_username text, p_reason text,
                                              p_client_addr text, p_user_agent text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user_id bigint;
    v_addr inet := authgate._inet(p_client_addr);
BEGIN
    SELECT u.id INTO v_user_id FROM authgate.users AS u
     WHERE lower(u.username) = lower(normalize(p_username, NFC));
    PERFORM authgate._event('login_failed', v_user_id, left(p_username, 150), v_addr,
                            authgate._ua(p_user_agent), left(p_reason, 100));
    IF p_username IS NOT NULL AND p_username <> '' THEN
        INSERT INTO authgate.login_failures AS f (scope, key)
        VALUES ('user', authgate._user_key(p_username))
        ON CONFLICT (scope, key) DO UPDATE
            SET failures = f.failures + 1, last_at = now();
    END IF;
    IF v_addr IS NOT NULL THEN
        INSERT INTO authgate.login_failures AS f (scope, key)
        VALUES ('addr', host(v_addr))
        ON CONFLICT (scope, key) DO UPDATE
            SET failures = f.failures + 1, last_at = now();
    END IF;
END
$fn$;

-- Brute-force throttle, called before verifying a password. Returns 0 when
-- the attempt may go ahead, else the number of seconds to wait (Retry-After)
-- and records a 'login_locked' event. An account (or address) is locked once
-- it has p_max_* failures, until p_window_seconds have passed since its last
-- failure. A limit <= 0 or null disables that check. Refused attempts are not
-- counted as failures (do not call daemon_login_failure for them).
CREATE FUNCTION authgate.daemon_login_throttle(p_username text, p_client_addr text,
                                               p_user_agent text, p_window_seconds integer,
                                               p_max_user_failures integer,
                                               p_max_addr_failures integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_window interval := make_interval(secs => coalesce(p_window_seconds, 0));
    v_addr inet := authgate._inet(p_client_addr);
    v_retry integer := 0;
    v_wait integer;
    v_what text;
    v_check record;
    v_row record;
BEGIN
    FOR v_check IN
        SELECT 'user' AS scope, authgate._user_key(p_username) AS key,
               p_max_user_failures AS max_failures
         WHERE p_username IS NOT NULL AND p_username <> ''
        UNION ALL
        SELECT 'addr', host(v_addr), p_max_addr_failures
         WHERE v_addr IS NOT NULL
    LOOP
        CONTINUE WHEN coalesce(v_check.max_failures, 0) <= 0;
        SELECT f.failures, f.last_at INTO v_row
          FROM authgate.login_failures AS f
         WHERE f.scope = v_check.scope AND f.key = v_check.key;
        CONTINUE WHEN NOT FOUND;
        IF v_row.last_at <= now() - v_window THEN
            -- quiet for a whole window: start counting afresh
            DELETE FROM authgate.login_failures AS f
             WHERE f.scope = v_check.scope AND f.key = v_check.key
               AND f.last_at <= now() - v_window;
        ELSIF v_row.failures >= v_check.max_failures THEN
            v_wait := greatest(1, ceil(extract(epoch FROM v_row.last_at + v_window - now())))::integer;
            v_retry := greatest(v_retry, v_wait);
            v_what := concat_ws('+', v_what, v_check.scope);
        END IF;
    END LOOP;
    IF v_retry > 0 THEN
        PERFORM authgate._event('login_locked',
            (SELECT u.id FROM authgate.users AS u
              WHERE lower(u.username) = lower(normalize(p_username, NFC))),
            left(p_username, 150), v_addr, authgate._ua(p_user_agent),
            v_what || ' retry_after=' || v_retry);
    END IF;
    RETURN v_retry;
END
$fn$;

CREATE FUNCTION authgate.daemon_rehash(p_user_id bigint, p_old_hash text, p_new_hash text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_username text;
BEGIN
    IF p_new_hash IS NULL OR left(p_new_hash, 10) <> '$argon2id$'
       OR NOT authgate._is_password_hash(p_new_hash) THEN
        RETURN false;
    END IF;
    -- compare-and-set: a concurrent set_password() wins
    UPDATE authgate.users AS u
       SET password_hash = p_new_hash
     WHERE u.id = p_user_id AND u.password_hash = p_old_hash
    RETURNING u.username INTO v_username;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM authgate._event('password_rehashed', p_user_id, v_username, NULL, NULL,
        CASE WHEN left(p_old_hash, 10) = '$argon2id$' THEN 'from argon2id' ELSE 'from bcrypt' END);
    RETURN true;
END
$fn$;

CREATE FUNCTION authgate.daemon_check_session(p_token_hash bytea, p_idle_seconds integer,
                                              p_touch_seconds integer)
RETURNS TABLE (user_id bigint, username text, email text, roles text,
               created_at timestamptz, authenticated_at timestamptz,
               expires_at timestamptz, remember boolean,
               fingerprint bytea, stale boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_idle interval := make_interval(secs => p_idle_seconds);
    v_touch interval := make_interval(secs => p_touch_seconds);
    v record;
BEGIN
    SELECT s.user_id AS uid, s.created_at AS s_created, s.authenticated_at AS s_auth,
           s.last_seen AS s_seen, s.expires_at AS s_expires, s.remember AS s_remember,
           s.fingerprint AS s_fingerprint, s.stale AS s_stale,
           u.username AS u_name, u.email AS u_email
      INTO v
      FROM authgate.sessions AS s
      JOIN authgate.users AS u ON u.id = s.user_id
     WHERE s.token_hash = p_token_hash
       AND s.expires_at > now()
       AND NOT u.disabled
       AND s.authenticated_at >= u.password_changed_at
       AND (s.remember OR s.last_seen > now() - v_idle);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- Activity is written at most once per touch interval. The setting
    -- tells the change-notification trigger (version 2) that this write is
    -- the daemon's own activity record, which no cache needs to hear of.
    IF v.s_seen < now() - v_touch THEN
        PERFORM set_config('authgate.activity', 'on', true);
        UPDATE authgate.sessions AS s
           SET last_seen = now()
         WHERE s.token_hash = p_token_hash AND s.last_seen < now() - v_touch;
        IF FOUND THEN
            v.s_seen := now();
        END IF;
        PERFORM set_config('authgate.activity', 'off', true);
    END IF;
    user_id := v.uid;
    username := v.u_name;
    email := v.u_email;
    roles := authgate._roles(v.uid);
    created_at := v.s_created;
    authenticated_at := v.s_auth;
    expires_at := CASE WHEN v.s_remember THEN v.s_expires
                       ELSE least(v.s_expires, v.s_seen + v_idle) END;
    remember := v.s_remember;
    fingerprint := v.s_fingerprint;
    stale := v.s_stale;
    RETURN NEXT;
END
$fn$;

-- Fresh login again (Flask-Login's confirm_login): the password was just
-- entered for this session's user, so the same session becomes fresh.
CREATE FUNCTION authgate.daemon_reauthenticate(p_token_hash bytea, p_user_id bigint,
                                               p_client_addr text, p_user_agent text,
                                               p_fingerprint bytea DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_username text;
BEGIN
    UPDATE authgate.sessions AS s
       SET authenticated_at = now(), last_seen = now(), stale = false,
           fingerprint = coalesce(p_fingerprint, s.fingerprint)
     WHERE s.token_hash = p_token_hash AND s.user_id = p_user_id
       AND s.expires_at > now();
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT u.username INTO v_username FROM authgate.users AS u WHERE u.id = p_user_id;
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'user' AND f.key = lower(v_username);
    PERFORM authgate._event('reauthenticated', p_user_id, v_username,
                            authgate._inet(p_client_addr), authgate._ua(p_user_agent), NULL);
    RETURN true;
END
$fn$;

-- Session protection found another client fingerprint: 'stale' marks the
-- session not fresh (basic), 'end' deletes it (strong).
CREATE FUNCTION authgate.daemon_session_mismatch(p_token_hash bytea, p_action text,
                                                 p_client_addr text, p_user_agent text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user_id bigint;
BEGIN
    IF p_action = 'end' THEN
        DELETE FROM authgate.sessions AS s WHERE s.token_hash = p_token_hash
        RETURNING s.user_id INTO v_user_id;
    ELSIF p_action = 'stale' THEN
        UPDATE authgate.sessions AS s SET stale = true
         WHERE s.token_hash = p_token_hash AND NOT s.stale
        RETURNING s.user_id INTO v_user_id;
    ELSE
        RAISE EXCEPTION 'authgate: unknown session protection action %', p_action
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_user_id IS NOT NULL THEN
        PERFORM authgate._event('session_protection', v_user_id,
                                (SELECT u.username FROM authgate.users AS u WHERE u.id = v_user_id),
                                authgate._inet(p_client_addr), authgate._ua(p_user_agent),
                                p_action);
    END IF;
END
$fn$;

CREATE FUNCTION authgate.daemon_logout(p_token_hash bytea, p_all boolean,
                                       p_client_addr text, p_user_agent text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user_id bigint;
    v_username text;
    v_ended integer;
BEGIN
    DELETE FROM authgate.sessions AS s WHERE s.token_hash = p_token_hash
    RETURNING s.user_id INTO v_user_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    v_ended := 1;
    IF coalesce(p_all, false) THEN
        DELETE FROM authgate.sessions AS s WHERE s.user_id = v_user_id;
        GET DIAGNOSTICS v_ended = ROW_COUNT;
        v_ended := v_ended + 1;
    END IF;
    SELECT u.username INTO v_username FROM authgate.users AS u WHERE u.id = v_user_id;
    PERFORM authgate._event(CASE WHEN coalesce(p_all, false) THEN 'logout_all' ELSE 'logout' END,
                            v_user_id, v_username, authgate._inet(p_client_addr),
                            authgate._ua(p_user_agent),
                            CASE WHEN coalesce(p_all, false) THEN 'sessions_ended=' || v_ended END);
    RETURN v_ended;
END
$fn$;

CREATE FUNCTION authgate.daemon_check_api_token(p_token_hash bytea)
RETURNS TABLE (user_id bigint, username text, email text, roles text,
               expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v record;
BEGIN
    SELECT t.id AS t_id, t.user_id AS uid, t.expires_at AS t_expires,
           t.last_used_at AS t_used, u.username AS u_name, u.email AS u_email
      INTO v
      FROM authgate.api_tokens AS t
      JOIN authgate.users AS u ON u.id = t.user_id
     WHERE t.token_hash = p_token_hash
       AND NOT u.disabled
       AND (t.expires_at IS NULL OR t.expires_at > now());
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v.t_used IS NULL OR v.t_used < now() - interval '1 minute' THEN
        PERFORM set_config('authgate.activity', 'on', true);
        UPDATE authgate.api_tokens AS t
           SET last_used_at = now()
         WHERE t.id = v.t_id
           AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
        PERFORM set_config('authgate.activity', 'off', true);
    END IF;
    user_id := v.uid;
    username := v.u_name;
    email := v.u_email;
    roles := authgate._roles(v.uid);
    expires_at := v.t_expires;
    RETURN NEXT;
END
$fn$;

CREATE FUNCTION authgate.daemon_purge_expired() RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT authgate.purge_expired();
$fn$;

-- ------------------------------------------------------------- privileges --

REVOKE ALL ON ALL TABLES IN SCHEMA authgate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA authgate FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA authgate FROM PUBLIC;

GRANT USAGE ON SCHEMA authgate TO authgate_daemon, authgate_admin;

GRANT EXECUTE ON FUNCTION
    authgate.schema_version(),
    authgate.daemon_ping(),
    authgate.daemon_secret(),
    authgate.daemon_user_for_login(text),
    authgate.daemon_login_success(bigint, bytea, integer, boolean, text, text, bytea),
    authgate.daemon_reauthenticate(bytea, bigint, text, text, bytea),
    authgate.daemon_session_mismatch(bytea, text, text, text),
    authgate.daemon_login_failure(text, text, text, text),
    authgate.daemon_login_throttle(text, text, text, integer, integer, integer),
    authgate.daemon_rehash(bigint, text, text),
    authgate.daemon_check_session(bytea, integer, integer),
    authgate.daemon_logout(bytea, boolean, text, text),
    authgate.daemon_check_api_token(bytea),
    authgate.daemon_purge_expired()
  TO authgate_daemon;

GRANT EXECUTE ON FUNCTION
    authgate.schema_version(),
    authgate.create_user(text, text, text),
    authgate.create_user_with_hash(text, text, text),
    authgate.set_password(text, text),
    authgate.set_password_hash(text, text),
    authgate.disable_user(text),
    authgate.enable_user(text),
    authgate.delete_user(text),
    authgate.grant_role(text, text),
    authgate.revoke_role(text, text),
    authgate.revoke_sessions(text),
    authgate.create_api_token(text, text, interval),
    authgate.revoke_api_token(text, text),
    authgate.list_api_tokens(text),
    authgate.purge_expired()
  TO authgate_admin;

-- Operators may read everything except hashes and the secret.
GRANT SELECT (id, username, email, disabled, created_at, updated_at, password_changed_at)
    ON authgate.users TO authgate_admin;
GRANT SELECT (user_id, created_at, authenticated_at, last_seen, expires_at, remember,
              client_addr, user_agent)
    ON authgate.sessions TO authgate_admin;
GRANT SELECT (id, user_id, name, created_at, expires_at, last_used_at)
    ON authgate.api_tokens TO authgate_admin;
GRANT SELECT ON authgate.user_roles, authgate.events, authgate.login_failures,
                authgate.schema_migrations
    TO authgate_admin;

INSERT INTO authgate.schema_migrations (version) VALUES (1);
END
$migration_1$;

-- Version 2: change notifications for the daemons' session caches.
--
-- Every change that must end or alter a cached session or API token sends
-- NOTIFY authgate with a payload the daemons act on:
--   hash:<hex sha-256>  that session or API token
--   user:<id>           everything of that user (disable, delete, password,
--                       rename, email, roles)
--   all                 everything (TRUNCATE)
-- Triggers rather than calls in the operator functions, so that a change
-- made with plain UPDATE/DELETE reaches the daemons too. The daemon's own
-- activity writes (sessions.last_seen, api_tokens.last_used_at) send
-- nothing. A payload "sync:<token>" changes nothing: a daemon that has
-- received it has received every notification committed before it (they
-- arrive in commit order), which is how tests and operators can wait for
-- all daemons to be up to date.
DO $migration_2$
BEGIN
IF EXISTS (SELECT 1 FROM authgate.schema_migrations WHERE version = 2) THEN
    RETURN;
END IF;

CREATE FUNCTION authgate._notify_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_activity text := CASE TG_TABLE_NAME
                           WHEN 'sessions' THEN 'last_seen'
                           WHEN 'api_tokens' THEN 'last_used_at'
                           WHEN 'users' THEN 'updated_at'
                       END;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('authgate', 'all');
        RETURN NULL;
    END IF;
    -- The daemon's own activity writes (marked by the setting) change
    -- nothing a cache holds; a manual change of those columns still
    -- notifies, so that caches re-check the idle timeout.
    IF TG_OP = 'UPDATE' AND
       to_jsonb(OLD) - v_activity IS NOT DISTINCT FROM to_jsonb(NEW) - v_activity AND
       (current_setting('authgate.activity', true) = 'on' OR TG_TABLE_NAME = 'users') THEN
        RETURN NULL;
    END IF;
    CASE TG_TABLE_NAME
    WHEN 'sessions', 'api_tokens' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('authgate', 'hash:' || encode(OLD.token_hash, 'hex'));
        END IF;
    WHEN 'users' THEN
        PERFORM pg_notify('authgate', 'user:' || OLD.id);
    WHEN 'user_roles' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('authgate', 'user:' || OLD.user_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('authgate', 'user:' || NEW.user_id);
        END IF;
    END CASE;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION authgate._notify_change() FROM PUBLIC;

CREATE TRIGGER sessions_notify AFTER UPDATE OR DELETE ON authgate.sessions
    FOR EACH ROW EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER api_tokens_notify AFTER UPDATE OR DELETE ON authgate.api_tokens
    FOR EACH ROW EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER users_notify AFTER UPDATE OR DELETE ON authgate.users
    FOR EACH ROW EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER user_roles_notify AFTER INSERT OR UPDATE OR DELETE ON authgate.user_roles
    FOR EACH ROW EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER sessions_notify_truncate AFTER TRUNCATE ON authgate.sessions
    FOR EACH STATEMENT EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER api_tokens_notify_truncate AFTER TRUNCATE ON authgate.api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER users_notify_truncate AFTER TRUNCATE ON authgate.users
    FOR EACH STATEMENT EXECUTE FUNCTION authgate._notify_change();
CREATE TRIGGER user_roles_notify_truncate AFTER TRUNCATE ON authgate.user_roles
    FOR EACH STATEMENT EXECUTE FUNCTION authgate._notify_change();

INSERT INTO authgate.schema_migrations (version) VALUES (2);
END
$migration_2$;

-- Version 3: the account pages (/auth/password, /auth/register).
DO $migration_3$
BEGIN
IF EXISTS (SELECT 1 FROM authgate.schema_migrations WHERE version = 3) THEN
    RETURN;
END IF;

-- The daemon's pages store hashes it made itself: argon2id only.
CREATE FUNCTION authgate._check_daemon_hash(p_hash text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF p_hash IS NULL OR left(p_hash, 10) <> '$argon2id$'
       OR NOT authgate._is_password_hash(p_hash) THEN
        RAISE EXCEPTION 'authgate: not an argon2id PHC string'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION authgate._check_daemon_hash(text) FROM PUBLIC;

-- A signed-in user changed their password: compare-and-set of the hash the
-- daemon verified the old password against (a concurrent change wins), every
-- other session of the user ends, and the calling session stays, fresh
-- (authenticated_at = password_changed_at = now()). Returns the number of
-- sessions ended, or null when the hash changed meanwhile or the session is
-- gone (nothing is changed then).
CREATE FUNCTION authgate.daemon_change_password(p_token_hash bytea, p_user_id bigint,
                                                p_old_hash text, p_new_hash text,
                                                p_client_addr text, p_user_agent text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_username text;
    v_ended integer;
BEGIN
    PERFORM authgate._check_daemon_hash(p_new_hash);
    PERFORM 1 FROM authgate.sessions AS s
     WHERE s.token_hash = p_token_hash AND s.user_id = p_user_id
       AND s.expires_at > now()
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE authgate.users AS u
       SET password_hash = p_new_hash, password_changed_at = now()
     WHERE u.id = p_user_id AND u.password_hash = p_old_hash AND NOT u.disabled
    RETURNING u.username INTO v_username;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    DELETE FROM authgate.sessions AS s
     WHERE s.user_id = p_user_id AND s.token_hash <> p_token_hash;
    GET DIAGNOSTICS v_ended = ROW_COUNT;
    UPDATE authgate.sessions AS s
       SET authenticated_at = now(), last_seen = now(), stale = false
     WHERE s.token_hash = p_token_hash;
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'user' AND f.key = lower(v_username);
    PERFORM authgate._event('password_change', p_user_id, v_username,
                            authgate._inet(p_client_addr), authgate._ua(p_user_agent),
                            'sessions_ended=' || v_ended);
    RETURN v_ended;
END
$fn$;

-- Self-registration, step 1 (before the daemon hashes the password):
-- 'ok', 'throttled' (p_max_per_hour attempts from the address in the last
-- hour; <= 0: no limit), 'username_taken' or 'email_taken' (both compared
-- case-insensitively), 'invalid_username', 'invalid_email'. Every answer but
-- 'ok' is recorded as a 'register_refused' event, and refused attempts count
-- towards the limit like registrations do.
CREATE FUNCTION authgate.daemon_register_check(p_username text, p_email text,
                                               p_client_addr text, p_user_agent text,
                                               p_max_per_hour integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_addr inet := authgate._inet(p_client_addr);
    v_name text;
    v_email text;
    v_outcome text := 'ok';
BEGIN
    IF coalesce(p_max_per_hour, 0) > 0 AND v_addr IS NOT NULL
       AND (SELECT count(*) FROM authgate.events AS e
             WHERE e.at > now() - interval '1 hour'
               AND e.event IN ('register', 'register_refused')
               AND e.client_addr = v_addr) >= p_max_per_hour THEN
        v_outcome := 'throttled';
    ELSE
        BEGIN
            v_name := authgate._check_username(p_username);
        EXCEPTION WHEN invalid_parameter_value THEN
            v_outcome := 'invalid_username';
        END;
        IF v_outcome = 'ok' THEN
            BEGIN
                v_email := authgate._check_email(p_email);
            EXCEPTION WHEN invalid_parameter_value THEN
                v_outcome := 'invalid_email';
            END;
        END IF;
        IF v_outcome = 'ok' AND EXISTS (SELECT 1 FROM authgate.users AS u
                                         WHERE lower(u.username) = lower(v_name)) THEN
            v_outcome := 'username_taken';
        ELSIF v_outcome = 'ok' AND v_email IS NOT NULL
              AND EXISTS (SELECT 1 FROM authgate.users AS u
                           WHERE lower(u.email) = lower(v_email)) THEN
            v_outcome := 'email_taken';
        END IF;
    END IF;
    IF v_outcome <> 'ok' THEN
        PERFORM authgate._event('register_refused', NULL, left(p_username, 150), v_addr,
                                authgate._ua(p_user_agent), v_outcome);
    END IF;
    RETURN v_outcome;
END
$fn$;

-- Self-registration, step 2: creates the user with the daemon's argon2id
-- hash, disabled when p_disabled (an operator approves with enable_user).
-- Returns the new id and 'ok', or null and 'username_taken' / 'email_taken'
-- when someone registered the name or address since step 1.
CREATE FUNCTION authgate.daemon_register(p_username text, p_email text, p_hash text,
                                         p_disabled boolean, p_client_addr text,
                                         p_user_agent text)
RETURNS TABLE (user_id bigint, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_name text := authgate._check_username(p_username);
    v_email text := authgate._check_email(p_email);
    v_addr inet := authgate._inet(p_client_addr);
    v_constraint text;
BEGIN
    PERFORM authgate._check_daemon_hash(p_hash);
    BEGIN
        INSERT INTO authgate.users AS u (username, email, password_hash, disabled)
        VALUES (v_name, v_email, p_hash, coalesce(p_disabled, true))
        RETURNING u.id INTO user_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        outcome := CASE WHEN v_constraint = 'users_email_lower_key'
                        THEN 'email_taken' ELSE 'username_taken' END;
        PERFORM authgate._event('register_refused', NULL, v_name, v_addr,
                                authgate._ua(p_user_agent), outcome);
        RETURN NEXT;
        RETURN;
    END;
    outcome := 'ok';
    PERFORM authgate._event('register', user_id, v_name, v_addr, authgate._ua(p_user_agent),
                            CASE WHEN p_disabled THEN 'pending_approval' END);
    RETURN NEXT;
END
$fn$;

REVOKE ALL ON FUNCTION
    authgate.daemon_change_password(bytea, bigint, text, text, text, text),
    authgate.daemon_register_check(text, text, text, text, integer),
    authgate.daemon_register(text, text, text, boolean, text, text)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    authgate.daemon_change_password(bytea, bigint, text, text, text, text),
    authgate.daemon_register_check(text, text, text, text, integer),
    authgate.daemon_register(text, text, text, boolean, text, text)
  TO authgate_daemon;

-- Registrations per client address are counted from the events.
CREATE INDEX events_client_addr_at_idx ON authgate.events (client_addr, at)
    WHERE event IN ('register', 'register_refused');

INSERT INTO authgate.schema_migrations (version) VALUES (3);
END
$migration_3$;
-- Version 4: brute-force counting window separate from the lock duration,
-- unlocking by operators, audit retention, and events for the use of dead
-- tokens.
--
-- A counter (authgate.login_failures) counts failures for p_window_seconds
-- from its first failure; reaching the limit inside that window locks the
-- account or address for p_lockout_seconds from the failure that reached it.
-- A window that ends below the limit, or a lock that has been served, starts
-- the count afresh.
DO $migration_4$
BEGIN
IF EXISTS (SELECT 1 FROM authgate.schema_migrations WHERE version = 4) THEN
    RETURN;
END IF;

DROP FUNCTION authgate.daemon_login_throttle(text, text, text, integer, integer, integer);

-- Called before verifying a password. Returns 0 when the attempt may go
-- ahead, else the seconds to wait (Retry-After) and records a
-- 'login_locked' event. A limit <= 0 or null disables that check (its
-- counter is still reset when its window ends). Refused attempts are not
-- counted as failures (do not call daemon_login_failure for them).
CREATE FUNCTION authgate.daemon_login_throttle(p_username text, p_client_addr text,
                                               p_user_agent text, p_window_seconds integer,
                                               p_lockout_seconds integer,
                                               p_max_user_failures integer,
                                               p_max_addr_failures integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_window interval := make_interval(secs => coalesce(p_window_seconds, 0));
    v_lockout interval := make_interval(secs => coalesce(p_lockout_seconds, 0));
    v_addr inet := authgate._inet(p_client_addr);
    v_retry integer := 0;
    v_wait integer;
    v_what text;
    v_check record;
    v_row record;
    v_locked boolean;
BEGIN
    FOR v_check IN
        SELECT 'user' AS scope, authgate._user_key(p_username) AS key,
               coalesce(p_max_user_failures, 0) AS max_failures
         WHERE p_username IS NOT NULL AND p_username <> ''
        UNION ALL
        SELECT 'addr', host(v_addr), coalesce(p_max_addr_failures, 0)
         WHERE v_addr IS NOT NULL
    LOOP
        SELECT f.failures, f.first_at, f.last_at INTO v_row
          FROM authgate.login_failures AS f
         WHERE f.scope = v_check.scope AND f.key = v_check.key;
        CONTINUE WHEN NOT FOUND;
        v_locked := v_check.max_failures > 0 AND v_row.failures >= v_check.max_failures;
        IF (v_locked AND v_row.last_at + v_lockout <= now())
           OR (NOT v_locked AND v_row.first_at + v_window <= now()) THEN
            -- lock served, or window over below the limit: count afresh
            DELETE FROM authgate.login_failures AS f
             WHERE f.scope = v_check.scope AND f.key = v_check.key
               AND f.first_at = v_row.first_at;
        ELSIF v_locked THEN
            v_wait := greatest(1, ceil(extract(epoch FROM v_row.last_at + v_lockout - now())))::integer;
            v_retry := greatest(v_retry, v_wait);
            v_what := concat_ws('+', v_what, v_check.scope);
        END IF;
    END LOOP;
    IF v_retry > 0 THEN
        PERFORM authgate._event('login_locked',
            (SELECT u.id FROM authgate.users AS u
              WHERE lower(u.username) = lower(normalize(p_username, NFC))),
            left(p_username, 150), v_addr, authgate._ua(p_user_agent),
            v_what || ' retry_after=' || v_retry);
    END IF;
    RETURN v_retry;
END
$fn$;

CREATE FUNCTION authgate.unlock_user(username text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users := authgate._lookup_user(username);
    v_found boolean;
BEGIN
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'user'
       AND f.key IN (authgate._user_key(username), lower(v_user.username));
    v_found := FOUND;
    PERFORM authgate._user_event('user_unlocked', v_user, NULL);
    RETURN v_found;
END
$fn$;
COMMENT ON FUNCTION authgate.unlock_user(text) IS
    'forget the failed logins of an account (lifts its lockout); true when there were any';

CREATE FUNCTION authgate.unlock_address(address inet) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_found boolean;
BEGIN
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'addr' AND f.key = host(address);
    v_found := FOUND;
    PERFORM authgate._event('address_unlocked', NULL, NULL, address, NULL, NULL);
    RETURN v_found;
END
$fn$;
COMMENT ON FUNCTION authgate.unlock_address(inet) IS
    'forget the failed logins from a client address (lifts its lockout); true when there were any';

REVOKE ALL ON FUNCTION
    authgate.daemon_login_throttle(text, text, text, integer, integer, integer, integer),
    authgate.unlock_user(text),
    authgate.unlock_address(inet)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    authgate.daemon_login_throttle(text, text, text, integer, integer, integer, integer)
  TO authgate_daemon;
GRANT EXECUTE ON FUNCTION authgate.unlock_user(text), authgate.unlock_address(inet)
  TO authgate_admin;

-- Audit retention: purge_expired() also deletes events older than
-- audit_retention (NULL keeps them all), and says so in an event of its own.
DROP FUNCTION authgate.daemon_purge_expired();
DROP FUNCTION authgate.purge_expired();

CREATE FUNCTION authgate.purge_expired(audit_retention interval DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_n integer;
    v_total integer := 0;
BEGIN
    IF audit_retention < interval '0' THEN
        RAISE EXCEPTION 'authgate: audit_retention must not be negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM authgate.sessions AS s WHERE s.expires_at <= now();
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;
    DELETE FROM authgate.api_tokens AS t WHERE t.expires_at <= now();
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;
    -- Failure counters older than a day no longer count for any sane window.
    DELETE FROM authgate.login_failures AS f WHERE f.last_at < now() - interval '1 day';
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_total := v_total + v_n;
    IF audit_retention IS NOT NULL THEN
        DELETE FROM authgate.events AS e WHERE e.at < now() - audit_retention;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n > 0 THEN
            PERFORM authgate._event('events_purged', NULL, NULL, NULL, NULL,
                                    'rows=' || v_n || ' older_than=' || audit_retention);
        END IF;
        v_total := v_total + v_n;
    END IF;
    RETURN v_total;
END
$fn$;
COMMENT ON FUNCTION authgate.purge_expired(interval) IS
    'delete sessions past their absolute expiry, expired API tokens, day-old failure counters and, given a retention, older events; returns rows deleted';

-- The daemon's janitor: p_audit_retention_days <= 0 or null keeps every event.
CREATE FUNCTION authgate.daemon_purge_expired(p_audit_retention_days integer) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT authgate.purge_expired(CASE WHEN p_audit_retention_days > 0
                                       THEN make_interval(days => p_audit_retention_days) END);
$fn$;

-- A session cookie that still names a row but no longer opens it (expired
-- by idle time or lifetime, not yet purged; or a disabled user's) is
-- recorded as 'session_expired', once per session (dead_use_at), so the
-- audit trail shows the use of a dead token without one event per request.
-- The row stays: the idle timeout is each daemon's setting, and re-enabling
-- a user makes such a session valid again.
ALTER TABLE authgate.sessions ADD COLUMN dead_use_at timestamptz;
COMMENT ON COLUMN authgate.sessions.dead_use_at IS
    'first use after the session stopped being valid (recorded in events)';

-- The roles come from a subquery of the check's own statement instead of a
-- call to _roles(): a LANGUAGE sql function with a SET clause is never
-- inlined, and PostgreSQL parses and plans its body on every call, which
-- cost more than the rest of the check. The statement in PL/pgSQL is
-- planned once per connection.
CREATE OR REPLACE FUNCTION authgate.daemon_check_session(p_token_hash bytea, p_idle_seconds integer,
                                                         p_touch_seconds integer)
RETURNS TABLE (user_id bigint, username text, email text, roles text,
               created_at timestamptz, authenticated_at timestamptz,
               expires_at timestamptz, remember boolean,
               fingerprint bytea, stale boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_idle interval := make_interval(secs => p_idle_seconds);
    v_touch interval := make_interval(secs => p_touch_seconds);
    v record;
    v_dead record;
    v_found boolean;
BEGIN
    SELECT s.user_id AS uid, s.created_at AS s_created, s.authenticated_at AS s_auth,
           s.last_seen AS s_seen, s.expires_at AS s_expires, s.remember AS s_remember,
           s.fingerprint AS s_fingerprint, s.stale AS s_stale,
           u.username AS u_name, u.email AS u_email,
           (SELECT coalesce(string_agg(r.role, ',' ORDER BY r.role COLLATE "C"), '')
              FROM authgate.user_roles AS r WHERE r.user_id = s.user_id) AS u_roles
      INTO v
      FROM authgate.sessions AS s
      JOIN authgate.users AS u ON u.id = s.user_id
     WHERE s.token_hash = p_token_hash
       AND s.expires_at > now()
       AND NOT u.disabled
       AND s.authenticated_at >= u.password_changed_at
       AND (s.remember OR s.last_seen > now() - v_idle);
    IF NOT FOUND THEN
        PERFORM set_config('authgate.activity', 'on', true);
        UPDATE authgate.sessions AS s
           SET dead_use_at = now()
          FROM authgate.users AS u
         WHERE s.token_hash = p_token_hash AND u.id = s.user_id AND s.dead_use_at IS NULL
        RETURNING s.user_id AS uid, u.username AS u_name,
                  CASE WHEN u.disabled THEN 'user_disabled'
                       WHEN s.authenticated_at < u.password_changed_at THEN 'password_changed'
                       WHEN s.expires_at <= now() THEN 'lifetime'
                       ELSE 'idle' END AS reason
          INTO v_dead;
        v_found := FOUND;
        PERFORM set_config('authgate.activity', 'off', true);
        IF v_found THEN
            PERFORM authgate._event('session_expired', v_dead.uid, v_dead.u_name,
                                    NULL, NULL, 'used_after=' || v_dead.reason);
        END IF;
        RETURN;
    END IF;
    -- Activity is written at most once per touch interval. The setting
    -- tells the change-notification trigger (version 2) that this write is
    -- the daemon's own activity record, which no cache needs to hear of.
    IF v.s_seen < now() - v_touch THEN
        PERFORM set_config('authgate.activity', 'on', true);
        UPDATE authgate.sessions AS s
           SET last_seen = now()
         WHERE s.token_hash = p_token_hash AND s.last_seen < now() - v_touch;
        IF FOUND THEN
            v.s_seen := now();
        END IF;
        PERFORM set_config('authgate.activity', 'off', true);
    END IF;
    user_id := v.uid;
    username := v.u_name;
    email := v.u_email;
    roles := v.u_roles;
    created_at := v.s_created;
    authenticated_at := v.s_auth;
    expires_at := CASE WHEN v.s_remember THEN v.s_expires
                       ELSE least(v.s_expires, v.s_seen + v_idle) END;
    remember := v.s_remember;
    fingerprint := v.s_fingerprint;
    stale := v.s_stale;
    RETURN NEXT;
END
$fn$;

-- An API token that exists but is expired (kept until purge_expired) or
-- belongs to a disabled user is refused as before, and its use recorded as
-- 'api_token_refused', at most once a minute per token so that a client
-- retrying in a loop cannot flood the trail.
CREATE OR REPLACE FUNCTION authgate.daemon_check_api_token(p_token_hash bytea)
RETURNS TABLE (user_id bigint, username text, email text, roles text,
               expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v record;
    v_detail text;
BEGIN
    SELECT t.id AS t_id, t.user_id AS uid, t.expires_at AS t_expires,
           t.last_used_at AS t_used, t.name AS t_name, u.username AS u_name,
           u.email AS u_email, u.disabled AS u_disabled,
           (SELECT coalesce(string_agg(r.role, ',' ORDER BY r.role COLLATE "C"), '')
              FROM authgate.user_roles AS r WHERE r.user_id = t.user_id) AS u_roles
      INTO v
      FROM authgate.api_tokens AS t
      JOIN authgate.users AS u ON u.id = t.user_id
     WHERE t.token_hash = p_token_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v.u_disabled OR v.t_expires <= now() THEN
        v_detail := CASE WHEN v.u_disabled THEN 'user_disabled' ELSE 'expired' END
                    || ' token=' || v.t_name;
        IF NOT EXISTS (SELECT 1 FROM authgate.events AS e
                        WHERE e.at > now() - interval '1 minute'
                          AND e.event = 'api_token_refused'
                          AND e.user_id = v.uid AND e.detail = v_detail) THEN
            PERFORM authgate._event('api_token_refused', v.uid, v.u_name, NULL, NULL,
                                    v_detail);
        END IF;
        RETURN;
    END IF;
    IF v.t_used IS NULL OR v.t_used < now() - interval '1 minute' THEN
        PERFORM set_config('authgate.activity', 'on', true);
        UPDATE authgate.api_tokens AS t
           SET last_used_at = now()
         WHERE t.id = v.t_id
           AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
        PERFORM set_config('authgate.activity', 'off', true);
    END IF;
    user_id := v.uid;
    username := v.u_name;
    email := v.u_email;
    roles := v.u_roles;
    expires_at := v.t_expires;
    RETURN NEXT;
END
$fn$;

REVOKE ALL ON FUNCTION
    authgate.purge_expired(interval),
    authgate.daemon_purge_expired(integer)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authgate.daemon_purge_expired(integer) TO authgate_daemon;
GRANT EXECUTE ON FUNCTION authgate.purge_expired(interval) TO authgate_admin;

INSERT INTO authgate.schema_migrations (version) VALUES (4);
END
$migration_4$;

-- Version 5: HTTP Basic on $authgate_basic locations.
--
-- The daemon verifies the password itself (daemon_user_for_login, as for
-- the login form), then calls daemon_basic_login with the hash it verified
-- against: the identity comes back only if that is still the user's hash
-- and the user is enabled, under FOR SHARE so a concurrent set_password or
-- disable_user either commits first (no row) or waits. A success clears the
-- account's failure count and is recorded as event 'basic_login' (once per
-- verification: the daemon remembers verified credentials for a short
-- while, see --basic-cache-ttl). Failures go through daemon_login_failure
-- with a 'basic_...' detail, and the throttle is the login form's.
DO $migration_5$
BEGIN
IF EXISTS (SELECT 1 FROM authgate.schema_migrations WHERE version = 5) THEN
    RETURN;
END IF;

CREATE FUNCTION authgate.daemon_basic_login(p_user_id bigint, p_password_hash text,
                                            p_client_addr text, p_user_agent text)
RETURNS TABLE (user_id bigint, username text, email text, roles text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_user authgate.users;
BEGIN
    SELECT u.* INTO v_user
      FROM authgate.users AS u
     WHERE u.id = p_user_id AND u.password_hash = p_password_hash AND NOT u.disabled
       FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    DELETE FROM authgate.login_failures AS f
     WHERE f.scope = 'user' AND f.key = authgate._user_key(v_user.username);
    PERFORM authgate._event('basic_login', v_user.id, v_user.username,
                            authgate._inet(p_client_addr), authgate._ua(p_user_agent), NULL);
    user_id := v_user.id;
    username := v_user.username;
    email := v_user.email;
    roles := authgate._roles(v_user.id);
    RETURN NEXT;
END
$fn$;
REVOKE ALL ON FUNCTION authgate.daemon_basic_login(bigint, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authgate.daemon_basic_login(bigint, text, text, text)
    TO authgate_daemon;

INSERT INTO authgate.schema_migrations (version) VALUES (5);
END
$migration_5$;


-- Version 6: checks in batches. A daemon thread with several checks to
-- ask about at once (its cache off, or missing them) sends them in one
-- statement: the session token hashes concatenated (32 bytes each) and,
-- per check, its touch interval. Each valid session comes back as a row
-- numbered by its place in the batch, with the columns and rules of
-- daemon_check_session; an invalid one gets no row, and its first use
-- after it stopped being valid is recorded as there. One round trip and
-- one plan for the batch instead of one per check.
--
-- Activity and dead-use writes lock their rows with SKIP LOCKED: two
-- batches holding the same sessions in another order never deadlock, and
-- a row another transaction is writing just now is left to that one (its
-- touch or record stands for this check's too).
DO $migration_6$
BEGIN
IF EXISTS (SELECT 1 FROM authgate.schema_migrations WHERE version = 6) THEN
    RETURN;
END IF;

CREATE FUNCTION authgate.daemon_check_sessions(p_token_hashes bytea, p_idle_seconds integer,
                                               p_touch_seconds integer[])
RETURNS TABLE (ord integer, user_id bigint, username text, email text, roles text,
               created_at timestamptz, authenticated_at timestamptz,
               expires_at timestamptz, remember boolean,
               fingerprint bytea, stale boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_idle interval := make_interval(secs => p_idle_seconds);
    v_count integer := length(p_token_hashes) / 32;
    v_hashes bytea[];
    v_valid integer;
    v_dead record;
BEGIN
    IF length(p_token_hashes) % 32 <> 0 OR v_count > 1024
       OR coalesce(array_length(p_touch_seconds, 1), 0) <> v_count THEN
        RAISE EXCEPTION 'daemon_check_sessions: % bytes of hashes, % touch intervals',
            length(p_token_hashes), coalesce(array_length(p_touch_seconds, 1), 0)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- An array (estimated small) rather than a series (estimated at 1000
    -- rows) keeps every statement below on the token_hash index.
    v_hashes := ARRAY(SELECT substring(p_token_hashes FROM (i - 1) * 32 + 1 FOR 32)
                        FROM generate_series(1, v_count) AS i);
    -- The activity writes and the answer in one statement: the answer's
    -- last_seen is the one just written, where one was.
    PERFORM set_config('authgate.activity', 'on', true);
    RETURN QUERY
    WITH touched AS (
        UPDATE authgate.sessions AS s
           SET last_seen = now()
         WHERE s.token_hash = ANY (ARRAY(
            SELECT t.token_hash
              FROM unnest(v_hashes, p_touch_seconds) AS q(h, touch)
              JOIN authgate.sessions AS t ON t.token_hash = q.h
              JOIN authgate.users AS u ON u.id = t.user_id
             WHERE t.expires_at > now()
               AND NOT u.disabled
               AND t.authenticated_at >= u.password_changed_at
               AND (t.remember OR t.last_seen > now() - v_idle)
               AND t.last_seen < now() - make_interval(secs => q.touch)
               FOR UPDATE OF t SKIP LOCKED))
        RETURNING s.token_hash, s.last_seen)
    SELECT q.i::integer, s.user_id, u.username, u.email,
           (SELECT coalesce(string_agg(r.role, ',' ORDER BY r.role COLLATE "C"), '')
              FROM authgate.user_roles AS r WHERE r.user_id = s.user_id),
           s.created_at, s.authenticated_at,
           CASE WHEN s.remember THEN s.expires_at
                ELSE least(s.expires_at, coalesce(w.last_seen, s.last_seen) + v_idle) END,
           s.remember, s.fingerprint, s.stale
      FROM unnest(v_hashes) WITH ORDINALITY AS q(h, i)
      JOIN authgate.sessions AS s ON s.token_hash = q.h
      JOIN authgate.users AS u ON u.id = s.user_id
      LEFT JOIN touched AS w ON w.token_hash = s.token_hash
     WHERE s.expires_at > now()
       AND NOT u.disabled
       AND s.authenticated_at >= u.password_changed_at
       AND (s.remember OR s.last_seen > now() - v_idle);
    GET DIAGNOSTICS v_valid = ROW_COUNT;
    -- Only a batch with an invalid session (unknown, or dead) looks for
    -- dead ones to record.
    IF v_valid < v_count THEN
        FOR v_dead IN
            UPDATE authgate.sessions AS s
               SET dead_use_at = now()
              FROM authgate.users AS u
             WHERE u.id = s.user_id
               AND s.token_hash = ANY (ARRAY(
                  SELECT t.token_hash
                    FROM authgate.sessions AS t
                    JOIN authgate.users AS du ON du.id = t.user_id
                   WHERE t.token_hash = ANY (v_hashes)
                     AND t.dead_use_at IS NULL
                     AND NOT (t.expires_at > now()
                              AND NOT du.disabled
                              AND t.authenticated_at >= du.password_changed_at
                              AND (t.remember OR t.last_seen > now() - v_idle))
                     FOR UPDATE OF t SKIP LOCKED))
            RETURNING s.user_id AS uid, u.username AS u_name,
                      CASE WHEN u.disabled THEN 'user_disabled'
                           WHEN s.authenticated_at < u.password_changed_at THEN 'password_changed'
                           WHEN s.expires_at <= now() THEN 'lifetime'
                           ELSE 'idle' END AS reason
        LOOP
            PERFORM authgate._event('session_expired', v_dead.uid, v_dead.u_name,
                                    NULL, NULL, 'used_after=' || v_dead.reason);
        END LOOP;
    END IF;
    PERFORM set_config('authgate.activity', 'off', true);
END
$fn$;
REVOKE ALL ON FUNCTION authgate.daemon_check_sessions(bytea, integer, integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION authgate.daemon_check_sessions(bytea, integer, integer[])
    TO authgate_daemon;

INSERT INTO authgate.schema_migrations (version) VALUES (6);
END
$migration_6$;

-- Append later versions here, each as its own guarded DO block, like
-- version 2 above.

-- The CSRF key: created when missing (first install, or after a deliberate
-- DELETE to rotate it). ON CONFLICT makes this a no-op otherwise.
INSERT INTO authgate.daemon_secret (id, key)
VALUES (true, authgate._random_bytes(32))
ON CONFLICT (id) DO NOTHING;

SELECT authgate.schema_version() AS authgate_schema_version;

COMMIT;
