#!/usr/bin/env bash
# ApacheBench against the HTTP server: 2000 requests with 10 concurrent clients,
# connection-per-request (ab) and keep-alive (ab -k), zero failures each; /stats counts the
# connections each run used (2000 and <= 10). Also prints requests/s at -c 1 and -c 10, and
# checks that --busy-poll spins by default on two or more CPUs and not with --busy-poll 0.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
command -v ab >/dev/null || { not_ok "$(basename "$0"): ab missing (apache2-utils; run tests/setup.sh)"; exit 1; }
URL=http://192.0.2.2

# connections_used: accepted connections that carried a request (ab opens a few spare
# connections at the end of a run and closes them unused; those are not "used").
used() {
  lab_exec timeout 20 curl -sS --max-time 10 "$URL/stats" | grep -oE '"connections_used": [0-9]+' | grep -oE '[0-9]+$'
}
# run_ab NAME ARGS...: sets AB_OUT, AB_FAILED, AB_COMPLETE, AB_RPS, AB_CONNS (from /stats).
run_ab() {
  local name=$1; shift
  local before after
  before=$(used)
  AB_OUT=$(lab_exec timeout 120 ab -q -s 20 "$@" "$URL/" 2>&1)
  after=$(used)
  AB_FAILED=$(sed -nE 's/^Failed requests: *([0-9]+).*/\1/p' <<<"$AB_OUT")
  AB_COMPLETE=$(sed -nE 's/^Complete requests: *([0-9]+).*/\1/p' <<<"$AB_OUT")
  AB_RPS=$(sed -nE 's/^Requests per second: *([0-9.]+).*/\1/p' <<<"$AB_OUT")
  # Subtract the /stats request of the "before" reading.
  AB_CONNS=$((after - before - 1))
  echo "# measured: $name: ${AB_RPS:-?} requests/s, $AB_CONNS connections, ${AB_FAILED:-?} failed"
  [ -n "$AB_COMPLETE" ] || echo "$AB_OUT" | tail -n 15 | sed 's/^/# ab: /'
}

# --max-requests 5000: with the default 100, 2000 keep-alive requests need at least 20
# connections; the goal is at most 10.
start_server --http-port 80 --msl 1 --max-requests 5000 || { not_ok "server starts"; exit 1; }

run_ab "ab -n 2000 -c 10" -n 2000 -c 10
check "ab -n 2000 -c 10: 2000 complete, 0 failed" test "$AB_COMPLETE" = 2000 -a "$AB_FAILED" = 0
check "ab -n 2000 -c 10: /stats shows 2000 connections used [got $AB_CONNS]" test "$AB_CONNS" = 2000

run_ab "ab -k -n 2000 -c 10" -k -n 2000 -c 10
check "ab -k -n 2000 -c 10: 2000 complete, 0 failed" test "$AB_COMPLETE" = 2000 -a "$AB_FAILED" = 0
check "ab -k -n 2000 -c 10: /stats shows <= 10 connections used [got $AB_CONNS]" test "$AB_CONNS" -le 10 -a "$AB_CONNS" -ge 1
check "ab -k: every request was answered keep-alive" grep -q "^Keep-Alive requests: *2000" <<<"$AB_OUT"

# Figures to read, not to assert (informational: the checks are failures only).
run_ab "ab -n 2000 -c 1" -n 2000 -c 1
check "ab -n 2000 -c 1: 0 failed, 2000 connections [got $AB_CONNS]" test "$AB_FAILED" = 0 -a "$AB_COMPLETE" = 2000 -a "$AB_CONNS" = 2000
run_ab "ab -k -n 2000 -c 1" -k -n 2000 -c 1
check "ab -k -n 2000 -c 1: 0 failed, one connection [got $AB_CONNS]" test "$AB_FAILED" = 0 -a "$AB_CONNS" = 1

code=$(lab_exec timeout 20 curl -sS -o /dev/null -w '%{http_code}' "$URL/")
check "the server still serves after the benchmarks [got $code]" test "$code" = 200
# --busy-poll (default 50 us on two or more CPUs): one client sends its next packet within
# microseconds of our answer, so some wake-ups must have found packets by spinning; with
# --busy-poll 0 the summary has no such line.
cpus=$(nproc)
stop_server
check "server exits cleanly" test $? = 0
spin_line=$(grep -E '^tcplab: wake-ups [0-9]+, of them [0-9]+ found packets by busy polling' "$SERVER_LOG")
if [ "$cpus" -ge 2 ]; then
  check "default --busy-poll on $cpus CPUs: the summary counts packets found by spinning [$spin_line]" \
    test -n "$spin_line"
else
  check "default --busy-poll on 1 CPU is 0: no spinning line [$spin_line]" test -z "$spin_line"
fi
rm -f "$SERVER_LOG"
start_server --http-port 80 --busy-poll 0 || { not_ok "server starts with --busy-poll 0"; exit 1; }
run_ab "ab -k -n 500 -c 1, --busy-poll 0" -k -n 500 -c 1
check "--busy-poll 0: 500 complete, 0 failed" test "$AB_COMPLETE" = 500 -a "$AB_FAILED" = 0
stop_server
check "--busy-poll 0: no packet found by spinning" bash -c "! grep -q 'found packets by busy polling' '$SERVER_LOG'"
bad=$("$TCPLAB" serve --busy-poll 2000000 2>&1); rc=$?
check "--busy-poll 2000000: usage error, exit 2 [rc $rc: $bad]" test "$rc" = 2
