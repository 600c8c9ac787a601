#!/bin/sh
# Command of the `tests` compose service (Dockerfile stage `tests`): waits
# for the stack, then runs the integration suite's ctest entries against
# it. Arguments go to ctest (docker-compose run --rm tests
# authgate-run-tests -R login).
#
#   AUTHGATE_TEST_URL, AUTHGATE_TEST_DB   as for scripts/dev test
#   AUTHGATE_TEST_DB_PASSWORD_FILE        the superuser's password (a secret)
#   AUTHGATE_TEST_JOBS                    ctest -j (default 2)
set -eu

: "${AUTHGATE_TEST_URL:?AUTHGATE_TEST_URL is not set}"
: "${AUTHGATE_TEST_DB:?AUTHGATE_TEST_DB is not set}"

# libpq reads the password from a private .pgpass, not from the
# environment: `*` fields match any host, port and database.
if [ -n "${AUTHGATE_TEST_DB_PASSWORD_FILE:-}" ]; then
    umask 077
    PGPASSFILE=$(mktemp)
    printf '*:*:*:*:%s\n' \
        "$(sed 's/[\\:]/\\&/g' "$AUTHGATE_TEST_DB_PASSWORD_FILE")" >"$PGPASSFILE"
    export PGPASSFILE
    umask 022
fi

tries=0
until curl -fsS -o /dev/null -m 2 "$AUTHGATE_TEST_URL/auth/healthz" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "run-tests: $AUTHGATE_TEST_URL/auth/healthz did not answer 200 within 60 s" >&2
        exit 1
    fi
    sleep 1
done

# Cases that need what this stack lacks skip themselves (see
# docker-compose.yml); ctest lists them as not run.
exec ctest --test-dir /src/build -L '^integration_tests$' --output-on-failure \
    --no-tests=error -j"${AUTHGATE_TEST_JOBS:-2}" "$@"
