#!/bin/sh
# Init script for the official postgres image (/docker-entrypoint-initdb.d/):
# creates the daemon's login role, a member of authgate_daemon, with the
# password of the authgate container's secret (the file its
# AUTHGATE_DB_PASSWORD_FILE names), so that one file is the single source
# of the password.
#
# It runs once, when the data directory is initialised, after
# 10-authgate-install.sql (sql/install.sql, which creates the schema and
# the NOLOGIN role authgate_daemon) in database $POSTGRES_DB. Changing the
# password later: ALTER ROLE ... PASSWORD in psql, then update the secret
# and restart the authgate container.
#
# The entrypoint sources *.sh files that are not executable, so this file
# defines no global names but its own and exits only on failure.
#
#   AUTHGATE_DB_PASSWORD_SECRET  the secret: the password alone on one line
#                                (default /run/secrets/authgate_db_password)
#   AUTHGATE_DB_ROLE             the role to create (default authgate_app)

authgate_role_init() {
    # `local` is not POSIX, but dash (/bin/sh in the image) and bash (which
    # sources the file when it is not executable) both have it.
    # shellcheck disable=SC3043
    local secret role
    secret=${AUTHGATE_DB_PASSWORD_SECRET:-/run/secrets/authgate_db_password}
    role=${AUTHGATE_DB_ROLE:-authgate_app}
    if [ ! -r "$secret" ]; then
        echo "authgate init: $secret is missing or unreadable" >&2
        return 1
    fi
    # As authgate --db-password-file reads it: one line, its newline dropped.
    if [ "$(wc -l <"$secret")" -gt 1 ] || [ ! -s "$secret" ]; then
        echo "authgate init: $secret needs one line holding the password" >&2
        return 1
    fi
    AUTHGATE_ROLE_PASSWORD=$(tr -d '\r\n' <"$secret")
    if [ -z "$AUTHGATE_ROLE_PASSWORD" ]; then
        echo "authgate init: $secret needs one line holding the password" >&2
        return 1
    fi
    export AUTHGATE_ROLE_NAME="$role" AUTHGATE_ROLE_PASSWORD

    # The password reaches psql through its environment (\getenv), never
    # its command line; a failing statement is not logged with its text.
    psql -X -q -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" \
        --dbname "${POSTGRES_DB:-postgres}" <<'SQL' || return 1
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
\getenv role AUTHGATE_ROLE_NAME
\getenv password AUTHGATE_ROLE_PASSWORD
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE authgate_daemon',
              :'role', :'password') \gexec
SQL
    unset AUTHGATE_ROLE_PASSWORD AUTHGATE_ROLE_NAME
    echo "authgate init: created login role $role (member of authgate_daemon)"
}

authgate_role_init || exit 1
