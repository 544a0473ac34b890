#!/usr/bin/env bash
# `tcplab serve --kernel-tcp`: the same HTTP server on the kernel's TCP (no TUN), in a namespace
# of this test's own, bound to its 127.0.0.1: keep-alive reuse, HTTP/1.0 close, /stats JSON
# (with the TCP internals marked unavailable), a 64 MiB body byte-exact, 100 KB and 1 MiB request
# bodies sent in one write, the echo service, refused flags, a clean exit on SIGTERM,
# --max-body (413), --no-nagle reaching the services, a slow reader kept past the idle timeout
# while a stopped one is reset, and 5,001 pipelined requests all answered. Root is needed only
# for the namespace, not by tcplab.
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then not_ok "$(basename "$0"): not root (required under CI=true)"; exit 1; fi
  echo "SKIPPED - $(basename "$0"): not root (needed for the namespace)"; exit 0
fi
BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
URL=http://127.0.0.1:8080
WORK=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$WORK"' EXIT
curl_ns() { lab_exec timeout 60 curl -sS --max-time 50 "$@"; }

# Usage errors come before anything runs: exit 2 and one line naming the flag.
out=$("$TCPLAB" serve --kernel-tcp 127.0.0.1:8080 --pcap /dev/null 2>&1); rc=$?
check "--pcap with --kernel-tcp is refused with exit 2 [$rc: $out]" \
  bash -c '[ "$1" = 2 ] && grep -q -- "--pcap has no meaning with --kernel-tcp" <<<"$2"' _ "$rc" "$out"
# --trace-json would leave an empty file (kernel sockets show no segments): refused, naming it,
# and nothing on stdout (with `-` that is where the JSON was meant to go).
for target in "$WORK/k.jsonl" -; do
  out=$("$TCPLAB" serve --kernel-tcp 127.0.0.1:8080 --trace-json "$target" 2>"$WORK/tj.err"); rc=$?
  err=$(cat "$WORK/tj.err")
  check "--trace-json $target with --kernel-tcp is refused with exit 2, naming it [$rc: $err]" \
    bash -c '[ "$1" = 2 ] && grep -q -- "^tcplab serve: --trace-json has nothing to write" <<<"$2"' _ "$rc" "$err"
  check "--trace-json $target with --kernel-tcp: nothing on stdout [$out]" test -z "$out"
done
check "--trace-json FILE with --kernel-tcp: no file left behind" test ! -e "$WORK/k.jsonl"
out=$("$TCPLAB" serve --kernel-tcp 127.0.0.1 2>&1); rc=$?
check "--kernel-tcp without a port is refused with exit 2 [$rc: $out]" \
  bash -c '[ "$1" = 2 ] && grep -q "ADDR:PORT" <<<"$2"' _ "$rc" "$out"
check "--help documents --kernel-tcp" bash -c '"$1" serve --help | grep -q -- "--kernel-tcp ADDR:PORT"' _ "$TCPLAB"

start_server --kernel-tcp 127.0.0.1:8080 --echo 7007 --trace || { not_ok "server starts"; exit 1; }
ok "server starts on the kernel's TCP without a TUN"
check "--trace is answered with one 'no trace' line" test "$(grep -c '^tcplab: no trace' "$SERVER_LOG")" = 1
check "the 'no trace' line names --trace" grep -q '^tcplab: no trace.*--trace has nothing to print' "$SERVER_LOG"
check "no TUN device in the namespace" bash -c '! ip -n "$1" link show type tun | grep -q .' _ "$LAB_NAME"
# The banner's lines enter this namespace, as the TUN banner's do: pasted as printed from the
# machine's own namespace, the curl line reaches this server, not the machine's 127.0.0.1.
LAB=$ROOT/tools/lab
curl_line="  $LAB exec --name $LAB_NAME -- curl http://127.0.0.1:8080/"
check "the banner's curl line carries the way into the namespace" grep -qxF "$curl_line" "$SERVER_LOG"
check "the banner's echo line too" grep -qxF "  $LAB exec --name $LAB_NAME -- nc 127.0.0.1 7007" "$SERVER_LOG"
if grep -qxF "$curl_line" "$SERVER_LOG"; then
  check "the banner's curl line works as printed" timeout 20 bash -c "${curl_line# } -sS --max-time 10 -o /dev/null"
fi

# Two URLs on one curl: the second request reuses the first connection (keep-alive).
curl_ns -v -o /dev/null -o /dev/null "$URL/" "$URL/bytes/100" 2>"$WORK/v.txt"
check "keep-alive: curl reuses the connection for the second URL" grep -q 'Re-using existing connection' "$WORK/v.txt"
check "keep-alive: one connection for two URLs" test "$(grep -c '^\* Connected to' "$WORK/v.txt")" = 1

# HTTP/1.0: the server answers with Connection: close and closes.
curl_ns -0 -v -o /dev/null "$URL/bytes/10" 2>"$WORK/h10.txt"
check "HTTP/1.0: the response says Connection: close" grep -qi '^< Connection: close' "$WORK/h10.txt"
check "HTTP/1.0: curl sees the connection closed, not left intact" \
  bash -c 'grep -q "Closing connection" "$1" && ! grep -q "left intact" "$1"' _ "$WORK/h10.txt"

# /stats parses as JSON and says which TCP it is, with the internals marked unavailable.
curl_ns -o "$WORK/stats.json" "$URL/stats"
check "/stats is JSON" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/stats.json"
check "/stats names the kernel's TCP and marks its internals unavailable" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
t = s["tcp"]
assert t["name"] == "kernel" and t["internals_available"] is False, t
assert t["segments_sent"] is None and s["drops"] is None, s
assert s["connections_accepted"] >= 3 and s["requests_served"] >= 3, s
assert t["passive_opens"] == s["connections_accepted"], s
' "$WORK/stats.json"

# /tcp: what the kernel does not show us (sequence numbers, send window, buffers) is null, and
# /tcp.html says "not available", as /stats does: never zeros that look measured.
curl_ns -o "$WORK/tcp.json" "$URL/tcp"
check "/tcp: the kernel's unknown sequence numbers and windows are null" python3 -c '
import json, sys
conns = json.load(open(sys.argv[1]))["connections"]
assert conns, conns
for c in conns:
    for k in ("snd_una", "snd_nxt", "rcv_nxt", "snd_wnd", "buffer_bytes"):
        assert c[k] is None, (k, c)
' "$WORK/tcp.json"
check "/tcp.html: those are not available" grep -q "not available" <<<"$(curl_ns "$URL/tcp.html")"
# The connection table (SIGUSR1, exit) says the same with "-": a connection held open while it
# is printed shows its real state and no invented sequence numbers.
lab_exec timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; sleep 5' &
holder=$!
held_open() { [ "$(lab_exec ss -Htn state established '( sport = :8080 )' | wc -l)" -ge 1 ]; }
wait_for 5 held_open
before=$(wc -l <"$SERVER_LOG")
kill -USR1 "$SERVER_PID"
table_line() { tail -n +"$((before + 1))" "$SERVER_LOG" | grep -m1 '^  ESTABLISHED .*127.0.0.1:8080 >'; }
wait_for 5 table_line >/dev/null
line=$(table_line)
check "SIGUSR1's connection table: '-' for the kernel's sequence numbers, never 0 [$line]" \
  grep -qE ' snd\.una - snd\.nxt - rcv\.nxt -$' <<<"$line"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# 64 MiB byte-exact: /bytes/N is byte i = i % 251 (http/site.cpp); compared whole.
N=$((64 << 20))
curl_ns -o "$WORK/big" "$URL/bytes/$N"
size=$(stat -c %s "$WORK/big" 2>/dev/null || echo 0)
check "64 MiB /bytes/$N arrives whole [$size bytes]" test "$size" = "$N"
check "64 MiB body is byte-exact (byte i = i % 251)" python3 -c '
import sys
n = int(sys.argv[2])
pattern = bytes(range(251))
want = (pattern * (n // 251 + 1))[:n]
assert open(sys.argv[1], "rb").read() == want
' "$WORK/big" "$N"
rm -f "$WORK/big"

# The services run on the same provider: echo answers what it is sent.
echoed=$(lab_exec timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7007; echo kernel-echo >&3; head -n1 <&3')
check "echo (--echo 7007) on the kernel's TCP answers [$echoed]" test "$echoed" = kernel-echo
# A client that reads slower than it sends fills the kernel's send buffer: a send() then takes
# fewer bytes than the echo read, and those must still come back, in order.
head -c 5000000 /dev/urandom >"$WORK/echo.in"
lab_exec timeout 60 python3 - "$WORK/echo.in" "$WORK/echo.out" <<'PYEOF'
import socket, sys, threading, time
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("127.0.0.1", 7007))
def writer():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=writer, daemon=True).start()
time.sleep(2)  # read nothing for a while: the echo's sends meet a full kernel buffer
out = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
open(sys.argv[2], "wb").write(out)
PYEOF
check "echo on the kernel's TCP to a slow reader: all 5 MB back, in order [$(stat -c %s "$WORK/echo.out" 2>/dev/null) bytes]" \
  cmp -s "$WORK/echo.in" "$WORK/echo.out"

# A request body larger than the session's 64 KiB input buffer, sent in one write: all of it is
# queued in the kernel before the server reads, and the edge-triggered epoll reports it once.
post_one_write() {  # post_one_write SIZE: 200 and the body echoed back, within 10 s
  lab_exec timeout 20 python3 -c '
import socket, sys
n = int(sys.argv[1])
body = bytes(i % 251 for i in range(n))
s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % n + body)
got = b""
while True:
    piece = s.recv(65536)
    if not piece:
        break
    got += piece
head, _, rest = got.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 200 "), head[:80]
assert rest == body, (len(rest), n)
' "$1"
}
check "a 100 KB body in one write is echoed whole (200, no stall)" post_one_write 100000
check "a 1 MiB body in one write is echoed whole (200, no stall)" post_one_write $((1 << 20))

# SIGTERM: exits 0 and prints its goodbye report.
stop_server; rc=$?
check "SIGTERM exits 0 [$rc]" test "$rc" = 0
check "the exit report says kernel TCP" grep -q '^tcplab: kernel TCP:' "$SERVER_LOG"

# --max-body is an HTTP setting and reaches the server on the kernel's TCP too.
start_server --kernel-tcp 127.0.0.1:8080 --max-body 100 || { not_ok "server starts with --max-body"; exit 1; }
ok "--max-body is accepted with --kernel-tcp"
post_status() {  # post_status SIZE: the status of POST /echo with a body of SIZE bytes
  curl_ns -o /dev/null -w '%{http_code}' --data-binary "$(head -c "$1" /dev/zero | tr '\0' a)" "$URL/echo"
}
status=$(post_status 101)
check "--max-body 100: a 101-byte body gets 413 [$status]" test "$status" = 413
status=$(post_status 100)
check "--max-body 100: a 100-byte body gets 200 [$status]" test "$status" = 200
stop_server

# --no-nagle reaches the services on the kernel's TCP as it does on ours (TCP_NODELAY on their
# sockets; without it they keep Nagle's algorithm, like ours, and only HTTP gets TCP_NODELAY).
# A write-write-read client: each round sends two small writes and reads both echoes. With Nagle
# on the echo's second write may wait for the client's delayed ACK (about 40 ms on Linux), so
# with --no-nagle no round may take that long.
start_server --kernel-tcp 127.0.0.1:8080 --echo 7007 --no-nagle || { not_ok "server starts with --no-nagle"; exit 1; }
ok "--no-nagle is accepted with --kernel-tcp"
slowest=$(lab_exec timeout 30 python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 7007), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
slowest = 0.0
for _ in range(100):
    start = time.monotonic()
    s.send(b"a" * 10)
    s.send(b"b" * 10)
    got = 0
    while got < 20:
        got += len(s.recv(100))
    slowest = max(slowest, time.monotonic() - start)
print(int(slowest * 1000))
')
check "--no-nagle: echo write-write-read never waits for a delayed ACK [slowest round $slowest ms]" \
  test -n "$slowest" -a "${slowest:-99}" -lt 20
stop_server
check "--help says --no-nagle reaches the services with --kernel-tcp" \
  bash -c '"$1" serve --help | tr "\n" " " | grep -q "unless --no-nagle turns it off for them too"' _ "$TCPLAB"

# The idle timeout leaves a slow reader alone while it is still taking a response (every ACK
# of new data is activity; the kernel's socket tells it from SIOCOUTQ and TCP_INFO), and still
# resets one that takes nothing more. A 4 KiB receive buffer read 4 KiB every 3 ms moves about
# 50 KB/s here, so 200,000 bytes take several times the 1 s timeout.
start_server --kernel-tcp 127.0.0.1:8080 --keepalive-timeout 1 --max-requests 100000 ||
  { not_ok "server starts with --keepalive-timeout 1"; exit 1; }
slow=$(lab_exec timeout 60 python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /bytes/200000 HTTP/1.1\r\nHost: x\r\n\r\n")
got, start, end = b"", time.monotonic(), "timeout"
try:
    while time.monotonic() - start < 50:
        b = s.recv(4096)
        if not b:
            end = "eof"
            break
        got += b
        time.sleep(0.003)
        if len(got.partition(b"\r\n\r\n")[2]) >= 200000:
            end = "whole"
            break
except Exception as e:
    end = type(e).__name__
print(end, len(got.partition(b"\r\n\r\n")[2]), round(time.monotonic() - start, 1))
')
read -r slow_end slow_body slow_secs <<<"$slow"
check "--keepalive-timeout 1: a slow reader still taking the response gets all of it, no reset [$slow]" \
  test "$slow_end" = whole -a "$slow_body" = 200000
check "the slow read took longer than the idle timeout, so the timeout was tested [$slow_secs s]" \
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 2 else 1)' "${slow_secs:-0}"
stopped=$(lab_exec timeout 30 python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /bytes/3000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(4096)
time.sleep(4)
try:
    while s.recv(65536):
        pass
    print("eof")
except ConnectionResetError:
    print("reset")
')
check "a reader that takes nothing more is still reset after the idle timeout [$stopped]" test "$stopped" = reset

# Pipelined requests beyond what one callback answers (5,000) are answered too, in order.
piped=$(lab_exec timeout 30 python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
n = 5001
s.sendall(b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % (i % 10) for i in range(n)))
buf = b""
while buf.count(b"HTTP/1.1 200") < n:
    b = s.recv(1 << 20)
    if not b:
        break
    buf += b
print(buf.count(b"HTTP/1.1 200"))
')
check "5,001 pipelined requests in one write get 5,001 responses [$piped]" test "$piped" = 5001
stop_server
