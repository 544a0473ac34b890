#!/usr/bin/env bash
# The docs check (make test's "docs match the code" suite): first shows that the checker
# finds each kind of mistake in tests/docs/fixtures/bad.md (so it can fail), then checks
# README.md and docs/**/*.md against build/tcplab and the repository; then that every
# tests/scenarios/*.pkt has its row in docs/scenarios.md (scenario-rows.py). ok/not ok lines.
cd "$(dirname "$0")/../.."
CHECK=tests/docs/check-docs.py
[ -x build/tcplab ] || { echo "not ok - docs check: build/tcplab not built (run make)"; exit 1; }

# The subcommand list at the end of an unknown-subcommand line grows with the tool: cut it.
out=$(python3 "$CHECK" tests/docs/fixtures/bad.md); rc=$?
got=$(sed -E 's/ \(tcplab --help lists.*//' <<<"$out")
want=$(cat tests/docs/fixtures/bad.expected)
status=0
if [ "$rc" -eq 1 ] && [ "$got" = "$want" ]; then
  echo "ok - the docs check finds every planted mistake in tests/docs/fixtures/bad.md ($(wc -l <<<"$want"))"
else
  echo "not ok - the docs check on tests/docs/fixtures/bad.md (exit $rc); expected vs found:"
  diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
  status=1
fi

python3 "$CHECK" || status=1

# The scripts table of docs/scenarios.md against tests/scenarios/*.pkt, first on a fixture
# with each mistake planted.
ROWS=tests/docs/scenario-rows.py
FIXTURE=tests/docs/fixtures/scenario-rows
got=$(python3 "$ROWS" --root "$FIXTURE"); rc=$?
want=$(cat "$FIXTURE.expected")
if [ "$rc" -eq 1 ] && [ "$got" = "$want" ]; then
  echo "ok - the scenario-rows check finds every planted mistake in $FIXTURE/ ($(wc -l <<<"$want"))"
else
  echo "not ok - the scenario-rows check on $FIXTURE/ (exit $rc); expected vs found:"
  diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
  status=1
fi
python3 "$ROWS" || status=1
exit $status
