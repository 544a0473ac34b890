#!/usr/bin/env bash
# How tcplab's HTTP server closes, with real clients in a lab namespace: after an idle
# timeout a plain FIN, so the server goes FIN-WAIT-2 -> TIME-WAIT and no RST ever crosses the
# wire (checked with tshark on the --pcap capture); the lingering close (Connection: close
# while the client keeps sending) still ends in RST after --linger; /stats current_connections
# leaves out the connection asking. Takes about 20 s (one 10 s wait, as in the README).
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
RAW=$BUILD_DIR/clients/http_raw
for b in "$TCPLAB" "$RAW"; do
  [ -x "$b" ] || { not_ok "$(basename "$0"): $b not built (run make)"; exit 1; }
done
URL=http://192.0.2.2
PCAP=$(mktemp --suffix=.pcap)
trap 'lab_cleanup; rm -f "$PCAP" "$PCAP.linger"' EXIT

curl_ns() { lab_exec timeout 60 curl -sS --max-time 50 "$@"; }
# stat NAME: one counter from /stats (first match, so top-level names come first).
stat() { curl_ns "$URL/stats" | grep -oE "\"$1\": [0-9]+" | head -1 | grep -oE '[0-9]+$'; }
raw() {
  local err; err=$(mktemp)
  RAW_OUT=$(lab_exec timeout 60 "$RAW" "$@" 2>"$err" | tr -d '\0')
  RAW_RESULT=$(grep '^result:' "$err" | tail -1)
  rm -f "$err"
}
result_field() { sed -nE "s/.*$1=([^ ]+).*/\1/p" <<<"$RAW_RESULT"; }

help=$("$TCPLAB" serve --help 2>&1)
# default_of FLAG: the "(default: X)" that ends FLAG's help text.
default_of() { tr -s ' \n' ' ' <<<"$help" | grep -oE -- "$1 SECONDS.*" | grep -oE '\(default: [^)]*\)' | head -1; }
check "--help shows --fin-timeout with its default of 60 s [$(default_of --fin-timeout)]" \
  test "$(default_of --fin-timeout)" = "(default: 60)"
check "--help shows --linger with its default of 2 s [$(default_of --linger)]" \
  test "$(default_of --linger)" = "(default: 2)"

start_server --http-port 80 --trace --pcap "$PCAP" || { not_ok "server starts"; exit 1; }

# ---------------------------------------------------------------- idle timeout: FIN, TIME-WAIT
# Two requests 10 s apart, past the default 5 s idle timeout (README, "Seeing what keep-alive
# saves"). At 5 s the server closes the first connection with FIN; curl's kernel acknowledges it
# (server: FIN-WAIT-2) and sends its own FIN when curl finds the connection dead at 10 s
# (server: TIME-WAIT, for 2 x the default 30 s MSL).
ports=$(curl_ns -o /dev/null -o /dev/null -w '%{local_port}\n' --rate 6/m "$URL/" "$URL/")
first=$(head -1 <<<"$ports")
check "curl --rate 6/m: two connections for two requests 10 s apart (ports: $(tr '\n' ' ' <<<"$ports"))" \
  test "$(sort -u <<<"$ports" | grep -c .)" = 2
entry=$(curl_ns "$URL/tcp" | grep -oE '\{[^{}]*\}' | grep "\"192.0.2.1:$first\"")
echo "# /tcp: $entry"
check "/tcp: the server holds TIME-WAIT for the idle-timed-out connection (port $first)" \
  grep -q '"state": "TIME-WAIT"' <<<"$entry"
check "/tcp: that TIME-WAIT connection holds no buffer memory" grep -q '"buffer_bytes": 0}' <<<"$entry"
check "the client (port $first) holds no TIME-WAIT: it closed second" \
  bash -c '! ip netns exec "$1" ss -tan state time-wait | grep -q ":$2 "' _ "$LAB_NAME" "$first"
check "trace: the idle close was a plain FIN left to TCP" grep -q "FIN: nothing unanswered" "$SERVER_LOG"
check "trace: FIN-WAIT-2 -> TIME-WAIT for port $first" \
  grep -qE "192.0.2.1:$first FIN-WAIT-2 -> TIME-WAIT" "$SERVER_LOG"
check "trace: no lingering close, no RST decision" bash -c '! grep -qE "lingering close|sending RST" "$1"' _ "$SERVER_LOG"
check "/stats: no lingering abort [$(stat lingering_aborts)]" test "$(stat lingering_aborts)" = 0

# ---------------------------------------------------------------- current_connections
raw_bg_pid=
lab_exec timeout 10 "$RAW" --send 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' --responses 1 --sleep 2000 \
  >/dev/null 2>&1 &
raw_bg_pid=$!
sleep 0.5
stats=$(curl_ns "$URL/stats")
cur=$(grep -oE '"current_connections": [0-9]+' <<<"$stats" | grep -oE '[0-9]+$')
all=$(grep -oE '"current_connections_including_this": [0-9]+' <<<"$stats" | grep -oE '[0-9]+$')
check "/stats with one other idle keep-alive connection: current_connections 1 [got $cur]" test "$cur" = 1
check "/stats: current_connections_including_this 2 [got $all]" test "$all" = 2
wait "$raw_bg_pid"

# ---------------------------------------------------------------- lingering close: RST
# Connection: close, then the client keeps sending (a request we will never answer) and keeps
# its side open: the server reads and discards for --linger 1, then resets. (The client saw
# our FIN already, so its read() says end of stream; the RST shows in the server's counters
# and on the wire.)
stop_server
start_server --http-port 80 --trace --linger 1 --pcap "$PCAP.linger" || { not_ok "server restarts"; exit 1; }
raw --send 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' --responses 1 --sleep 300 \
  --send 'GET /never HTTP/1.1\r\n' --sleep 300 --send 'Host: x\r\n' --sleep 1500
check "lingering close: the client got its response first ($RAW_RESULT)" test "$(result_field responses)" = 1
check "trace: the lingering close says why" grep -q "request bytes arrived after our FIN" "$SERVER_LOG"
check "trace: the lingering close ends in RST" grep -q "lingering close over" "$SERVER_LOG"
check "/stats: lingering_closes 1, lingering_aborts 1" \
  test "$(stat lingering_closes) $(stat lingering_aborts)" = "1 1"

# ---------------------------------------------------------------- keep-alive off
stop_server
start_server --http-port 80 --keepalive off || { not_ok "server restarts with --keepalive off"; exit 1; }
curl_ns -o /dev/null "$URL/"
stats=$(curl_ns "$URL/stats")
cur=$(grep -oE '"current_connections": [0-9]+' <<<"$stats" | grep -oE '[0-9]+$')
all=$(grep -oE '"current_connections_including_this": [0-9]+' <<<"$stats" | grep -oE '[0-9]+$')
check "--keepalive off: current_connections 0 right after a response [got $cur]" test "$cur" = 0
check "--keepalive off: current_connections_including_this 1 [got $all]" test "$all" = 1
stop_server
check "server exits cleanly on SIGTERM" test $? = 0

# ---------------------------------------------------------------- SIGTERM with a client idle
# An idle keep-alive connection gets a FIN at shutdown, and the server stays until the client's
# own FIN is acknowledged (bounded by a second): the client (a shell reading until the
# server's FIN, then closing) must not be left in LAST-ACK with its FIN unanswered.
start_server --http-port 80 --trace || { not_ok "server restarts with --trace"; exit 1; }
lab_exec bash -c 'exec 3<>/dev/tcp/192.0.2.2/80
  printf "GET / HTTP/1.1\r\nHost: a\r\n\r\n" >&3
  timeout 20 cat <&3 >/dev/null; exec 3<&-' &
holder=$!
for _ in $(seq 50); do grep -q 'HTTP GET / HTTP/1.1 -> 200' "$SERVER_LOG" && break; sleep 0.1; done
stop_server
rc=$?
wait "$holder"
after=$(sed -n '/^tcplab: stopping/,$p' "$SERVER_LOG")
check "SIGTERM with an idle client: exit 0 [$rc]" test "$rc" = 0
check "SIGTERM with an idle client: its FIN is acknowledged before exit (TIME-WAIT)" \
  grep -qE -- '-> TIME-WAIT' <<<"$after"

# ---------------------------------------------------------------- --max-time-wait
# HTTP/1.0 with no keep-alive: the server closes first, so each request leaves one TIME-WAIT
# with it. At --max-time-wait 20 the 60 requests leave 20, and the 40 oldest ended early.
start_server --http-port 80 --max-time-wait 20 || { not_ok "server restarts with --max-time-wait 20"; exit 1; }
lab_exec timeout 60 ab -q -n 60 http://192.0.2.2/ >/dev/null 2>&1
tw_stats=$(curl_ns "$URL/stats")
tw_field() { grep -oE "\"$1\": [0-9]+" <<<"$tw_stats" | head -1 | grep -oE '[0-9]+$'; }
# The /stats request itself closes after its answer too (curl's connection: the client closes
# first on HTTP/1.1, so it leaves no TIME-WAIT here).
check "--max-time-wait 20: 20 TIME-WAIT records held [$(tw_field time_wait_records)]" \
  test "$(tw_field time_wait_records)" = 20
check "--max-time-wait 20: the 40 oldest ended early, counted [$(tw_field time_wait_evicted)]" \
  test "$(tw_field time_wait_evicted)" = 40
stop_server

# ---------------------------------------------------------------- the wire: no RST at all
if command -v tshark >/dev/null; then
  packets=$(tshark -r "$PCAP" 2>/dev/null | wc -l)
  rsts=$(tshark -r "$PCAP" -Y 'tcp.flags.reset==1' 2>/dev/null | wc -l)
  fins=$(tshark -r "$PCAP" -Y "tcp.flags.fin==1 && tcp.port==$first" 2>/dev/null | wc -l)
  check "pcap: tshark reads the idle-timeout run ($packets packets)" test "$packets" -gt 10
  check "pcap: both FINs of the idle-timed-out connection are on the wire ($fins)" test "$fins" = 2
  check "pcap: no RST on the wire during the idle-timeout run ($rsts)" test "$rsts" = 0
  rsts=$(tshark -r "$PCAP.linger" -Y 'tcp.flags.reset==1 && ip.src==192.0.2.2' 2>/dev/null | wc -l)
  check "pcap: the lingering close's RST is on the wire, the same filter finds it ($rsts)" test "$rsts" = 1
  # From the server's FIN to its RST: 0.3 s until the late bytes, then --linger 1.
  first_at() { tshark -r "$PCAP.linger" -Y "ip.src==192.0.2.2 && $1" -T fields -e frame.time_relative \
    2>/dev/null | head -1; }
  gap=$(awk -v f="$(first_at tcp.flags.fin==1)" -v r="$(first_at tcp.flags.reset==1)" \
    'BEGIN { printf "%.3f", r - f }')
  check "pcap: RST ${gap}s after the FIN (0.3 s + --linger 1)" awk -v x="$gap" 'BEGIN { exit !(x >= 1.2 && x <= 1.6) }'
else
  echo "SKIPPED - pcap checks: tshark not installed (tests/setup.sh installs it)"
fi
