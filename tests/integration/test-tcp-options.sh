#!/usr/bin/env bash
# SACK (RFC 2018), timestamps (RFC 7323) and the NewReno congestion window against Linux's
# TCP, in a lab namespace: the kernel's SYN offers SACK and timestamps and our SYN,ACK
# accepts both (seen in the JSON trace); data carries timestamps; a 4 MiB chargen transfer
# stays byte-exact and `tcplab cwnd` draws its window from the trace; with --no-sack
# --no-timestamps neither is answered; Linux answers our keep-alive probes; and, where netem
# exists, a lossy link toward the stack makes Linux recover with our SACK blocks while 16 MiB
# of echo stays byte-exact.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
require_lab
need_binaries

TRACE=$(mktemp --suffix=.jsonl)
CSV=$(mktemp --suffix=.csv)
SVG=$(mktemp --suffix=.svg)
cleanup_all() { rm -f "$TRACE" "$CSV" "$SVG"; lab_cleanup; }
trap cleanup_all EXIT

# json_num LINE KEY: the number after "KEY": in one JSON line (our sink's flat keys).
json_num() { echo "$1" | sed -nE "s/.*\"$2\":([0-9]+).*/\1/p"; }

BYTES=$((4 * 1024 * 1024))
if ! start_server --echo 7 --chargen 19 --chargen-bytes "$BYTES" --msl 1 --trace-json "$TRACE"; then
  not_ok "server starts with --trace-json"
  exit 1
fi

check "echo: one round trip through a SACK and timestamps connection" \
  client 10 tcp_echo_client --port 7 --mode roundtrip --count 1 --size 100
syn=$(grep -m1 '"dir":"in","src":"192.0.2.1:[0-9]*","dst":"192.0.2.2:7","flags":"S"' "$TRACE")
synack=$(grep -m1 '"dir":"out","src":"192.0.2.2:7","dst":"192.0.2.1:[0-9]*","flags":"S\."' "$TRACE")
echo "# kernel SYN options: $(echo "$syn" | sed -nE 's/.*"options":(\{[^}]*\}).*/\1/p')"
echo "# our SYN,ACK options: $(echo "$synack" | sed -nE 's/.*"options":(\{[^}]*\}).*/\1/p')"
check "handshake: Linux's SYN offers SACK-permitted and timestamps" \
  grep -q '"sack_permitted":true.*"ts_val":' <<<"$syn"
check "handshake: our SYN,ACK accepts SACK-permitted and timestamps (RFC 2018 §2, RFC 7323 §3.2)" \
  grep -q '"sack_permitted":true.*"ts_val":' <<<"$synack"
syn_tsval=$(json_num "$syn" ts_val)
check "handshake: our SYN,ACK echoes the SYN's TSval ($syn_tsval) as TSecr" \
  test -n "$syn_tsval" -a "$(json_num "$synack" ts_ecr)" = "$syn_tsval"
data_out=$(grep -m1 '"dir":"out","src":"192.0.2.2:7".*"len":100,' "$TRACE")
data_in=$(grep -m1 '"dir":"in","src":"192.0.2.1:[0-9]*","dst":"192.0.2.2:7".*"len":100,' "$TRACE")
check "data: the echoed 100 bytes carry timestamps echoing the kernel's" \
  test -n "$(json_num "$data_out" ts_val)" -a "$(json_num "$data_out" ts_ecr)" = "$(json_num "$data_in" ts_val)"

if client 30 tcp_bulk --port 19 --mode chargen --bytes "$BYTES"; then
  ok "chargen: 4 MiB with SACK and timestamps, every byte checked"
  echo "# chargen 4 MiB: $(field mbps) MB/s"
else
  not_ok "chargen: 4 MiB with SACK and timestamps, every byte checked"
fi
stop_server >/dev/null

# Connection 2 in order of appearance is the chargen one (connection 1 was echo).
if "$TCPLAB" cwnd "$TRACE" --conn 2 --svg "$SVG" >"$CSV" 2>/dev/null; then
  ok "tcplab cwnd: reads the congestion events of the chargen connection"
else
  not_ok "tcplab cwnd: reads the congestion events of the chargen connection"
fi
rows=$(($(wc -l <"$CSV") - 1))
echo "# cwnd series: $rows changes; first rows:"
head -4 "$CSV" | sed 's/^/#   /'
echo "#   ..."
tail -2 "$CSV" | sed 's/^/#   /'
check "tcplab cwnd: CSV header, the initial window, then slow start" \
  test "$(head -1 "$CSV")" = "time,cwnd,ssthresh,rule" -a "$(sed -n 2p "$CSV" | cut -d, -f4)" = \
  "RFC 6928 §2 (initial window)" -a "$(grep -c 'slow start' "$CSV")" -gt 0
check "tcplab cwnd: the SVG is a drawing" grep -q '^<svg xmlns=' "$SVG"

# ---------------------------------------------------------------- --no-sack --no-timestamps
: >"$TRACE"
if ! start_server --echo 7 --msl 1 --no-sack --no-timestamps --trace-json "$TRACE"; then
  not_ok "server starts with --no-sack --no-timestamps"
  exit 1
fi
check "echo: one round trip with --no-sack --no-timestamps" \
  client 10 tcp_echo_client --port 7 --mode roundtrip --count 1 --size 100
syn=$(grep -m1 '"dir":"in",.*"flags":"S"' "$TRACE")
synack=$(grep -m1 '"dir":"out",.*"flags":"S\."' "$TRACE")
echo "# our SYN,ACK options: $(echo "$synack" | sed -nE 's/.*"options":(\{[^}]*\}).*/\1/p')"
# The SYN,ACK must have been traced (an empty one would answer "neither" trivially), and the
# kernel's SYN must have offered both, so that not answering them is our choice.
if [ -n "$synack" ] && grep -q '"sack_permitted":true' <<<"$syn" && grep -q '"ts_val"' <<<"$syn" &&
  ! grep -q 'sack_permitted\|ts_val' <<<"$synack"; then
  ok "--no-sack --no-timestamps: the kernel offers both, our SYN,ACK answers neither"
else
  not_ok "--no-sack --no-timestamps: the kernel offers both, our SYN,ACK answers neither"
fi
stop_server >/dev/null

# ---------------------------------------------------------------- keep-alive (RFC 1122)
# An idle nc for 3.5 s against --tcp-keepalive 1,1,3: Linux answers every probe with an
# ACK, so probes keep coming about once a second and the connection is never reset.
: >"$TRACE"
if ! start_server --echo 7 --msl 1 --tcp-keepalive 1,1,3 --trace-json "$TRACE"; then
  not_ok "server starts with --tcp-keepalive 1,1,3"
  exit 1
fi
if command -v nc >/dev/null; then
  sleep 3.5 | lab_exec timeout 6 nc -N "$STACK_IP" 7 >/dev/null 2>&1
  probes=$(grep -c '"dir":"out".*"note":"keep-alive probe"' "$TRACE")
  resets=$(grep -c '"dir":"out","src":"192.0.2.2:7".*"flags":"R' "$TRACE")
  echo "# keep-alive: $probes probes during 3.5 s idle, $resets resets"
  check "keep-alive: Linux answers our probes, so the idle connection lives on" \
    test "$probes" -ge 2 -a "$resets" -eq 0
else
  echo "SKIPPED - keep-alive: nc is not installed"
fi
stop_server >/dev/null

# ---------------------------------------------------------------- loss toward the stack
# netem drops 1% of what the kernel sends to the stack: Linux, the sender of the echo
# requests, must recover with the SACK blocks our ACKs carry (RFC 2018 §4).
: >"$TRACE"
if ! start_server --echo 7 --msl 1 --trace-json "$TRACE"; then
  not_ok "server starts for the lossy transfer"
  exit 1
fi
if lab_exec tc qdisc add dev tcplab0 root netem loss 1% 2>/dev/null; then
  LOSSY=$((16 * 1024 * 1024))
  if client 60 tcp_bulk --port 7 --mode echo --bytes "$LOSSY"; then
    ok "loss: 16 MiB through echo with 1% loss toward the stack, every byte verified"
    echo "# lossy echo 16 MiB: $(field mbps) MB/s"
  else
    not_ok "loss: 16 MiB through echo with 1% loss toward the stack, every byte verified"
  fi
  sacks=$(grep -c '"dir":"out".*"sack_blocks":' "$TRACE")
  echo "# our segments carrying SACK blocks: $sacks"
  check "loss: our ACKs carried SACK blocks for the out-of-order data" test "$sacks" -gt 0
  lab_exec tc qdisc del dev tcplab0 root 2>/dev/null
else
  echo "SKIPPED - loss: netem is not available here"
fi
if stop_server; then ok "server exits cleanly on SIGTERM"; else not_ok "server exits cleanly on SIGTERM"; fi
