#!/bin/bash
# Runs after the integration suites (a ctest fixture cleanup): no secret
# they used (passwords, session and CSRF cookies, form and API tokens, as
# listed by the harness in AUTHGATE_TEST_SECRETS) may appear in the
# daemons' log or in nginx's error log.
set -euo pipefail

if [[ -z ${AUTHGATE_TEST_SECRETS:-} ]]; then
  echo "SKIPPED: AUTHGATE_TEST_SECRETS is not set: this stack keeps no list of secrets"
  exit 0
fi
logs=()
for name in AUTHGATE_TEST_DAEMON_LOG AUTHGATE_TEST_NGINX_ERROR_LOG; do
  file=${!name:-}
  [[ -n $file ]] || { echo "FAIL: $name is not set"; exit 1; }
  [[ -r $file ]] || { echo "FAIL: $name: cannot read $file"; exit 1; }
  logs+=("$file")
done
if [[ ! -s $AUTHGATE_TEST_SECRETS ]]; then
  echo "ok: the cases run used no secret"
  exit 0
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
sort -u "$AUTHGATE_TEST_SECRETS" >"$list"
if found=$(grep -F -o -f "$list" "${logs[@]}"); then
  echo "FAIL: secrets in the logs (file:secret):"
  head -n 20 <<<"$found"
  exit 1
fi
echo "ok: none of $(wc -l <"$list") secrets in ${logs[*]}"
