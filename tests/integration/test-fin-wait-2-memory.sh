#!/usr/bin/env bash
# FIN-WAIT-2 at scale with real kernel clients: conn_load opens HTTP/1.1 connections one at a
# time (one GET each) and then holds every socket without reading or closing it, 10,000 and
# then 10,000 more. The server closes each one first: its FIN is acknowledged by the client's
# kernel, the client never sends its own, so all 20,000 wait in FIN-WAIT-2 on tcplab's side
# (--fin-timeout 600 keeps them there). Two cases, each on a fresh server:
#   idle:  keep-alive connections closed by --keepalive-timeout (50 ms); the server lets go;
#   close: --keepalive off, so every response says Connection: close and the FIN follows it
#          (the HTTP/1.0 path); the server lets go too, asking TCP to linger on late bytes.
# In both, /stats must show every one held as a compact record and no full TCB left but the
# /stats request's own, and every request served.
# Printed, not asserted (RSS depends on the allocator and the machine, CPU time on the load of
# a shared machine): tcplab's RSS (VmRSS) growth per FIN-WAIT-2 connection, and the server's
# CPU time per request for 2,000 requests with none and with all 20,000 waiting.
# FIN_WAIT_2_TCPLAB=PATH measures another build the same way and prints figures only;
# FIN_WAIT_2_CASES="idle close" picks the cases (both by default).
source "$(dirname "$0")/lib.sh"
require_lab

TCPLAB=${FIN_WAIT_2_TCPLAB:-$ROOT/build/tcplab}
figures_only=${FIN_WAIT_2_TCPLAB:+yes}
CONN_LOAD=$ROOT/build/clients/conn_load
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
[ -x "$CONN_LOAD" ] || { not_ok "$(basename "$0"): $CONN_LOAD not built (run make)"; exit 1; }
command -v ab >/dev/null || { not_ok "$(basename "$0"): ab missing (apache2-utils; run tests/setup.sh)"; exit 1; }
HOST=192.0.2.2
URL=http://$HOST
COUNT=20000
PROBE=2000  # requests timed with and without the FIN-WAIT-2 connections

STATS=
READS=0  # /stats requests made: each one is a request served too
read_stats() {
  STATS=$(lab_exec timeout 20 curl -sS --max-time 10 "$URL/stats")
  READS=$((READS + 1))
}
stat_of() {  # stat_of KEY: one number from the last read_stats (empty if the build has no such key)
  grep -oE "\"$1\": [0-9]+" <<<"$STATS" | head -1 | grep -oE '[0-9]+$'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# probe_cpu: the server's CPU time per request over $PROBE HTTP/1.0 requests (ab -c 10).
probe_cpu() {
  local ticks; ticks=$(cpu_ticks)
  lab_exec timeout 120 ab -q -s 20 -n "$PROBE" -c 10 "$URL/" >/dev/null 2>&1
  echo $((($(cpu_ticks) - ticks) * TICK_US / PROBE))
}
# closed_by: the server's closes.$CLOSE_KEY count (the key after "closes": timeout, server).
closed_by() { grep -oE '"closes": \{[^}]*\}' <<<"$STATS" | grep -oE "\"$CLOSE_KEY\": [0-9]+" | grep -oE '[0-9]+$'; }

# measure CASE CLOSE_KEY SERVER_FLAGS...: one case, on a fresh server.
measure() {
  CASE=$1 CLOSE_KEY=$2
  shift 2
  READS=0
  HOLD_PIDS=()
  start_server --http-port 80 "$@" --fin-timeout 600 --max-connections 40000 ||
    { not_ok "$CASE: server starts"; return 1; }
  lab_exec sysctl -qw net.ipv4.ip_local_port_range="1024 65535"

  # Warm-up: the same pattern at a small scale, so what the server keeps for good (outbox,
  # tables, sessions) is in the baseline; its connections end when the client exits.
  lab_exec bash -c "exec timeout 60 '$CONN_LOAD' --host $HOST --port 80 --mode hold --count 2000 --batch 1 \
    --seconds 2" >/dev/null 2>&1
  cpu_none=$(probe_cpu)
  read_stats
  served_before=$(stat_of requests_served)
  reads_before=$READS
  timeouts_before=$(closed_by)
  rss_before=$(rss_kb)

  # hold COUNT LOG: conn_load opens COUNT connections, one opening at a time, one GET
  # each, and holds them (no read, no close) for at most 120 s, in the background.
  HOLD_PIDS=()
  hold() {
    ip netns exec "$LAB_NAME" bash -c "ulimit -n 20000; exec timeout 120 '$CONN_LOAD' --host $HOST --port 80 --mode hold \
      --count $1 --batch 1 --seconds 110" >"$2" 2>&1 &
    HOLD_PIDS+=($!)
  }
  # settle LOG CLOSES: waits for conn_load's ready line, for the server to have closed CLOSES
  # connections ($CLOSE_KEY) in all, and for the ACKs of those FINs (a FIN lost on the
  # way is resent after the RTO): until there are as many FIN-WAIT-2 records as connections
  # this test has had closed, or 1 s for a build without the key.
  all_closed() { read_stats; [ "$(closed_by)" -ge "$1" ]; }
  all_held() { read_stats; [ "$(stat_of fin_wait_2_records)" -ge "$1" ]; }
  settle() {
    wait_for 90 grep -q '^ready' "$1"
    wait_for 60 all_closed "$2"
    if [ -z "$figures_only" ]; then wait_for 30 all_held $(($2 - timeouts_before)); else sleep 1; fi
    read_stats
  }

  HALF=$((COUNT / 2))
  LOG_A=$(mktemp)
  LOG_B=$(mktemp)
  hold "$HALF" "$LOG_A"
  settle "$LOG_A" $((timeouts_before + HALF))
  rss_half=$(rss_kb)
  hold "$HALF" "$LOG_B"
  settle "$LOG_B" $((timeouts_before + COUNT))
  rss_after=$(rss_kb)
  ready_a=$(grep '^ready' "$LOG_A")
  ready_b=$(grep '^ready' "$LOG_B")
  echo "# conn_load ($CASE, first half): ${ready_a:-no ready line}"
  echo "# conn_load ($CASE, second half): ${ready_b:-no ready line}"
  # The /stats request being answered is not counted in its own figures yet; every earlier one is.
  served=$(($(stat_of requests_served) - served_before - (READS - reads_before)))
  timed_out=$(($(closed_by) - timeouts_before))
  # With --keepalive off every /stats request is closed by the server after its response too.
  [ "$CLOSE_KEY" = server ] && timed_out=$((timed_out - (READS - reads_before)))
  records=$(stat_of fin_wait_2_records)
  tcbs=$(stat_of full_tcbs)
  current=$(stat_of current_connections)
  sessions=$(stat_of http_connections_open)
  resent=$(stat_of retransmissions)
  cpu_held=$(probe_cpu)
  read_stats
  records_after_probe=$(stat_of fin_wait_2_records)

  # The second half's growth is the marginal cost: whatever the first half's opening left
  # behind in the allocator (freed TCBs, sessions, buffers) is reused by the second.
  per_conn=$(((rss_after - rss_half) * 1024 / HALF))
  per_conn_all=$(((rss_after - rss_before) * 1024 / COUNT))
  echo "# measured ($CASE): $TCPLAB"
  echo "# measured ($CASE): VmRSS $rss_before kB -> $rss_half kB -> $rss_after kB with 0, $HALF, $COUNT connections in" \
    "FIN-WAIT-2: $per_conn bytes per FIN-WAIT-2 connection for the second $HALF ($per_conn_all over all $COUNT)"
  echo "# measured ($CASE): fin_wait_2_records ${records:-n/a}, full_tcbs ${tcbs:-n/a}, current_connections ${current:-n/a}," \
    "http_connections_open ${sessions:-n/a}, retransmissions ${resent:-n/a}"
  echo "# measured ($CASE): server CPU per request: $cpu_none us with none waiting, $cpu_held us with $COUNT in FIN-WAIT-2"

  for pid in "${HOLD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${HOLD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -f "$LOG_A" "$LOG_B"

  for half in "$ready_a" "$ready_b"; do
    check "$CASE: conn_load: $HALF connections served, 0 failed [$half]" grep -q "served=$HALF failed=0" <<<"$half"
  done
  check "$CASE: server: $COUNT requests served, $COUNT closed ($CLOSE_KEY) [got $served, $timed_out]" \
    test "$served" = "$COUNT" -a "$timed_out" = "$COUNT"
  if [ -z "$figures_only" ]; then
    check "$CASE: /stats: every one of them is a compact FIN-WAIT-2 record [got $records of $COUNT]" \
      test "$records" = "$COUNT"
    check "$CASE: /stats: no full TCB left but the /stats request's own [got $tcbs]" test "$tcbs" = 1
    check "$CASE: /stats: the server let go of them: no session but the /stats request's own [got $sessions]" \
      test "$sessions" = 1
    check "$CASE: /stats: they still count as current connections [got $current]" test "$current" = "$COUNT"
    check "$CASE: still all FIN-WAIT-2 records after $PROBE more requests [got $records_after_probe]" \
      test "$records_after_probe" = "$COUNT"
  fi
  stop_server
  check "$CASE: server exits cleanly" test $? = 0
  # A fresh namespace for the next case: the 20,000 client sockets conn_load left would keep
  # resending their FINs to the next server (and hold their ports), which doubled the next
  # case's CPU per request and made its conn_load 30 times slower in a trial run.
  lab_cleanup
}

for c in ${FIN_WAIT_2_CASES:-idle close}; do
  case $c in
    # Not 1 ms: the same timeout bounds the wait for the ACK of a response (a client that takes
    # none of it is reset), and a kernel client's ACK can take a few ms under load (seen: 1-4 ms,
    # and one connection in 20,000 reset). Short still, so few sessions are alive at once.
    idle) measure idle timeout --keepalive-timeout 0.05 ;;
    close) measure close server --keepalive off ;;
    *) not_ok "FIN_WAIT_2_CASES: unknown case $c" ;;
  esac
done
