#!/usr/bin/env bash
# `tcplab ladder` on real traffic: a curl keep-alive exchange (two URLs, one connection) with
# tcplab's own capture (--pcap) and JSON trace (--trace-json), and the same exchange captured
# by tshark on the TUN as pcapng and as pcap; the ladders must agree segment for segment. Also
# the SVG (well-formed, every segment in it) and the errors for bad files (an unsupported link
# type among them) and arguments.
source "$(dirname "$0")/lib.sh"
require_lab

for tool in curl tshark xmllint; do
  command -v "$tool" >/dev/null || { not_ok "$(basename "$0"): $tool missing (run tests/setup.sh)"; exit 1; }
done
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
DIR=$(mktemp -d)
TSHARK_PIDS=()
# SIGTERM, not SIGINT: a background job of a script ignores SIGINT. tshark then finishes its
# file; after 10 s it is killed.
stop_tsharks() {
  for p in "${TSHARK_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${TSHARK_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  TSHARK_PIDS=()
}
cleanup() {
  stop_tsharks
  lab_cleanup
  rm -rf "$DIR"
}
trap cleanup EXIT

start_server --http-port 80 --pcap "$DIR/serve.pcapng" --trace-json "$DIR/trace.jsonl" ||
  { not_ok "server starts"; exit 1; }

# tshark on the TUN, twice: its default pcapng and classic pcap. "Capturing on" can come
# before packets are really captured, and a capture stopped too early misses the last ones,
# so pings mark both ends: each tshark prints every packet (-l -P), and the traffic starts
# only after both have shown an echo reply, and they stop only after both have shown one
# sent after the traffic.
start_tshark() {  # start_tshark FILE [tshark args...]
  local file=$1; shift
  ip netns exec "$LAB_NAME" tshark -l -P -i tcplab0 -w "$file" "$@" >"$file.out" 2>"$file.log" &
  TSHARK_PIDS+=($!)
  for _ in $(seq 100); do grep -q "Capturing on" "$file.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "# tshark did not start:"; cat "$file.log"; return 1
}
PINGS=0
replies() { grep -c "Echo (ping) reply" "$1.out"; }
# ping_until_seen N: ping until each tshark has printed more than N echo replies (at most 50).
ping_until_seen() {
  for _ in $(seq 50); do
    lab_exec ping -c 1 -W 1 192.0.2.2 >/dev/null && PINGS=$((PINGS + 1))
    local seen=1
    for f in "$DIR/tshark.pcapng" "$DIR/tshark.pcap"; do [ "$(replies "$f")" -gt "$1" ] || seen=0; done
    [ "$seen" = 1 ] && return 0
    sleep 0.1
  done
  return 1
}
start_tshark "$DIR/tshark.pcapng" || { not_ok "tshark captures on tcplab0 (pcapng)"; exit 1; }
start_tshark "$DIR/tshark.pcap" -F pcap || { not_ok "tshark captures on tcplab0 (pcap)"; exit 1; }
ping_until_seen 0 || { not_ok "both tsharks see traffic on tcplab0"; exit 1; }
before=$(( $(replies "$DIR/tshark.pcapng") > $(replies "$DIR/tshark.pcap") ?
           $(replies "$DIR/tshark.pcapng") : $(replies "$DIR/tshark.pcap") ))

out=$(lab_exec timeout 30 curl -sS -v --max-time 20 http://192.0.2.2/ http://192.0.2.2/style.css \
  -o /dev/null -o /dev/null 2>&1)
check "curl reused one connection for both URLs" grep -q "Re-using existing connection" <<<"$out"
# The client's FIN/ACK exchange is over within milliseconds; a ping after it marks the end.
sleep 0.5
ping_until_seen "$before" || { not_ok "both tsharks saw the traffic end"; exit 1; }
stop_tsharks
stop_server

# ---------------------------------------------------------------- tcplab's own capture
"$TCPLAB" ladder "$DIR/serve.pcapng" >"$DIR/serve.txt" 2>"$DIR/err.txt"; rc=$?
check "ladder of --pcap exits 0 [rc $rc]" test "$rc" = 0
cat "$DIR/serve.txt"
check "one connection, the $PINGS pings' $((2 * PINGS)) ICMP packets counted as skipped" \
  grep -qE "^1 connection, [0-9]+ segments from pcapng; $((2 * PINGS)) packets skipped \(not TCP over IPv4\)" \
  "$DIR/serve.txt"
check "the handshake: SYN, SYN-ACK, ACK with relative numbers" bash -c '
  grep -qE "\|-+ S seq=0 len=0 win=[0-9]+ -+>\|" "$1" &&
  grep -qE "\|<-+ S\. seq=0 ack=1 len=0 win=[0-9]+ -+\|" "$1" &&
  grep -qE "\|-+ \. seq=1 ack=1 len=0 win=[0-9]+ -+>\|" "$1"' _ "$DIR/serve.txt"
requests=$(grep -cE -- "-+ P\. seq=[0-9]+ ack=[0-9]+ len=[1-9][0-9]* win=[0-9]+ -+>\|" "$DIR/serve.txt")
check "two requests from the client [got $requests]" test "$requests" = 2
responses=$(grep -cE -- "\|<-+ [FSRP.]+ seq=[0-9]+ ack=[0-9]+ len=[1-9]" "$DIR/serve.txt")
check "data from the server for both responses [got $responses segments]" test "$responses" -ge 2
# The capture is pcapng: its packet comments name the server's state changes, so those are
# exact; the kernel client's are inferred from the flags and marked.
check "client states inferred and marked, the server's exact from the pcapng comments" bash -c '
  grep -q "SYN-SENT?" "$1" && grep -q "ESTABLISHED?" "$1" && grep -q "^? = state inferred" "$1" &&
  grep -qE "\| LISTEN +\|$" "$1" && grep -qE "\| SYN-RECEIVED +\|$" "$1"' _ "$DIR/serve.txt"
check "the close: FINs from both sides" bash -c '
  [ "$(grep -cE -- "F\. seq=" "$1")" -ge 2 ]' _ "$DIR/serve.txt"

# ---------------------------------------------------------------- the JSON trace: exact states
"$TCPLAB" ladder "$DIR/trace.jsonl" >"$DIR/json.txt" 2>&1; rc=$?
check "ladder of --trace-json exits 0 [rc $rc]" test "$rc" = 0
check "JSON trace: the server's states are exact (no '?')" bash -c '
  grep -qE "\| LISTEN +\|$" "$1" && grep -qE "\| SYN-RECEIVED +\|$" "$1" && grep -qE "\| ESTABLISHED +\|$" "$1"' \
  _ "$DIR/json.txt"
# The arrows of a ladder, one per segment; two empty lists would compare equal, so a list
# must hold at least the handshake's three arrows before it is compared.
segments() { grep -oE "[-<][-]* [FSRP.]+ seq=[^-]*" "$1"; }
same_segments() { [ "$(segments "$1" | wc -l)" -ge 3 ] && diff <(segments "$1") <(segments "$2"); }
check "JSON trace: same segments as the capture" same_segments "$DIR/serve.txt" "$DIR/json.txt"

# ---------------------------------------------------------------- tshark's captures
# Arrows and states must be the same as from tcplab's capture; only the times differ.
for f in tshark.pcapng tshark.pcap; do
  "$TCPLAB" ladder "$DIR/$f" >"$DIR/$f.txt" 2>&1; rc=$?
  check "ladder of tshark's $f exits 0 [rc $rc]" test "$rc" = 0
  check "tshark's $f: read as ${f##*.}" grep -qE "^1 connection, [0-9]+ segments from ${f##*.};" "$DIR/$f.txt"
  # tshark's captures carry no comments, so their states are all inferred: compare the arrows.
  check "tshark's $f: the same segments as tcplab's own capture" same_segments "$DIR/serve.txt" "$DIR/$f.txt"
done

# ---------------------------------------------------------------- SVG
"$TCPLAB" ladder "$DIR/tshark.pcapng" --svg "$DIR/ladder.svg" >/dev/null; rc=$?
check "--svg exits 0 [rc $rc]" test "$rc" = 0
check "the SVG is well-formed XML" xmllint --noout "$DIR/ladder.svg"
missing=0
while IFS= read -r label; do
  grep -qF ">$label</text>" "$DIR/ladder.svg" || { echo "# not in the SVG: $label"; missing=$((missing + 1)); }
done < <(grep -oE "[FSRP.]+ seq=[0-9]+( ack=[0-9]+)? len=[0-9]+ win=[0-9]+" "$DIR/serve.txt")
labels=$(grep -cE "[FSRP.]+ seq=[0-9]+" "$DIR/serve.txt")
check "the SVG has every one of the $labels segments" test "$missing" = 0 -a "$labels" -gt 5

# ---------------------------------------------------------------- options and errors
"$TCPLAB" ladder --conn 1 --absolute "$DIR/serve.pcapng" >"$DIR/abs.txt"; rc=$?
check "--conn 1 --absolute: raw sequence numbers [rc $rc]" bash -c '
  [ "$2" = 0 ] && ! grep -qE " S seq=0 " "$1" && grep -qE " S seq=[0-9]{3,} " "$1"' _ "$DIR/abs.txt" "$rc"
err=$("$TCPLAB" ladder --conn 2 "$DIR/serve.pcapng" 2>&1 >/dev/null); rc=$?
check "--conn 2 of one connection: exit 1 with a reason [rc $rc: $err]" bash -c '
  [ "$1" = 1 ] && grep -q "has 1 TCP connection(s); there is no connection 2" <<<"$2"' _ "$rc" "$err"
head -c $(( $(stat -c %s "$DIR/serve.pcapng") - 7 )) "$DIR/serve.pcapng" >"$DIR/cut.pcap"
err=$("$TCPLAB" ladder "$DIR/cut.pcap" 2>&1 >/dev/null); rc=$?
check "a cut capture: exit 1 and says so [rc $rc: $err]" bash -c '
  [ "$1" = 1 ] && grep -qE "cut.pcap: truncated (packet record|block) at byte [0-9]* \(file cut short\?\)" <<<"$2"' _ "$rc" "$err"
head -c 100 /dev/urandom | tr '\000{' 'ab' >"$DIR/junk"
err=$("$TCPLAB" ladder "$DIR/junk" 2>&1 >/dev/null); rc=$?
check "junk: exit 1 [rc $rc: $err]" bash -c '[ "$1" = 1 ] && grep -q "not a pcap, pcapng or tcplab JSON trace" <<<"$2"' _ \
  "$rc" "$err"
# A classic pcap of IEEE 802.11 (link type 105): one 4-byte frame that nothing here unwraps.
zeros4='\x00\x00\x00\x00'
printf "\xd4\xc3\xb2\xa1\x02\x00\x04\x00$zeros4$zeros4\xff\xff\x00\x00\x69\x00\x00\x00" >"$DIR/wifi.pcap"
printf "\x01\x00\x00\x00$zeros4\x04\x00\x00\x00\x04\x00\x00\x00$zeros4" >>"$DIR/wifi.pcap"
err=$("$TCPLAB" ladder "$DIR/wifi.pcap" 2>&1 >/dev/null); rc=$?
check "an unsupported link type: exit 1, named with the supported ones [rc $rc: $err]" bash -c '
  [ "$1" = 1 ] && grep -q "no packet could be read: link type 105 (IEEE 802.11) is not supported; tcplab reads raw IP" \
    <<<"$2"' _ "$rc" "$err"
err=$("$TCPLAB" ladder "$DIR/nonexistent" 2>&1 >/dev/null); rc=$?
check "a missing file: exit 1 [rc $rc: $err]" bash -c '[ "$1" = 1 ] && grep -q "cannot read" <<<"$2"' _ "$rc" "$err"
"$TCPLAB" ladder >/dev/null 2>&1; rc=$?
check "no FILE: usage error, exit 2 [rc $rc]" test "$rc" = 2
"$TCPLAB" ladder --help | grep -q -- "--svg OUT"; rc=$?
check "--help lists the flags" test "$rc" = 0

# Segments the stack refused are drawn from a JSON trace as from the capture, with the reason.
"$TCPLAB" script --seed 1 --trace-json "$TMP/refused.jsonl" --pcap "$TMP/refused.pcapng" \
  "$ROOT/tests/scenarios/bad-checksum-ignored.pkt" >/dev/null 2>&1
from_json=$("$TCPLAB" ladder "$TMP/refused.jsonl" 2>&1)
from_pcap=$("$TCPLAB" ladder "$TMP/refused.pcapng" 2>&1)
check "refused segments: the JSON ladder marks the 3 bad checksums, as the pcapng one does" \
  test "$(grep -c 'dropped by the stack: tcp-bad-checksum' <<<"$from_json")" = 3 -a \
  "$(grep -c 'dropped by the stack: tcp-bad-checksum' <<<"$from_pcap")" = 3
"$TCPLAB" ladder --svg - "$TMP/refused.jsonl" >/dev/null 2>&1; rc=$?
check "--svg - is a usage error (stdout holds the diagram) [rc $rc]" test "$rc" = 2 -a ! -e ./-
