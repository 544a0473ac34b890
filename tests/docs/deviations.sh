#!/usr/bin/env bash
# The deviations check (make test's "deviations listed" suite): every `Deviation (id):` comment
# in stack/, http/, tools/ is listed in docs/rfc-map.md and the other way round
# (tests/docs/deviations.py). First shows that the checker finds each planted mistake in
# tests/docs/fixtures/deviations/ (so it can fail), then checks the repository. ok/not ok lines.
cd "$(dirname "$0")/../.."
CHECK=tests/docs/deviations.py
FIXTURE=tests/docs/fixtures/deviations
status=0

got=$(python3 "$CHECK" --root "$FIXTURE"); rc=$?
want=$(cat "$FIXTURE.expected")
if [ "$rc" -eq 1 ] && [ "$got" = "$want" ]; then
  echo "ok - the deviations check finds every planted mistake in $FIXTURE/ ($(wc -l <<<"$want"))"
else
  echo "not ok - the deviations check on $FIXTURE/ (exit $rc); expected vs found:"
  diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
  status=1
fi

python3 "$CHECK" || status=1
exit $status
