#!/usr/bin/env bash
# Command-line and startup behaviour of the authgate binary, one case per
# invocation: test_cli.sh BINARY CASE. Cases that need a database use
# $AUTHGATE_TEST_DB (a superuser connection, set by `scripts/dev test`).
set -euo pipefail

bin=$1
case_name=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

need_db() {
	[[ -n ${AUTHGATE_TEST_DB:-} ]] ||
		fail "AUTHGATE_TEST_DB is not set: run through scripts/dev test"
}

# Runs the binary; sets $status and leaves stdout/stderr in files.
run() {
	status=0
	"$bin" "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
}

# Startup failures: exit status 1 and exactly one line on stderr.
expect_one_line_failure() {
	local pattern=$1
	[[ $status == 1 ]] || fail "exit status $status, expected 1"
	[[ $(wc -l <"$work/err") == 1 ]] || fail "stderr is not one line: $(cat "$work/err")"
	grep -q -- "$pattern" "$work/err" || fail "stderr lacks '$pattern': $(cat "$work/err")"
}

# A database of its own, dropped on exit, for the schema cases.
scratch_db() {
	need_db
	local name="authgate_cli_$$_$RANDOM"
	psql -X -q -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" -c "CREATE DATABASE $name" >/dev/null
	trap 'psql -X -q "$AUTHGATE_TEST_DB" -c "DROP DATABASE IF EXISTS '"$name"'" >/dev/null; rm -rf "$work"' EXIT
	scratch="$AUTHGATE_TEST_DB dbname=$name"
}

case $case_name in
bad_option_value)
	run --threads 0
	expect_one_line_failure "threads"
	run --cookie-secure maybe
	expect_one_line_failure "cookie-secure"
	run --listen nowhere
	expect_one_line_failure "listen"
	AUTHGATE_SESSION_IDLE=abc run
	expect_one_line_failure "AUTHGATE_SESSION_IDLE"
	;;
unknown_option)
	run --no-such-thing 1
	expect_one_line_failure "unknown option"
	;;
unreachable_database)
	run --db "host=$work port=1 connect_timeout=2" --listen 127.0.0.1:1
	expect_one_line_failure "cannot connect to the database"
	;;
missing_schema)
	scratch_db
	run --db "$scratch" --listen 127.0.0.1:1
	expect_one_line_failure "run sql/install.sql"
	;;
old_schema)
	scratch_db
	psql -X -q -v ON_ERROR_STOP=1 "$scratch" >/dev/null <<'SQL'
CREATE SCHEMA authgate;
CREATE FUNCTION authgate.schema_version() RETURNS integer LANGUAGE sql AS 'SELECT 0';
SQL
	run --db "$scratch" --listen 127.0.0.1:1
	expect_one_line_failure "older than this binary needs"
	grep -q "run sql/install.sql" "$work/err" || fail "no hint: $(cat "$work/err")"
	;;
check_config)
	need_db
	run check-config --db "$AUTHGATE_TEST_DB password=hunter2" --session-idle 600
	[[ $status == 0 ]] || fail "check-config failed: $(cat "$work/err")"
	grep -q "^session-idle = 600$" "$work/out" || fail "no effective value: $(cat "$work/out")"
	grep -q "^database: ok" "$work/out" || fail "database not checked"
	! grep -q hunter2 "$work/out" || fail "check-config printed the database password"
	# Every spelling libpq accepts (the trust-auth test database ignores
	# the password); the URI is built from the test conninfo's parts.
	host=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$AUTHGATE_TEST_DB")
	port=$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$AUTHGATE_TEST_DB")
	for db in "$AUTHGATE_TEST_DB password = s3cretA" \
		"$AUTHGATE_TEST_DB application_name=password password=s3cretA" \
		"$AUTHGATE_TEST_DB password='s3cretA with spaces'" \
		"$AUTHGATE_TEST_DB application_name=a@b://c password=s3cretA" \
		"postgresql://postgres:s3cretA@/authgate?host=$host&port=$port"; do
		run check-config --db "$db"
		[[ $status == 0 ]] || fail "check-config --db '$db': $(cat "$work/err")"
		! grep -q s3cretA "$work/out" "$work/err" ||
			fail "check-config printed the password of '$db': $(grep '^db' "$work/out")"
		grep -q "^db = .*password=\*\*\*" "$work/out" ||
			fail "no masked password for '$db': $(grep '^db' "$work/out")"
	done
	;;
hash_password)
	status=0
	printf 'correct horse\n' | "$bin" hash-password >"$work/a" || status=$?
	[[ $status == 0 ]] || fail "hash-password failed"
	printf 'correct horse\n' | "$bin" hash-password >"$work/b"
	grep -qE '^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$' "$work/a" ||
		fail "not an argon2id PHC string: $(cat "$work/a")"
	! cmp -s "$work/a" "$work/b" || fail "two hashes of one password are equal (no salt?)"
	status=0
	printf '\n' | "$bin" hash-password >/dev/null 2>"$work/err" || status=$?
	[[ $status == 1 ]] || fail "an empty password was hashed"
	status=0
	head -c 1100 /dev/zero | tr '\0' 'x' | "$bin" hash-password >/dev/null 2>"$work/err" || status=$?
	[[ $status == 1 ]] || fail "a password over 1024 bytes was hashed"
	;;
help_and_version)
	run --help
	[[ $status == 0 ]] || fail "--help failed"
	for option in listen db threads cookie-name cookie-secure session-idle \
		session-lifetime remember-lifetime; do
		grep -q -- "--$option " "$work/out" || fail "--help lacks --$option"
		env_name="AUTHGATE_$(tr 'a-z-' 'A-Z_' <<<"$option")"
		grep -q "$env_name" "$work/out" || fail "--help lacks $env_name"
	done
	run version
	[[ $status == 0 ]] && grep -qE '^authgate [0-9]+\.[0-9]+\.[0-9]+$' "$work/out" ||
		fail "version: $(cat "$work/out")"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
