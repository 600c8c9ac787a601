#!/usr/bin/env bash
# ctest deploy.fd0_spawn_fcgi: the daemon's "no --listen" mode, with the
# listening socket on fd 0, as spawn-fcgi and systemd (StandardInput=socket)
# hand it over. Runs the example deploy/spawn-fcgi/authgate-spawn-fcgi.sh,
# sends FastCGI healthz requests to its socket with cgi-fcgi, then SIGTERM
# and expects exit status 0.
#
#   tests/deploy/test_fd0.sh BUILD/authgate
#
# Needs the test stack's database: AUTHGATE_TEST_DB (superuser conninfo,
# from scripts/dev test or `source DIR/env` after scripts/dev stack start
# DIR); the daemon connects with the same host and port as the stack's own
# daemon role, authgate_daemon. As root, the daemon runs as the postgres
# account (certain to reach the stack's database socket), so the example's
# privilege drop is exercised too.
set -euo pipefail

bin=${1:?usage: test_fd0.sh AUTHGATE_BINARY}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
example=$root/deploy/spawn-fcgi/authgate-spawn-fcgi.sh

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

[[ -n ${AUTHGATE_TEST_DB:-} ]] ||
  fail "AUTHGATE_TEST_DB is not set: run through scripts/dev test (or source DIR/env after scripts/dev stack start DIR)"
command -v spawn-fcgi >/dev/null || fail "spawn-fcgi is not installed (Debian package spawn-fcgi)"
command -v cgi-fcgi >/dev/null || fail "cgi-fcgi is not installed (Debian package libfcgi-bin)"
[[ -x $bin ]] || fail "$bin is not an executable"

# The stack's superuser conninfo with the daemon's role instead.
user_re='(^|[[:space:]])user=postgres($|[[:space:]])'
[[ $AUTHGATE_TEST_DB =~ $user_re ]] ||
  fail "AUTHGATE_TEST_DB has no user=postgres to replace: $AUTHGATE_TEST_DB"
db=$(sed -E 's/(^|[[:space:]])user=postgres($|[[:space:]])/\1user=authgate_daemon\2/' <<<"$AUTHGATE_TEST_DB")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authgate-fd0.XXXXXX")
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    disown "$pid" 2>/dev/null || true   # no "Killed" job report
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

sock=$tmp/run/authgate.sock
daemon=$bin
env_extra=()
if ((EUID == 0)); then
  # The daemon will not run as root here: as postgres, from a copy it can
  # read whatever the checkout's permissions.
  chmod 755 "$tmp"
  install -m 755 "$bin" "$tmp/authgate"
  daemon=$tmp/authgate
  env_extra=(SPAWN_USER=postgres SPAWN_GROUP=postgres
             SPAWN_SOCKET_USER=postgres SPAWN_SOCKET_GROUP=postgres)
fi

healthz() {   # prints the answer; fails after 20 s without one
  env -i AUTHGATE_ENDPOINT=healthz REQUEST_METHOD=GET REQUEST_URI=/auth/healthz \
    QUERY_STRING= REMOTE_ADDR=127.0.0.1 \
    timeout 20 cgi-fcgi -bind -connect "$sock" </dev/null
}

diagnose() {   # what the daemon is doing, for a failure message
  {
    echo "--- daemon log"
    cat "$tmp/log" 2>/dev/null || true
    if [[ -n $pid && -r /proc/$pid/fdinfo/0 ]]; then
      local flags
      flags=$(awk '/^flags:/ {print $2}' "/proc/$pid/fdinfo/0")
      echo "--- fd 0: $(readlink "/proc/$pid/fd/0"), flags $flags"
      # O_NONBLOCK is 04000: a blocking listening socket makes threads
      # that epoll reported readable block in accept() when another
      # thread took the connection first.
      if (((8#$flags & 8#4000) == 0)); then
        echo "    O_NONBLOCK is not set on fd 0 (spawn-fcgi passes a blocking socket):"
        echo "    the daemon must set it before accepting from several threads"
      fi
    fi
  } >&2
}

# AUTHGATE_LISTEN in the environment must not win over fd 0: the example
# removes it.
note "starting: $example (socket $sock)"
env AUTHGATE_LISTEN=127.0.0.1:1 SPAWN_SOCKET="$sock" AUTHGATE_BIN="$daemon" \
  AUTHGATE_DB="$db" AUTHGATE_COOKIE_SECURE=off AUTHGATE_THREADS=2 \
  AUTHGATE_HASH_THREADS=1 "${env_extra[@]}" \
  "$example" </dev/null >"$tmp/log" 2>&1 &
pid=$!

for ((i = 0; i < 100; i++)); do
  [[ -S $sock ]] && break
  kill -0 "$pid" 2>/dev/null || { diagnose; fail "the example exited before creating $sock"; }
  sleep 0.1
done
[[ -S $sock ]] || { diagnose; fail "no socket at $sock after 10 s"; }

# spawn-fcgi -n execs the daemon in place: this pid is authgate itself,
# with the socket on fd 0.
for ((i = 0; i < 50; i++)); do
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$daemon")" ]] && break
  sleep 0.1
done
[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$daemon")" ]] ||
  { diagnose; fail "pid $pid is not $daemon (spawn-fcgi -n should exec it)"; }
[[ $(readlink "/proc/$pid/fd/0") == socket:* ]] || { diagnose; fail "fd 0 of the daemon is not a socket"; }
if ((EUID == 0)); then
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [[ $uid == "$(id -u postgres)" ]] || fail "the daemon runs as uid $uid, expected postgres (privilege drop)"
  [[ $(stat -c %U:%G:%a "$sock") == postgres:postgres:660 ]] ||
    fail "socket owner/mode $(stat -c %U:%G:%a "$sock"), expected postgres:postgres:660"
  note "ok: spawn-fcgi dropped privileges to postgres; socket postgres:postgres 0660"
fi
note "ok: authgate (pid $pid) runs with the listening socket on fd 0"

for n in 1 2 3; do
  if ! answer=$(healthz); then
    diagnose
    fail "healthz request $n: no answer within 20 s"
  fi
  if [[ $answer != "Status: 200"* ]]; then
    diagnose
    fail "healthz request $n: expected Status: 200, got: $(head -n 3 <<<"$answer")"
  fi
  note "ok: healthz request $n: $(head -n 1 <<<"$answer")"
done

# With AUTHGATE_LISTEN honoured, the daemon would also have tried TCP port 1.
if grep -q '127.0.0.1:1' "$tmp/log"; then
  diagnose
  fail "the daemon saw AUTHGATE_LISTEN"
fi

kill -TERM "$pid"
for ((i = 0; i < 300; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  diagnose
  fail "the daemon did not exit within 30 s of SIGTERM"
fi
status=0
wait "$pid" || status=$?
pid=""
((status == 0)) || { diagnose; fail "the daemon exited with status $status after SIGTERM, expected 0"; }
note "ok: SIGTERM: exit status 0"
