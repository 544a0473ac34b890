#!/usr/bin/env bash
# The whole test run (`sudo make test`, .ci/run): install, build, unit tests, the same tests
# under ASan+UBSan, scenario scripts, integration tests in lab namespaces, a short fuzz run.
# Ends with exactly one line "N passed, N failed". A test that could not run here prints a
# "SKIPPED - NAME: why" line; skips are listed, counted on the line before the last, and never
# counted as passed. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
passed=0
failed=0
skipped=0
failures=()
skips=()

record() {  # record SUITE PASSED FAILED [SKIPPED]
  local s=${4:-0}
  passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + s))
  [ "$3" -gt 0 ] && failures+=("$1: $3 failed")
  if [ "$s" -gt 0 ]; then echo "== $1: $2 passed, $3 failed, $s skipped"; else echo "== $1: $2 passed, $3 failed"; fi
}

# doctest's summary line: "[doctest] test cases: 12 | 12 passed | 0 failed | 0 skipped"
run_doctest() {  # run_doctest NAME BINARY
  local out
  out=$("$2" 2>&1); local rc=$?
  echo "$out" | grep -vE '^\[doctest\] (doctest version|run with)' | tail -n 30
  local line p f
  line=$(echo "$out" | grep '\[doctest\] test cases:' | tail -1)
  p=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) passed.*/\1/p')
  f=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) failed.*/\1/p')
  if [ -z "$p" ]; then p=0; f=1; echo "$1: no doctest summary (crashed? rc=$rc)"; fi
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  record "$1" "$p" "$f"
}

# Suites that print "ok - NAME" / "not ok - NAME" lines (scenarios, integration, fuzz).
run_tap() {  # run_tap NAME COMMAND...
  local name=$1; shift
  local log; log=$(mktemp)
  "$@" 2>&1 | tee "$log"; local rc=${PIPESTATUS[0]}
  local p f s
  p=$(grep -cE '^ok - ' "$log"); f=$(grep -cE '^not ok - ' "$log"); s=$(grep -cE '^SKIPPED - ' "$log")
  while IFS= read -r line; do skips+=("$name: ${line#SKIPPED - }"); done < <(grep -E '^SKIPPED - ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name: exited $rc without a failing line"; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; echo "$name: ran no test"; fi
  rm -f "$log"
  record "$name" "$p" "$f" "$s"
}

echo "== setup"
bash tests/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

echo "== build (release and clients)"
if ! make -j"$(nproc)" all >build.log 2>&1; then
  tail -n 60 build.log; echo "0 passed, 1 failed"; exit 1
fi
rm -f build.log

# The sanitizer build (the library and the tests again, with clang's ASan+UBSan) builds in the
# background while the release tests run: the integration tests spend most of their time
# waiting on timers and round trips, and a fresh run built both first (about 10 of its 19
# minutes on a two-core VM). It runs at the idle scheduling class (SCHED_IDLE, and nice 19
# where chrt is missing), so it gets only CPU time the tests leave unused: a test that needs
# a core takes it at once. Its tests run after it finishes.
echo "== build (sanitizers, in the background)"
idle_priority=()
if command -v chrt >/dev/null 2>&1 && chrt --idle 0 true 2>/dev/null; then
  idle_priority=(chrt --idle 0)
fi
# Started directly, not through a function, so that $! is make itself (chrt and nice exec it).
"${idle_priority[@]}" nice -n 19 make -j"$(nproc)" sanitize >build-san.log 2>&1 &
san_build_pid=$!
# If the run is interrupted, the background build goes with it (make stops its compilers).
trap 'kill "$san_build_pid" 2>/dev/null' EXIT

run_tap "style (line length)" bash tests/style/line-length.sh
run_tap "layering (http/ and services use only the socket interface)" bash tests/style/layering.sh
run_tap "docs match the code" bash tests/docs/run.sh
run_tap "deviations listed" bash tests/docs/deviations.sh
run_doctest "unit" build/unit-tests
run_tap "scenarios" build/scenario-tests tests/scenarios
run_tap "scenario runner self-tests (must fail)" build/scenario-tests --expect-fail tests/scenarios/selftest
run_tap "integration" bash tests/integration/run.sh
run_tap "labs (every lab's commands, as written)" python3 tests/labs/run-labs.py
run_tap "labs runner self-tests (must fail)" python3 tests/labs/run-labs.py --expect-fail tests/labs/selftest

echo "== waiting for the sanitizer build"
if wait "$san_build_pid"; then
  rm -f build-san.log
  run_doctest "unit (asan+ubsan)" build/san/unit-tests
  run_tap "scenarios (asan+ubsan)" build/san/scenario-tests tests/scenarios
  run_tap "scenario runner self-tests (must fail, asan+ubsan)" \
    build/san/scenario-tests --expect-fail tests/scenarios/selftest
else
  tail -n 60 build-san.log; record "sanitizer build" 0 1
fi
trap - EXIT
if ls tests/fuzz/*_fuzz.cpp >/dev/null 2>&1; then
  if make -j"$(nproc)" $(ls tests/fuzz/*_fuzz.cpp | sed -E 's#tests/fuzz/(.*)\.cpp#build/fuzz/\1#') >fuzz-build.log 2>&1; then
    rm -f fuzz-build.log
    run_tap "fuzz (brief)" bash tests/fuzz/run.sh 5
  else
    tail -n 30 fuzz-build.log; record "fuzz build" 0 1
  fi
fi

echo
echo "took $(( $(date +%s) - start )) s"
for s in "${skips[@]:-}"; do [ -n "$s" ] && echo "SKIPPED: $s"; done
for f in "${failures[@]:-}"; do [ -n "$f" ] && echo "FAILED: $f"; done
[ "$skipped" -gt 0 ] && echo "$skipped skipped (not counted as passed)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
