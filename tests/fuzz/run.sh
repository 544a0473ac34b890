#!/usr/bin/env bash
# Runs every built libFuzzer target for SECONDS each, seeded from a scratch copy of its corpus,
# and prints "ok - fuzz NAME" or "not ok - fuzz NAME" (with the crash report) per target.
#   bash tests/fuzz/run.sh [SECONDS]      (FUZZ_BUILD_DIR overrides build/fuzz)
# Crashing inputs are kept in $FUZZ_BUILD_DIR/crashes/ for replay.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
dir=${FUZZ_BUILD_DIR:-build/fuzz}
status=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tcplab-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

shopt -s nullglob
targets=("$dir"/*_fuzz)
if [ ${#targets[@]} -eq 0 ]; then
  echo "not ok - fuzz (no targets built in $dir)"
  exit 1
fi

for bin in "${targets[@]}"; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  seeds="tests/fuzz/corpus/${name%_fuzz}"
  work="$scratch/$name"
  mkdir -p "$work/corpus" "$work/artifacts"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/"
  rm -f "$work/corpus/README.md"
  # -timeout catches a hang (an unbounded loop on some input) as a failure.
  if "$bin" "$work/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$work/log" 2>&1; then
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/log" | tail -1)
    echo "ok - fuzz $name (${runs:-?} runs in ${seconds}s)"
  else
    status=1
    echo "not ok - fuzz $name"
    # The report: the failing check or sanitizer output, the stack, and the crashing input.
    grep -vE '^#[0-9]+|^INFO:|^stat::|NEW_FUNC' "$work/log" | tail -n 60 | sed 's/^/#   /'
    # Keep the crashing input outside the scratch dir so it can be replayed: BINARY FILE.
    mkdir -p "$dir/crashes"
    for a in "$work"/artifacts/*; do
      [ -f "$a" ] || continue
      kept="$dir/crashes/$name-$(basename "$a")"
      cp "$a" "$kept"
      echo "#   crashing input ($(stat -c %s "$a") bytes), replay with: $bin $kept"
      od -An -tx1 -v "$a" | head -n 16 | sed 's/^/#   /'
    done
  fi
  rm -rf "$work"
done
exit $status
