#!/usr/bin/env bash
# The benchmark harness works (BENCH=quick): it runs in namespaces of its own, prints its table
# and writes bench.json with every row measured, the load generators' CPU beside the rows. It
# asserts nothing about speed: figures on a shared 2-core machine say nothing in a test;
# `sudo make bench` is where they are read.
source "$(dirname "$0")/lib.sh"
require_lab
json=$(mktemp); out=$(mktemp)
trap 'rm -f "$json" "$out"; lab_cleanup' EXIT

BENCH=quick BENCH_JSON="$json" timeout 300 bash "$ROOT/tests/bench/run.sh" >"$out" 2>&1
rc=$?
check "BENCH=quick exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$out" | tail -20
check "the table has a header and at least 20 rows" \
  test "$(grep -c '^row ' "$out")" -eq 1 -a "$(grep -cE ' (MB/s|req/s|us|x|conns|bytes|MiB|ms) ' "$out")" -ge 20

# The SACK group ran its downloads (both ways, every body verified) and the idle row opened all
# it asked for: what the harness must do, whatever the speed.
sed -n '/^# seed\|^# SACK against\|idle: /p; /^# conn_load: /p' "$out"
check "every HTTP row and connect latency print the clients' share of a core" \
  test "$(grep -c '^#   client CPU: [0-9.]* of a core against tcplab, [0-9.]* against nginx$' "$out")" -ge 13
check "the TUN floor counted the requests it answered" \
  grep -qE '^# the TUN floor answered [1-9][0-9]* requests' "$out"
check "no profile without BENCH_PROFILE=1" bash -c "! grep -q '^# profile' '$out'"
check "SACK against no SACK: every seed's two downloads whole and verified" \
  grep -qE '^# SACK against no SACK: ([1-9][0-9]*) of \1 seeds compared' "$out"
python3 - "$json" <<'PY'
import json, sys
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("not ok - bench.json parses (%s)" % e); sys.exit(0)
check("bench.json has commit, machine and rows", all(k in d for k in ("commit", "machine", "rows")))
rows = d.get("rows", [])
keys = ["name", "unit", "tcplab", "reference", "reference_name", "ratio"]
check("every row has exactly the contract's keys", rows and all(list(r) == keys for r in rows))
names = [r["name"] for r in rows]
for want in ("bulk download, MTU 1500", "bulk upload, MTU 1500", "bulk download with offloads, MTU 1500",
             "bulk upload with offloads, MTU 1500", "bulk download with offloads, against the kernel",
             "bulk upload with offloads, against the kernel", "1 KiB from memory, keep-alive, ab -c 10",
             "1 KiB file (--root) against memory, alternating",
             "1 KiB from memory, new connection, ab -c 10", "connect latency p50",
             "connect latency p50, client polling"):
    r = next((r for r in rows if r["name"] == want), None)
    check("row '%s' measured on both sides" % want,
          r is not None and r["tcplab"] > 0 and r["reference"] > 0 and r["ratio"] is not None)
sack = next((r for r in rows if r["name"].endswith("through 2% drop, 5% reorder: bytes retransmitted")), None)
check("SACK row: tcplab with SACK and with --no-sack both resent bytes through the faults",
      sack is not None and sack["tcplab"] > 0 and sack["reference"] > 0 and sack["reference_name"] == "tcplab --no-sack")
# The load generators' CPU beside the rows (their values are CPU time spent, not speed: any
# measured load costs its client some).
client = [r for r in rows if r["name"] == "client CPU per request"]
check("a 'client CPU per request' row for each of the 12 HTTP rows, both clients measured",
      len(client) >= 12 and all(r["tcplab"] > 0 and r["reference"] > 0 for r in client))
server = [r for r in rows if r["name"] == "server CPU per request"]
check("a 'server CPU per request' row for each of the 12 HTTP rows (wrk's too)", len(server) >= 12)
conn = next((r for r in rows if r["name"] == "client CPU per connect"), None)
check("connect latency: the client's CPU per connect measured on both sides",
      conn is not None and conn["tcplab"] > 0 and conn["reference"] > 0)
bulk = [r for r in rows if r["name"] == "CPU during it: the client's, tcplab's"]
check("bulk rows: the client's and tcplab's CPU (cores) measured",
      len(bulk) >= 2 and all(r["tcplab"] > 0 and r["reference"] > 0 for r in bulk))
# The TUN floor answered the loads (a response ab or wrk cannot frame stalls the load, which
# then reports no rate, and the row reads 0), and its CPU was read.
floor = [r for r in rows if r["reference_name"] == "TUN floor (no stack)"]
check("rows against the TUN floor: 6 loads and connect latency, both sides measured",
      len([r for r in floor if r["unit"] == "req/s"]) == 6 and
      any(r["name"] == "connect latency p50, against no stack" for r in floor) and
      all(r["tcplab"] > 0 and r["reference"] > 0 for r in floor))
idle = next((r for r in rows if r["name"].endswith("idle keep-alive connections: served")), None)
check("idle row: every connection asked for was served",
      idle is not None and idle["reference"] > 0 and idle["tcplab"] == idle["reference"])
opened = next((r for r in rows if r["name"] == "time to open them (the slowest client process)"), None)
check("idle row: the time to open them measured", opened is not None and opened["tcplab"] > 0)
# Every load at 1, 10 and 50 clients from --root as well, against nginx serving the same file.
root = [r for r in rows if r["name"].startswith("1 KiB file (--root), ") and r["unit"] == "req/s"]
check("rows from --root: 6 loads, both sides measured",
      len(root) == 6 and all(r["tcplab"] > 0 and r["reference"] > 0 for r in root))
for want in ("1 KiB from memory, keep-alive, ab -c 10, with --pcap",
             "1 KiB from memory, keep-alive, ab -c 10, with --trace-json"):
    r = next((r for r in rows if r["name"] == want), None)
    check("row '%s' measured with and without" % want,
          r is not None and r["tcplab"] > 0 and r["reference"] > 0)
PY
