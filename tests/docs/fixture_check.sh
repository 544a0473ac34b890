# Sourced by the docs checks. fixture_check WHAT WHERE EXPECTED COMMAND...: runs a checker on a
# fixture with mistakes planted in it, so that the checker is seen to fail: it must exit 1 and
# print exactly the lines of the file EXPECTED. Prints ok/not ok; sets status=1 on a miss.
# The subcommand list that ends an unknown-subcommand line grows with the tool, so it is cut.
fixture_check() {
  local what=$1 where=$2 expected=$3 out rc got want
  shift 3
  out=$("$@"); rc=$?
  got=$(sed -E 's/ \(tcplab --help lists.*//' <<<"$out")
  want=$(cat "$expected")
  if [ "$rc" -eq 1 ] && [ "$got" = "$want" ]; then
    echo "ok - the $what check finds every planted mistake in $where ($(wc -l <<<"$want"))"
  else
    echo "not ok - the $what check on $where (exit $rc); expected vs found:"
    diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
    status=1
  fi
}
