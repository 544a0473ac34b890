#!/usr/bin/env bash
# The docs check (make test's "docs match the code" suite): first shows that the checker
# finds each kind of mistake in tests/docs/fixtures/bad.md (so it can fail), then checks
# README.md and docs/**/*.md against build/tcplab and the repository. ok/not ok lines.
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
exit $status
