#!/usr/bin/env bash
# Every C++ line fits the .clang-format column limit. A plain length check rather than a
# clang-format run, because clang-format's output differs between versions and the test must
# pass on any machine. Prints one "ok -" or "not ok -" line per source folder.
set -uo pipefail
cd "$(dirname "$0")/../.."
limit=$(sed -nE 's/^ColumnLimit: *([0-9]+).*/\1/p' .clang-format)
[ -n "$limit" ] || { echo "not ok - .clang-format has no ColumnLimit"; exit 1; }
status=0
for dir in stack http tools tests; do
  files=$(find "$dir" \( -name '*.cpp' -o -name '*.hpp' \) | sort)
  [ -n "$files" ] || continue
  # shellcheck disable=SC2086
  long=$(awk -v limit="$limit" 'length($0) > limit { printf "%s:%d (%d columns)\n", FILENAME, FNR, length($0) }' $files)
  if [ -z "$long" ]; then
    echo "ok - $dir/: every line within $limit columns"
  else
    echo "not ok - $dir/: lines over $limit columns (run make format):"
    echo "$long" | head -n 20 | sed 's/^/    /'
    status=1
  fi
done
exit $status
