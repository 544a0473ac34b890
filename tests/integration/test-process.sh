#!/usr/bin/env bash
# tcplab as a process, as a user who makes mistakes meets it: stopped in the middle of a
# transfer (serve and get reset what is open, so the peer fails at once instead of hanging),
# a disk that fills up (captures and traces end at their last whole record), closed standard
# descriptors, a failed stdout write (its real error), flags given twice, flags that need
# another one, `tcplab help COMMAND`, an unwritable status file, and `get -o - | head`.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
for tool in curl python3; do
  command -v "$tool" >/dev/null ||
    { not_ok "$(basename "$0"): $tool missing (tests/setup.sh installs it)"; exit 1; }
done
STACK=192.0.2.2
HOST=192.0.2.1
SCEN=$ROOT/tests/scenarios
WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
process_cleanup() {
  stop_pids "${PIDS[@]}"
  rm -rf "$WORK"
  lab_cleanup
}
trap process_cleanup EXIT

# run_cli ARGS...: tcplab in the namespace, bounded; stdout+stderr -> OUT, exit -> RC.
run_cli() { OUT=$(lab_exec timeout 20 "$@" 2>&1); RC=$?; }

lab_up || { not_ok "make lab namespace"; exit 1; }

# ------------------------------------------------------------------ usage
run_cli "$TCPLAB" help serve
check "tcplab help serve shows serve's help [rc $RC]" \
  bash -c "[ $RC -eq 0 ] && grep -q '^usage: tcplab serve' <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" --version extra
check "--version with an extra argument is a usage error [rc $RC]" test "$RC" -eq 2
run_cli "$TCPLAB" serve --help
check "--help says a flag may be given once, [repeatable] ones again" \
  grep -q 'only those marked \[repeatable\] may be given again' <<<"$OUT"

run_cli "$TCPLAB" serve --echo 7 --echo 8
check "--echo given twice: exit 2 naming the flag and both values [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q \"\\-\\-echo is given twice ('7' and '8')\" <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" get --mtu 1400 --mtu 1500 http://$HOST/
check "get --mtu given twice: exit 2 [rc $RC]" bash -c "[ $RC -eq 2 ] && grep -q 'mtu is given twice' <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" serve --trace --trace --help
check "a switch given twice: exit 2 [rc $RC]" test "$RC" -eq 2
run_cli "$TCPLAB" serve --drop in:1% --drop out:2% --help
check "a [repeatable] flag may still be given twice [rc $RC]" test "$RC" -eq 0
run_cli "$TCPLAB" help serve extra
check "help serve extra: exit 2 naming the extra argument [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q \"unexpected argument 'extra' after help serve\" <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" serve --recv-buffer 1
check "--recv-buffer below one 536-byte segment: exit 2 with the range [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q 'expected a whole number from 536 to' <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" get --timeout 1e-3 "http://$HOST/"
check "--timeout 1e-3: exit 2 asking for decimal notation [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q 'from 0.001 to 3600, in decimal notation' <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" get --timeout 9999 "http://$HOST/"
check "--timeout 9999: exit 2 with the range alone [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q 'from 0.001 to 3600 (see' <<<\"\$0\"" "$OUT"
run_cli "$TCPLAB" serve --kernel-tcp 127.0.0.1:8080 --echo 8080
check "--echo on --kernel-tcp's port: the message names the flag given [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q \"\-\-echo and \-\-kernel-tcp's PORT both use port 8080\" <<<\"\$0\"" "$OUT"

for bad in "serve --pcap-format pcap" "serve --absolute" "serve --chargen-bytes 10" \
  "serve --http-port 0 --root /" "serve --http-port 0 --keepalive off" "get --absolute http://$HOST/" \
  "script --pcap-format pcap tests/scenarios/passive-open.pkt" "script --absolute tests/scenarios/passive-open.pkt"; do
  run_cli "$TCPLAB" $bad
  check "'tcplab $bad' (needs another flag): exit 2 saying which [rc $RC: $OUT]" \
    bash -c "[ $RC -eq 2 ] && grep -qE 'give (--pcap|one of them|--chargen)|--http-port 0 turns off' <<<\"\$0\"" "$OUT"
done
run_cli "$TCPLAB" script --absolute --ladder tests/scenarios/passive-open.pkt
check "script --absolute --ladder: the ladder prints numbers, so it is taken [rc $RC]" test "$RC" -eq 0
for both in "serve --offload --no-offload" "get --no-offload --offload http://$HOST/"; do
  run_cli "$TCPLAB" $both
  check "'tcplab $both': exit 2, they contradict each other [rc $RC: $OUT]" \
    bash -c "[ $RC -eq 2 ] && grep -q 'contradict each other' <<<\"\$0\"" "$OUT"
done

# ------------------------------------------------------------------ --status-file at start
cp "$TCPLAB" "$WORK/tcplab"
chmod 755 "$WORK/tcplab"
mkdir -m 700 "$WORK/private"
OUT=$(lab_exec timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$WORK/tcplab" serve --kernel-tcp 127.0.0.1:18080 --status-file "$WORK/private/s" 2>&1); RC=$?
check "an unwritable --status-file is refused at start: exit 2 [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q 'cannot write there: Permission denied' <<<\"\$0\"" "$OUT"
OUT=$(TCPLAB_STATUS_FILE=/nonexistent/x lab_exec timeout 10 "$TCPLAB" serve --kernel-tcp 127.0.0.1:18080 2>&1)
RC=$?
check "a bad TCPLAB_STATUS_FILE is named as such: exit 2 [rc $RC: $OUT]" \
  bash -c "[ $RC -eq 2 ] && grep -q '^tcplab serve: TCPLAB_STATUS_FILE /nonexistent/x' <<<\"\$0\"" "$OUT"

# ------------------------------------------------------------------ closed standard descriptors
# Without fd 1, the first file tcplab opens would become its stdout and get the text output.
(cd "$WORK" && timeout 20 "$TCPLAB" script --seed 3 --trace-json t.jsonl "$SCEN/passive-open.pkt" >&-)
check "script with stdout closed: the JSON trace holds JSON only" \
  bash -c "[ -s '$WORK/t.jsonl' ] && ! grep -qv '^{' '$WORK/t.jsonl'"
(cd "$WORK" && timeout 20 "$TCPLAB" script --seed 3 --pcap c.pcapng "$SCEN/passive-open.pkt" >&-)
run_cli "$TCPLAB" ladder "$WORK/c.pcapng"
check "script with stdout closed: the capture still reads [rc $RC]" test "$RC" -eq 0
# `ip netns exec` execs tcplab: $! is tcplab itself.
ip netns exec "$LAB_NAME" "$TCPLAB" serve --trace --http-port 0 >&- <&- 2>"$WORK/closed.err" &
pid=$!
PIDS+=("$pid")
wait_for 10 lab_exec ip link show tcplab0 >/dev/null 2>&1
check "serve with fds 0 and 1 closed: /dev/null is on them, not the TUN" \
  bash -c "[ \"\$(readlink /proc/$pid/fd/0)\" = /dev/null ] && [ \"\$(readlink /proc/$pid/fd/1)\" = /dev/null ]"
kill -TERM "$pid"; wait "$pid"

# ------------------------------------------------------------------ the real error of stdout
ip netns exec "$LAB_NAME" "$TCPLAB" serve --trace --http-port 0 >/dev/full 2>"$WORK/full.err" &
pid=$!
PIDS+=("$pid")
wait_for 10 lab_exec ip link show tcplab0 >/dev/null 2>&1
lab_exec timeout 5 ping -n -c 2 -i 0.2 -W 2 "$STACK" >/dev/null 2>&1
kill -TERM "$pid"; wait "$pid"; RC=$?
check "serve --trace >/dev/full: exit 1 and 'No space left on device' [rc $RC: $(tail -1 "$WORK/full.err")]" \
  bash -c "[ $RC -eq 1 ] && grep -q 'text trace on stdout is incomplete: a write failed (No space left on device)' \
    '$WORK/full.err'"

# ------------------------------------------------------------------ SIGTERM during a download
start_server --pcap "$WORK/stop.pcapng" || { not_ok "server starts"; exit 1; }
lab_exec timeout 30 curl -sS -o /dev/null --limit-rate 300k "http://$STACK/bytes/10000000" 2>"$WORK/curl.err" &
CURL=$!
wait_for 10 bash -c "ip netns exec '$LAB_NAME' ss -tnH state established '( dport = :80 )' | grep -q ."
sleep 0.5
started=${EPOCHREALTIME//[.,]/}
kill -TERM "$SERVER_PID"
wait "$CURL"; CURL_RC=$?
took=$(( (${EPOCHREALTIME//[.,]/} - started) / 1000 ))
stop_server; RC=$?
check "SIGTERM mid-download: curl fails at once, not hangs [curl rc $CURL_RC after $took ms: $(cat "$WORK/curl.err")]" \
  bash -c "[ $CURL_RC -ne 0 ] && [ $CURL_RC -ne 124 ] && [ $took -lt 5000 ]"
check "SIGTERM mid-download: curl saw the reset" grep -q 'reset' "$WORK/curl.err"
check "SIGTERM mid-download: exit 0, the reset and the cut-off response reported [rc $RC]" \
  bash -c "[ $RC -eq 0 ] && grep -q 'reset 1 connection still open at exit' '$SERVER_LOG' &&
    grep -q 'responses cut off 1)' '$SERVER_LOG'"
check "SIGTERM mid-download: the kernel holds no connection to port 80" \
  bash -c "! ip netns exec '$LAB_NAME' ss -tnH state established '( dport = :80 )' | grep -q ."

# ------------------------------------------------------------------ get interrupted, and get -o - | head
mkdir -p "$WORK/site"
head -c 50000000 /dev/zero >"$WORK/site/big"
ip netns exec "$LAB_NAME" python3 -m http.server --bind 0.0.0.0 --directory "$WORK/site" --protocol HTTP/1.1 \
  8000 >"$WORK/python.log" 2>&1 &
PIDS+=($!)
wait_for 10 bash -c "ip netns exec '$LAB_NAME' ss -ltnH 'sport = :8000' | grep -q LISTEN"
# 20 ms each way and a 64 KiB window make the 50 MB take long enough to be interrupted in the middle.
ip netns exec "$LAB_NAME" "$TCPLAB" get --delay 20 --recv-buffer 65536 -o /dev/null "http://$HOST:8000/big" >"$WORK/get.out" 2>&1 &
GET=$!
PIDS+=("$GET")
wait_for 10 bash -c "ip netns exec '$LAB_NAME' ss -tnH state established '( sport = :8000 )' | grep -q ."
sleep 0.5
kill -INT "$GET"
wait "$GET"; RC=$?
check "get interrupted mid-download: exit 1 [rc $RC]" test "$RC" -eq 1
check "get interrupted mid-download: the server's connection is reset, not left sending" \
  wait_for 3 bash -c "! ip netns exec '$LAB_NAME' ss -tnH state established '( sport = :8000 )' | grep -q ."

started=${EPOCHREALTIME//[.,]/}
lab_exec timeout 30 "$TCPLAB" get --delay 20 --recv-buffer 65536 -o - "http://$HOST:8000/big" 2>"$WORK/head.err" | head -c 10 >/dev/null
RC=${PIPESTATUS[0]}
took=$(( (${EPOCHREALTIME//[.,]/} - started) / 1000 ))
check "get -o - | head -c 10: stops at the broken pipe, exit 1 [rc $RC after $took ms]" \
  bash -c "[ $RC -eq 1 ] && [ $took -lt 10000 ] && grep -q 'stopped: a body could not be written' '$WORK/head.err'"
# The URL's own line says the stop was ours, not that the server closed early.
check "get -o - | head -c 10: the URL's line says we reset it, not that the server closed" \
  bash -c "grep -q 'stopped here before the response was complete: we reset the connection (RST)' \
    '$WORK/head.err' && ! grep -q 'closed before the response was complete' '$WORK/head.err'"

# ------------------------------------------------------------------ get interrupted with an inbound delay
# A server that sends a small segment every 100 ms (Nagle off) keeps about nine of them held on
# their way in by --delay in:900 at any moment. At exit the RST goes out at once, and nothing
# waits for those: they would only be read by a process that is leaving.
TRICKLE='
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8001))
s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.recv(4096)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
for _ in range(300):
    c.sendall(b"x" * 100)
    time.sleep(0.1)
'
ip netns exec "$LAB_NAME" timeout 40 python3 -c "$TRICKLE" >"$WORK/trickle.log" 2>&1 &
PIDS+=($!)
wait_for 10 bash -c "ip netns exec '$LAB_NAME' ss -ltnH 'sport = :8001' | grep -q LISTEN"
ip netns exec "$LAB_NAME" "$TCPLAB" get --delay in:900 -o /dev/null "http://$HOST:8001/" \
  >"$WORK/trickle-get.out" 2>&1 &
GET=$!
PIDS+=("$GET")
wait_for 10 bash -c "ip netns exec '$LAB_NAME' ss -tnH state established '( sport = :8001 )' | grep -q ."
sleep 1.5  # the response has been arriving for a while: segments are held on their way in
started=${EPOCHREALTIME//[.,]/}
kill -INT "$GET"
wait "$GET"; RC=$?
took=$(( (${EPOCHREALTIME//[.,]/} - started) / 1000 ))
check "get --delay in:900 interrupted: exits at once, not after what is held inbound [rc $RC, $took ms]" \
  bash -c "[ $RC -eq 1 ] && [ $took -lt 400 ] &&
    grep -q 'interrupted before every URL' '$WORK/trickle-get.out'"
check "get --delay in:900 interrupted: the URL's line says we reset it" \
  grep -q 'stopped here before the response was complete: we reset the connection (RST)' "$WORK/trickle-get.out"
check "get --delay in:900 interrupted: its RST reached the server" \
  wait_for 3 bash -c "! ip netns exec '$LAB_NAME' ss -tnH state established '( sport = :8001 )' | grep -q ."

# ------------------------------------------------------------------ a full disk
# A file size limit (ulimit -f, SIGXFSZ ignored) fails writes the way a full disk does: the
# last write() takes part of its buffer, the next fails. The files must end at a whole record.
for format in pcapng pcap; do
  rm -f "$WORK/d.cap" "$WORK/d.jsonl"
  SERVER_LOG=$(mktemp)
  ip netns exec "$LAB_NAME" bash -c 'ulimit -f 64; trap "" XFSZ; exec "$@"' limit \
    "$TCPLAB" serve --pcap "$WORK/d.cap" --pcap-format "$format" --trace-json "$WORK/d.jsonl" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  wait_for 10 grep -q '^tcplab: up on' "$SERVER_LOG"
  lab_exec timeout 10 curl -sS -o /dev/null "http://$STACK/bytes/400000"
  stop_server; RC=$?
  check "full disk ($format): exit 1 and both files named incomplete [rc $RC]" \
    bash -c "[ $RC -eq 1 ] && grep -q 'capture is incomplete' '$SERVER_LOG' && grep -q 'JSON trace .* is incomplete' '$SERVER_LOG'"
  check "full disk ($format): the JSON trace ends with a whole line" \
    bash -c "[ -s '$WORK/d.jsonl' ] && [ \"\$(tail -c 1 '$WORK/d.jsonl' | od -An -c | tr -d ' ')\" = '\\n' ]"
  run_cli "$TCPLAB" ladder "$WORK/d.jsonl"
  check "full disk ($format): ladder reads the JSON trace [rc $RC]" test "$RC" -eq 0
  run_cli "$TCPLAB" ladder "$WORK/d.cap"
  check "full disk ($format): ladder reads the capture [rc $RC: $(tail -1 <<<"$OUT")]" test "$RC" -eq 0
  rm -f "$SERVER_LOG"; SERVER_LOG=
done

# ------------------------------------------------------------------ an unusable /dev/net/tun
# In a private mount namespace (nothing propagates out): /dev/null bound over the node, and
# the node hidden while the driver stays loaded. serve must say which, not blame the driver.
# tun_node_case SETUP: runs serve with SETUP done first; OUT and RC as run_cli sets them.
tun_node_case() {
  OUT=$(unshare -m --propagation private -- bash -c "$1 || exit 125; exec \"\$@\"" node-case \
    ip netns exec "$LAB_NAME" timeout 10 "$TCPLAB" serve 2>&1); RC=$?
}
tun_node_case 'mount --bind /dev/null /dev/net/tun'
if [ "$RC" -eq 125 ]; then
  skipped "serve with /dev/null over /dev/net/tun" "cannot bind over /dev/net/tun here"
else
  check "serve with /dev/null over /dev/net/tun: says it is not the TUN device [rc $RC: $OUT]" \
    bash -c "[ $RC -eq 1 ] && grep -q 'is not the TUN character device (10,200)' <<<\"\$0\"" "$OUT"
fi
if grep -qw tun /proc/misc; then
  tun_node_case 'mount -t tmpfs -o size=16k tcplab-empty /dev/net'
  if [ "$RC" -eq 125 ]; then
    skipped "serve without the node, driver loaded" "cannot mount over /dev/net here"
  else
    check "serve without the node but with the driver loaded: advises mknod, not modprobe [rc $RC: $OUT]" \
      bash -c "[ $RC -eq 1 ] && grep -q 'mknod /dev/net/tun c 10 200' <<<\"\$0\" && ! grep -q modprobe <<<\"\$0\"" "$OUT"
  fi
fi
