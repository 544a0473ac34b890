#!/usr/bin/env bash
# What SACK (RFC 2018, RFC 6675) saves against Linux's TCP, in a lab namespace: the same
# 4 MiB chargen download through the same random faults (--drop 2% --reorder 5% both ways,
# --delay 5 for a 10 ms round trip; two seeds) once with SACK and once with --no-sack; every
# byte is checked by tcp_bulk against RFC 864's pattern, and the stack's own exit summary
# gives the payload bytes it resent. Both runs must recover (resend something, deliver every
# byte); how much SACK saves is printed, not asserted (see below).
# Then tshark, capturing on the TUN inside the namespace, must see our --tcp-keepalive 1,1,3
# probes (seq = SND.NXT - 1, no payload) on an idle kernel connection.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
require_lab
need_binaries

WORK=$(mktemp -d)
cleanup_all() {
  [ -n "$TSHARK_PID" ] && kill -TERM "$TSHARK_PID" 2>/dev/null
  rm -rf "$WORK"
  lab_cleanup
}
TSHARK_PID=
trap cleanup_all EXIT

# 4 MiB: with 2% loss both ways and a 10 ms round trip each run takes about 10 s, so the four
# runs and the keep-alive check stay near a minute.
BYTES=$((4 * 1024 * 1024))
SEEDS=${SACK_LOSS_SEEDS:-1 2}

# download LABEL ARGS...: one chargen download of $BYTES; sets RTX_BYTES from the exit summary.
download() {
  local label=$1; shift
  RTX_BYTES=
  if ! start_server --chargen 19 --chargen-bytes "$BYTES" --msl 1 "${FAULTS[@]}" "$@"; then
    not_ok "$label: server starts with ${FAULTS[*]} $*"
    return 1
  fi
  if client 60 tcp_bulk --port 19 --mode chargen --bytes "$BYTES"; then
    ok "$label: 4 MiB chargen through 2% drop and 5% reorder both ways, every byte checked"
    echo "# $label: $(field seconds) s, $(field mbps) MB/s"
  else
    not_ok "$label: 4 MiB chargen through 2% drop and 5% reorder both ways, every byte checked"
  fi
  stop_server
  local tcp faults
  tcp=$(grep 'tcplab: tcp segments' "$SERVER_LOG" | tail -1)
  faults=$(grep 'faults injected' "$SERVER_LOG" | tail -1)
  echo "# $label: ${tcp#tcplab: }"
  echo "# $label: ${faults#tcplab: }"
  RTX_BYTES=$(sed -nE 's/.*retransmissions [0-9]+ \(([0-9]+) bytes\).*/\1/p' <<<"$tcp")
  check "$label: the exit summary gives the retransmitted bytes [${RTX_BYTES:-none}]" test -n "$RTX_BYTES"
}

# Why the emulated delay: on the bare lab link a round trip is far below a millisecond, and
# NewReno (RFC 6582), repairing one hole per round trip, loses almost nothing by it; there the
# two recoveries resent about the same (single seeds either way, within 15%). With a 10 ms
# round trip, repairing several holes in one round trip is what SACK is for, and it usually
# resends fewer bytes. Usually, not always: the kernel peer's timing is real, so the same seed
# drops different segments from run to run, and one run measured SACK 194,032 against 191,136
# bytes (others 188,240 against 259,192). A saving that varies with timing is a measurement,
# so it is printed here and not asserted.
total_sack=0
total_nosack=0
for SEED in $SEEDS; do
  FAULTS=(--drop 2% --reorder 5% --delay 5 --seed "$SEED")
  download "seed $SEED, SACK on"
  with_sack=$RTX_BYTES
  download "seed $SEED, --no-sack" --no-sack
  without_sack=$RTX_BYTES
  echo "# seed $SEED: retransmitted payload bytes: SACK ${with_sack:-?}, no SACK ${without_sack:-?}"
  total_sack=$((total_sack + ${with_sack:-0}))
  total_nosack=$((total_nosack + ${without_sack:-0}))
done
echo "# retransmitted payload bytes, 4 MiB per run, seeds $SEEDS: SACK $total_sack, no SACK $total_nosack"
check "both recoveries resent payload through the faults [SACK $total_sack, no SACK $total_nosack]" \
  test "$total_sack" -gt 0 -a "$total_nosack" -gt 0

# ---------------------------------------------------------------- keep-alive on the wire
# RFC 1122 §4.2.3.6: a probe is a segment with SEG.SEQ = SND.NXT - 1 and no data, so the
# peer's answer is an ACK (tshark marks that as tcp.analysis.keep_alive, if it saw the handshake).
if ! command -v tshark >/dev/null; then
  skipped "keep-alive on the wire" "tshark is not installed"
  exit 0
fi
if ! command -v nc >/dev/null; then
  skipped "keep-alive on the wire" "nc is not installed"
  exit 0
fi
if ! start_server --echo 7 --msl 1 --tcp-keepalive 1,1,3; then
  not_ok "server starts with --tcp-keepalive 1,1,3"
  exit 1
fi
CAP=$WORK/keepalive.pcap
# capture_idle_connection: tshark on the TUN while an idle kernel connection is held open for
# 4.5 s (probes after 1 s idle, then every second).
capture_idle_connection() {
  rm -f "$CAP" "$WORK/tshark.log"
  ip netns exec "$LAB_NAME" timeout 20 tshark -q -i tcplab0 -f 'tcp port 7' -w "$CAP" >"$WORK/tshark.log" 2>&1 &
  TSHARK_PID=$!
  # tshark says "Capturing on" once its capture runs; only then may the connection start.
  capturing() { grep -q 'Capturing on' "$WORK/tshark.log"; }
  if ! wait_for 10 capturing; then
    not_ok "tshark captures on the TUN inside the namespace"
    cat "$WORK/tshark.log"
    exit 1
  fi
  sleep 4.5 | lab_exec timeout 8 nc -N "$STACK_IP" 7 >/dev/null 2>&1
  sleep 0.5
  kill -INT "$TSHARK_PID" 2>/dev/null
  wait "$TSHARK_PID" 2>/dev/null
  TSHARK_PID=
}
# tshark marks a probe only on a connection it saw open. Once in a clean-clone run it printed
# "Capturing on" and still missed the first three packets (12 of the usual 15, no SYN): then
# the run is made once more, and the checks read the capture that holds the handshake.
capture_idle_connection
if [ "$(tshark -r "$CAP" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)" = 0 ]; then
  echo "# the capture began after the handshake; capturing a second idle connection"
  capture_idle_connection
fi
stop_server
packets=$(tshark -r "$CAP" 2>/dev/null | wc -l)
echo "# tshark captured $packets packets on port 7"
# The probes are counted from the raw numbers, so that a capture that still missed the
# handshake (tshark's own keep-alive analysis needs it) counts them too. Up to the first FIN:
# a probe is a segment of ours with no data and no SYN, FIN or RST whose SEG.SEQ is one below
# an acknowledgment number Linux sends (SND.NXT - 1); an answer is Linux's ACK right after it.
tshark -r "$CAP" -T fields -E separator=' ' -e ip.src -e tcp.seq_raw -e tcp.ack_raw -e tcp.len \
  -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset 2>/dev/null >"$WORK/keepalive-segments.txt"
# Sequence numbers pass through "%.0f": awk would write one above 2^31 as 3.1035e+09.
read -r probes answers < <(awk -v us="$STACK_IP" '
  function plain() { return $4 == 0 && $5 == 0 && $6 == 0 && $7 == 0 }
  function seq(n) { return sprintf("%.0f", n % 4294967296) }
  FNR == 1 { fin = 0; pass++ }
  $6 == 1 { fin = 1 }
  fin { next }
  pass == 1 { if ($1 != us && plain()) acked[seq($3)] = 1; next }
  $1 == us && plain() && (seq($2 + 1) in acked) { probes++; probe_end = seq($2 + 1); next }
  $1 != us && plain() && probe_end != "" && seq($3) == probe_end { answers++ }
  { probe_end = "" }
  END { print probes + 0, answers + 0 }' "$WORK/keepalive-segments.txt" "$WORK/keepalive-segments.txt")
resets=$(tshark -r "$CAP" -Y 'tcp.flags.reset == 1' 2>/dev/null | wc -l)
echo "# tshark on tcplab0: $probes keep-alive probes from the stack," \
  "$answers answered by Linux, $resets resets"
tshark -r "$CAP" -Y 'tcp.analysis.keep_alive || tcp.analysis.keep_alive_ack' 2>/dev/null | head -4 |
  sed 's/^/#   /'
check "keep-alive: tshark sees at least 2 probes (seq = SND.NXT - 1, len 0) on the wire [$probes]" \
  test "$probes" -ge 2
# Seen once in many runs: 12 packets and no probe among them. The whole capture, to tell why.
if [ "$probes" -lt 2 ]; then
  tshark -r "$CAP" -o tcp.relative_sequence_numbers:TRUE 2>/dev/null | head -30 | sed 's/^/#   /'
  grep '^tcplab: tcp segments' "$SERVER_LOG" | tail -1 | sed 's/^/#   server: /'
fi
check "keep-alive: Linux ACKs the probes and nobody resets the idle connection" \
  test "$answers" -ge 1 -a "$resets" -eq 0
