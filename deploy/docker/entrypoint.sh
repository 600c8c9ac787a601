#!/bin/sh
# Entrypoint of the authgate image: make a mounted password file usable by
# libpq, then exec the daemon, so that it is PID 1 and receives SIGTERM
# itself. Arguments are passed on: `docker run IMAGE version`.
#
# The database password is never an environment variable. The simple way:
# AUTHGATE_DB_PASSWORD_FILE names a file holding the password alone (a
# Docker secret, any mode; docker-compose.yml does this), read by authgate
# itself. The libpq way, handled here: PGPASSFILE names a file in .pgpass
# format (hostname:port:database:username:password, `*` as a wildcard):
#
#     *:*:*:authgate_app:the-password
#
# libpq ignores a password file that is group- or world-accessible ("WARNING:
# password file ... has group or world access"). docker-compose without
# swarm bind-mounts file secrets with the host file's mode (often 0644), and
# cannot change it; swarm and Kubernetes can (mode 0400, uid 10001), and
# such a file is used in place. Otherwise it is copied once into a private
# file (0600, this user) under $TMPDIR (a tmpfs in docker-compose.yml). A
# rotated secret therefore needs a container restart.
set -eu

fail() {
    printf 'authgate-entrypoint: %s\n' "$*" >&2
    exit 1
}

if [ -n "${PGPASSFILE:-}" ]; then
    [ -f "$PGPASSFILE" ] ||
        fail "PGPASSFILE=$PGPASSFILE does not exist (is the secret mounted?)"
    [ -r "$PGPASSFILE" ] ||
        fail "PGPASSFILE=$PGPASSFILE is not readable by uid $(id -u)"
    case $(stat -c %a "$PGPASSFILE") in
    *00) ;;   # no group/other bits: libpq accepts it as it is
    *)
        private_dir=$(mktemp -d "${TMPDIR:-/tmp}/authgate.XXXXXX") ||
            fail "cannot create a private copy of PGPASSFILE under ${TMPDIR:-/tmp} (mount a tmpfs there, or give the secret mode 0400/0600 and uid $(id -u))"
        (umask 077 && cat "$PGPASSFILE" >"$private_dir/pgpass") ||
            fail "cannot copy PGPASSFILE to $private_dir"
        PGPASSFILE=$private_dir/pgpass
        export PGPASSFILE
        ;;
    esac
fi

exec authgate "$@"
