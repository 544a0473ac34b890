#!/usr/bin/env bash
# SYN cookies (RFC 4987 §3.6) against a real kernel client and a spoofed flood. With a SYN
# queue of 16 (--syn-backlog) and an accept queue large enough not to matter (--backlog), 1,000
# simultaneous connects (conn_load --mode burst) are all served and none refused, and the
# status report shows cookies were sent and validated; then 10,000 spoofed SYNs from
# 198.18.0.0/15 (tests/clients/syn_flood through an AF_PACKET socket on the TUN) do not stop a
# curl loop from succeeding. Then, with --syn-cookies always, a kernel client (whose SYN
# carries timestamps) gets window scale, SACK-permitted and timestamps back through the cookie
# (trace and a tshark look at the capture) and downloads 8,000,000 bytes byte-exact through a
# window above 65535. No speed is asserted: tests/bench/run.sh measures that.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
LOAD=$BUILD_DIR/clients/conn_load
FLOOD=$BUILD_DIR/clients/syn_flood
for b in "$TCPLAB" "$LOAD" "$FLOOD"; do
  [ -x "$b" ] || { not_ok "$(basename "$0"): $b not built (run make)"; exit 1; }
done
command -v curl >/dev/null || { not_ok "$(basename "$0"): curl missing (tests/setup.sh installs it)"; exit 1; }
ADDR=192.0.2.2
FLOOD_PID=
WORK=$(mktemp -d)
cookies_cleanup() {
  [ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null && wait "$FLOOD_PID" 2>/dev/null
  rm -rf "$WORK"
  lab_cleanup
}
trap cookies_cleanup EXIT

# status_line PATTERN: asks the server for its status (SIGUSR1) and prints the newest line
# matching PATTERN from its log.
status_line() {
  local before; before=$(grep -c '^tcplab: tcp segments in' "$SERVER_LOG")
  kill -USR1 "$SERVER_PID"
  wait_for 5 bash -c "[ \$(grep -c '^tcplab: tcp segments in' '$SERVER_LOG') -gt $before ]"
  grep "$1" "$SERVER_LOG" | tail -1
}
count_after() { sed -nE "s/.*$1 ([0-9]+).*/\1/p" <<<"$2"; }

start_server --http-port 80 --syn-backlog 16 --backlog 65535 || { not_ok "server starts"; exit 1; }

# ------------------------------------------------------------------ a burst of 1,000 connects
out=$(lab_exec bash -c "ulimit -n 4096; exec timeout 120 '$LOAD' --host $ADDR --port 80 --mode burst \
  --count 1000 --timeout 60")
echo "# conn_load: $out"
check "burst of 1,000 connects into a SYN queue of 16: all served" grep -q "served=1000 " <<<"$out"
check "burst of 1,000 connects: none refused" grep -q "refused=0 " <<<"$out"
line=$(status_line '^tcplab: syn cookies')
echo "# ${line:-no syn cookie line}"
sent=$(count_after "sent" "$line"); validated=$(count_after "validated" "$line")
check "the overflow was answered with SYN cookies (sent > 0)" test "${sent:-0}" -gt 0
check "connections were made from SYN cookies (validated > 0)" test "${validated:-0}" -gt 0

# ------------------------------------------------------------------ 10,000 spoofed SYNs
ip netns exec "$LAB_NAME" timeout 60 "$FLOOD" --dst $ADDR --port 80 --count 10000 --rate 4000 --seconds 30 \
  >"$WORK/flood.out" 2>&1 &
FLOOD_PID=$!
ok_count=0; tries=0
while kill -0 "$FLOOD_PID" 2>/dev/null && [ $tries -lt 200 ]; do
  tries=$((tries + 1))
  lab_exec timeout 10 curl -sf -o /dev/null --max-time 5 "http://$ADDR/" && ok_count=$((ok_count + 1))
done
wait "$FLOOD_PID"; flood_rc=$?; FLOOD_PID=
echo "# syn_flood: $(cat "$WORK/flood.out"); curl: $ok_count of $tries succeeded during the flood"
sent=$(sed -nE 's/^sent ([0-9]+).*/\1/p' "$WORK/flood.out")
check "syn_flood sent its 10,000 SYNs [sent ${sent:-none}]" test "$flood_rc" -eq 0 -a "${sent:-0}" -eq 10000
check "curl ran during the flood" test "$tries" -ge 3
check "every curl during the flood succeeded" test "$ok_count" -eq "$tries"
line=$(status_line '^tcplab: syn cookies')
echo "# $line"
check "the flood was answered with SYN cookies (sent > 5000)" test "$(count_after sent "$line" | grep . || echo 0)" -gt 5000
check "a request after the flood succeeds" lab_exec timeout 10 curl -sf -o /dev/null --max-time 5 "http://$ADDR/"
check "the server exits 0 on SIGTERM" stop_server

# ------------------------------------------------------------------ options through a cookie
# Every SYN gets a cookie. Linux's SYN offers wscale, SACK and timestamps, so the cookie's
# SYN-ACK must offer all three (window shift and SACK ride in our TSval) and the connection
# must use them: the download's window is scaled past 65535.
BULK=8000000
rm -f "$SERVER_LOG"
start_server --http-port 80 --syn-cookies always --trace --pcap "$WORK/cookie.pcap" \
  || { not_ok "server with --syn-cookies always starts"; exit 1; }
lab_exec timeout 60 curl -sf --max-time 50 -o "$WORK/bulk" "http://$ADDR/bytes/$BULK"; curl_rc=$?
check "curl of /bytes/$BULK through a SYN cookie succeeds" test "$curl_rc" -eq 0
# /bytes/N serves byte i = i % 251 (http/body_source.hpp).
check "the $BULK bytes are exact" python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
sys.exit(0 if data == (bytes(range(251)) * (n // 251 + 1))[:n] else 1)' "$WORK/bulk" "$BULK"
sent_note=$(grep -m1 'SYN cookie sent' "$SERVER_LOG")
made_note=$(grep -m1 'connection from a SYN cookie' "$SERVER_LOG")
echo "# trace: ${sent_note:-no SYN cookie sent note}"
echo "# trace: ${made_note:-no connection from a SYN cookie note}"
check "trace: the cookie kept wscale, SACK and timestamps" \
  grep -qE 'no SYN-queue entry: mss [0-9]+ wscale [0-9]+ sack ts$' <<<"$sent_note"
check "trace: the connection was made from the cookie with them" \
  grep -qE 'connection from a SYN cookie .*: mss [0-9]+ wscale [0-9]+ sack ts$' <<<"$made_note"
line=$(status_line '^tcplab: syn cookies')
echo "# $line"
check "the download's connection came from a cookie (validated > 0)" \
  test "$(count_after validated "$line" | grep . || echo 0)" -gt 0
check "the server exits 0 on SIGTERM" stop_server
if command -v tshark >/dev/null; then
  synack_filter='ip.src==192.0.2.2 && tcp.flags.syn==1 && tcp.flags.ack==1'
  synack=$(tshark -r "$WORK/cookie.pcap" -Y "$synack_filter" -T fields -E separator=' ' \
    -e tcp.options.wscale.shift -e tcp.options.timestamp.tsval -e tcp.options.timestamp.tsecr \
    2>/dev/null | head -1)
  echo "# tshark, cookie SYN-ACK: wscale shift, TSval, TSecr = ${synack:-none}"
  has() { tshark -r "$WORK/cookie.pcap" -Y "$synack_filter && $1" 2>/dev/null | grep -q .; }
  check "tshark: the cookie SYN-ACK offers wscale" has tcp.options.wscale.shift
  check "tshark: the cookie SYN-ACK offers SACK-permitted" has tcp.options.sack_perm
  check "tshark: the cookie SYN-ACK offers timestamps" has tcp.options.timestamp.tsval
  # The low 5 bits of that TSval: the client's window shift, and 16 for SACK-permitted.
  client_shift=$(tshark -r "$WORK/cookie.pcap" -Y 'ip.src==192.0.2.1 && tcp.flags.syn==1 && tcp.flags.ack==0' \
    -T fields -e tcp.options.wscale.shift 2>/dev/null | head -1)
  read -r _ tsval _ <<<"$synack"
  check "tshark: TSval ${tsval:-none} carries the client's shift ${client_shift:-none} and SACK in its low bits" \
    test -n "$tsval" -a -n "$client_shift" -a "$(( ${tsval:-0} & 31 ))" -eq "$(( 16 | ${client_shift:-0} ))"
  # The client's window as tshark computes it (field << its shift), and our bytes in flight.
  max_field() {
    tshark -r "$WORK/cookie.pcap" -Y "$1" -T fields -e "$2" 2>/dev/null | sort -n | tail -1
  }
  win=$(max_field 'ip.src==192.0.2.1 && tcp.flags.syn==0' tcp.window_size)
  flight=$(max_field 'ip.src==192.0.2.2' tcp.analysis.bytes_in_flight)
  echo "# tshark: largest client window ${win:-none} bytes; largest bytes in flight from tcplab ${flight:-none}"
  check "tshark: the client's scaled window exceeds 65535 [${win:-none}]" test "${win:-0}" -gt 65535
  check "tshark: tcplab had more than 65535 bytes in flight [${flight:-none}]" test "${flight:-0}" -gt 65535
else
  echo "SKIPPED - cookie pcap checks: tshark not installed (tests/setup.sh installs it)"
fi

# ------------------------------------------------------------------ the flags
help=$(lab_exec "$TCPLAB" serve --help 2>&1)
check "serve --help lists --syn-backlog and --syn-cookies" \
  bash -c 'grep -qE "^  --syn-backlog N" <<<"$1" && grep -qE "^  --syn-cookies auto\|always\|never" <<<"$1"' _ "$help"
for bad in "--syn-cookies maybe" "--syn-backlog 0" "--syn-backlog x"; do
  # shellcheck disable=SC2086 # the flag and its value are two words on purpose
  out=$(lab_exec timeout 10 "$TCPLAB" serve $bad 2>&1); rc=$?
  check "'tcplab serve $bad' exits 2 with one line" test "$rc" -eq 2 -a "$(grep -c . <<<"$out")" -eq 1
done
