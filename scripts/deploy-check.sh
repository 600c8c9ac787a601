#!/usr/bin/env bash
# Static checks of the container files (Dockerfile, .dockerignore,
# docker-compose.yml, deploy/docker/*): the review checklist a linter such
# as hadolint would cover, turned into greps where a grep can decide. No
# Docker engine needed. ctest runs it as deploy.dockerfile_checks.
#
#   scripts/deploy-check.sh              run the checks; non-zero on a failure
#   scripts/deploy-check.sh --checklist  print the manual checklist (what
#                                        needs a Docker engine) and exit
#
# Checks:
#   D1  multi-stage build: at least two FROM, every stage named (AS name)
#   D2  base images pinned to a tag or digest, never :latest or untagged
#   D3  the final stage runs as a non-root USER (not root, not uid 0)
#   D4  the final stage has a HEALTHCHECK (not NONE)
#   D5  no secret in ENV or ARG (names like *PASSWORD*, *SECRET*, *TOKEN*,
#       values like password=... or scheme://user:pass@); *_FILE and
#       PGPASSFILE are paths and allowed
#   D6  apt: every `apt-get install` has -y and --no-install-recommends, runs
#       in the same RUN as `apt-get update`, and that RUN removes
#       /var/lib/apt/lists/*; no apt-get upgrade / dist-upgrade
#   D7  COPY rather than ADD; no `curl|sh`-style pipes into a shell; no sudo
#   D8  ENTRYPOINT and CMD in exec (JSON) form, so SIGTERM reaches the daemon
#   D9  COPY --from names a stage defined above
#   D10 EXPOSE matches the port of ENV AUTHGATE_LISTEN
#   C1  .dockerignore keeps out .git, .run, build directories and the secrets
#   C2  docker-compose.yml: no password in the environment (POSTGRES_PASSWORD
#       or PGPASSWORD without _FILE), images pinned, secrets from files
#   C3  the scripts copied into the image are executable and parse (sh -n)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKERFILE=$ROOT/Dockerfile
COMPOSE=$ROOT/docker-compose.yml
DOCKERIGNORE=$ROOT/.dockerignore

checklist() {
  cat <<'EOF'
Manual checklist (needs a Docker engine; run before a release):

 1. Build:            docker build -t authgate:local .
                      docker build --target tests -t authgate:tests .
 2. Non-root:         docker run --rm --entrypoint id authgate:local
                      -> uid=10001(authgate) gid=10001(authgate)
 3. Runs and exits:   docker run --rm authgate:local version
                      docker run --rm authgate:local --help
 4. Runtime libs:     docker run --rm --entrypoint sh authgate:local -c \
                        'ldd /usr/local/bin/authgate | grep "not found"'   -> nothing
 5. Size:             docker image ls authgate:local    (expect < 120 MB)
 6. Stack:            deploy/docker/make-secrets.sh && docker-compose up -d --build
                      docker-compose ps   -> db, authgate healthy; nginx, app up
 7. Health check:     docker inspect -f '{{.State.Health.Status}}' $(docker-compose ps -q authgate)
                      -> healthy; docker-compose stop db -> unhealthy within ~45 s;
                      docker-compose start db -> healthy again
 8. Site:             curl -si -H 'Accept: text/html' http://127.0.0.1:8080/
                      -> 302 to /auth/login?next=%2F
 9. Integration:      docker-compose run --rm tests   -> 0 failed
10. Stop:             docker-compose stop authgate; docker-compose logs authgate
                      -> "finishing requests in progress", exit code 0
                      (docker inspect -f '{{.State.ExitCode}}')
11. Read-only root:   the authgate service runs with read_only: true and a
                      /tmp tmpfs; check no write error in its logs
12. Secret handling:  docker-compose exec authgate env | grep -i pass
                      -> only AUTHGATE_DB_PASSWORD_FILE=/run/secrets/... (a path)
13. Vulnerabilities:  a scanner of your choice (trivy image authgate:local,
                      docker scout cves authgate:local): no fixable HIGH/CRITICAL
14. Upgrade path:     docker-compose exec -T db psql -X -v ON_ERROR_STOP=1 \
                        -U postgres -d authgate < sql/install.sql   (idempotent)
EOF
}

if [[ ${1:-} == --checklist ]]; then
  checklist
  exit 0
fi

failures=0
ok() { printf 'ok    %s\n' "$*"; }
bad() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }

[[ -f $DOCKERFILE ]] || { echo "FAIL  no Dockerfile at $DOCKERFILE"; exit 1; }

# The Dockerfile as logical instructions: comments dropped, continuation
# lines joined, one instruction per line as "LINENO<TAB>INSTRUCTION args".
instructions=$(awk '
  /^[[:space:]]*#/ { next }
  {
    line = $0
    if (pending == "") start = NR
    if (line ~ /\\[[:space:]]*$/) {
      sub(/\\[[:space:]]*$/, " ", line)
      pending = pending line
      next
    }
    pending = pending line
    if (pending ~ /[^[:space:]]/) {
      gsub(/[[:space:]]+/, " ", pending)
      sub(/^ /, "", pending)
      print start "\t" pending
    }
    pending = ""
  }' "$DOCKERFILE")

# Instructions of the final stage (from the last FROM on).
final_stage=$(awk -F'\t' 'toupper($2) ~ /^FROM / { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' <<<"$instructions")

# --- D1 multi-stage ---------------------------------------------------------
froms=$(grep -Pi '^\d+\tFROM ' <<<"$instructions")
nfrom=$(grep -c . <<<"$froms")
if ((nfrom >= 2)); then
  ok "D1 multi-stage build ($nfrom stages)"
else
  bad "D1 multi-stage build: only $nfrom FROM"
fi
if grep -Pvi '^\d+\tFROM \S+ AS \S+$' <<<"$froms" | grep -q .; then
  bad "D1 every stage named (FROM image AS name): $(grep -Pvi 'FROM \S+ AS \S+$' <<<"$froms" | cut -f1 | tr '\n' ' ')"
else
  ok "D1 every stage named"
fi

# --- D2 pinned bases --------------------------------------------------------
stages=$(sed -nE 's/^[0-9]+\tFROM [^ ]+ AS ([^ ]+)$/\1/Ip' <<<"$froms")
unpinned=""
while IFS=$'\t' read -r lineno instr; do
  image=$(awk '{print $2}' <<<"$instr")
  # FROM an earlier stage is fine.
  grep -qxF "$image" <<<"$stages" && continue
  if [[ $image == *@sha256:* ]]; then continue; fi
  tag=${image##*/}
  if [[ $tag != *:* || $tag == *:latest ]]; then
    unpinned+=" line $lineno ($image)"
  fi
done <<<"$froms"
if [[ -n $unpinned ]]; then bad "D2 base images pinned:$unpinned"; else ok "D2 base images pinned to a tag"; fi

# --- D3 non-root USER in the final stage ---------------------------------------
last_user=$(grep -Pi '^\d+\tUSER ' <<<"$final_stage" | tail -n 1 | cut -f2 | awk '{print $2}')
if [[ -z $last_user ]]; then
  bad "D3 final stage sets a USER (it would run as root)"
elif [[ ${last_user%%:*} =~ ^(root|0)$ ]]; then
  bad "D3 final stage USER is not root: USER $last_user"
else
  ok "D3 final stage runs as USER $last_user"
fi

# --- D4 HEALTHCHECK ------------------------------------------------------------------
hc=$(grep -Pi '^\d+\tHEALTHCHECK ' <<<"$final_stage" | tail -n 1 | cut -f2)
if [[ -z $hc ]]; then
  bad "D4 final stage has a HEALTHCHECK"
elif [[ $hc =~ ^HEALTHCHECK\ +NONE ]]; then
  bad "D4 HEALTHCHECK NONE in the final stage"
else
  ok "D4 HEALTHCHECK: ${hc:0:90}"
fi

# --- D5 no secrets in ENV/ARG ---------------------------------------------------
secret_lines=""
while IFS=$'\t' read -r lineno instr; do
  [[ -n $instr ]] || continue
  kw=${instr%% *}
  rest=${instr#* }
  # ENV NAME=VALUE ..., ENV NAME VALUE, ARG NAME[=VALUE]
  names=$(grep -oE '(^| )[A-Za-z_][A-Za-z0-9_]*(=|$| )' <<<"$rest" | tr -d ' =' | head -n 20)
  [[ ${kw^^} == ENV && $rest != *=* ]] && names=${rest%% *}
  for name in $names; do
    if [[ ${name^^} =~ (PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL) &&
          ! ${name^^} =~ (_FILE|PASSFILE)$ ]]; then
      secret_lines+=" line $lineno ($name)"
    fi
  done
  if grep -qiE "password=|://[^/@ :]+:[^/@ ]+@" <<<"$rest"; then
    secret_lines+=" line $lineno (a password in a value)"
  fi
done < <(grep -Pi '^\d+\t(ENV|ARG) ' <<<"$instructions")
if [[ -n $secret_lines ]]; then bad "D5 no secrets in ENV/ARG:$secret_lines"; else ok "D5 no secrets in ENV/ARG"; fi

# --- D6 apt hygiene --------------------------------------------------------------------
apt_problems=""
napt=0
while IFS=$'\t' read -r lineno instr; do
  [[ $instr =~ apt-get\ +(-[^ ]+\ +)*install ]] || continue
  napt=$((napt + 1))
  [[ $instr == *"apt-get update"* ]] || apt_problems+=" line $lineno: no apt-get update in the same RUN;"
  [[ $instr == *--no-install-recommends* ]] || apt_problems+=" line $lineno: no --no-install-recommends;"
  [[ $instr =~ install\ .*(-y|--yes|-qy|-yq) || $instr =~ apt-get\ +-y ]] || apt_problems+=" line $lineno: no -y;"
  [[ $instr == *"rm -rf /var/lib/apt/lists/*"* ]] || apt_problems+=" line $lineno: /var/lib/apt/lists/* not removed;"
done < <(grep -Pi '^\d+\tRUN ' <<<"$instructions")
if grep -Pqi '^\d+\tRUN .*apt-get +(-\S+ +)*(upgrade|dist-upgrade)' <<<"$instructions"; then
  apt_problems+=" apt-get upgrade in a RUN (rebuild on a newer base instead);"
fi
if [[ -n $apt_problems ]]; then
  bad "D6 apt hygiene:$apt_problems"
else
  ok "D6 apt hygiene ($napt apt-get install, lists removed in the same layer)"
fi

# --- D7 ADD, curl|sh, sudo ----------------------------------------------------------
d7=""
grep -Pqi '^\d+\tADD ' <<<"$instructions" && d7+=" ADD used (COPY, or curl with a checksum);"
grep -Pqi '^\d+\tRUN .*(curl|wget)[^|]*\|\s*(ba|da)?sh' <<<"$instructions" && d7+=" a download piped into a shell;"
grep -Pqi '^\d+\tRUN .*\bsudo\b' <<<"$instructions" && d7+=" sudo in a RUN;"
if [[ -n $d7 ]]; then bad "D7$d7"; else ok "D7 COPY only, no curl|sh, no sudo"; fi

# --- D8 exec form -------------------------------------------------------------------------
d8=""
while IFS=$'\t' read -r lineno instr; do
  args=${instr#* }
  [[ $args =~ ^\[.*\]$ ]] || d8+=" line $lineno (${instr%% *} in shell form);"
done < <(grep -Pi '^\d+\t(ENTRYPOINT|CMD) ' <<<"$final_stage")
if [[ -n $d8 ]]; then bad "D8 exec form:$d8"; else ok "D8 ENTRYPOINT/CMD in exec form"; fi

# --- D9 COPY --from ------------------------------------------------------------------------
d9=""
while IFS=$'\t' read -r lineno instr; do
  from=$(grep -oE -- '--from=[^ ]+' <<<"$instr" | cut -d= -f2)
  grep -qxF "$from" <<<"$stages" || d9+=" line $lineno (--from=$from)"
done < <(grep -Pi '^\d+\tCOPY .*--from=' <<<"$instructions")
if [[ -n $d9 ]]; then bad "D9 COPY --from names a stage:$d9"; else ok "D9 COPY --from names defined stages"; fi

# --- D10 EXPOSE vs AUTHGATE_LISTEN ---------------------------------------------------
listen_port=$(grep -oE 'AUTHGATE_LISTEN=[^ ]+' <<<"$final_stage" | tail -n 1 | sed -E 's/.*:([0-9]+)$/\1/')
exposed=$(grep -Pi '^\d+\tEXPOSE ' <<<"$final_stage" | cut -f2 | cut -d' ' -f2- | tr ' ' '\n' | sed 's|/tcp||')
if [[ -n $listen_port ]] && grep -qx "$listen_port" <<<"$exposed"; then
  ok "D10 EXPOSE $listen_port matches AUTHGATE_LISTEN"
else
  bad "D10 EXPOSE (${exposed//$'\n'/ }) does not match AUTHGATE_LISTEN's port (${listen_port:-none})"
fi

# --- C1 .dockerignore ----------------------------------------------------------------------
if [[ ! -f $DOCKERIGNORE ]]; then
  bad "C1 .dockerignore exists"
else
  c1=""
  for pattern in .git .run build 'build-*' deploy/docker/secrets; do
    grep -qxF "$pattern" "$DOCKERIGNORE" || c1+=" $pattern"
  done
  if [[ -n $c1 ]]; then bad "C1 .dockerignore lacks:$c1"; else ok "C1 .dockerignore keeps out .git, .run, build*, secrets"; fi
fi

# --- C2 docker-compose.yml -------------------------------------------------------------
if [[ ! -f $COMPOSE ]]; then
  bad "C2 docker-compose.yml exists"
else
  c2=""
  grep -nE '^\s*-?\s*(POSTGRES_PASSWORD|PGPASSWORD|AUTHGATE_DB_PASSWORD)\s*[:=]' "$COMPOSE" |
    grep -v '_FILE' | grep -q . && c2+=" a password in the environment;"
  grep -nE 'password=|://[^/@ :]+:[^/@ ]+@' "$COMPOSE" | grep -vE '^\s*[0-9]+:\s*#' | grep -q . &&
    c2+=" a password in a connection string;"
  while read -r image; do
    tag=${image##*/}
    [[ $tag == *:* && $tag != *:latest ]] || [[ $image == *@sha256:* ]] || c2+=" image $image not pinned;"
  done < <(sed -nE 's/^\s*image:\s*"?([^" ]+)"?.*/\1/p' "$COMPOSE" | grep -v '^authgate:')
  grep -qE '^secrets:' "$COMPOSE" || c2+=" no secrets section;"
  if [[ -n $c2 ]]; then bad "C2 docker-compose.yml:$c2"; else ok "C2 docker-compose.yml: passwords only as secret files, images pinned"; fi
fi

# --- C3 scripts copied into images --------------------------------------------------
c3=""
while IFS=$'\t' read -r lineno instr; do
  [[ $instr == *--from=* ]] && continue
  # COPY SRC... DEST: every source but the last word.
  read -ra words <<<"${instr#* }"
  for ((i = 0; i < ${#words[@]} - 1; i++)); do
    f=${words[i]}
    [[ $f == --* || $f == . ]] && continue
    [[ $f == *.sh ]] || continue
    if [[ ! -x $ROOT/$f ]]; then
      c3+=" $f not executable;"
    elif ! sh -n "$ROOT/$f" 2>/dev/null; then
      c3+=" $f does not parse;"
    elif [[ $(head -c 2 "$ROOT/$f") != '#!' ]]; then
      c3+=" $f has no #! line;"
    fi
    # git keeps the mode that COPY will see in a fresh clone.
    if git -C "$ROOT" ls-files --error-unmatch "$f" >/dev/null 2>&1 &&
       [[ $(git -C "$ROOT" ls-files -s "$f" | cut -d' ' -f1) != 100755 ]]; then
      c3+=" $f not executable in git's index;"
    fi
  done
done < <(grep -Pi '^\d+\tCOPY ' <<<"$instructions")
for f in "$ROOT"/deploy/docker/db-init/*.sh; do
  sh -n "$f" 2>/dev/null || c3+=" ${f#"$ROOT"/} does not parse;"
done
if [[ -n $c3 ]]; then bad "C3 scripts:$c3"; else ok "C3 scripts copied into images are executable and parse"; fi

echo
if ((failures > 0)); then
  echo "deploy-check: $failures check(s) failed"
  echo "(the manual checklist, for what needs Docker: scripts/deploy-check.sh --checklist)"
  exit 1
fi
echo "deploy-check: all static checks passed"
echo "(what needs a Docker engine is not checked here: scripts/deploy-check.sh --checklist)"
