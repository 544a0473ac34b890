#!/usr/bin/env bash
# TIME-WAIT at scale with real kernel clients: 20,000 HTTP/1.0 requests (ab -c 10, four runs
# of 5,000), each connection closed by the server first and so left in TIME-WAIT on tcplab's
# side for 2 MSL = 120 s (--msl 60). While they all wait: /stats shows them held as compact
# records with no full TCB left over. tcplab's RSS (VmRSS) growth per connection in
# TIME-WAIT is printed (a record is 168 bytes, plus its table entries, about 250 bytes of RSS
# measured; the full connection used to cost about 1.5 KB): memory and speed targets live in
# `make bench`, not in assertions here, since RSS depends on the allocator and the machine.
# Requests/s and the server's CPU time per request of each 5,000 are printed too:
# per-request cost must not grow with the connections waiting (figures to read).
# TIME_WAIT_TCPLAB=PATH measures another build the same way and prints figures only.
source "$(dirname "$0")/lib.sh"
require_lab

TCPLAB=${TIME_WAIT_TCPLAB:-$ROOT/build/tcplab}
figures_only=${TIME_WAIT_TCPLAB:+yes}
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
command -v ab >/dev/null || { not_ok "$(basename "$0"): ab missing (apache2-utils; run tests/setup.sh)"; exit 1; }
URL=http://192.0.2.2
RUNS=4
PER_RUN=5000

STATS=
read_stats() { STATS=$(lab_exec timeout 20 curl -sS --max-time 10 "$URL/stats"); }
stat_of() {  # stat_of KEY: one number from the last read_stats (empty if the build has no such key)
  grep -oE "\"$1\": [0-9]+" <<<"$STATS" | grep -oE '[0-9]+$'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
# The server's user + system CPU time in clock ticks (fields 14 and 15 of /proc/PID/stat; the
# command name in field 2 has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

start_server --http-port 80 --msl 60 || { not_ok "server starts"; exit 1; }
# Linux's connect() takes even ports only: with the default range (32768-60999) ab would reuse
# ports of connections still in TIME-WAIT here after some 14,000 connections. The namespace's
# own range is widened (this sysctl is per network namespace).
lab_exec sysctl -qw net.ipv4.ip_local_port_range="1024 65535"

# Warm-up, so buffers the server keeps for good (outbox, sessions) are in the baseline.
lab_exec timeout 60 ab -q -s 20 -n 1000 -c 10 "$URL/" >/dev/null 2>&1
read_stats
tw_before=$(stat_of connections_time_wait)
rss_before=$(rss_kb)

failed_total=0
complete_total=0
rates=()
cpu_us=()
for run in $(seq "$RUNS"); do
  ticks=$(cpu_ticks)
  out=$(lab_exec timeout 120 ab -q -s 20 -n "$PER_RUN" -c 10 "$URL/" 2>&1)
  cpu_us+=($((($(cpu_ticks) - ticks) * TICK_US / PER_RUN)))
  complete=$(sed -nE 's/^Complete requests: *([0-9]+).*/\1/p' <<<"$out")
  failed=$(sed -nE 's/^Failed requests: *([0-9]+).*/\1/p' <<<"$out")
  rate=$(sed -nE 's/^Requests per second: *([0-9.]+).*/\1/p' <<<"$out")
  [ -n "$complete" ] || echo "$out" | tail -n 15 | sed 's/^/# ab: /'
  complete_total=$((complete_total + ${complete:-0}))
  failed_total=$((failed_total + ${failed:-1}))
  rates+=("${rate:-0}")
  echo "# measured: requests $(((run - 1) * PER_RUN + 1))-$((run * PER_RUN)): ${rate:-?} requests/s," \
    "server CPU ${cpu_us[-1]} us per request"
done

read_stats
rss_after=$(rss_kb)
tw_after=$(stat_of connections_time_wait)
records=$(stat_of time_wait_records)
tcbs=$(stat_of full_tcbs)
held=$((tw_after - tw_before))
per_conn=$(((rss_after - rss_before) * 1024 / (held > 0 ? held : 1)))
echo "# measured: $TCPLAB"
echo "# measured: VmRSS $rss_before kB -> $rss_after kB with $tw_before -> $tw_after connections in TIME-WAIT:" \
  "$per_conn bytes per TIME-WAIT connection"
echo "# measured: time_wait_records ${records:-n/a}, full_tcbs ${tcbs:-n/a}"
echo "# measured: first $PER_RUN ${rates[0]} requests/s (${cpu_us[0]} us CPU each)," \
  "last $PER_RUN ${rates[$((RUNS - 1))]} requests/s (${cpu_us[-1]} us CPU each)"

if [ -n "$figures_only" ]; then
  check "ab: $((RUNS * PER_RUN)) requests complete, 0 failed" \
    test "$complete_total" = $((RUNS * PER_RUN)) -a "$failed_total" = 0
  exit 0
fi
check "ab: $((RUNS * PER_RUN)) requests complete, 0 failed [got $complete_total, $failed_total failed]" \
  test "$complete_total" = $((RUNS * PER_RUN)) -a "$failed_total" = 0
# A client may reuse a port whose 4-tuple waits here (a new SYN above RCV.NXT reopens it), so
# a few connections fewer than requests may be left in TIME-WAIT.
check "thousands of connections wait in TIME-WAIT [got $held of $((RUNS * PER_RUN))]" \
  test "$held" -ge $((RUNS * PER_RUN / 4))
check "/stats: every TIME-WAIT connection is a compact record [$records of $tw_after]" test "$records" = "$tw_after"
check "/stats: no full TCB is left over beyond the 10 clients [got $tcbs]" test "$tcbs" -le 10
stop_server
check "server exits cleanly" test $? = 0
