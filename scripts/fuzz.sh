#!/usr/bin/env bash
# libFuzzer runs of the targets in tests/fuzz/ (clang, ASan + UBSan).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#       Fuzzes every target (or the ones named) for SECONDS each (default
#       60), as many at once as there are cores, and prints a table. The
#       corpora grow across runs in .run/fuzz/corpus/TARGET (seeded from
#       tests/fuzz/corpus/TARGET); findings are kept in
#       .run/fuzz/artifacts/TARGET and shown with their bytes in hex.
#       Exit status 1 when anything was found.
#   scripts/fuzz.sh --smoke TARGET
#       The ctest entry fuzz.TARGET: a short run from a temporary copy of
#       the committed corpus; exit status 1 on any crash, leak, timeout,
#       sanitizer report or broken property.
#   scripts/fuzz.sh --build | --list | --help
#
# Everything is built in build-fuzz/ (configured with clang and
# CMAKE_BUILD_TYPE=Fuzz on first use, then incrementally) under a lock, so
# parallel ctest entries build it once. Nothing in the repository but
# build-fuzz/ and .run/ (both ignored by git) is written.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=$ROOT/build-fuzz
RUN_DIR=$ROOT/.run
FUZZ_DIR=$RUN_DIR/fuzz
SEED_DIR=$ROOT/tests/fuzz/corpus
LOCK_FILE=$RUN_DIR/fuzz.lock

DEFAULT_SECONDS=60
# ctest's run per target: 12 targets at -j2 stay under a minute of fuzzing.
SMOKE_SECONDS=${AUTHGATE_FUZZ_SMOKE_SECONDS:-8}
# One input taking longer than this is a finding (a hang in a parser).
INPUT_TIMEOUT=10
# libFuzzer's exit statuses for a crash (or broken property) and a timeout.
CRASH_EXIT=77
TIMEOUT_EXIT=78
# What a sanitizer or libFuzzer prints when it found something.
FINDING_RE='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|property violated|^SUMMARY: '

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

log() { printf 'fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 2; }

# Every tests/fuzz/fuzz_NAME.c is a target (cmake/fuzz.cmake globs the same).
all_targets() {
  local f
  for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
    f=${f##*/fuzz_}
    echo "${f%.c}"
  done
}

check_target() {
  [[ -f $ROOT/tests/fuzz/fuzz_$1.c ]] ||
    die "unknown target '$1' (targets: $(all_targets | tr '\n' ' '))"
}

# Everything the fuzz executables are built from.
build_inputs() {
  echo "$ROOT/CMakeLists.txt" "$ROOT/cmake" "$ROOT/src" "$ROOT/tests/fuzz"
}

all_built() {
  local name
  for name in $(all_targets); do
    [[ -x $BUILD_DIR/fuzz_$name ]] || return 1
  done
}

# Configures (first time) and builds build-fuzz under the lock. Skipped when
# no input changed since the last successful build (a stamp), which saves
# the make traversal in every ctest entry. Quiet unless something fails.
build() {
  local out stamp=$BUILD_DIR/.fuzz-built
  command -v clang >/dev/null ||
    die "clang not found: install clang and libclang-rt-14-dev (scripts/dev deps)"
  mkdir -p "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  flock 9
  # shellcheck disable=SC2046 # the paths have no spaces
  if [[ -f $stamp ]] && all_built &&
      [[ -z $(find $(build_inputs) -newer "$stamp" -print -quit) ]]; then
    flock -u 9
    exec 9>&-
    return 0
  fi
  out=$(mktemp "$RUN_DIR/fuzz-build.XXXXXX")
  if ! grep -qs '^CMAKE_BUILD_TYPE:STRING=Fuzz$' "$BUILD_DIR/CMakeCache.txt"; then
    log "configuring $BUILD_DIR with clang"
    if ! CC=clang cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Fuzz \
        >"$out" 2>&1; then
      cat "$out" >&2
      rm -f "$out"
      die "configuring $BUILD_DIR failed"
    fi
  fi
  # Stamped with the time the build started, so an edit made during the
  # build is seen next time.
  touch "$stamp.new"
  if ! cmake --build "$BUILD_DIR" -j "$(nproc)" --target fuzz_targets \
      >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out" "$stamp.new"
    die "building the fuzz targets failed"
  fi
  mv "$stamp.new" "$stamp"
  flock -u 9
  exec 9>&-
  rm -f "$out"
}

sanitizer_env() {
  # Fixed here so that options from the caller's environment (a test run's
  # ASAN_OPTIONS, say) cannot turn a check off.
  export ASAN_OPTIONS=detect_leaks=1:symbolize=1:print_summary=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:print_summary=1
  if command -v llvm-symbolizer >/dev/null; then
    ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
    export ASAN_SYMBOLIZER_PATH
  fi
}

# Runs one target. Writes LOG and leaves findings in ARTIFACTS/; returns
# libFuzzer's exit status.
fuzz_target() {   # NAME SECONDS CORPUS ARTIFACTS LOG
  local name=$1 seconds=$2 corpus=$3 artifacts=$4 log_file=$5 rc=0
  local args=(
    -max_total_time="$seconds"
    -timeout="$INPUT_TIMEOUT"
    -error_exitcode="$CRASH_EXIT"
    -timeout_exitcode="$TIMEOUT_EXIT"
    -print_final_stats=1
    -artifact_prefix="$artifacts/"
  )
  [[ -f $ROOT/tests/fuzz/$name.dict ]] &&
    args+=(-dict="$ROOT/tests/fuzz/$name.dict")
  mkdir -p "$artifacts"
  "$BUILD_DIR/fuzz_$name" "${args[@]}" "$corpus" >"$log_file" 2>&1 || rc=$?
  return "$rc"
}

# Crash, leak, timeout and out-of-memory inputs in DIR (not slow-unit-*,
# which libFuzzer writes for information only).
finding_files() {   # DIR
  find "$1" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
    2>/dev/null | sort
}

# Number of findings of a run: its artifacts, or 1 when it failed (or printed
# a report) without leaving one.
count_findings() {   # STATUS LOG ARTIFACTS
  local n
  n=$(finding_files "$3" | wc -l)
  if ((n == 0)) && { (($1 != 0)) || grep -qE "$FINDING_RE" "$2"; }; then
    n=1
  fi
  echo "$n"
}

hex() {
  if [[ -s $1 ]]; then od -An -v -tx1 "$1" | tr -d ' \n'; else echo '(empty input)'; fi
}

# Prints the sanitizer report and every finding's bytes, and keeps the
# inputs in .run/fuzz/artifacts/NAME/.
report_findings() {   # NAME LOG ARTIFACTS
  local name=$1 log_file=$2 artifacts=$3 keep=$FUZZ_DIR/artifacts/$1 f
  {
    echo "== fuzz_$name: finding"
    if grep -qE "$FINDING_RE|deadly signal" "$log_file"; then
      # From the first report line to its SUMMARY line.
      sed -nE "/$FINDING_RE|deadly signal/,/^SUMMARY: /p" "$log_file" |
        head -n 60
    else
      tail -n 40 "$log_file"
    fi
    mkdir -p "$keep"
    while read -r f; do
      [[ -n $f ]] || continue
      [[ $artifacts == "$keep" ]] || cp "$f" "$keep/"
      echo "-- input ${f##*/} ($(stat -c %s "$f") bytes), kept as $keep/${f##*/}"
      echo "   hex: $(hex "$f")"
      echo "   reproduce: $BUILD_DIR/fuzz_$name $keep/${f##*/}"
    done < <(finding_files "$artifacts")
  } >&2
}

# "Done 123 runs in 8 second(s)" and the -print_final_stats lines.
stat_of() {   # LOG KEY
  sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -n 1
}
runs_of() { stat_of "$1" number_of_executed_units; }
rate_of() { stat_of "$1" average_exec_per_sec; }
seconds_of() {   # LOG FALLBACK
  local s
  s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$1" | tail -n 1)
  echo "${s:-$2}"
}
# Units in libFuzzer's corpus at the end ("... corp: 57/1234b ...").
corpus_of() {   # LOG
  local c
  c=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$1" | tail -n 1 | cut -d' ' -f2)
  echo "${c:-?}"
}
cov_of() {
  local c
  c=$(grep -oE ' cov: [0-9]+' "$1" | tail -n 1 | cut -d' ' -f3)
  echo "${c:-?}"
}

cmd_smoke() {   # NAME
  local name=$1 work rc=0 findings start
  check_target "$name"
  build
  sanitizer_env
  mkdir -p "$FUZZ_DIR"
  work=$(mktemp -d "$FUZZ_DIR/smoke-$name.XXXXXX")
  # shellcheck disable=SC2064 # expanded now: $work is local
  trap "rm -rf '$work'" EXIT
  mkdir "$work/corpus"
  # A copy, so that the committed corpus is never modified.
  if [[ -d $SEED_DIR/$name ]]; then
    cp -R "$SEED_DIR/$name/." "$work/corpus/"
  fi
  start=$SECONDS
  fuzz_target "$name" "$SMOKE_SECONDS" "$work/corpus" "$work/artifacts" \
    "$work/log" || rc=$?
  findings=$(count_findings "$rc" "$work/log" "$work/artifacts")
  if ((findings > 0)); then
    report_findings "$name" "$work/log" "$work/artifacts"
    log "fuzz_$name: $findings finding(s), exit status $rc"
    return 1
  fi
  echo "fuzz_$name: $(seconds_of "$work/log" $((SECONDS - start))) s," \
    "$(runs_of "$work/log") runs ($(rate_of "$work/log")/s)," \
    "corpus $(corpus_of "$work/log"), cov $(cov_of "$work/log"), no findings"
}

cmd_run() {   # SECONDS [NAME...]
  local seconds=$1 jobs name rc total_findings=0 findings
  shift
  local targets=("$@")
  ((${#targets[@]})) || mapfile -t targets < <(all_targets)
  for name in "${targets[@]}"; do check_target "$name"; done
  build
  sanitizer_env

  local run=$FUZZ_DIR/last
  rm -rf "$run"
  mkdir -p "$run"
  jobs=$(nproc)
  log "fuzzing ${#targets[@]} targets for $seconds s each, $jobs at a time (logs: $run)"
  trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
  for name in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    mkdir -p "$FUZZ_DIR/corpus/$name"
    # Seeds join the persistent corpus; existing files are left alone.
    if [[ -d $SEED_DIR/$name ]]; then
      cp -R -n "$SEED_DIR/$name/." "$FUZZ_DIR/corpus/$name/"
    fi
    (
      rc=0
      start=$SECONDS
      fuzz_target "$name" "$seconds" "$FUZZ_DIR/corpus/$name" \
        "$run/$name.artifacts" "$run/$name.log" || rc=$?
      echo "$rc" >"$run/$name.status"
      # For runs that stop early (a finding) and print no "Done" line.
      echo $((SECONDS - start)) >"$run/$name.elapsed"
    ) &
  done
  wait
  trap - EXIT

  printf '%-10s %8s %12s %9s %14s %6s %9s\n' target seconds executions exec/s \
    corpus cov findings
  for name in "${targets[@]}"; do
    rc=$(cat "$run/$name.status" 2>/dev/null || echo 1)
    findings=$(count_findings "$rc" "$run/$name.log" "$run/$name.artifacts")
    total_findings=$((total_findings + findings))
    printf '%-10s %8s %12s %9s %14s %6s %9s\n' "$name" \
      "$(seconds_of "$run/$name.log" "$(cat "$run/$name.elapsed" 2>/dev/null)")" \
      "$(runs_of "$run/$name.log")" \
      "$(rate_of "$run/$name.log")" "$(corpus_of "$run/$name.log")" \
      "$(cov_of "$run/$name.log")" "$findings"
  done
  for name in "${targets[@]}"; do
    rc=$(cat "$run/$name.status" 2>/dev/null || echo 1)
    findings=$(count_findings "$rc" "$run/$name.log" "$run/$name.artifacts")
    ((findings == 0)) || report_findings "$name" "$run/$name.log" \
      "$run/$name.artifacts"
  done
  ((total_findings == 0)) || { log "$total_findings finding(s)"; return 1; }
}

main() {
  case ${1:-} in
    --smoke)
      [[ $# == 2 ]] || die "usage: scripts/fuzz.sh --smoke TARGET"
      cmd_smoke "$2"
      ;;
    --build) build ;;
    --list) all_targets ;;
    -h | --help | help) usage ;;
    '') cmd_run "$DEFAULT_SECONDS" ;;
    *)
      [[ $1 =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
      cmd_run "$@"
      ;;
  esac
}

main "$@"
