#!/usr/bin/env bash
# The docs check (make test's "docs match the code" suite): first shows that the checker
# finds each kind of mistake in tests/docs/fixtures/bad.md (so it can fail), then checks
# README.md and docs/**/*.md against build/tcplab and the repository; then that every
# tests/scenarios/*.pkt has its row in docs/scenarios.md (scenario-rows.py), and that its
# failure examples are real output (failure-examples.py). ok/not ok lines.
cd "$(dirname "$0")/../.."
CHECK=tests/docs/check-docs.py
[ -x build/tcplab ] || { echo "not ok - docs check: build/tcplab not built (run make)"; exit 1; }

source tests/docs/fixture_check.sh
status=0
fixture_check docs tests/docs/fixtures/bad.md tests/docs/fixtures/bad.expected \
  python3 "$CHECK" tests/docs/fixtures/bad.md
python3 "$CHECK" || status=1

# The scripts table of docs/scenarios.md against tests/scenarios/*.pkt, first on a fixture
# with each mistake planted.
ROWS=tests/docs/scenario-rows.py
FIXTURE=tests/docs/fixtures/scenario-rows
fixture_check scenario-rows "$FIXTURE/" "$FIXTURE.expected" python3 "$ROWS" --root "$FIXTURE"
python3 "$ROWS" || status=1

# The failure examples of docs/scenarios.md against what build/scenario-tests prints, first on a
# fixture with each mistake planted (an example without its command, one with a row left out).
if [ -x build/scenario-tests ]; then
  fixture_check failure-examples tests/docs/fixtures/failure-examples.md \
    tests/docs/fixtures/failure-examples.expected python3 tests/docs/failure-examples.py \
    tests/docs/fixtures/failure-examples.md
  python3 tests/docs/failure-examples.py || status=1
else
  echo "not ok - docs/scenarios.md failure examples: build/scenario-tests not built (run make)"
  status=1
fi

# The first script a reader of docs/scenarios.md meets (the first code block) must pass as
# printed: readers paste it.
example=$(mktemp --suffix=.pkt)
awk '/^```/ { if (inside) exit; inside = 1; next } inside' docs/scenarios.md >"$example"
if [ -s "$example" ] && build/tcplab script "$example" >"$example.out" 2>&1; then
  echo "ok - docs/scenarios.md: its first example script passes as printed"
else
  echo "not ok - docs/scenarios.md: its first example script does not pass as printed:"
  sed 's/^/#   /' "$example.out" 2>/dev/null | head -20
  status=1
fi
rm -f "$example" "$example.out"
exit $status
