#!/usr/bin/env bash
# Runs every tests/integration/test-*.sh, one after the other, each with its own namespace.
# A test file that dies without printing its lines still counts as a failure.
cd "$(dirname "$0")/../.."
status=0
for t in tests/integration/test-*.sh; do
  [ -e "$t" ] || continue
  echo "# $t"
  start=$(date +%s)
  out=$(timeout 300 bash "$t" 2>&1); rc=$?
  echo "$out"
  echo "# $t took $(( $(date +%s) - start )) s"
  if [ $rc -ne 0 ] && ! echo "$out" | grep -q '^not ok - '; then
    echo "not ok - $t exited $rc"
  fi
  [ $rc -ne 0 ] && status=1
done
exit $status
