#!/usr/bin/env bash
# ctest lighttpd.* and apache.*: a real lighttpd or Apache httpd running
# the shipped example (deploy/lighttpd/example.conf,
# deploy/apache/example.conf) with its settings pointed at a copy of the
# demo site and at an authgate daemon, which is the server's FastCGI
# authorizer and serves /auth/; driven with curl as a browser and an API
# client would.
#
#   tests/webservers/test_webserver.sh lighttpd|apache CASE
#
# Needs the test stack: AUTHGATE_TEST_FCGI (its daemon, used by lighttpd),
# AUTHGATE_TEST_BINARY and AUTHGATE_TEST_DAEMON_DB (Apache's
# mod_authnz_fcgi speaks TCP only, so Apache gets a daemon of its own on a
# loopback port) and AUTHGATE_TEST_DB (superuser conninfo), from
# scripts/dev test or `source DIR/env` after scripts/dev stack start DIR.
set -euo pipefail

server=${1:?usage: test_webserver.sh lighttpd|apache CASE}
case_name=${2:?usage: test_webserver.sh lighttpd|apache CASE}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

for var in AUTHGATE_TEST_FCGI AUTHGATE_TEST_DB AUTHGATE_TEST_BINARY AUTHGATE_TEST_DAEMON_DB; do
  [[ -n ${!var:-} ]] ||
    fail "$var is not set: run through scripts/dev test (or source DIR/env after scripts/dev stack start DIR)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authgate-$server.XXXXXX")
# Apache's workers run as www-data when started as root.
chmod 755 "$tmp"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

random_port() { echo $((20000 + RANDOM % 12768)); }

# Waits until http://127.0.0.1:$1/ answers from a socket that process $2
# listens on; false when the process ended first (its port was taken
# meanwhile). An answer alone is not enough: another server that holds the
# port answers too, until ours gives up binding it.
wait_http() {
  while kill -0 "$2" 2>/dev/null; do
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" &&
      ss -Hltnp "sport = :$1" | grep -q "pid=$2,"; then
      return 0
    fi
    sleep 0.05
  done
  wait "$2" 2>/dev/null || true
  return 1
}

# The example with its settings lines replaced (sed expressions in
# "$@"); each replaced line must be found, or the example changed under
# the test.
example_config() {
  local src=$1 out=$2 expr
  shift 2
  sed "${@/#/-e}" "$src" >"$out"
  for expr in "$@"; do
    expr=${expr#s|}
    grep -qxF -- "$(cut -d'|' -f2 <<<"$expr")" "$out" ||
      fail "$src: no line to become $(cut -d'|' -f2 <<<"$expr")"
  done
}

site() {
  mkdir -p "$tmp/site"
  cp -R "$root/nginx/demo/." "$tmp/site/"
  install -m 755 "$root/tests/webservers/env.cgi" "$tmp/site/account/env.cgi"
  chmod -R a+rX "$tmp/site"
}

# Runs a server on a random port until one is free: `$1 PORT` writes its
# configuration and sets $cmd, the command to run; it is up when
# http://127.0.0.1:PORT/ answers (a taken port ends it first). Its stderr
# goes to $2. Sets $port.
start_on_free_port() {
  local setup=$1 log=$2 attempt
  for attempt in $(seq 1 20); do
    port=$(random_port)
    "$setup" "$port"
    "${cmd[@]}" 2>>"$log" &
    pids+=($!)
    wait_http "$port" "$!" && return 0
  done
  fail "${setup%_setup} did not start: $(cat "$log" "$tmp"/*-error.log "$tmp"/run/*.log 2>/dev/null)"
}

lighttpd_setup() {
  example_config "$root/deploy/lighttpd/example.conf" "$tmp/conf/example.conf" \
    "s|^server.port = .*|server.port = $1|" \
    "s|^server.document-root = .*|server.document-root = \"$tmp/site\"|" \
    "s|^var.authgate_backend = .*|var.authgate_backend = $backend|"
  printf 'server.errorlog = "%s/lighttpd-error.log"\n' "$tmp" >>"$tmp/conf/example.conf"
  "$bin" -tt -f "$tmp/conf/example.conf" || fail "lighttpd -tt refused the example"
  cmd=("$bin" -D -f "$tmp/conf/example.conf")
}

start_lighttpd() {
  bin=$(command -v lighttpd || echo /usr/sbin/lighttpd)
  [[ -x $bin ]] || fail "lighttpd is not installed (Debian package lighttpd)"
  case $AUTHGATE_TEST_FCGI in
  unix:*) backend="( \"socket\" => \"${AUTHGATE_TEST_FCGI#unix:}\" )" ;;
  *:*) backend="( \"host\" => \"${AUTHGATE_TEST_FCGI%:*}\", \"port\" => ${AUTHGATE_TEST_FCGI##*:} )" ;;
  *) fail "AUTHGATE_TEST_FCGI: unix:/path or HOST:PORT, not $AUTHGATE_TEST_FCGI" ;;
  esac
  mkdir -p "$tmp/conf"
  cp "$root/deploy/lighttpd/authgate.conf" "$tmp/conf/"
  start_on_free_port lighttpd_setup "$tmp/server.stderr"
  base=http://127.0.0.1:$port
}

# The daemon answers plain HTTP on its socket too (404 but for
# /auth/check), which tells it is up.
daemon_setup() {
  cmd=("$AUTHGATE_TEST_BINARY" --listen "127.0.0.1:$1"
    --db "$AUTHGATE_TEST_DAEMON_DB" --threads 2 --cookie-secure off)
}

apache_setup() {
  example_config "$root/deploy/apache/example.conf" "$tmp/conf/example.conf" \
    "s|^Listen .*|Listen 127.0.0.1:$1|" \
    "s|^Define AUTHGATE_FCGI .*|Define AUTHGATE_FCGI $fcgi|" \
    "s|^Define AUTHGATE_SITE .*|Define AUTHGATE_SITE $tmp/site|" \
    "s|^Define AUTHGATE_CONF_DIR .*|Define AUTHGATE_CONF_DIR $tmp/conf|" \
    "s|^Define AUTHGATE_RUN_DIR .*|Define AUTHGATE_RUN_DIR $tmp/run|"
  "$bin" -t -f "$tmp/conf/example.conf" 2>"$tmp/syntax" ||
    fail "apache2 -t refused the example: $(cat "$tmp/syntax")"
  # Its own session: at shutdown Apache signals its whole process group,
  # which would otherwise be ctest's.
  cmd=(setsid "$bin" -f "$tmp/conf/example.conf" -DFOREGROUND)
}

start_apache() {
  bin=$(command -v apache2 || echo /usr/sbin/apache2)
  [[ -x $bin ]] || fail "Apache is not installed (Debian package apache2)"
  # mod_authnz_fcgi speaks TCP only: a daemon of Apache's own.
  start_on_free_port daemon_setup "$tmp/daemon.log"
  fcgi=127.0.0.1:$port
  mkdir -p "$tmp/conf" "$tmp/run"
  cp "$root/deploy/apache/authgate.conf" "$tmp/conf/"
  start_on_free_port apache_setup "$tmp/server.stderr"
  base=http://127.0.0.1:$port
}

sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" "$@"; }

# A fresh user; sets $user, $password, $user_id.
new_user() {
  user=ws_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  password=pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  user_id=$(sql -c "SELECT authgate.create_user('$user', '$password', '$user@example.com')")
  [[ $user_id =~ ^[0-9]+$ ]] || fail "create_user: $user_id"
}

jar=$tmp/cookies
# A request through the server with the cookie jar; sets $status,
# $headers, $body.
http() {
  local path=$1
  shift
  status=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
    -b "$jar" -c "$jar" "$@" "$base$path")
  headers=$(tr -d '\r' <"$tmp/headers")
  body=$(cat "$tmp/body")
}

expect_status() {
  [[ $status == "$1" ]] || fail "$2: status $status, expected $1: $headers $body"
}

expect_line() {
  grep -qxF -- "$1" <<<"$body" || fail "$2: no line '$1' in: $body"
}

header() { sed -n "s/^$1: //Ip" <<<"$headers" | head -n 1; }

csrf_from_form() {
  local token
  token=$(grep -o 'name="csrf_token" value="[^"]*"' <<<"$body" | head -n 1 |
    sed 's/.*value="//; s/"$//')
  [[ -n $token ]] || fail "no csrf_token in the form: $body"
  printf '%s' "$token"
}

# Logs $user in through the server's /auth/login, as a browser does.
login() {
  local next=$1 token
  http "/auth/login?next=$next" -H 'Accept: text/html'
  expect_status 200 "GET /auth/login"
  token=$(csrf_from_form)
  http /auth/login -H "Origin: $base" \
    --data-urlencode "username=$user" --data-urlencode "password=$password" \
    --data-urlencode "csrf_token=$token" --data-urlencode "next=$next"
  expect_status 303 "POST /auth/login"
  [[ $(header Set-Cookie) == authgate=* ]] || fail "no session cookie: $headers"
}

case $server in
lighttpd | apache) ;;
*) fail "unknown server $server" ;;
esac
site
"start_$server"

case $case_name in
login_flow)
  new_user
  http /account/env.cgi -H 'Accept: text/html'
  expect_status 302 "no session, browser"
  [[ $(header Location) == "/auth/login?next=%2Faccount%2Fenv.cgi" ]] ||
    fail "Location: $(header Location)"
  [[ $body != *AUTH_USER=* ]] || fail "the application ran without a session: $body"

  login /account/env.cgi
  [[ $(header Location) == /account/env.cgi ]] || fail "after login, Location: $(header Location)"
  # A client's own identity headers never pass for the identity.
  http /account/env.cgi -H 'Auth-User: mallory' -H 'X-Auth-User: mallory'
  expect_status 200 "logged in"
  expect_line "AUTH_USER=$user" "identity in the application"
  expect_line "AUTH_USER_ID=$user_id" "user id"
  expect_line "AUTH_EMAIL=$user@example.com" "email"
  expect_line "HTTP_AUTH_USER=mallory" "the client's header, under its own name"
  if [[ $server == apache ]]; then
    expect_line "REMOTE_USER=$user" "UserExpr"
    expect_line "HTTP_X_AUTH_USER=$user" "X-Auth-User replaced for proxied apps"
  fi
  http /account/
  expect_status 200 "static page behind the authorizer"
  http /auth/whoami
  expect_status 200 "whoami"
  [[ $body == *"\"username\":\"$user\""* ]] || fail "whoami: $body"

  http /auth/logout -H 'Accept: text/html'
  expect_status 200 "GET /auth/logout"
  token=$(csrf_from_form)
  http /auth/logout -H "Origin: $base" --data-urlencode "csrf_token=$token"
  expect_status 303 "POST /auth/logout"
  [[ $(sql -c "SELECT count(*) FROM authgate.sessions WHERE user_id = $user_id") == 0 ]] ||
    fail "the session row survived the logout"
  http /account/env.cgi -H 'Accept: text/html'
  expect_status 302 "after logout"
  ;;
role_requirement)
  new_user
  login /admin/
  http /admin/ -H 'Accept: text/html'
  expect_status 403 "without the admin role"
  http /account/env.cgi -H 'X-Auth-Roles: admin'
  expect_status 200 "no role needed there"
  expect_line "AUTH_ROLES=" "roles"
  sql -c "SELECT authgate.grant_role('$user', 'admin')" >/dev/null
  http /admin/ -H 'Accept: text/html'
  expect_status 200 "with the admin role"
  http /account/env.cgi
  expect_line "AUTH_ROLES=admin" "roles"
  ;;
api_client)
  new_user
  http /account/env.cgi -H 'Accept: application/json'
  expect_status 401 "no credentials, API client"
  [[ $body == *'"error":"unauthorized"'* ]] || fail "body: $body"
  token=$(sql -c "SELECT authgate.create_api_token('$user', 'webserver', '1 hour')")
  http /account/env.cgi -H "Authorization: Bearer $token"
  expect_status 200 "bearer token"
  expect_line "AUTH_USER=$user" "identity"
  http /auth/check
  expect_status 404 "/auth/check is nginx's alone"
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "ok: $server.$case_name"
