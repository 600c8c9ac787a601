#!/usr/bin/env bash
# authgate benchmark: starts the real stack (PostgreSQL, authgate, nginx with
# two workers) on free ports and measures, with wrk, in one run:
#
#   nginx static file            the web server alone
#   auth_request -> 204          the limit: nginx's own auth_request cost (the
#                                limit location answers after the subrequest)
#   do-nothing upstream          the ceiling: the check's nginx path to an
#                                upstream that answers at once (bench/ceiling.c)
#   paired rounds                the limit, the ceiling and the check again,
#                                a few seconds each, one after the other
#   /auth/check, keepalive       a valid session cookie, upstream keepalive 64
#   /auth/check, no keepalive    the same, one daemon connection per check
#   /auth/check, cache off       every check asks PostgreSQL (needs the
#                                daemon's --session-cache option)
#   logins                       POST /auth/login with the right password
#   /auth/check under a login flood
#   the daemon's peak resident memory, its CPU use, and the argon2id cost
#
# It prints a table (each figure as a ratio of the limit) and writes
# bench/results/latest.json and bench/results/latest.svg.
#
# Usage: scripts/bench.sh [--duration S] [--warmup S] [--rounds N] [--connections N]
#                         [--login-connections N] [--wrk-threads N]
#                         [--daemon-arg ARG]... [--no-build] [--keep] [--hold]
# (scripts/bench.sh --help explains them.) Other processes on the machine
# change the figures: compare ratios from one run, not across runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEV=$ROOT/scripts/dev
BUILD=$ROOT/build-release
BIN=$BUILD/authgate
LUA=$ROOT/bench/wrk/bench.lua
RESULTS=$ROOT/bench/results
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

DURATION=10
WARMUP=2
ROUNDS=6
ROUND_SECONDS=5
CONNECTIONS=64
LOGIN_CONNECTIONS=64
WRK_THREADS=2
CHECK_TIMEOUT=2     # seconds: a check slower than this counts as stalled
LOGIN_TIMEOUT=30    # logins queue behind argon2id: allow more
DO_BUILD=1
KEEP=0
HOLD=0
DAEMON_ARGS=()

# Targets from the performance issue.
TARGET_CHECK_RATIO=0.5
TARGET_NOCACHE_RATIO=0.25
TARGET_P99_MS=5
TARGET_FLOOD_P99_FACTOR=2
TARGET_RSS_MIB=32

# Idle connections each nginx worker keeps to the daemon (README: Performance).
UPSTREAM_KEEPALIVE=64

usage() {
  cat <<'EOF'
Usage: scripts/bench.sh [OPTIONS]

  --duration S            seconds measured per figure (default 10)
  --warmup S              seconds of warm-up before each figure (default 2)
  --rounds N              paired rounds of limit, ceiling and check, 5 s each
                          (default 6)
  --connections N         wrk connections for checks (default 64)
  --login-connections N   wrk connections for logins and the flood (default 64)
  --wrk-threads N         wrk threads (default 2)
  --daemon-arg ARG        extra daemon argument, repeatable (e.g. --threads=4)
  --no-build              use build-release/authgate as it is
  --keep                  keep the run directory (stacks' logs, wrk output)
  --hold                  set everything up, print the URLs and the cookie, and
                          wait for Ctrl-C instead of measuring (for profiling)
  -h, --help              this text

Results: a table on stdout, bench/results/latest.json, bench/results/latest.svg.
EOF
}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

positive_int() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 takes a positive integer, not '$2'"; }

while (($#)); do
  case $1 in
    --duration) positive_int "$1" "${2:-}"; DURATION=$2; shift 2 ;;
    --warmup) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--warmup takes an integer"; WARMUP=$2; shift 2 ;;
    --rounds) positive_int "$1" "${2:-}"; ROUNDS=$2; shift 2 ;;
    --connections) positive_int "$1" "${2:-}"; CONNECTIONS=$2; shift 2 ;;
    --login-connections) positive_int "$1" "${2:-}"; LOGIN_CONNECTIONS=$2; shift 2 ;;
    --wrk-threads) positive_int "$1" "${2:-}"; WRK_THREADS=$2; shift 2 ;;
    --daemon-arg) DAEMON_ARGS+=("${2:?--daemon-arg needs a value}"); shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    --hold) HOLD=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

for tool in wrk curl ss cmake awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed; run: scripts/dev deps"
done
[[ -x $NGINX ]] || die "nginx is not installed; run: scripts/dev deps"
[[ -f $LUA ]] || die "$LUA is missing"

# ---------------------------------------------------------------------------
# Cleanup: whatever is started is registered here and undone on exit,
# on failure and on Ctrl-C alike.

RUN=""
STACKS=()
NGINX_PIDFILE=""
CEILING_PID=""
BG_PIDS=()
SUCCESS=0
DISCARD=0   # interrupted: nothing worth keeping

cleanup() {
  local pid s
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [[ -n $CEILING_PID ]] && stop_pid "$CEILING_PID" "ceiling responder"
  if [[ -n $NGINX_PIDFILE && -s $NGINX_PIDFILE ]]; then
    stop_pid "$(cat "$NGINX_PIDFILE")" "bench nginx"
  fi
  for s in "${STACKS[@]}"; do
    "$DEV" stack stop "$s" >>"$RUN/stack-stop.log" 2>&1 ||
      log "stopping the stack in $s failed (see $RUN/stack-stop.log)"
  done
  if [[ -n $RUN && -d $RUN ]]; then
    if ((KEEP)) || ((!SUCCESS && !DISCARD)); then
      log "run directory kept: $RUN"
    else
      rm -rf "$RUN"
    fi
  fi
}
trap cleanup EXIT
trap 'log interrupted; DISCARD=1; exit 130' INT
trap 'log terminated; DISCARD=1; exit 143' TERM

pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

stop_pid() {   # PID NAME: SIGTERM, up to 10 s, then SIGKILL
  local i
  pid_alive "$1" || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    pid_alive "$1" || return 0
    sleep 0.1
  done
  log "$2 (pid $1) did not stop; killing it"
  kill -KILL "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Build

if ((DO_BUILD)); then
  log "building $BUILD (Release)"
  if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
      die "cmake configure of build-release failed"
  fi
  cmake --build "$BUILD" --target authgate -j "$(nproc)" >/dev/null ||
    die "build of build-release/authgate failed"
fi
[[ -x $BIN ]] || die "$BIN not found (drop --no-build)"

HAVE_CACHE_OPTION=0
help_text=$("$BIN" --help 2>&1 || true)
[[ $help_text == *--session-cache* ]] && HAVE_CACHE_OPTION=1

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
RUN=$(mktemp -d /tmp/authgate-bench.XXXXXX)
chmod 755 "$RUN"

# ---------------------------------------------------------------------------
# The argon2id figure. The cost that counts is measured in the daemon during
# the login figure (its CPU time per successful login: hashing is nearly all
# of it). For reference, a cold `authgate hash-password` process (which also
# pays for faulting in the 19 MiB): its CPU time, user + system, minus that of
# starting the process. CPU time, not wall time: it hardly depends on what
# else the machine runs.

now_ns() { date +%s%N; }

HASH_RUNS=8
hash_pw=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
PHC=$(printf '%s\n' "$hash_pw" | "$BIN" hash-password)
hash_once() { printf '%s\n' "$hash_pw" | "$BIN" hash-password >/dev/null; }
start_once() { "$BIN" version >/dev/null; }
cpu_ms_of() {   # FUNCTION: CPU milliseconds of HASH_RUNS calls
  local TIMEFORMAT='%3U %3S' times i
  times=$( { time { for ((i = 0; i < HASH_RUNS; i++)); do "$1"; done; }; } 2>&1 )
  awk -v t="$times" 'BEGIN { split(t, x, " "); printf "%.3f", (x[1] + x[2]) * 1000 }'
}
COLD_HASH_MS=$(awk -v a="$(cpu_ms_of hash_once)" -v b="$(cpu_ms_of start_once)" -v n="$HASH_RUNS" \
  'BEGIN { v = (a - b) / n; if (v < 0.01) v = 0.01; printf "%.1f", v }')
# shellcheck disable=SC2016 # $ are literal in the PHC string
ARGON2_PARAMS=$(sed -n 's/^\$argon2id\$v=[0-9]*\$\([^$]*\)\$.*/\1/p' <<<"$PHC")
CORES=$(nproc)
# The daemon's default --hash-threads is the number of cores.
HASH_THREADS=$CORES
for a in "${DAEMON_ARGS[@]}"; do
  [[ $a =~ ^--hash-threads=([0-9]+)$ ]] && HASH_THREADS=${BASH_REMATCH[1]}
done
HASH_CORES=$((HASH_THREADS < CORES ? HASH_THREADS : CORES))
log "argon2id ($ARGON2_PARAMS): a cold hash-password process takes $COLD_HASH_MS ms of CPU"

# ---------------------------------------------------------------------------
# Stacks: one at default options, one with the session cache off.

start_stack() {   # DIR [DAEMON ARGS...]
  local dir=$1 a
  local -a args=(stack start "$dir" --daemon "$BIN")
  shift
  for a in "$@"; do args+=(--daemon-arg "$a"); done
  STACKS+=("$dir")
  log "starting a stack in $dir"
  "$DEV" "${args[@]}" >"$dir.log" 2>&1 ||
    { cat "$dir.log" >&2; die "the stack did not start"; }
}

S1=$RUN/stack
start_stack "$S1" "${DAEMON_ARGS[@]}"
S2=""
if ((HAVE_CACHE_OPTION)); then
  S2=$RUN/stack-nocache
  start_stack "$S2" "${DAEMON_ARGS[@]}" --session-cache=off
else
  log "authgate has no --session-cache option: the cache-off figure is not available"
fi

state_get() {   # STACK NAME
  (
    # shellcheck disable=SC1091
    . "$1/stack.state"
    eval "printf '%s' \"\${$2}\""
  )
}

# ---------------------------------------------------------------------------
# The bench nginx: two workers, its own servers next to the stack's nginx.
#   A: the limit, a static file, /protected with upstream keepalive
#   B: /protected through an upstream without keepalive
#   C: /protected through the cache-off daemon (keepalive)
# and in A, /ceiling: the same check location (the snippet's, renamed)
# proxied to bench/ceiling.c instead of the daemon.

port_in_use() { [[ -n $(ss -Htln "sport = :$1") ]]; }
free_port() {   # [TAKEN...]
  local port try taken
  for ((try = 0; try < 200; try++)); do
    port=$((20000 + SRANDOM % 12768))
    for taken in "$@"; do [[ $port == "$taken" ]] && continue 2; done
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  die "no free TCP port"
}

upstream_servers() {   # STACK
  local sock out=""
  for sock in $(state_get "$1" DAEMON_SOCKS); do out+="        server unix:$sock;"$'\n'; done
  printf '%s' "$out"
}

# A copy of the snippet whose locations use upstream NAME (FastCGI and the
# HTTP check alike); with "nokeep" also without fastcgi_keep_conn, as a
# site without keepalive would have it.
snippet_variant() {   # NAME [nokeep]
  local out=$NGX/authgate-$1.conf
  grep -q 'fastcgi_pass authgate;' "$ROOT/nginx/authgate.conf" ||
    die "nginx/authgate.conf no longer says 'fastcgi_pass authgate;'; update scripts/bench.sh"
  grep -q 'proxy_pass http://authgate;' "$ROOT/nginx/authgate.conf" ||
    die "nginx/authgate.conf no longer says 'proxy_pass http://authgate;'; update scripts/bench.sh"
  sed -e "s/fastcgi_pass authgate;/fastcgi_pass $1;/" \
      -e "s|proxy_pass http://authgate;|proxy_pass http://$1;|" \
      "$ROOT/nginx/authgate.conf" >"$out"
  [[ ${2:-} == nokeep ]] && sed -i '/fastcgi_keep_conn on;/d' "$out"
  printf '%s' "$out"
}

protected_location() {
  cat <<'EOF'
        # Protected, and answering by itself (a 43-byte GIF from memory):
        # only the check is measured. Not `return`: it runs in the rewrite
        # phase, before auth_request, and would answer without any check.
        location = /protected {
            auth_request /auth/check;
            error_page 401 = @authgate_login;
            empty_gif;
        }
EOF
}

NGX=$RUN/nginx
mkdir -p "$NGX/tmp" "$NGX/www"
printf 'authgate benchmark: a small static file served by nginx\n' >"$NGX/www/static.txt"
cp "$ROOT/nginx/authgate.conf" "$ROOT/nginx/authgate-proxy-headers.conf" "$NGX/"
SNIPPET_NOKEEP=$(snippet_variant authgate_nokeepalive nokeep)
SNIPPET_NOCACHE=$(snippet_variant authgate_nocache)

# The ceiling responder, and the snippet's check location pointed at it.
log "building and starting the ceiling responder (bench/ceiling.c)"
"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$RUN/ceiling" "$ROOT/bench/ceiling.c" ||
  die "could not build bench/ceiling.c"
"$RUN/ceiling" "$RUN/ceiling.sock" </dev/null >"$RUN/ceiling.log" 2>&1 &
CEILING_PID=$!
for ((i = 0; i < 50; i++)); do [[ -S $RUN/ceiling.sock ]] && break; sleep 0.1; done
[[ -S $RUN/ceiling.sock ]] || die "the ceiling responder did not start"
CEILING_LOCATION=$(sed -n '/^location = \/auth\/check {/,/^}/p' "$ROOT/nginx/authgate.conf" |
  sed -e 's|^location = /auth/check {|location = /ceiling-check {|' \
      -e 's|proxy_pass http://authgate;|proxy_pass http://authgate_ceiling;|')
[[ $CEILING_LOCATION == *authgate_ceiling* ]] ||
  die "no 'location = /auth/check' with 'proxy_pass http://authgate;' in nginx/authgate.conf; update scripts/bench.sh"

write_nginx_conf() {   # PORT_A PORT_B PORT_C
  local user_line=""
  ((EUID == 0)) && user_line='user root;'   # workers must reach root's sockets
  {
    cat <<EOF
# Generated by scripts/bench.sh.
$user_line
worker_processes 2;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
    default_type text/plain;
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $NGX/tmp/client_body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;

    upstream authgate {
$(upstream_servers "$S1")        keepalive $UPSTREAM_KEEPALIVE;
    }
    upstream authgate_nokeepalive {
$(upstream_servers "$S1")    }
    upstream authgate_ceiling {
        server unix:$RUN/ceiling.sock;
        keepalive $UPSTREAM_KEEPALIVE;
    }

    server {
        listen 127.0.0.1:$1;
        include $NGX/authgate.conf;

        location = /static.txt { root $NGX/www; }

        # The limit: nginx's auth_request machinery with nothing behind it.
        location = /limit {
            auth_request /limit-auth;
            empty_gif;
        }
        location = /limit-auth {
            internal;
            return 204;
        }

        # The ceiling: the check's own nginx path, to an upstream that
        # answers at once.
        location = /ceiling {
            auth_request /ceiling-check;
            empty_gif;
        }
$CEILING_LOCATION

$(protected_location)
    }

    server {
        listen 127.0.0.1:$2;
        include $SNIPPET_NOKEEP;
$(protected_location)
    }
EOF
    if [[ -n $S2 ]]; then
      cat <<EOF

    upstream authgate_nocache {
$(upstream_servers "$S2")        keepalive $UPSTREAM_KEEPALIVE;
    }
    server {
        listen 127.0.0.1:$3;
        include $SNIPPET_NOCACHE;
$(protected_location)
    }
EOF
    fi
    echo "}"
  } >"$NGX/nginx.conf"
}

start_nginx() {
  local try a b c
  for ((try = 0; try < 5; try++)); do
    a=$(free_port)
    b=$(free_port "$a")
    c=$(free_port "$a" "$b")
    write_nginx_conf "$a" "$b" "$c"
    "$NGINX" -t -q -p "$NGX" -c "$NGX/nginx.conf" 2>"$NGX/start.log" ||
      { cat "$NGX/start.log" >&2; die "bench nginx configuration test failed"; }
    NGINX_PIDFILE=$NGX/nginx.pid
    if "$NGINX" -p "$NGX" -c "$NGX/nginx.conf" </dev/null >"$NGX/start.log" 2>&1; then
      PORT_A=$a PORT_B=$b PORT_C=$c
      return 0
    fi
    grep -q 'Address already in use' "$NGX/start.log" || break
  done
  cat "$NGX/start.log" >&2
  die "bench nginx did not start"
}
start_nginx
for ((i = 0; i < 50; i++)); do [[ -s $NGINX_PIDFILE ]] && break; sleep 0.1; done
NGINX_MASTER=$(cat "$NGINX_PIDFILE")
log "bench nginx (2 workers) on 127.0.0.1:$PORT_A (keepalive), :$PORT_B (no keepalive)${S2:+, :$PORT_C (cache off)}"

# ---------------------------------------------------------------------------
# A user, and a session made through the real login form.

USERNAME=bench
PASSWORD=$hash_pw

create_user() {   # STACK
  local pg_bin db
  pg_bin=$(state_get "$1" PG_BIN)
  # shellcheck disable=SC1091
  db=$(. "$1/env" && printf '%s' "$AUTHGATE_TEST_DB")
  "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -v user="$USERNAME" -v hash="$PHC" "$db" \
    >/dev/null <<'EOF' || die "could not create the bench user"
SELECT authgate.create_user_with_hash(:'user', :'hash');
EOF
}

jar_cookies() {   # JAR: "name=value; ..." of every cookie in a curl jar
  awk -F'\t' 'NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$1"
}

csrf_token_of() {   # HTML on stdin
  sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1
}

# Logs in on PORT; sets COOKIE (for checks), LOGIN_COOKIE and LOGIN_BODY
# (for wrk's login posts: the CSRF cookie and a matching token).
login() {   # PORT JARNAME
  local base=http://127.0.0.1:$1 jar=$RUN/$2.jar token code
  token=$(curl -sS -c "$jar" -b "$jar" "$base/auth/login" | csrf_token_of)
  [[ -n $token ]] || die "no csrf_token in the login form on $base"
  LOGIN_COOKIE=$(jar_cookies "$jar")
  LOGIN_BODY="csrf_token=$token&username=$USERNAME&password=$PASSWORD"
  code=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
    --data "$LOGIN_BODY" "$base/auth/login")
  [[ $code == 303 ]] || die "login through the form on $base answered $code, not 303"
  COOKIE=$(jar_cookies "$jar")
  [[ $COOKIE == *"authgate="* ]] || die "no session cookie after logging in on $base"
}

expect_status() {   # URL COOKIE STATUS
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' ${2:+-H "Cookie: $2"} "$1")
  [[ $code == "$3" ]] || die "$1 answered $code, expected $3"
}

create_user "$S1"
login "$PORT_A" session
COOKIE_A=$COOKIE LOGIN_COOKIE_A=$LOGIN_COOKIE LOGIN_BODY_A=$LOGIN_BODY
expect_status "http://127.0.0.1:$PORT_A/static.txt" "" 200
expect_status "http://127.0.0.1:$PORT_A/limit" "" 200
expect_status "http://127.0.0.1:$PORT_A/ceiling" "" 200
expect_status "http://127.0.0.1:$PORT_A/protected" "" 401
expect_status "http://127.0.0.1:$PORT_A/protected" "$COOKIE_A" 200
expect_status "http://127.0.0.1:$PORT_B/protected" "$COOKIE_A" 200
if [[ -n $S2 ]]; then
  create_user "$S2"
  login "$PORT_C" session-nocache
  COOKIE_C=$COOKIE
  expect_status "http://127.0.0.1:$PORT_C/protected" "$COOKIE_C" 200
fi

if ((HOLD)); then
  cat >&2 <<EOF
bench: holding (Ctrl-C stops everything):
  limit:                 http://127.0.0.1:$PORT_A/limit
  ceiling:               http://127.0.0.1:$PORT_A/ceiling
  check, keepalive:      http://127.0.0.1:$PORT_A/protected
  check, no keepalive:   http://127.0.0.1:$PORT_B/protected
  check, cache off:      ${S2:+http://127.0.0.1:$PORT_C/protected}
  cookie:                $COOKIE_A
  cookie (cache off):    ${COOKIE_C:-}
  login cookie and body: $LOGIN_COOKIE_A  /  $LOGIN_BODY_A
  daemon pids:           $(cat "$S1/authgate-1.pid") ${S2:+$(cat "$S2/authgate-1.pid")}
  run directory:         $RUN
EOF
  while :; do sleep 1; done
fi

# ---------------------------------------------------------------------------
# Processes to watch, CPU accounting, memory

daemon_pid() { cat "$1/authgate-1.pid"; }
DAEMON_A=$(daemon_pid "$S1")
DAEMON_C=""
[[ -n $S2 ]] && DAEMON_C=$(daemon_pid "$S2")

postmaster_of() { head -n 1 "$(state_get "$1" PG_DATA)/postmaster.pid"; }
PG_A=$(postmaster_of "$S1")
PG_C=""
[[ -n $S2 ]] && PG_C=$(postmaster_of "$S2")

children() { ps -o pid= --ppid "$1" | tr -d ' ' || true; }
# The daemon and its hashing process (where the password work runs).
daemon_pids() { echo "$1"; children "$1"; }

TICK=$(getconf CLK_TCK)

# utime + stime in clock ticks of the processes given (threads included).
ticks() {
  local total=0 p s
  local -a f
  for p in "$@"; do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -ra f <<<"$s"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# "tid ticks" for every thread of the processes given.
thread_ticks() {
  local t s
  local -a f
  for t in $(printf '/proc/%s/task/* ' "$@"); do
    s=$(cat "$t/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -ra f <<<"$s"
    echo "${t##*/} $((f[11] + f[12]))"
  done
}

# busy and total jiffies of the whole machine.
system_ticks() {
  local user nice sys idle iowait irq softirq steal rest
  read -r _ user nice sys idle iowait irq softirq steal rest </proc/stat
  echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}

vm_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }

RSS_START_A=$(vm_kib "$DAEMON_A" VmRSS)
PEAK_START_A=$(vm_kib "$DAEMON_A" VmHWM)   # startup, before any reset
HASHING_A=$(children "$DAEMON_A" | head -n 1)
[[ -n $HASHING_A ]] || die "the daemon (pid $DAEMON_A) has no hashing process"
HASH_RSS_START_A=$(vm_kib "$HASHING_A" VmRSS)

# ---------------------------------------------------------------------------
# Measuring

wrk_run() {   # OUT DURATION CONNECTIONS TIMEOUT URL (request from BENCH_* env)
  BENCH_OUT=$1 wrk -t"$WRK_THREADS" -c"$3" -d"$2"s --timeout "$4"s -s "$LUA" "$5" \
    >"$1.txt" 2>&1 || { cat "$1.txt" >&2; die "wrk failed on $5"; }
  [[ -s $1 ]] || { cat "$1.txt" >&2; die "wrk gave no result for $5"; }
}

json_num() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1" | head -n 1; }
json_obj() { sed -n "s/.*\"$2\":\({[^}]*}\).*/\1/p" "$1" | head -n 1; }

ROWS=()
declare -A LABEL STATUS RPS ALL_RPS P50 P99 MAXL ERRORS ERRJSON STATUSES \
  CPU_D CPU_T CPU_N CPU_P CPU_S PEAK HPEAK URL CONNS NOTE REQS US_D US_N US_P OK_REQS TK_D

# Takes the figures of wrk's result FILE as row ID. RPS is the rate of
# successful answers (status < 400): fast refusals do not count.
read_result() {   # ID FILE URL CONNECTIONS
  local id=$1 file=$2
  STATUS[$id]=ok
  URL[$id]=$3
  CONNS[$id]=$4
  RPS[$id]=$(json_num "$file" ok_rps)
  ALL_RPS[$id]=$(json_num "$file" rps)
  REQS[$id]=$(json_num "$file" requests)
  OK_REQS[$id]=$(awk -v n="${REQS[$id]}" -v s="$(json_num "$file" status)" 'BEGIN { print n - s }')
  P50[$id]=$(json_num "$file" p50_us)
  P99[$id]=$(json_num "$file" p99_us)
  MAXL[$id]=$(json_num "$file" latency_max_us)
  ERRJSON[$id]=$(json_obj "$file" errors)
  STATUSES[$id]=$(json_obj "$file" statuses)
  ERRORS[$id]=$(awk -v e="${ERRJSON[$id]}" 'BEGIN {
      n = 0; gsub(/[{}"]/, "", e); k = split(e, kv, ",");
      for (i = 1; i <= k; i++) { split(kv[i], p, ":"); n += p[2] } print n }')
}

# Measures one figure: a warm-up run, then a measured run with CPU and
# memory accounting of the daemon DPID and the cluster PGPM behind it.
measure() {   # ID URL CONNECTIONS TIMEOUT DPID PGPM WARMUP_SECONDS
  local id=$1 url=$2 conns=$3 timeout=$4 dpid=$5 pgpm=$6 warmup=$7
  local out=$RUN/$id.json nginx_pids pg_pids=() dpids=() t0 t1 s0 s1 secs
  local d0=0 d1=0 n0 n1 p0=0 p1=0 busiest=0 tid tk p
  local -A th0=()

  log "measuring ${LABEL[$id]} (${DURATION}s, $conns connections)"
  if ((warmup > 0)); then
    wrk_run "$RUN/$id-warmup.json" "$warmup" "$conns" "$timeout" "$url"
  fi
  nginx_pids=$(children "$NGINX_MASTER")
  [[ -n $pgpm ]] && mapfile -t pg_pids < <(echo "$pgpm"; children "$pgpm")
  if [[ -n $dpid ]]; then
    mapfile -t dpids < <(daemon_pids "$dpid")
    for p in "${dpids[@]}"; do reset_peak "$p"; done
    d0=$(ticks "${dpids[@]}")
    while read -r tid tk; do th0[$tid]=$tk; done < <(thread_ticks "${dpids[@]}")
  fi
  # shellcheck disable=SC2086
  n0=$(ticks $nginx_pids)
  ((${#pg_pids[@]})) && p0=$(ticks "${pg_pids[@]}")
  s0=$(system_ticks)
  t0=$(now_ns)

  wrk_run "$out" "$DURATION" "$conns" "$timeout" "$url"

  t1=$(now_ns)
  s1=$(system_ticks)
  # shellcheck disable=SC2086
  n1=$(ticks $nginx_pids)
  ((${#pg_pids[@]})) && p1=$(ticks "${pg_pids[@]}")
  if [[ -n $dpid ]]; then
    d1=$(ticks "${dpids[@]}")
    while read -r tid tk; do
      [[ -n ${th0[$tid]:-} ]] && ((tk - th0[$tid] > busiest)) && busiest=$((tk - th0[$tid]))
    done < <(thread_ticks "${dpids[@]}")
    PEAK[$id]=$(vm_kib "$dpid" VmHWM)
    [[ -n ${dpids[1]:-} ]] && HPEAK[$id]=$(vm_kib "${dpids[1]}" VmHWM)
  fi

  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  if [[ -n $dpid ]]; then
    CPU_D[$id]=$(pct $((d1 - d0)) "$secs")
    CPU_T[$id]=$(pct "$busiest" "$secs")
  fi
  CPU_N[$id]=$(pct $((n1 - n0)) "$secs")
  ((${#pg_pids[@]})) && CPU_P[$id]=$(pct $((p1 - p0)) "$secs")
  CPU_S[$id]=$(awk -v a="$s0" -v b="$s1" 'BEGIN {
      split(a, x, " "); split(b, y, " "); v = 0
      if (y[2] > x[2]) v = (y[1] - x[1]) / (y[2] - x[2]) * 100
      printf "%.0f", v }')
  read_result "$id" "$out" "$url" "$conns"
  # CPU time per answer (of any status), in microseconds.
  TK_D[$id]=$((d1 - d0))
  [[ -n $dpid ]] && US_D[$id]=$(per_req $((d1 - d0)) "${REQS[$id]}")
  US_N[$id]=$(per_req $((n1 - n0)) "${REQS[$id]}")
  ((${#pg_pids[@]})) && US_P[$id]=$(per_req $((p1 - p0)) "${REQS[$id]}")
  return 0
}

# TICKS of CPU time per request, in microseconds.
per_req() { awk -v t="$1" -v hz="$TICK" -v n="$2" 'BEGIN { v = 0; if (n > 0) v = t / hz / n * 1e6; printf "%.0f", v }'; }
# TICKS of CPU time over SECONDS, as a percentage of one core.
pct() { awk -v t="$1" -v hz="$TICK" -v s="$2" 'BEGIN { printf "%.0f", t / hz / s * 100 }'; }

# Waits until the daemon is idle (under 5% of a core for 0.5 s): logins
# whose client has gone are still hashed, and must not spill into the next
# figure.
wait_idle() {   # PID
  local i a b
  local -a pids
  mapfile -t pids < <(daemon_pids "$1")
  for ((i = 0; i < 120; i++)); do
    a=$(ticks "${pids[@]}")
    sleep 0.5
    b=$(ticks "${pids[@]}")
    (((b - a) * 200 < 5 * TICK)) && return 0
  done
  log "the daemon is still busy after 60 s; going on"
}

not_available() {   # ID NOTE
  STATUS[$1]="not available"
  NOTE[$1]=$2
  log "${LABEL[$1]}: not available ($2)"
}

add_row() { ROWS+=("$1"); LABEL[$1]=$2; }

A=http://127.0.0.1:$PORT_A
B=http://127.0.0.1:$PORT_B
C=http://127.0.0.1:$PORT_C
cache_word=""
((HAVE_CACHE_OPTION)) && cache_word="cache on, "

add_row static "nginx static file"
add_row limit "auth_request -> 204 (limit)"
add_row ceiling "do-nothing upstream (ceiling)"
add_row check "check, ${cache_word}keepalive"
add_row check_nokeep "check, ${cache_word}no keepalive"
add_row check_nocache "check, cache off, keepalive"
add_row login "logins (POST /auth/login)"
add_row flood "check during a login flood"
add_row flood_logins "logins during that flood"

export BENCH_METHOD=GET BENCH_COOKIE="" BENCH_BODY="" BENCH_CTYPE="" BENCH_COUNT_STATUS=""

measure static "$A/static.txt" "$CONNECTIONS" "$CHECK_TIMEOUT" "" "" "$WARMUP"
measure limit "$A/limit" "$CONNECTIONS" "$CHECK_TIMEOUT" "" "" "$WARMUP"

BENCH_COOKIE=$COOKIE_A
measure ceiling "$A/ceiling" "$CONNECTIONS" "$CHECK_TIMEOUT" "" "" "$WARMUP"
measure check "$A/protected" "$CONNECTIONS" "$CHECK_TIMEOUT" "$DAEMON_A" "$PG_A" "$WARMUP"
measure check_nokeep "$B/protected" "$CONNECTIONS" "$CHECK_TIMEOUT" "$DAEMON_A" "$PG_A" "$WARMUP"
if [[ -n $S2 ]]; then
  BENCH_COOKIE=$COOKIE_C
  measure check_nocache "$C/protected" "$CONNECTIONS" "$CHECK_TIMEOUT" "$DAEMON_C" "$PG_C" "$WARMUP"
else
  not_available check_nocache "this authgate has no --session-cache option"
fi

# Paired rounds: the machine's speed drifts from minute to minute (other
# guests), so the limit, the ceiling and the check are measured again one
# right after the other, and each round's ratios compare figures taken
# seconds apart.
round_rps() {   # ID URL
  wrk_run "$RUN/$1.json" "$ROUND_SECONDS" "$CONNECTIONS" "$CHECK_TIMEOUT" "$2"
  json_num "$RUN/$1.json" ok_rps
}
quotient() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
PAIRED_CEILING=() PAIRED_CHECK=() PAIRED_CHECK_CEILING=()
BENCH_COOKIE=$COOKIE_A
log "measuring $ROUNDS paired rounds of limit, ceiling and check (${ROUND_SECONDS}s each)"
for ((i = 1; i <= ROUNDS; i++)); do
  l=$(round_rps "round$i-limit" "$A/limit")
  x=$(round_rps "round$i-ceiling" "$A/ceiling")
  c=$(round_rps "round$i-check" "$A/protected")
  PAIRED_CEILING+=("$(quotient "$x" "$l")")
  PAIRED_CHECK+=("$(quotient "$c" "$l")")
  PAIRED_CHECK_CEILING+=("$(quotient "$c" "$x")")
done
# "lowest highest mean" of the numbers given.
spread() { printf '%s\n' "$@" | awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 } { sum += $1 }
  END { printf "%.3f %.3f %.3f\n", lo, hi, sum / NR }'; }
read -r PC_LO PC_HI PC_MEAN < <(spread "${PAIRED_CEILING[@]}")
read -r PK_LO PK_HI PK_MEAN < <(spread "${PAIRED_CHECK[@]}")
read -r PKC_LO PKC_HI PKC_MEAN < <(spread "${PAIRED_CHECK_CEILING[@]}")

# Logins alone. No warm-up run: hashing needs none, and the logins still
# queued in the daemon when a warm-up ends would be hashed during the
# measurement, for clients that are gone.
BENCH_METHOD=POST BENCH_COOKIE=$LOGIN_COOKIE_A BENCH_BODY=$LOGIN_BODY_A \
  BENCH_CTYPE=application/x-www-form-urlencoded BENCH_COUNT_STATUS=1
measure login "$A/auth/login" "$LOGIN_CONNECTIONS" "$LOGIN_TIMEOUT" "$DAEMON_A" "$PG_A" 0
# The daemon's CPU per successful login, and what that allows per core.
HASH_MS=$(awk -v t="${TK_D[login]}" -v hz="$TICK" -v n="${OK_REQS[login]}" \
  'BEGIN { v = 0; if (n > 0) v = t / hz / n * 1000; printf "%.1f", v }')
LOGINS_PER_CORE=$(awk -v ms="$HASH_MS" 'BEGIN { v = 0; if (ms > 0) v = 1000 / ms; printf "%.1f", v }')
LOGINS_THEORY=$(awk -v r="$LOGINS_PER_CORE" -v c="$HASH_CORES" 'BEGIN { printf "%.1f", r * c }')
wait_idle "$DAEMON_A"

# Checks while a second wrk floods the login form for the whole warm-up and
# measurement of the checks.
log "starting a login flood ($LOGIN_CONNECTIONS connections)"
flood_secs=$((1 + WARMUP + DURATION + 2))
BENCH_OUT=$RUN/flood_logins.json wrk -t"$WRK_THREADS" -c"$LOGIN_CONNECTIONS" \
  -d"$flood_secs"s --timeout "$LOGIN_TIMEOUT"s -s "$LUA" "$A/auth/login" \
  >"$RUN/flood_logins.json.txt" 2>&1 &
flood_pid=$!
BG_PIDS+=("$flood_pid")
sleep 1   # the hashing queue fills before the checks start
BENCH_METHOD=GET BENCH_COOKIE=$COOKIE_A BENCH_BODY="" BENCH_CTYPE="" BENCH_COUNT_STATUS=""
measure flood "$A/protected" "$CONNECTIONS" "$CHECK_TIMEOUT" "$DAEMON_A" "$PG_A" "$WARMUP"
wait "$flood_pid" || { cat "$RUN/flood_logins.json.txt" >&2; die "the login flood's wrk failed"; }
BG_PIDS=()
[[ -s $RUN/flood_logins.json ]] || { cat "$RUN/flood_logins.json.txt" >&2; die "no result from the login flood"; }
read_result flood_logins "$RUN/flood_logins.json" "$A/auth/login" "$LOGIN_CONNECTIONS"
NOTE[flood_logins]="the flood's whole ${flood_secs}s"
wait_idle "$DAEMON_A"

# Memory: the highest of the per-figure peaks and the startup peak.
PEAK_CHECKS_KIB=$PEAK_START_A
for id in check check_nokeep; do
  [[ -n ${PEAK[$id]:-} ]] && ((PEAK[$id] > PEAK_CHECKS_KIB)) && PEAK_CHECKS_KIB=${PEAK[$id]}
done
PEAK_KIB=$PEAK_START_A
HASH_PEAK_KIB=$HASH_RSS_START_A
for id in check check_nokeep login flood; do
  [[ -n ${PEAK[$id]:-} ]] && ((PEAK[$id] > PEAK_KIB)) && PEAK_KIB=${PEAK[$id]}
  [[ -n ${HPEAK[$id]:-} ]] && ((HPEAK[$id] > HASH_PEAK_KIB)) && HASH_PEAK_KIB=${HPEAK[$id]}
done
# argon2id's memory (m, KiB) and 1 MiB for the thread's stack and argon2's
# own bookkeeping, once per hashing thread: the bound the hashing process
# may add to its start.
ARGON2_M_KIB=$(sed -n 's/^m=\([0-9]*\),.*/\1/p' <<<"$ARGON2_PARAMS")
HASH_THREAD_KIB=$((ARGON2_M_KIB + 1024))
HASH_BOUND_KIB=$((HASH_RSS_START_A + HASH_THREADS * HASH_THREAD_KIB))
RSS_END_A=$(vm_kib "$DAEMON_A" VmRSS)
RSS_ANON_END_A=$(vm_kib "$DAEMON_A" RssAnon)
RSS_FILE_END_A=$(vm_kib "$DAEMON_A" RssFile)
DAEMON_THREADS=$(awk '$1 == "Threads:" { print $2 }' "/proc/$DAEMON_A/status")

# ---------------------------------------------------------------------------
# Report

LIMIT_RPS=${RPS[limit]}
ratio() { awk -v a="$1" -v b="$LIMIT_RPS" 'BEGIN { v = 0; if (b > 0) v = a / b; printf (v < 0.01 ? "%.4f" : "%.3f"), v }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# Requests/s: one decimal below 100 (logins), none above.
rate() { awk -v r="$1" 'BEGIN { if (r < 100) printf "%.1f", r; else printf "%.0f", r }'; }

declare -A RATIO
for id in "${ROWS[@]}"; do
  [[ ${STATUS[$id]} == ok ]] && RATIO[$id]=$(ratio "${RPS[$id]}")
done

print_table() {
  local id busy="" fmt='%-30s %8s %7s %7s %7s %7s %6s %5s %5s %5s %5s %6s %6s %6s %7s\n'
  # shellcheck disable=SC2059
  printf "$fmt" figure req/s "x limit" "p50 ms" "p99 ms" "max ms" errors \
    "dmn%" "thr%" "ngx%" "pg%" "dmn us" "ngx us" "pg us" "RSS MiB"
  for id in "${ROWS[@]}"; do
    if [[ ${STATUS[$id]} != ok ]]; then
      printf '%-30s %s\n' "${LABEL[$id]}" "not available: ${NOTE[$id]}"
      continue
    fi
    # shellcheck disable=SC2059
    printf "$fmt" "${LABEL[$id]}" "$(rate "${RPS[$id]}")" "${RATIO[$id]}" \
      "$(ms "${P50[$id]}")" "$(ms "${P99[$id]}")" "$(ms "${MAXL[$id]}")" "${ERRORS[$id]}" \
      "${CPU_D[$id]:--}" "${CPU_T[$id]:--}" "${CPU_N[$id]:--}" "${CPU_P[$id]:--}" \
      "${US_D[$id]:--}" "${US_N[$id]:--}" "${US_P[$id]:--}" \
      "$([[ -n ${PEAK[$id]:-} ]] && mib "${PEAK[$id]}" || echo -)"
    [[ -n ${CPU_S[$id]:-} ]] && busy+="${busy:+ }${CPU_S[$id]}"
  done
  cat <<EOF

dmn%, thr%, ngx%, pg%: CPU use during the measured run, in % of one core, of
the daemon (with its hashing process), its busiest thread, the 2 nginx
workers, the PostgreSQL cluster. "us": CPU microseconds per answer of the
daemon, nginx, PostgreSQL. RSS: the daemon's peak (VmHWM) during that
figure, without its hashing process (see the memory target). The whole machine ($CORES cores) was
busy during the figures, in order: $busy (%). req/s counts answers below 400
only; errors are other answers, socket errors and requests stalled over the
timeout (${CHECK_TIMEOUT}s for checks, ${LOGIN_TIMEOUT}s for logins).
Login answers: ${STATUSES[login]:-?} alone, ${STATUSES[flood_logins]:-?} during the
flood (over ${NOTE[flood_logins]}).
EOF
}

# Targets of the performance issue.
declare -A TGT_OK TGT_TEXT
target() {   # NAME OK(1/0/na) TEXT
  TGT_OK[$1]=$2
  TGT_TEXT[$1]=$3
}
num_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
num_lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

t=0; num_ge "${RATIO[check]}" "$TARGET_CHECK_RATIO" && t=1
target check_ratio "$t" "check with keepalive >= ${TARGET_CHECK_RATIO}x the limit: ${RATIO[check]}x"
t=0; num_lt "$(ms "${P99[check]}")" "$TARGET_P99_MS" && t=1
target check_p99 "$t" "check p99 < ${TARGET_P99_MS} ms: $(ms "${P99[check]}") ms"
t=0; ((ERRORS[check] == 0)) && t=1
target check_errors "$t" "no error or stalled check (timeout ${CHECK_TIMEOUT}s): ${ERRORS[check]} errors ${ERRJSON[check]}"
if [[ ${STATUS[check_nocache]} == ok ]]; then
  t=0; num_ge "${RATIO[check_nocache]}" "$TARGET_NOCACHE_RATIO" && t=1
  target nocache_ratio "$t" "check with the cache off >= ${TARGET_NOCACHE_RATIO}x the limit: ${RATIO[check_nocache]}x"
else
  target nocache_ratio na "check with the cache off >= ${TARGET_NOCACHE_RATIO}x the limit: not available (no --session-cache option)"
fi
FLOOD_FACTOR=$(awk -v a="${P99[flood]}" -v b="${P99[check]}" 'BEGIN { v = 0; if (b > 0) v = a / b; printf "%.2f", v }')
t=0; num_lt "$FLOOD_FACTOR" "$TARGET_FLOOD_P99_FACTOR" && t=1
target flood_p99 "$t" "a login flood raises the check p99 by < ${TARGET_FLOOD_P99_FACTOR}x: ${FLOOD_FACTOR}x ($(ms "${P99[check]}") -> $(ms "${P99[flood]}") ms; checks/s $(rate "${RPS[check]}") -> $(rate "${RPS[flood]}"))"
LOGIN_SHARE=$(awk -v a="${RPS[login]}" -v b="$LOGINS_THEORY" 'BEGIN { v = 0; if (b > 0) v = a / b * 100; printf "%.0f", v }')
FLOOD_LOGIN_SHARE=$(awk -v a="${RPS[flood_logins]}" -v b="$LOGINS_THEORY" 'BEGIN { v = 0; if (b > 0) v = a / b * 100; printf "%.0f", v }')
target login_rate info "logins/s $(rate "${RPS[login]}") = ${LOGIN_SHARE}% of what argon2id allows on $HASH_CORES hashing cores (${LOGINS_THEORY}/s: $HASH_MS ms of daemon CPU per login, $ARGON2_PARAMS); $(rate "${RPS[flood_logins]}")/s = ${FLOOD_LOGIN_SHARE}% during the check flood"
t=0; num_lt "$(mib "$PEAK_KIB")" "$TARGET_RSS_MIB" && ((HASH_PEAK_KIB <= HASH_BOUND_KIB)) && t=1
target rss "$t" "daemon resident memory < ${TARGET_RSS_MIB} MiB: peak $(mib "$PEAK_KIB") MiB over the run, $(mib "$PEAK_CHECKS_KIB") MiB while only checking (start $(mib "$RSS_START_A"), end $(mib "$RSS_END_A"): $(mib "$RSS_ANON_END_A") anonymous + $(mib "$RSS_FILE_END_A") file-backed); plus its hashing process: peak $(mib "$HASH_PEAK_KIB") MiB <= $(mib "$HASH_BOUND_KIB") MiB ($(mib "$HASH_RSS_START_A") at start + $HASH_THREADS threads x ($(mib "$ARGON2_M_KIB") MiB of argon2id + 1 MiB))"
CEILING_SHARE=$(awk -v a="${RPS[check]}" -v b="${RPS[ceiling]}" 'BEGIN { v = 0; if (b > 0) v = a / b * 100; printf "%.0f", v }')
target ceiling info "the ceiling (the check's nginx path to a do-nothing upstream): ${RATIO[ceiling]}x the limit; the check reaches ${CEILING_SHARE}% of it"
target paired info "$ROUNDS paired rounds (lowest / highest / mean): ceiling ÷ limit $PC_LO / $PC_HI / $PC_MEAN; check ÷ limit $PK_LO / $PK_HI / $PK_MEAN; check ÷ ceiling $PKC_LO / $PKC_HI / $PKC_MEAN"
TARGETS=(check_ratio ceiling paired check_p99 check_errors nocache_ratio flood_p99 login_rate rss)

print_targets() {
  local k mark
  echo
  echo "Targets:"
  for k in "${TARGETS[@]}"; do
    case ${TGT_OK[$k]} in
      1) mark=PASS ;; 0) mark=FAIL ;; na) mark=N/A ;; *) mark=INFO ;;
    esac
    printf '  %-4s  %s\n' "$mark" "${TGT_TEXT[$k]}"
  done
}

# --- JSON ------------------------------------------------------------------

json_str() {   # escapes for a JSON string literal
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/ }
  s=${s//$'\n'/ }
  printf '"%s"' "$s"
}
json_or_null() { if [[ -n ${1:-} ]]; then printf '%s' "$1"; else printf null; fi; }

PG_VERSION=$("$(state_get "$S1" PG_BIN)/postgres" --version 2>/dev/null || echo unknown)
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
WRK_VERSION=$(wrk --version 2>&1 | head -n 1 | awk '{ print $2 }' || true)
AUTHGATE_VERSION=$("$BIN" version 2>/dev/null || echo unknown)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM_MIB=$(awk '$1 == "MemTotal:" { printf "%d", $2 / 1024 }' /proc/meminfo)
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || GIT_REV+="+dirty-src"
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

write_json() {
  local id k first=1
  echo "{"
  echo "  \"date\": $(json_str "$DATE"),"
  echo "  \"machine\": {\"hostname\": $(json_str "$(uname -n)"), \"kernel\": $(json_str "$(uname -srm)"), \"cpu\": $(json_str "$CPU_MODEL"), \"cores\": $CORES, \"memory_mib\": $MEM_MIB, \"load_average_at_start\": $(json_str "$LOAD_AT_START")},"
  echo "  \"versions\": {\"authgate\": $(json_str "$AUTHGATE_VERSION"), \"git\": $(json_str "$GIT_REV"), \"nginx\": $(json_str "$NGINX_VERSION"), \"postgresql\": $(json_str "$PG_VERSION"), \"wrk\": $(json_str "$WRK_VERSION")},"
  printf '  "setup": {"duration_s": %s, "warmup_s": %s, "wrk_threads": %s, "connections": %s, "login_connections": %s, "check_timeout_s": %s, "nginx_workers": 2, "nginx_access_log": false, "upstream_keepalive": %s, "daemon": %s, "daemon_args": [' \
    "$DURATION" "$WARMUP" "$WRK_THREADS" "$CONNECTIONS" "$LOGIN_CONNECTIONS" "$CHECK_TIMEOUT" \
    "$UPSTREAM_KEEPALIVE" "$(json_str "--cookie-secure off (scripts/dev stack; default --threads: cores / 2)")"
  first=1
  for k in "${DAEMON_ARGS[@]}"; do
    ((first)) || printf ', '
    first=0
    json_str "$k"
  done
  printf '], "session_cache_option": %s, "daemon_threads": %s},\n' \
    "$([[ $HAVE_CACHE_OPTION == 1 ]] && echo true || echo false)" "$(json_or_null "$DAEMON_THREADS")"
  printf '  "argon2id": {"parameters": %s, "daemon_cpu_ms_per_login": %s, "cold_process_cpu_ms_per_hash": %s, "logins_per_s_per_core": %s, "hashing_threads": %s, "hashing_cores": %s, "logins_per_s_theoretical": %s},\n' \
    "$(json_str "$ARGON2_PARAMS")" "$HASH_MS" "$COLD_HASH_MS" "$LOGINS_PER_CORE" "$HASH_THREADS" "$HASH_CORES" "$LOGINS_THEORY"
  printf '  "limit_rps": %s,\n' "$LIMIT_RPS"
  echo '  "figures": ['
  first=1
  for id in "${ROWS[@]}"; do
    ((first)) || echo ","
    first=0
    if [[ ${STATUS[$id]} != ok ]]; then
      printf '    {"id": %s, "label": %s, "status": %s, "note": %s}' \
        "$(json_str "$id")" "$(json_str "${LABEL[$id]}")" "$(json_str "${STATUS[$id]}")" \
        "$(json_str "${NOTE[$id]}")"
      continue
    fi
    printf '    {"id": %s, "label": %s, "status": "ok", "url_path": %s, "connections": %s, "rps": %s, "ratio_to_limit": %s, "p50_ms": %s, "p99_ms": %s, "max_ms": %s, "errors": %s, "error_detail": %s, "cpu_pct_of_one_core": {"daemon": %s, "daemon_busiest_thread": %s, "nginx_workers": %s, "postgresql": %s, "machine_busy_pct_all_cores": %s}, "cpu_us_per_answer": {"daemon": %s, "nginx_workers": %s, "postgresql": %s}, "daemon_peak_rss_kib": %s, "all_answers_rps": %s%s%s}' \
      "$(json_str "$id")" "$(json_str "${LABEL[$id]}")" "$(json_str "/${URL[$id]#http://*/}")" \
      "${CONNS[$id]}" "${RPS[$id]}" "${RATIO[$id]}" "$(ms "${P50[$id]}")" "$(ms "${P99[$id]}")" \
      "$(ms "${MAXL[$id]}")" "${ERRORS[$id]}" "${ERRJSON[$id]}" \
      "$(json_or_null "${CPU_D[$id]:-}")" "$(json_or_null "${CPU_T[$id]:-}")" \
      "$(json_or_null "${CPU_N[$id]:-}")" "$(json_or_null "${CPU_P[$id]:-}")" \
      "$(json_or_null "${CPU_S[$id]:-}")" \
      "$(json_or_null "${US_D[$id]:-}")" "$(json_or_null "${US_N[$id]:-}")" "$(json_or_null "${US_P[$id]:-}")" \
      "$(json_or_null "${PEAK[$id]:-}")" "${ALL_RPS[$id]}" \
      "$([[ -n ${STATUSES[$id]:-} ]] && printf ', "statuses": %s' "${STATUSES[$id]}")" \
      "$([[ -n ${NOTE[$id]:-} ]] && printf ', "note": %s' "$(json_str "${NOTE[$id]}")")"
  done
  echo
  echo '  ],'
  printf '  "daemon_memory_kib": {"peak_vmhwm": %s, "peak_vmhwm_checks_only": %s, "rss_start": %s, "rss_end": %s, "rss_end_anon": %s, "rss_end_file": %s, "hashing_process_rss_start": %s, "hashing_process_peak_vmhwm": %s, "hashing_process_bound": %s},\n' \
    "$PEAK_KIB" "$PEAK_CHECKS_KIB" "$(json_or_null "$RSS_START_A")" "$(json_or_null "$RSS_END_A")" \
    "$(json_or_null "$RSS_ANON_END_A")" "$(json_or_null "$RSS_FILE_END_A")" \
    "$(json_or_null "$HASH_RSS_START_A")" "$HASH_PEAK_KIB" "$HASH_BOUND_KIB"
  printf '  "flood_p99_factor": %s,\n' "$FLOOD_FACTOR"
  printf '  "paired_rounds": {"rounds": %s, "seconds_each": %s, "ceiling_to_limit": [%s], "check_to_limit": [%s], "check_to_ceiling": [%s]},\n' \
    "$ROUNDS" "$ROUND_SECONDS" "$(IFS=,; echo "${PAIRED_CEILING[*]}")" \
    "$(IFS=,; echo "${PAIRED_CHECK[*]}")" "$(IFS=,; echo "${PAIRED_CHECK_CEILING[*]}")"
  echo '  "targets": ['
  first=1
  for k in "${TARGETS[@]}"; do
    ((first)) || echo ","
    first=0
    case ${TGT_OK[$k]} in
      1) t=true ;; 0) t=false ;; *) t=null ;;
    esac
    printf '    {"id": %s, "met": %s, "text": %s}' "$(json_str "$k")" "$t" "$(json_str "${TGT_TEXT[$k]}")"
  done
  echo
  echo '  ]'
  echo "}"
}

# --- SVG: horizontal bars of the ratio to the limit --------------------------

write_svg() {
  local id
  for id in "${ROWS[@]}"; do
    if [[ ${STATUS[$id]} == ok ]]; then
      printf '%s\t%s\t%s\t%s\n' "${LABEL[$id]}" "${RATIO[$id]}" "${RPS[$id]%.*}" "$(ms "${P99[$id]}")"
    else
      printf '%s\tNA\t\t\n' "${LABEL[$id]}"
    fi
  done | awk -F'\t' -v title="authgate benchmark, $DATE, $CORES cores, wrk -c$CONNECTIONS, ${DURATION}s per figure" \
             -v limit="${LIMIT_RPS%.*}" '
    function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
    { label[NR] = $1; ratio[NR] = $2; rps[NR] = $3; p99[NR] = $4; n = NR
      if ($2 != "NA" && $2 + 0 > maxr) maxr = $2 + 0 }
    END {
      if (maxr < 1) maxr = 1
      scale = maxr * 1.08
      left = 270; width = 480; top = 60; rowh = 34; barh = 20
      h = top + n * rowh + 60; w = left + width + 250
      printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", w, h, w, h
      printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      printf "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", 10, esc(title)
      printf "<text x=\"%d\" y=\"44\" fill=\"#555\">requests/s as a ratio of the auth_request-&gt;204 limit (%s req/s); dashed: targets 0.5 and 0.25</text>\n", 10, limit
      for (k = 0; k <= 4; k++) {
        v = maxr * k / 4; x = left + v / scale * width
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, top - 6, x, top + n * rowh
        printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%.2f</text>\n", x, top + n * rowh + 18, v
      }
      for (i = 1; i <= n; i++) {
        y = top + (i - 1) * rowh
        printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 8, y + barh - 5, esc(label[i])
        if (ratio[i] == "NA") {
          printf "<text x=\"%d\" y=\"%d\" fill=\"#999\">not available</text>\n", left + 4, y + barh - 5
          continue
        }
        bw = ratio[i] / scale * width; if (bw < 1) bw = 1
        color = (label[i] ~ /limit|ceiling/) ? "#888" : (label[i] ~ /static/) ? "#bbb" : (label[i] ~ /login/ && label[i] !~ /check/) ? "#d98c3f" : "#3b78b5"
        printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", left, y, bw, barh, color
        rf = (ratio[i] + 0 < 0.01) ? "%.4f" : "%.3f"
        printf "<text x=\"%.1f\" y=\"%d\">" rf "  (%s/s, p99 %s ms)</text>\n", left + bw + 6, y + barh - 5, ratio[i], rps[i], p99[i]
      }
      split("0.5 0.25", tv, " ")
      for (k = 1; k <= 2; k++) {
        x = left + tv[k] / scale * width
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>\n", x, top - 6, x, top + n * rowh
      }
      x = left + 1 / scale * width
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n", x, top - 6, x, top + n * rowh
      printf "<text x=\"%d\" y=\"%d\" fill=\"#555\">%s</text>\n", 10, h - 12, "generated by scripts/bench.sh"
      print "</svg>"
    }' 
}

mkdir -p "$RESULTS"
write_json >"$RESULTS/latest.json.tmp" && mv "$RESULTS/latest.json.tmp" "$RESULTS/latest.json"
write_svg >"$RESULTS/latest.svg.tmp" && mv "$RESULTS/latest.svg.tmp" "$RESULTS/latest.svg"

echo
echo "authgate benchmark — $DATE — $CPU_MODEL, $CORES cores — nginx $NGINX_VERSION, $PG_VERSION"
echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s (logins: -c$LOGIN_CONNECTIONS) after ${WARMUP}s warm-up; limit = auth_request -> 204 = ${LIMIT_RPS%.*} req/s"
echo
print_table
print_targets
echo
echo "argon2id ($ARGON2_PARAMS): $HASH_MS ms of daemon CPU per login -> $LOGINS_PER_CORE logins/s per hashing core," \
     "$LOGINS_THEORY/s on $HASH_CORES ($HASH_THREADS hashing threads); a cold hash-password process: $COLD_HASH_MS ms"
echo "Results: ${RESULTS#"$ROOT"/}/latest.json, ${RESULTS#"$ROOT"/}/latest.svg"
SUCCESS=1
