#!/usr/bin/env bash
# ctest deploy.man_page: docs/authgate.1 renders without a single groff
# warning, has the usual sections, and documents every option that
# `authgate --help` lists, with its environment name and (when it is a
# plain value) its default. A new option in the daemon fails this test
# until the man page describes it.
#
#   tests/deploy/test_man_page.sh docs/authgate.1 BUILD/authgate
set -euo pipefail

page=${1:?usage: test_man_page.sh MAN_PAGE AUTHGATE_BINARY}
bin=${2:?usage: test_man_page.sh MAN_PAGE AUTHGATE_BINARY}

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

command -v groff >/dev/null || fail "groff is not installed (Debian package groff-base)"
[[ -f $page ]] || fail "no man page at $page"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authgate-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. No warnings at all (-ww: every warning category).
groff -man -ww -z "$page" 2>"$tmp/groff.err" || fail "groff failed: $(cat "$tmp/groff.err")"
if [[ -s $tmp/groff.err ]]; then
  cat "$tmp/groff.err" >&2
  fail "groff -man -ww reports warnings"
fi
note "ok: groff -man -ww -z: no warnings"

# man-db's own pipeline (preconv, tbl, ...) when it is installed.
if command -v man >/dev/null; then
  MANWIDTH=80 man --warnings -l "$page" >"$tmp/man.txt" 2>"$tmp/man.err" ||
    fail "man -l failed: $(cat "$tmp/man.err")"
  if [[ -s $tmp/man.err ]]; then
    cat "$tmp/man.err" >&2
    fail "man --warnings -l reports warnings"
  fi
  note "ok: man --warnings -l: no warnings"
fi

# Plain text for the content checks: no bold/underline, ASCII hyphens, one
# paragraph per line, runs of spaces (justification) squeezed.
groff -man -Tascii -P-c -P-b -P-u "$page" 2>/dev/null |
  sed -e 's/\x1b\[[0-9;]*m//g' >"$tmp/page.txt"

# 2. Sections.
for section in NAME SYNOPSIS DESCRIPTION OPTIONS SUBCOMMANDS ENVIRONMENT FILES \
    "EXIT STATUS" EXAMPLES "SEE ALSO"; do
  grep -q "^$section\$" "$tmp/page.txt" || fail "section $section is missing"
done
note "ok: sections present"

for sub in check-config hash-password version; do
  grep -Eq "^ +$sub( |\$)" "$tmp/page.txt" || fail "subcommand $sub is not described (SUBCOMMANDS)"
done
note "ok: subcommands described"

# 3. Every option of --help: a tagged paragraph "--NAME ..." that names
#    its environment variable and, for a plain default, the default.
"$bin" --help >"$tmp/help.txt" || fail "$bin --help failed"
mapfile -t options < <(grep -oE '^  --[a-z0-9-]+' "$tmp/help.txt" | sed 's/^  --//')
((${#options[@]} > 0)) || fail "no options found in $bin --help"

# The paragraph of option NAME: its tag line and the indented lines below.
paragraph() {
  awk -v tag="--$1" '
    found && /^ {0,13}[^ ]/ { exit }
    found { printf "%s ", $0 }
    !found && $1 == tag { found = 1; printf "%s ", $0 }
  ' "$tmp/page.txt" | tr -s ' '
}

missing=0
for opt in "${options[@]}"; do
  env_name=AUTHGATE_$(tr 'a-z-' 'A-Z_' <<<"$opt")
  # "[default: 7200; env AUTHGATE_SESSION_IDLE]" on the line after the option.
  default=$(grep -A1 -E "^  --$opt( |\$)" "$tmp/help.txt" |
    sed -nE 's/.*\[default: (.*); env [A-Z_]+\].*/\1/p')
  text=$(paragraph "$opt")
  if [[ -z $text ]]; then
    echo "undocumented option: --$opt" >&2
    missing=1
    continue
  fi
  if [[ $text != *"Environment: $env_name"* ]]; then
    echo "--$opt: the man page does not give its environment name $env_name" >&2
    missing=1
  fi
  if [[ $default =~ ^([0-9]+|on|off|debug|info|warn|error)$ && $text != *"Default: $default"* ]]; then
    echo "--$opt: the man page does not give its default ($default)" >&2
    missing=1
  fi
done
((missing == 0)) || fail "the man page is out of step with authgate --help"
note "ok: all ${#options[@]} options of --help documented with environment names and defaults"
