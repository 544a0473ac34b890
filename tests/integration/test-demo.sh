#!/usr/bin/env bash
# `tcplab demo keepalive` end to end: it makes its own namespaces (one per run, gone with the
# run), so this file needs root but no lab namespace. Checks the JSON contract, that the
# figures show the article's point, and that Ctrl-C leaves nothing behind.
source "$(dirname "$0")/lib.sh"
require_lab

json=$(mktemp); errlog=$(mktemp)
trap 'rm -f "$json" "$errlog"; lab_cleanup' EXIT

timeout 120 "$TCPLAB" demo keepalive --json --assets 2 --keepalive-timeout 0.5 --max-requests 2 \
  --delay 20 >"$json" 2>"$errlog"
rc=$?
check "demo --json exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { sed 's/^/# /' "$errlog"; }
check "demo --json: progress on stderr, one line per run" test "$(grep -c '^demo: ' "$errlog")" -eq 8
check "demo: the progress line of a run on one connection says '1 connection'" \
  bash -c 'grep -q "^demo: http1.1-keepalive .*: 3 requests \.\.\. 1 connection, " "$1" &&
    ! grep -q " 1 connections" "$1"' _ "$errlog"

# Every assertion on the figures in one small Python program; it prints ok/not ok lines itself.
python3 - "$json" <<'PY'
import json, sys
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
try:
    rows = json.load(open(sys.argv[1]))
except Exception as e:
    print("not ok - demo --json: stdout is one JSON document (%s)" % e); sys.exit(0)
keys = ["mode", "delay_ms", "requests", "connections", "handshakes", "segments", "header_bytes",
        "seconds", "time_wait_server", "time_wait_client"]
check("demo --json: 8 rows with exactly the contract's keys", len(rows) == 8 and all(list(r) == keys for r in rows))
by = {(r["mode"], r["delay_ms"]): r for r in rows}
modes = ["http1.0-close", "http1.1-keepalive", "keepalive-idle-timeout", "keepalive-max-requests"]
check("demo: every mode at 0 and 20 ms", all((m, d) in by for m in modes for d in (0, 20)))
if len(by) != 8: sys.exit(0)
for d in (0, 20):
    close, keep = by[("http1.0-close", d)], by[("http1.1-keepalive", d)]
    idle, capped = by[("keepalive-idle-timeout", d)], by[("keepalive-max-requests", d)]
    check("delay %d: HTTP/1.0 opens one connection per request (3 of 3)" % d,
          close["requests"] == 3 and close["connections"] == 3 and close["handshakes"] == 3)
    check("delay %d: keep-alive serves 3 requests on 1 connection" % d,
          keep["requests"] == 3 and keep["connections"] == 1 and keep["handshakes"] == 1)
    check("delay %d: keep-alive sends fewer segments and header bytes" % d,
          keep["segments"] < close["segments"] and keep["header_bytes"] < close["header_bytes"])
    check("delay %d: the server closed first under HTTP/1.0, so the TIME-WAITs are its own" % d,
          close["time_wait_server"] == 3 and close["time_wait_client"] == 0)
    check("delay %d: past the idle timeout the next request needs a new handshake" % d,
          idle["requests"] == 4 and idle["connections"] == 2 and idle["handshakes"] == 2)
    check("delay %d: --max-requests 2 splits 3 requests over 2 connections" % d, capped["connections"] == 2)
close, keep = by[("http1.0-close", 20)], by[("http1.1-keepalive", 20)]
# With a 40 ms round trip, three handshakes cost at least two more round trips than one.
check("delay 20: keep-alive takes less time than one connection per request (%.3f < %.3f s)"
      % (keep["seconds"], close["seconds"]), keep["seconds"] + 0.07 < close["seconds"])
check("delay 20: a request costs at least one emulated round trip", keep["seconds"] >= 3 * 0.040)
PY

out=$(timeout 60 "$TCPLAB" demo keepalive --delay 0 --assets 1 --keepalive-timeout 0.2 2>/dev/null); rc=$?
check "demo table: exit 0, a header and 4 rows without --delay" \
  test "$rc" -eq 0 -a "$(grep -cE '^(http1|keepalive)[^:]* +0 ms ' <<<"$out")" -eq 4 -a "$(grep -c '^mode ' <<<"$out")" -eq 1
check "demo: a ladder of a short run of each mode after the table" bash -c '
  [ "$(grep -c "as the stack saw them$" <<<"$1")" = 4 ] &&
  grep -A3 "^http1.0-close: 2 requests" <<<"$1" | grep -q "^2 connections, " &&
  grep -A3 "^http1.1-keepalive: 2 requests" <<<"$1" | grep -q "^1 connection, "' _ "$out"
# The --max-requests ladder shows the cap at work: two requests on the first connection, then
# its close and a second handshake for the third (not a connection per request, which would
# look like HTTP/1.0's).
capped_first() {
  awk '/^keepalive-max-requests: 3 requests with --max-requests 2/ { on = 1 }
       on && /connection 2:/ { exit } on && /P\. seq=[0-9]+ ack=[0-9]+ len=[1-9][0-9]* .*->\|/ { n++ }
       END { print n + 0 }' <<<"$1"
}
check "demo: the --max-requests ladder carries 2 requests on its first of 2 connections" bash -c '
  grep -A3 "^keepalive-max-requests: 3 requests with --max-requests 2" <<<"$1" | grep -q "^2 connections, " &&
  [ "$2" = 2 ]' _ "$out" "$(capped_first "$out")"
# Piped, stdout and stderr in one stream: each progress line comes right before its own ladder.
both=$(timeout 60 "$TCPLAB" demo keepalive --delay 0 --assets 1 --keepalive-timeout 0.2 2>&1)
# A progress line while the previous mode's ladder is still due is out of order too.
in_order() {
  awk '/^demo: short / { if (mode != "") bad = 1; mode = $3; n++; next }
       mode != "" && NF { if (index($0, mode ": ") != 1) bad = 1; mode = "" }
       END { exit bad || mode != "" || n != 4 }' <<<"$1"
}
check "demo piped with 2>&1: each 'short MODE run' line is followed by MODE's ladder" in_order "$both"
out=$(timeout 60 "$TCPLAB" demo keepalive --delay 0 --assets 1 --keepalive-timeout 0.2 --no-ladders 2>/dev/null)
check "demo --no-ladders: the table only" test "$(grep -c "as the stack saw them" <<<"$out")" -eq 0

"$TCPLAB" demo >/dev/null 2>&1; rc1=$?
"$TCPLAB" demo nosuch >/dev/null 2>&1; rc2=$?
"$TCPLAB" demo keepalive --assets 9 >/dev/null 2>&1; rc3=$?
check "demo usage errors exit 2 (no demo, unknown demo, --assets 9)" test "$rc1$rc2$rc3" = 222

# Ctrl-C in the middle of a run (the idle-timeout pause): exit 130, no process of it left.
"$TCPLAB" demo keepalive --delay 0 --keepalive-timeout 5 >/dev/null 2>&1 &
demo_pid=$!
for _ in $(seq 100); do pgrep -P "$demo_pid" >/dev/null && break; sleep 0.05; done
sleep 1  # inside the first runs; the idle-timeout run pauses 5.5 s
run_pgid=$(pgrep -P "$demo_pid" | head -1)
kill -INT "$demo_pid"
wait "$demo_pid"; rc=$?
left=0
if [ -n "$run_pgid" ]; then
  for _ in $(seq 50); do pgrep -g "$run_pgid" >/dev/null || break; sleep 0.1; done
  pgrep -g "$run_pgid" >/dev/null && left=1
fi
check "Ctrl-C: demo exits 130 and leaves no run behind" test "$rc" -eq 130 -a "$left" -eq 0 -a -n "$run_pgid"
