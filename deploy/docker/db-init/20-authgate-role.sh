#!/bin/sh
# Init script for the official postgres image (/docker-entrypoint-initdb.d/):
# creates the daemon's login role, a member of authgate_daemon, with the
# password from the authgate container's .pgpass secret, so that one file is
# the single source of the password.
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
#   AUTHGATE_PGPASS_SECRET  the secret (default /run/secrets/authgate_pgpass):
#                           its first entry, e.g. `*:*:*:authgate_app:PASSWORD`,
#                           names the role (4th field) and its password.

authgate_role_init() {
    # `local` is not POSIX, but dash (/bin/sh in the image) and bash (which
    # sources the file when it is not executable) both have it.
    # shellcheck disable=SC3043
    local secret fields role
    secret=${AUTHGATE_PGPASS_SECRET:-/run/secrets/authgate_pgpass}
    if [ ! -r "$secret" ]; then
        echo "authgate init: $secret is missing or unreadable" >&2
        return 1
    fi
    # The first entry's username and password, with .pgpass escapes (\: and
    # \\) undone; the password is everything after the 4th unescaped colon.
    fields=$(awk '
        /^[ \t]*(#|$)/ { next }
        {
            n = 0; f = ""; esc = 0
            for (i = 1; i <= length($0); i++) {
                c = substr($0, i, 1)
                if (esc) { f = f c; esc = 0; continue }
                if (c == "\\") { esc = 1; continue }
                if (c == ":" && n < 4) { field[n++] = f; f = ""; continue }
                f = f c
            }
            if (n == 4) { print field[3]; print f }
            exit
        }' "$secret") || return 1
    role=$(printf '%s\n' "$fields" | sed -n 1p)
    AUTHGATE_ROLE_PASSWORD=$(printf '%s\n' "$fields" | sed -n 2p)
    if [ -z "$role" ] || [ "$role" = "*" ] || [ -z "$AUTHGATE_ROLE_PASSWORD" ]; then
        echo "authgate init: $secret needs a line host:port:database:ROLE:PASSWORD with a role name and a password" >&2
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
    unset AUTHGATE_ROLE_PASSWORD AUTHGATE_ROLE_NAME fields
    echo "authgate init: created login role $role (member of authgate_daemon)"
}

authgate_role_init || exit 1
