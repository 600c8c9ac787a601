#!/usr/bin/env bash
# ctest deploy.container_scripts: the docker-compose stack without Docker.
# This machine cannot run containers, so the pieces that go into them run
# here as plain processes, wired as docker-compose.yml wires them:
#
#   db        a private PostgreSQL cluster with password (scram) auth only,
#             initialised like the postgres image does: sql/install.sql, then
#             deploy/docker/db-init/20-authgate-role.sh with the secret
#   secrets   made by deploy/docker/make-secrets.sh (mode 0644, as compose
#             mounts them)
#   authgate  deploy/docker/entrypoint.sh with the compose service's
#             environment (PG* variables, AUTHGATE_DB_PASSWORD_FILE = the
#             0644 secret, TCP listen); the entrypoint's other way, a
#             .pgpass file in PGPASSFILE that libpq must accept, too
#   health    deploy/docker/healthcheck.sh (cgi-fcgi) against it
#   nginx     deploy/docker/nginx-site.conf + app.conf with the container
#             names replaced by loopback ports, and the unchanged snippets
#
# and then a browser's login through that nginx. What it cannot show: the
# images build, the official images' entrypoints, Docker networking and
# health states (scripts/deploy-check.sh --checklist).
#
#   tests/deploy/test_container_scripts.sh BUILD/authgate
#
# AUTHGATE_DEPLOY_SUITE=BUILD_DIR also runs that build's integration suite
# (ctest -L integration_tests) against this stack as the compose `tests`
# service would (AUTHGATE_TEST_FCGI over TCP, no log file, no database
# stop/start): the cases that need those skip themselves, and every other
# must pass.
set -euo pipefail

bin=${1:?usage: test_container_scripts.sh AUTHGATE_BINARY}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

[[ -x $bin ]] || fail "$bin is not an executable"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[[ $(basename "$bin") == authgate ]] || fail "the binary must be named authgate (the entrypoint runs it from PATH)"
for tool in psql cgi-fcgi curl ss; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $nginx ]] || fail "nginx is not installed"
pg_bin=""
for d in "$(pg_config --bindir 2>/dev/null || true)" $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
  [[ -n $d && -x $d/initdb ]] && { pg_bin=$d; break; }
done
[[ -n $pg_bin ]] || fail "PostgreSQL server binaries (initdb) not found"

# Everything under one directory that the postgres account can use too.
tmp=$(mktemp -d /tmp/authgate-ctr.XXXXXX)
chmod 755 "$tmp"
daemon_pid="" nginx_started=0 pg_started=0
as_pg() {
  if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
cleanup() {
  if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    disown "$daemon_pid" 2>/dev/null || true
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  if ((nginx_started)) && [[ -s $tmp/nginx/nginx.pid ]]; then
    kill -TERM "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
  fi
  if ((pg_started)); then
    as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -w -t 30 -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port_in_use() { [[ -n $(ss -Htln "sport = :$1") ]]; }
free_port() {
  local port try
  for ((try = 0; try < 100; try++)); do
    port=$((20000 + RANDOM % 12000))
    [[ " $* " == *" $port "* ]] && continue
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  fail "no free TCP port"
}
wait_for() {   # SECONDS COMMAND...
  local tries=$(($1 * 10))
  shift
  while ((tries-- > 0)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# --- secrets (compose: ./deploy/docker/secrets/*, mounted with their mode) ---
sh "$src/deploy/docker/make-secrets.sh" "$tmp/secrets" >/dev/null
chmod 755 "$tmp/secrets"   # in Docker, a mount bypasses the 0700 directory
[[ $(stat -c %a "$tmp/secrets/authgate_db_password") == 644 ]] ||
  fail "make-secrets.sh: authgate_db_password is not 0644"
grep -Eq '^[0-9a-f]{48}$' "$tmp/secrets/authgate_db_password" ||
  fail "make-secrets.sh: authgate_db_password is not one line of 48 hex digits"
# The same password as a .pgpass file, for the entrypoint's PGPASSFILE way.
printf '*:*:*:authgate_app:%s\n' "$(cat "$tmp/secrets/authgate_db_password")" >"$tmp/secrets/authgate_pgpass"
chmod 644 "$tmp/secrets/authgate_pgpass"
note "ok: make-secrets.sh wrote both secrets"

# --- db ---------------------------------------------------------------------------
pg_port=$(free_port)
mkdir -p "$tmp/pg"
cp "$tmp/secrets/postgres_password" "$tmp/pg/pwfile"
((EUID == 0)) && chown -R postgres: "$tmp/pg"
as_pg "$pg_bin/initdb" -D "$tmp/pg/data" -U postgres --auth=scram-sha-256 \
  --pwfile="$tmp/pg/pwfile" -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions \
  >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; fail "initdb failed"; }
as_pg tee -a "$tmp/pg/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
port = $pg_port
unix_socket_directories = '$tmp/pg'
fsync = off
EOF
as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/postgres.log" -w -t 60 start >/dev/null ||
  { cat "$tmp/pg/postgres.log" >&2; fail "PostgreSQL did not start"; }
pg_started=1

# The superuser's password from a private .pgpass (as the tests container).
printf '*:*:*:postgres:%s\n' "$(cat "$tmp/secrets/postgres_password")" >"$tmp/superuser.pgpass"
chmod 600 "$tmp/superuser.pgpass"
export PGHOST=$tmp/pg PGPORT=$pg_port
su_env=(PGPASSFILE="$tmp/superuser.pgpass" PGUSER=postgres)
env "${su_env[@]}" psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE authgate' >/dev/null ||
  fail "cannot create database authgate as the superuser"

# The postgres image's /docker-entrypoint-initdb.d/, in name order: *.sql with
# psql -v ON_ERROR_STOP=1 in POSTGRES_DB, executable *.sh run.
env "${su_env[@]}" psql -X -q -v ON_ERROR_STOP=1 -d authgate -f "$src/sql/install.sql" \
  >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "sql/install.sql failed"; }
[[ -x $src/deploy/docker/db-init/20-authgate-role.sh ]] ||
  fail "deploy/docker/db-init/20-authgate-role.sh is not executable (the image would source it)"
env "${su_env[@]}" POSTGRES_USER=postgres POSTGRES_DB=authgate \
  AUTHGATE_DB_PASSWORD_SECRET="$tmp/secrets/authgate_db_password" \
  "$src/deploy/docker/db-init/20-authgate-role.sh" >"$tmp/role.log" 2>&1 ||
  { cat "$tmp/role.log" >&2; fail "20-authgate-role.sh failed"; }
member=$(env "${su_env[@]}" psql -X -At -d authgate -c \
  "SELECT r.rolcanlogin AND pg_has_role('authgate_app', 'authgate_daemon', 'MEMBER') FROM pg_roles r WHERE r.rolname = 'authgate_app'")
[[ $member == t ]] || fail "20-authgate-role.sh: authgate_app is not a login member of authgate_daemon"
if grep -q "$(cat "$tmp/secrets/authgate_db_password")" "$tmp/pg/postgres.log" "$tmp/role.log"; then
  fail "the role's password appears in a log"
fi
note "ok: db init: install.sql, then login role authgate_app IN ROLE authgate_daemon from the secret"

# A broken secret fails the init script clearly.
printf 'two\nlines\n' >"$tmp/secrets/bad"
if env "${su_env[@]}" POSTGRES_USER=postgres POSTGRES_DB=authgate \
    AUTHGATE_DB_PASSWORD_SECRET="$tmp/secrets/bad" \
    "$src/deploy/docker/db-init/20-authgate-role.sh" >"$tmp/role-bad.log" 2>&1; then
  fail "20-authgate-role.sh accepted a secret of two lines"
fi
grep -q 'needs one line' "$tmp/role-bad.log" || fail "20-authgate-role.sh: unclear error: $(cat "$tmp/role-bad.log")"
note "ok: db init refuses a secret that is not one line"

# --- authgate through the entrypoint ------------------------------------------------
fcgi_port=$(free_port "$pg_port")
mkdir -p "$tmp/tmpfs"
chmod 1777 "$tmp/tmpfs"
daemon_env=(
  PATH="$(dirname "$bin"):/usr/bin:/bin"
  TMPDIR="$tmp/tmpfs"
  "AUTHGATE_LISTEN=127.0.0.1:$fcgi_port"
  AUTHGATE_COOKIE_SECURE=off
  AUTHGATE_THREADS=2
  PGHOST="$tmp/pg" PGPORT="$pg_port" PGDATABASE=authgate PGUSER=authgate_app
  PGAPPNAME=authgate
)

# A missing secret: one clear line, exit 1.
if env -i "${daemon_env[@]}" PGPASSFILE=/nonexistent/secret \
    sh "$src/deploy/docker/entrypoint.sh" >"$tmp/ep-missing.log" 2>&1; then
  fail "the entrypoint started without its PGPASSFILE"
fi
grep -q 'does not exist' "$tmp/ep-missing.log" || fail "entrypoint: unclear error: $(cat "$tmp/ep-missing.log")"
note "ok: entrypoint: a missing PGPASSFILE stops it with: $(head -n 1 "$tmp/ep-missing.log")"

# A wrong password: the daemon's fail-fast start, exit 1 (either way).
printf '*:*:*:authgate_app:wrong\n' >"$tmp/secrets/wrong"
chmod 644 "$tmp/secrets/wrong"
status=0
env -i "${daemon_env[@]}" PGPASSFILE="$tmp/secrets/wrong" timeout 30 \
  sh "$src/deploy/docker/entrypoint.sh" >"$tmp/ep-wrong.log" 2>&1 || status=$?
[[ $status == 1 ]] || fail "wrong password: exit status $status, expected 1: $(cat "$tmp/ep-wrong.log")"
note "ok: wrong password: exit 1: $(head -n 1 "$tmp/ep-wrong.log")"
printf 'wrong\n' >"$tmp/secrets/wrong_password"
chmod 644 "$tmp/secrets/wrong_password"
status=0
env -i "${daemon_env[@]}" AUTHGATE_DB_PASSWORD_FILE="$tmp/secrets/wrong_password" timeout 30 \
  sh "$src/deploy/docker/entrypoint.sh" check-config >"$tmp/ep-wrong2.log" 2>&1 || status=$?
[[ $status == 1 ]] && grep -q 'password authentication failed' "$tmp/ep-wrong2.log" ||
  fail "a wrong AUTHGATE_DB_PASSWORD_FILE: exit status $status: $(cat "$tmp/ep-wrong2.log")"
note "ok: wrong AUTHGATE_DB_PASSWORD_FILE: exit 1: $(head -n 1 "$tmp/ep-wrong2.log")"

# The password file's password is the one sent, over a password-less
# conninfo and a wrong PGPASSWORD; check-config never prints it.
env -i "${daemon_env[@]}" PGPASSWORD=wrong \
  AUTHGATE_DB_PASSWORD_FILE="$tmp/secrets/authgate_db_password" \
  sh "$src/deploy/docker/entrypoint.sh" check-config >"$tmp/ep-file.log" 2>&1 ||
  fail "check-config with AUTHGATE_DB_PASSWORD_FILE: $(cat "$tmp/ep-file.log")"
grep -q '^database: ok' "$tmp/ep-file.log" || fail "check-config: $(cat "$tmp/ep-file.log")"
! grep -q "$(cat "$tmp/secrets/authgate_db_password")" "$tmp/ep-file.log" ||
  fail "check-config printed the password"
note "ok: AUTHGATE_DB_PASSWORD_FILE (a 0644 secret): scram login, password not printed"

# The admin commands read the same file (here as the daemon's role, which
# may not list users: the login works, the SELECT is refused).
status=0
env -i "${daemon_env[@]}" AUTHGATE_DB_PASSWORD_FILE="$tmp/secrets/authgate_db_password" \
  "$bin" user list >"$tmp/admin.log" 2>&1 || status=$?
[[ $status == 1 ]] && grep -q 'permission denied' "$tmp/admin.log" ||
  fail "authgate user list with the password file: $status $(cat "$tmp/admin.log")"
note "ok: authgate user list logs in with the password file"

# Arguments pass through to the daemon; a 0600 .pgpass is used in place,
# a 0644 one through a private copy.
install -m 600 "$tmp/secrets/authgate_pgpass" "$tmp/private.pgpass"
mkdir -m 1777 "$tmp/tmpfs-check"
env -i "${daemon_env[@]}" TMPDIR="$tmp/tmpfs-check" PGPASSFILE="$tmp/private.pgpass" \
  sh "$src/deploy/docker/entrypoint.sh" check-config >"$tmp/ep-check.log" 2>&1 ||
  fail "entrypoint check-config failed: $(cat "$tmp/ep-check.log")"
grep -q '^database: ok' "$tmp/ep-check.log" || fail "entrypoint check-config: $(cat "$tmp/ep-check.log")"
[[ -z $(ls -A "$tmp/tmpfs-check") ]] || fail "the entrypoint copied a 0600 secret it could use in place"
note "ok: entrypoint passes arguments (check-config: database ok); a 0600 secret is used in place"
mkdir -m 1777 "$tmp/tmpfs-copy"
env -i "${daemon_env[@]}" TMPDIR="$tmp/tmpfs-copy" PGPASSFILE="$tmp/secrets/authgate_pgpass" \
  sh "$src/deploy/docker/entrypoint.sh" check-config >"$tmp/ep-copy.log" 2>&1 ||
  fail "entrypoint check-config with a 0644 .pgpass: $(cat "$tmp/ep-copy.log")"
passfile=$(echo "$tmp/tmpfs-copy/"*/pgpass)
[[ -f $passfile && $(stat -c %a "$passfile") == 600 ]] ||
  fail "no private 0600 copy of the 0644 .pgpass under TMPDIR"
if grep -qi 'has group or world access' "$tmp/ep-copy.log"; then
  fail "libpq ignored the password file: $(cat "$tmp/ep-copy.log")"
fi
note "ok: a 0644 PGPASSFILE is used through a private 0600 copy ($passfile)"

# The real thing, in the background, as docker-compose.yml runs it.
env -i "${daemon_env[@]}" AUTHGATE_DB_PASSWORD_FILE="$tmp/secrets/authgate_db_password" \
  sh "$src/deploy/docker/entrypoint.sh" </dev/null >"$tmp/authgate.log" 2>&1 &
daemon_pid=$!
healthy() { AUTHGATE_LISTEN=127.0.0.1:$fcgi_port sh "$src/deploy/docker/healthcheck.sh" >/dev/null; }
alive() { kill -0 "$daemon_pid" 2>/dev/null; }
wait_for 30 sh -c "! kill -0 $daemon_pid 2>/dev/null || AUTHGATE_LISTEN=127.0.0.1:$fcgi_port sh '$src/deploy/docker/healthcheck.sh' >/dev/null" || true
alive || { cat "$tmp/authgate.log" >&2; fail "authgate exited at startup"; }
healthy || { cat "$tmp/authgate.log" >&2; AUTHGATE_LISTEN=127.0.0.1:$fcgi_port sh "$src/deploy/docker/healthcheck.sh" >&2; fail "healthcheck.sh does not pass"; }
note "ok: authgate started by the entrypoint; healthcheck.sh passes (FastCGI healthz over TCP)"

# The entrypoint exec'd the daemon (PID 1 in a container), which logged in
# with the 0644 secret's password (scram auth succeeded).
[[ $(readlink "/proc/$daemon_pid/exe") == "$bin" ]] ||
  fail "the entrypoint did not exec the daemon (pid $daemon_pid is $(readlink "/proc/$daemon_pid/exe"))"
note "ok: entrypoint exec'd authgate with AUTHGATE_DB_PASSWORD_FILE"

# --- nginx: the compose site and app configs ------------------------------------------
site_port=$(free_port "$pg_port" "$fcgi_port")
app_port=$(free_port "$pg_port" "$fcgi_port" "$site_port")
mkdir -p "$tmp/nginx/conf.d" "$tmp/nginx/tmp"
cp "$src/nginx/authgate.conf" "$src/nginx/authgate-proxy-headers.conf" "$tmp/nginx/"
subst() {   # FILE FROM TO: FROM must occur (the compose files changed otherwise)
  grep -qF -- "$2" "$1" || fail "$(basename "$1") no longer contains '$2'; update this test"
  local text
  text=$(<"$1")
  printf '%s\n' "${text//"$2"/"$3"}" >"$1"
}
cp "$src/deploy/docker/nginx-site.conf" "$tmp/nginx/conf.d/site.conf"
subst "$tmp/nginx/conf.d/site.conf" 'server authgate:9000;' "server 127.0.0.1:$fcgi_port;"
subst "$tmp/nginx/conf.d/site.conf" 'server app:8081;' "server 127.0.0.1:$app_port;"
subst "$tmp/nginx/conf.d/site.conf" 'listen 8080;' "listen 127.0.0.1:$site_port;"
subst "$tmp/nginx/conf.d/site.conf" '/etc/nginx/' "$tmp/nginx/"
cp "$src/deploy/docker/app.conf" "$tmp/nginx/conf.d/app.conf"
subst "$tmp/nginx/conf.d/app.conf" 'listen 8081;' "listen 127.0.0.1:$app_port;"
subst "$tmp/nginx/conf.d/app.conf" '/usr/share/authgate/demo' "$src/nginx/demo"
# The official image's nginx.conf, reduced: http {} including conf.d/*.conf,
# and its relative includes resolved in the configuration directory.
cat >"$tmp/nginx/nginx.conf" <<EOF
$( ((EUID == 0)) && echo 'user root;')
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 256; }
http {
    types { text/html html; text/plain txt; }
    default_type application/octet-stream;
    access_log $tmp/nginx/access.log;
    client_body_temp_path $tmp/nginx/tmp/client_body;
    proxy_temp_path $tmp/nginx/tmp/proxy;
    fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
    scgi_temp_path $tmp/nginx/tmp/scgi;
    include $tmp/nginx/conf.d/*.conf;
}
EOF
"$nginx" -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx-t.log" ||
  { cat "$tmp/nginx-t.log" >&2; fail "nginx -t fails with deploy/docker/nginx-site.conf + app.conf"; }
"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" </dev/null >"$tmp/nginx-start.log" 2>&1 ||
  { cat "$tmp/nginx-start.log" >&2; fail "nginx did not start"; }
nginx_started=1
site=http://127.0.0.1:$site_port
wait_for 10 sh -c "curl -s -o /dev/null -m 2 $site/auth/healthz" || fail "nginx does not answer on $site"
note "ok: nginx -t and start with the compose site (upstream over TCP)"

code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }
[[ $(code "$site/auth/healthz") == 200 ]] || fail "GET /auth/healthz through nginx is not 200"
location=$(curl -s -o /dev/null -m 10 -w '%{http_code} %{redirect_url}' -H 'Accept: text/html' "$site/")
[[ $location == "302 $site/auth/login?next=%2F" ]] || fail "GET / as a browser: '$location', expected 302 to /auth/login?next=%2F"
[[ $(code "$site/public/") == 200 ]] || fail "GET /public/ is not 200"
[[ $(code -H 'X-Auth-User: mallory' "$site/headers") == 401 ]] || fail "GET /headers without a session is not 401"
note "ok: healthz 200, / -> 302 login, /public/ 200, /headers 401 without a session"

# A browser's login as a user created with the operators' SQL function.
user=ctr_$RANDOM$RANDOM
password=Pw-$RANDOM-$RANDOM-$RANDOM
env "${su_env[@]}" psql -X -q -v ON_ERROR_STOP=1 -d authgate -v u="$user" -v p="$password" \
  >/dev/null <<'SQL' || fail "create_user failed"
SELECT authgate.create_user(:'u', :'p', :'u' || '@example.test');
SQL
jar=$tmp/jar
token=$(curl -s -m 10 -c "$jar" -b "$jar" "$site/auth/login" |
  sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n 1)
[[ -n $token ]] || fail "no csrf_token in the login form"
login=$(curl -s -o /dev/null -m 30 -c "$jar" -b "$jar" -w '%{http_code} %{redirect_url}' \
  --data-urlencode "csrf_token=$token" --data-urlencode "username=$user" \
  --data-urlencode "password=$password" --data-urlencode 'next=/headers' \
  "$site/auth/login")
[[ $login == "303 $site/headers" ]] || fail "login: '$login', expected 303 to /headers"
headers=$(curl -s -m 10 -b "$jar" -H 'X-Auth-User: mallory' "$site/headers")
[[ $headers == *"X-Auth-User: $user"* ]] || fail "the app did not receive X-Auth-User: $user: $headers"
[[ $headers != *mallory* ]] || fail "a client-sent X-Auth-User reached the app"
note "ok: login through the compose site; the app receives X-Auth-User: $user, never the client's"

# --- the integration suite (optional) -------------------------------------------------
if [[ -n ${AUTHGATE_DEPLOY_SUITE:-} ]]; then
  note "running the integration suite of $AUTHGATE_DEPLOY_SUITE"
  env -u AUTHGATE_TEST_FCGI -u AUTHGATE_TEST_FCGI_ALL -u AUTHGATE_TEST_DAEMON_LOG \
    -u AUTHGATE_TEST_DB_STOP -u AUTHGATE_TEST_DB_START -u AUTHGATE_TEST_APP_URL \
    -u AUTHGATE_TEST_BINARY -u AUTHGATE_TEST_DAEMON_DB \
    -u AUTHGATE_TEST_SECRETS -u AUTHGATE_TEST_NGINX_ERROR_LOG \
    AUTHGATE_TEST_URL="$site" \
    AUTHGATE_TEST_FCGI="127.0.0.1:$fcgi_port" AUTHGATE_TEST_FCGI_ALL="127.0.0.1:$fcgi_port" \
    AUTHGATE_TEST_DB="host=$tmp/pg port=$pg_port dbname=authgate user=postgres" \
    PGPASSFILE="$tmp/superuser.pgpass" \
    ctest --test-dir "$AUTHGATE_DEPLOY_SUITE" -L '^integration_tests$' \
      --output-on-failure --no-tests=error -j2 ||
    fail "the integration suite fails against the compose-like stack"
fi

# --- stop ---------------------------------------------------------------------------------
kill -TERM "$daemon_pid"
wait_for 30 sh -c "! kill -0 $daemon_pid 2>/dev/null" || fail "authgate did not exit within 30 s of SIGTERM"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
[[ $status == 0 ]] || fail "authgate exited with status $status after SIGTERM"
note "ok: SIGTERM: exit status 0"
