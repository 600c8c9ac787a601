#!/usr/bin/env bash
# ctest deploy.cmake_install: `cmake --install` into a temporary prefix puts
# every file where cmake/install.cmake says, the installed binary runs, the
# installed service unit starts that binary; and with DESTDIR the files are
# staged while the unit still names the final path.
#
#   tests/deploy/test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=${1:?usage: test_install.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: test_install.sh BUILD_DIR SOURCE_DIR}

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authgate-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The installed layout, relative to the prefix (see cmake/install.cmake).
expected=(
  bin/authgate
  share/authgate/sql/install.sql
  share/authgate/nginx/authgate.conf
  share/authgate/nginx/authgate-proxy-headers.conf
  share/authgate/nginx/example.conf
  share/authgate/lighttpd/authgate.conf
  share/authgate/lighttpd/example.conf
  share/authgate/apache/authgate.conf
  share/authgate/apache/example.conf
  share/authgate/examples/authgate.env.example
  share/authgate/examples/authgate-spawn-fcgi.sh
  share/man/man1/authgate.1
  lib/systemd/system/authgate.service
  lib/systemd/system/authgate.socket
)
# Every demo page, whatever nginx/demo holds.
while IFS= read -r page; do
  expected+=("share/authgate/demo/${page#"$src/nginx/demo/"}")
done < <(find "$src/nginx/demo" -type f | sort)

check_tree() {   # ROOT: every expected file under ROOT
  local root=$1 missing=0 f
  for f in "${expected[@]}"; do
    if [[ ! -f $root/$f ]]; then
      echo "missing: $root/$f" >&2
      missing=1
    fi
  done
  ((missing == 0)) || fail "files missing after cmake --install (log: above)"
}

# --- 1. --prefix ------------------------------------------------------------
prefix=$tmp/prefix
if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  fail "cmake --install $build --prefix $prefix failed"
fi
check_tree "$prefix"
note "ok: ${#expected[@]} files installed under the prefix"

# Nothing outside the prefix (install_manifest.txt lists what was written).
if grep -v "^$prefix/" "$build/install_manifest.txt" | grep -q .; then
  grep -v "^$prefix/" "$build/install_manifest.txt" >&2
  fail "cmake --install wrote outside the prefix"
fi
note "ok: nothing installed outside the prefix"

[[ -x $prefix/bin/authgate ]] || fail "bin/authgate is not executable"
[[ -x $prefix/share/authgate/examples/authgate-spawn-fcgi.sh ]] ||
  fail "the spawn-fcgi example is not executable"

version=$("$prefix/bin/authgate" version) || fail "installed authgate version failed"
[[ $version =~ ^authgate\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "unexpected version output: $version"
note "ok: $prefix/bin/authgate version: $version"

# `authgate migrate` finds the schema installed beside its bin/.
migrate_help=$("$prefix/bin/authgate" migrate --help) || fail "installed authgate migrate --help failed"
grep -qF "migrate without --sql runs $(realpath "$prefix/share/authgate/sql/install.sql")" <<<"$migrate_help" ||
  fail "installed authgate migrate does not use the installed schema: $migrate_help"
note "ok: installed authgate migrate runs share/authgate/sql/install.sql"

help=$("$prefix/bin/authgate" --help) || fail "installed authgate --help failed"
[[ $help == *"usage: authgate"* && $help == *--listen* && $help == *AUTHGATE_DB* ]] ||
  fail "unexpected --help output: $help"
note "ok: authgate --help"

# Installed files are the source files (the unit aside).
cmp -s "$src/sql/install.sql" "$prefix/share/authgate/sql/install.sql" ||
  fail "installed install.sql differs from sql/install.sql"
cmp -s "$src/nginx/authgate.conf" "$prefix/share/authgate/nginx/authgate.conf" ||
  fail "installed authgate.conf differs from nginx/authgate.conf"
cmp -s "$src/docs/authgate.1" "$prefix/share/man/man1/authgate.1" ||
  fail "installed man page differs from docs/authgate.1"
cmp -s "$src/deploy/systemd/authgate.socket" "$prefix/lib/systemd/system/authgate.socket" ||
  fail "installed authgate.socket differs from deploy/systemd/authgate.socket"

exec_start=$(grep '^ExecStart=' "$prefix/lib/systemd/system/authgate.service")
[[ $exec_start == "ExecStart=$prefix/bin/authgate" ]] ||
  fail "installed unit has '$exec_start', expected ExecStart=$prefix/bin/authgate"
# Apart from ExecStart=, the installed unit is the source unit.
diff <(grep -v '^ExecStart=' "$src/deploy/systemd/authgate.service") \
     <(grep -v '^ExecStart=' "$prefix/lib/systemd/system/authgate.service") >/dev/null ||
  fail "installed authgate.service differs from the source beyond ExecStart="
note "ok: installed authgate.service: $exec_start"

# --- 2. DESTDIR: staged files, final paths in the unit ------------------------
stage=$tmp/stage
if ! DESTDIR=$stage cmake --install "$build" --prefix /usr >"$tmp/destdir.log" 2>&1; then
  cat "$tmp/destdir.log" >&2
  fail "DESTDIR=$stage cmake --install $build --prefix /usr failed"
fi
check_tree "$stage/usr"
exec_start=$(grep '^ExecStart=' "$stage/usr/lib/systemd/system/authgate.service")
[[ $exec_start == "ExecStart=/usr/bin/authgate" ]] ||
  fail "DESTDIR install: unit has '$exec_start', expected ExecStart=/usr/bin/authgate"
note "ok: DESTDIR install staged under $stage/usr, unit says $exec_start"
