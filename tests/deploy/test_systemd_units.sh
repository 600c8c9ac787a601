#!/usr/bin/env bash
# ctest deploy.systemd_units: deploy/systemd/authgate.{socket,service} pass
# `systemd-analyze verify`, keep their sandbox (`systemd-analyze security`
# exposure at most AUTHGATE_SECURITY_THRESHOLD tenths, default 20: 2.0 of
# 10; the units score 1.1), and fit
# together: the service takes the socket unit's socket on fd 0, the socket
# path is the one the nginx example uses.
#
#   tests/deploy/test_systemd_units.sh deploy/systemd BUILD/authgate
#
# Offline checks only: no systemd needs to run (this works in containers).
set -euo pipefail

units=${1:?usage: test_systemd_units.sh UNIT_DIR AUTHGATE_BINARY}
bin=${2:?usage: test_systemd_units.sh UNIT_DIR AUTHGATE_BINARY}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
threshold=${AUTHGATE_SECURITY_THRESHOLD:-20}

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze is not installed (Debian package systemd)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authgate-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

service=$units/authgate.service
socket=$units/authgate.socket
[[ -f $service && -f $socket ]] || fail "no authgate.service/authgate.socket in $units"

# --- how the two units and nginx fit together -------------------------------
value() { sed -nE "s/^$2=(.*)/\1/p" "$1" | tail -n 1; }

[[ $(value "$service" StandardInput) == socket ]] ||
  fail "authgate.service: StandardInput=socket is required (the daemon takes fd 0)"
[[ $(value "$service" ExecStart) != *--listen* ]] ||
  fail "authgate.service: ExecStart must not pass --listen (fd 0 would be ignored)"
grep -q '^Environment=.*AUTHGATE_LISTEN' "$service" &&
  fail "authgate.service: AUTHGATE_LISTEN would make the daemon ignore fd 0"
grep -q '^RuntimeDirectory=' "$service" &&
  fail "authgate.service: RuntimeDirectory= would delete the socket's directory when the service stops"
[[ $(value "$socket" Accept) == no ]] ||
  fail "authgate.socket: Accept=no is required (one daemon accepts every connection)"
sock_path=$(value "$socket" ListenStream)
[[ $sock_path == /* ]] || fail "authgate.socket: ListenStream is not a unix socket path: $sock_path"
grep -q "unix:$sock_path;" "$src/nginx/example.conf" ||
  fail "nginx/example.conf does not use the socket unit's path $sock_path"
[[ $(value "$socket" SocketMode) == 0660 ]] || fail "authgate.socket: SocketMode=0660 expected"
[[ -n $(value "$socket" SocketGroup) ]] || fail "authgate.socket: SocketGroup= (nginx's group) missing"
note "ok: socket $sock_path (group $(value "$socket" SocketGroup), 0660) on fd 0 of the service"

# --- systemd-analyze verify, with ExecStart= pointing at this build ---------
cp "$socket" "$tmp/authgate.socket"
sed "s|^ExecStart=.*|ExecStart=$bin|" "$service" >"$tmp/authgate.service"
if ! systemd-analyze verify --man=no "$tmp/authgate.socket" "$tmp/authgate.service" \
    >"$tmp/verify.log" 2>&1 || [[ -s $tmp/verify.log ]]; then
  cat "$tmp/verify.log" >&2
  fail "systemd-analyze verify reports problems"
fi
note "ok: systemd-analyze verify: clean"

# --- the sandbox ----------------------------------------------------------------
if ! systemd-analyze security --offline=true --threshold="$threshold" \
    "$tmp/authgate.service" >"$tmp/security.log" 2>&1; then
  grep -E '✗|→' "$tmp/security.log" >&2 || cat "$tmp/security.log" >&2
  fail "systemd-analyze security: exposure above $threshold tenths"
fi
note "ok: systemd-analyze security: $(grep -o 'Overall exposure level.*' "$tmp/security.log")"
