#!/usr/bin/env bash
# The deviations check (make test's "deviations listed" suite): every `Deviation (id):` comment
# in stack/, http/, tools/ is listed in docs/rfc-map.md and the other way round
# (tests/docs/deviations.py). First shows that the checker finds each planted mistake in
# tests/docs/fixtures/deviations/ (so it can fail), then checks the repository. ok/not ok lines.
cd "$(dirname "$0")/../.."
CHECK=tests/docs/deviations.py
FIXTURE=tests/docs/fixtures/deviations
source tests/docs/fixture_check.sh
status=0

fixture_check deviations "$FIXTURE/" "$FIXTURE.expected" python3 "$CHECK" --root "$FIXTURE"

python3 "$CHECK" || status=1
exit $status
