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

# The admin commands: the stack's database, a username of this run.
need_stack() {
	need_db
	[[ -n ${AUTHGATE_TEST_URL:-} ]] ||
		fail "AUTHGATE_TEST_URL is not set: run through scripts/dev test"
	export AUTHGATE_DB=$AUTHGATE_TEST_DB
	user="cli_${case_name}_$$_$RANDOM"
}

# Runs the binary with `input` on stdin; sets $status like run().
run_with_input() {
	local input=$1
	shift
	status=0
	printf '%s\n' "$input" | "$bin" "$@" >"$work/out" 2>"$work/err" || status=$?
}

expect_ok() {
	[[ $status == 0 ]] || fail "$* exited $status: $(cat "$work/err")"
}

expect_out() {
	grep -qE -- "$1" "$work/out" || fail "output lacks /$1/: $(cat "$work/out")"
}

# Usage errors: exit status 2 and one line on stderr.
expect_usage() {
	[[ $status == 2 ]] || fail "exit status $status, expected 2 (usage)"
	[[ $(wc -l <"$work/err") == 1 ]] || fail "stderr is not one line: $(cat "$work/err")"
	grep -q -- "$1" "$work/err" || fail "stderr lacks '$1': $(cat "$work/err")"
}

# The HTTP status of a request through nginx with the case's cookie jar.
http_status() {
	curl -s -o "$work/body" -w '%{http_code}' -b "$work/jar" -c "$work/jar" "$@"
}

# Logs `user` in through nginx's login form: prints the status code.
login() {
	local password=$1 token
	token=$(curl -s -b "$work/jar" -c "$work/jar" "$AUTHGATE_TEST_URL/auth/login" |
		sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p')
	[[ -n $token ]] || fail "no csrf_token in the login page"
	http_status --data-urlencode "csrf_token=$token" --data-urlencode "username=$user" \
		--data-urlencode "password=$password" "$AUTHGATE_TEST_URL/auth/login"
}

# Waits until `curl ARGS` answers `code`: a revocation reaches the
# daemons' session caches by NOTIFY, moments after the command returns.
wait_status() {
	local code=$1 deadline=$((SECONDS + 15)) got
	shift
	until got=$(http_status "$@") && [[ $got == "$code" ]]; do
		((SECONDS < deadline)) || fail "still $got, expected $code: $*"
		sleep 0.05
	done
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
admin_round_trip)
	# The issue's acceptance test: add a user, log in through nginx,
	# disable it, see it rejected.
	need_stack
	run_with_input 'round trip passphrase' user add "$user" --email "$user@example.com"
	expect_ok user add
	expect_out "^created user $user \(id [0-9]+\)$"
	code=$(login 'round trip passphrase')
	[[ $code == 303 ]] || fail "login answered $code, expected 303"
	grep -q 'authgate' "$work/jar" || fail "no session cookie after the login"
	code=$(http_status "$AUTHGATE_TEST_URL/auth/whoami")
	[[ $code == 200 ]] && grep -q "\"$user\"" "$work/body" ||
		fail "whoami after login: $code $(cat "$work/body")"
	run user disable "$user"
	expect_ok user disable
	expect_out "^disabled user $user and ended its sessions$"
	wait_status 401 "$AUTHGATE_TEST_URL/auth/whoami"
	code=$(login 'round trip passphrase')
	[[ $code != 303 ]] || fail "a disabled user logged in"
	run user enable "$user"
	expect_ok user enable
	code=$(login 'round trip passphrase')
	[[ $code == 303 ]] || fail "login after enable answered $code"
	;;
admin_user_commands)
	need_stack
	run_with_input 'first passphrase' user add "$user"
	expect_ok user add
	run_with_input 'another one' user add "${user^^}"
	[[ $status == 1 ]] && grep -q "already exists" "$work/err" ||
		fail "a second user differing in case only: $status $(cat "$work/err")"
	run user list
	expect_ok user list
	expect_out "^ID +USERNAME +EMAIL +STATUS +ROLES +CREATED$"
	expect_out "^[0-9]+ +$user +enabled +[0-9-]+ [0-9:]+Z$"
	run user roles "$user" add editor
	expect_ok roles add
	run user roles "$user" add "ops:read"
	run user roles "$user"
	expect_ok roles
	[[ $(cat "$work/out") == $'ROLE\neditor\nops:read' ]] || fail "roles: $(cat "$work/out")"
	run user list
	expect_out "^[0-9]+ +$user +enabled +editor,ops:read +"
	run user roles "$user" remove editor
	run user roles "$user"
	[[ $(cat "$work/out") == $'ROLE\nops:read' ]] || fail "roles after remove: $(cat "$work/out")"
	run user roles "$user" add 'bad role!'
	[[ $status == 1 ]] && grep -q "not a valid role name" "$work/err" ||
		fail "an invalid role name: $status $(cat "$work/err")"
	code=$(login 'first passphrase')
	[[ $code == 303 ]] || fail "login answered $code"
	run user sessions "$user"
	expect_ok user sessions
	expect_out "^CREATED +LAST SEEN +EXPIRES +REMEMBER +CLIENT +USER AGENT$"
	expect_out " no +127\.[0-9.]+ +curl/"
	run user revoke "$user"
	expect_ok user revoke
	expect_out "^ended 1 sessions of $user$"
	wait_status 401 "$AUTHGATE_TEST_URL/auth/whoami"
	run user sessions "$user"
	[[ $(wc -l <"$work/out") == 1 ]] || fail "sessions after revoke: $(cat "$work/out")"
	run_with_input 'second passphrase' user passwd "$user"
	expect_ok user passwd
	[[ $(login 'first passphrase') != 303 ]] || fail "the old password still works"
	[[ $(login 'second passphrase') == 303 ]] || fail "the new password does not work"
	# The hash was made here: argon2id, never the server's bcrypt.
	hash=$(psql -X -qAt "$AUTHGATE_TEST_DB" -v u="$user" <<<"SELECT password_hash FROM authgate.users WHERE username = :'u'")
	[[ $hash == '$argon2id$'* ]] || fail "the stored hash is not argon2id: $hash"
	for verb in passwd disable enable delete sessions revoke; do
		run_with_input 'x passphrase' user "$verb" "nobody_$user"
		[[ $status == 1 ]] && [[ $(wc -l <"$work/err") == 1 ]] &&
			grep -q "no user named \"nobody_$user\"" "$work/err" ||
			fail "user $verb of an unknown user: $status $(cat "$work/err")"
	done
	run user delete "$user"
	expect_ok user delete
	run user list
	! grep -q " $user " "$work/out" || fail "the deleted user is still listed"
	;;
admin_tokens)
	need_stack
	run_with_input 'token owner passphrase' user add "$user"
	expect_ok user add
	run token create "$user" deploy --valid-for '30 days'
	expect_ok token create
	[[ $(wc -l <"$work/out") == 1 ]] && expect_out '^agt_[A-Za-z0-9_-]{43}$'
	token=$(cat "$work/out")
	run token create "$user" forever
	expect_ok token create forever
	run token list "$user"
	expect_ok token list
	expect_out "^NAME +CREATED +EXPIRES +LAST USED$"
	expect_out "^deploy +[0-9-]+ [0-9:]+Z +[0-9-]+ [0-9:]+Z$"
	expect_out "^forever +[0-9-]+ [0-9:]+Z$"
	! grep -q "$token" "$work/out" || fail "token list shows the token"
	code=$(http_status -H "Authorization: Bearer $token" "$AUTHGATE_TEST_URL/auth/whoami")
	[[ $code == 200 ]] || fail "the new token answered $code"
	run token create "$user" deploy
	[[ $status == 1 ]] && grep -q "already has an API token named" "$work/err" ||
		fail "a duplicate token name: $status $(cat "$work/err")"
	run token create "$user" other --valid-for 'soon'
	[[ $status == 1 ]] || fail "--valid-for soon was accepted"
	run token revoke "$user" deploy
	expect_ok token revoke
	expect_out "^revoked API token deploy of $user$"
	wait_status 401 -H "Authorization: Bearer $token" "$AUTHGATE_TEST_URL/auth/whoami"
	run token revoke "$user" deploy
	[[ $status == 1 ]] && grep -q "has no API token named \"deploy\"" "$work/err" ||
		fail "revoking a revoked token: $status $(cat "$work/err")"
	;;
admin_operator_role)
	# Not only a superuser: a member of authgate_admin can do it all; the
	# daemon's role can do none of it.
	need_stack
	operator="cli_operator_$$_$RANDOM"
	psql -X -q -v ON_ERROR_STOP=1 "$AUTHGATE_TEST_DB" \
		-c "CREATE ROLE $operator LOGIN IN ROLE authgate_admin" >/dev/null
	trap 'psql -X -q "$AUTHGATE_TEST_DB" -c "DROP ROLE IF EXISTS '"$operator"'" >/dev/null; rm -rf "$work"' EXIT
	export AUTHGATE_DB="$AUTHGATE_TEST_DB user=$operator"
	run_with_input 'operator made this' user add "$user" --email "$user@example.com"
	expect_ok user add as authgate_admin
	for cmd in "user list" "user roles $user add staff" "user roles $user" \
		"user sessions $user" "user revoke $user" "token create $user t1" \
		"token list $user" "token revoke $user t1" "user disable $user" \
		"user enable $user" "user delete $user"; do
		read -ra argv <<<"$cmd"
		run "${argv[@]}"
		expect_ok "$cmd as authgate_admin"
	done
	[[ -n ${AUTHGATE_TEST_DAEMON_DB:-} ]] || fail "AUTHGATE_TEST_DAEMON_DB is not set"
	export AUTHGATE_DB=$AUTHGATE_TEST_DAEMON_DB
	for cmd in "user list" "user disable $user" "token list $user"; do
		read -ra argv <<<"$cmd"
		run "${argv[@]}"
		expect_one_line_failure "permission denied"
	done
	;;
admin_usage)
	for args in "user" "user frob alice" "user add" "user add a b" "user list extra" \
		"user list --email x@example.com" "token create alice" "token revoke alice" \
		"user roles alice frob x" "migrate now" "user add alice --email"; do
		read -ra argv <<<"$args"
		run "${argv[@]}"
		[[ $status == 2 ]] && [[ $(wc -l <"$work/err") == 1 ]] ||
			fail "authgate $args: exit $status, stderr: $(cat "$work/err")"
	done
	run user frob alice
	expect_usage "unknown command"
	run user add
	expect_usage "usage: authgate user add NAME"
	run user list --no-such-option 1
	expect_usage "unknown option"
	run user roles alice frob x
	expect_usage "usage: authgate user roles NAME \[add ROLE | remove ROLE\]"
	run help
	expect_ok help
	expect_out "^  authgate user add NAME"
	expect_out "^  authgate migrate"
	expect_out "^  --db-password-file "
	run user --help
	expect_ok user --help
	expect_out "user passwd NAME"
	! grep -q "token create" "$work/out" || fail "user --help shows the token commands"
	run token --help
	expect_out "token revoke USER NAME"
	;;
admin_wrong_db)
	for cmd in "user list" "token list alice" "migrate" "user disable alice"; do
		read -ra argv <<<"$cmd"
		run "${argv[@]}" --db "host=$work port=1 connect_timeout=2"
		expect_one_line_failure "cannot connect to the database"
	done
	;;
admin_password_input)
	# Standard input: one line, hashed here; never an argument.
	need_stack
	run user add "$user"
	expect_one_line_failure "no password on standard input"
	run_with_input '' user add "$user"
	expect_one_line_failure "a password has 1 to 1024 bytes"
	run_with_input "$(head -c 1100 /dev/zero | tr '\0' x)" user add "$user"
	[[ $status == 1 ]] || fail "a password over 1024 bytes was taken"
	run user list
	! grep -q " $user " "$work/out" || fail "a refused password created the user"
	# A terminal: asked twice, never echoed.
	AUTHGATE_DB=$AUTHGATE_TEST_DB /usr/bin/python3 "$(dirname "$0")/on_terminal.py" \
		'tty secret one' 'tty secret one' -- "$bin" user add "$user" >"$work/tty" 2>&1 ||
		fail "user add on a terminal: $(cat "$work/tty")"
	grep -q "New password:" "$work/tty" && grep -q "Repeat it:" "$work/tty" ||
		fail "no prompts: $(cat "$work/tty")"
	! grep -q "tty secret" "$work/tty" || fail "the password was echoed: $(cat "$work/tty")"
	grep -q "created user $user" "$work/tty" || fail "not created: $(cat "$work/tty")"
	[[ $(login 'tty secret one') == 303 ]] || fail "the terminal password does not log in"
	/usr/bin/python3 "$(dirname "$0")/on_terminal.py" 'one thing' 'another' -- \
		"$bin" user passwd "$user" >"$work/tty" 2>&1 &&
		fail "two different passwords were accepted"
	grep -q "the two passwords differ" "$work/tty" || fail "no mismatch message: $(cat "$work/tty")"
	[[ $(login 'tty secret one') == 303 ]] || fail "a refused passwd changed the password"
	;;
admin_migrate)
	scratch_db
	sql=$(dirname "$0")/../../sql/install.sql
	run user list --db "$scratch"
	expect_one_line_failure "schema version 0 is older than this binary needs (.*): run authgate migrate"
	run migrate --db "$scratch" --sql "$sql"
	expect_ok migrate
	expect_out "^schema version 0 -> [0-9]+ \("
	version=$(psql -X -qAt "$scratch" -c "SELECT authgate.schema_version()")
	[[ $version -ge 2 ]] || fail "schema version $version after migrate"
	run migrate --db "$scratch" --sql "$sql"
	expect_ok migrate again
	expect_out "^schema version $version: up to date"
	run migrate --db "$scratch" --sql "$work/none.sql"
	expect_one_line_failure "cannot open $work/none.sql"
	# A failing script changes nothing: one transaction.
	printf 'BEGIN;\nCREATE TABLE authgate.half_done (x int);\nSELECT no_such_function();\nCOMMIT;\n' >"$work/bad.sql"
	run migrate --db "$scratch" --sql "$work/bad.sql"
	expect_one_line_failure "no_such_function"
	[[ -z $(psql -X -qAt "$scratch" -c "SELECT to_regclass('authgate.half_done')") ]] ||
		fail "a failed migration left a table behind"
	# The daemon starts on the migrated database.
	run check-config --db "$scratch"
	expect_ok check-config
	;;
db_password_file)
	need_db
	printf 's3cret-from-file\n' >"$work/pw"
	chmod 444 "$work/pw"   # as Docker secrets often are: accepted
	run check-config --db "$AUTHGATE_TEST_DB" --db-password-file "$work/pw"
	expect_ok check-config
	expect_out "^db-password-file = $work/pw$"
	! grep -q s3cret "$work/out" "$work/err" || fail "check-config printed the password"
	AUTHGATE_DB_PASSWORD_FILE=$work/pw run user list --db "$AUTHGATE_TEST_DB"
	expect_ok "user list with a password file"
	run check-config --db "$AUTHGATE_TEST_DB" --db-password-file "$work/missing"
	expect_one_line_failure "db-password-file: cannot open $work/missing"
	: >"$work/empty"
	run check-config --db "$AUTHGATE_TEST_DB" --db-password-file "$work/empty"
	expect_one_line_failure "expected one line holding the password"
	printf 'two\nlines\n' >"$work/two"
	run user list --db "$AUTHGATE_TEST_DB" --db-password-file "$work/two"
	expect_one_line_failure "expected one line holding the password"
	! grep -q lines "$work/err" || fail "the error shows the file's content"
	run check-config --db "$AUTHGATE_TEST_DB" --db-password-file "$work"
	expect_one_line_failure "is not a regular file"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
