#!/usr/bin/env bash
# `tcplab get`: tcplab as the HTTP client on its own TCP, the kernel as the server
# (python3 -m http.server inside the lab namespace, started and stopped by PID). Two URLs on
# one kept connection, --keepalive off (two connections, the server closes first),
# --http1.0 with and without keep-alive, -o writing the exact bytes (to stdout with -o -, also
# into a slow reader, which closes our window instead of stalling tcplab; one file named twice
# is a usage error), an HTTP/1.0 server that closes first, a refused port (RST,
# and a firewall's ICMP reject), a timeout, usage errors, and TIME-WAIT on our side when we
# close first, held until it ends.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
for tool in python3 nft; do
  command -v "$tool" >/dev/null ||
    { not_ok "$(basename "$0"): $tool missing (tests/setup.sh installs it)"; exit 1; }
done

HOST=192.0.2.1   # the kernel's side of the TUN (tcplab's default --host-ip)
PORT11=8000      # python http.server speaking HTTP/1.1 (keep-alive)
PORT10=8010      # python http.server speaking HTTP/1.0 (closes after each response)
WORK=$(mktemp -d)
PY_PIDS=()

get_cleanup() {
  stop_pids "${PY_PIDS[@]}"
  rm -rf "$WORK"
  lab_cleanup
}
trap get_cleanup EXIT

# start_python PORT PROTOCOL: a kernel HTTP server in the namespace, serving $WORK/site.
start_python() {
  ip netns exec "$LAB_NAME" python3 -m http.server --bind 0.0.0.0 --directory "$WORK/site" --protocol "$2" "$1" \
    >"$WORK/python-$1.log" 2>&1 &
  PY_PIDS+=($!)
  for _ in $(seq 100); do
    lab_exec ss -ltnH "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.1
  done
  echo "# python3 -m http.server on port $1 did not start:"; cat "$WORK/python-$1.log"
  return 1
}

# get ARGS...: tcplab get in the namespace (bounded in time); stdout+stderr -> $OUT, exit -> $RC.
get() {
  OUT=$(lab_exec timeout 60 "$TCPLAB" get "$@" 2>&1); RC=$?
}
# our_ports: the local ports of the connections get reported closing, from $OUT.
our_ports() { sed -nE 's/^conn [0-9]+ \(192\.0\.2\.2:([0-9]+) > .*/\1/p' <<<"$OUT"; }
# kernel_time_wait PORT: the kernel holds a TIME-WAIT entry for its connection to our PORT.
kernel_time_wait() { lab_exec ss -tanH state time-wait "( dport = :$1 )" | grep -q .; }
# syns: connections we opened (active OPENs, so a retransmitted SYN counts once), from --trace.
syns() { grep -c "CLOSED -> SYN-SENT" <<<"$OUT"; }

mkdir -p "$WORK/site"
head -c 300000 /dev/urandom >"$WORK/site/big.bin"
head -c 3000000 /dev/urandom >"$WORK/site/slow.bin"
echo "hello from the kernel's server" >"$WORK/site/a.txt"
: >"$WORK/site/empty.txt"
lab_up || { not_ok "lab namespace"; exit 1; }
start_python $PORT11 HTTP/1.1 || { not_ok "python3 http.server (HTTP/1.1) starts"; exit 1; }
start_python $PORT10 HTTP/1.0 || { not_ok "python3 http.server (HTTP/1.0) starts"; exit 1; }
U11=http://$HOST:$PORT11
U10=http://$HOST:$PORT10

# ---------------------------------------------------------------- keep-alive: one connection
start=$(date +%s%N)
get --trace --msl 1 "$U11/a.txt" "$U11/big.bin"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "keep-alive: both URLs fetched, exit 0 [rc $RC]" test "$RC" = 0
check "keep-alive: the first URL opens conn 1" grep -q "a.txt: HTTP/1.1 200 OK.*conn 1 (new)" <<<"$OUT"
check "keep-alive: the second URL reuses conn 1" grep -q "big.bin: HTTP/1.1 200 OK.*conn 1 (reused)" <<<"$OUT"
check "keep-alive: the trace shows one active open [got $(syns)]" test "$(syns)" = 1
check "keep-alive: the body size is reported" grep -q "body 300000 bytes (Content-Length)" <<<"$OUT"
check "TIME-WAIT: we closed first and say so" \
  grep -q "we closed first: TIME-WAIT on our side for 2 x MSL = 2 s (--msl)" <<<"$OUT"
check "TIME-WAIT: our TCB went FIN-WAIT-1 first" grep -q "ESTABLISHED -> FIN-WAIT-1" <<<"$OUT"
check "TIME-WAIT: tcplab stayed until it ended (TIME-WAIT -> CLOSED in the trace)" \
  grep -q "TIME-WAIT -> CLOSED" <<<"$OUT"
check "TIME-WAIT: the run lasted at least 2 x MSL [took $took_ms ms]" test "$took_ms" -ge 2000
port=$(our_ports | head -1)
no_kernel_time_wait() { [ -n "$1" ] && ! kernel_time_wait "$1"; }
check "TIME-WAIT: the kernel (the passive closer) holds none for port ${port:-?}" no_kernel_time_wait "$port"

# ---------------------------------------------------------------- -L: a directory's redirect
# python's http.server answers a directory asked for without its slash with 301 and Location:
# /dir/; -L follows it on the same kept connection and writes only the index page.
mkdir -p "$WORK/site/dir"
echo "the directory's index" >"$WORK/site/dir/index.html"
get --msl 0.1 "$U11/dir"
check "without -L: the 301 is the answer, exit 0 [rc $RC]" \
  bash -c '[ "$1" = 0 ] && grep -q "/dir: HTTP/1.1 301 Moved Permanently" <<<"$2"' _ "$RC" "$OUT"
get --msl 0.1 -L -o "$WORK/dir.out" "$U11/dir"
check "-L: exit 0 [rc $RC]" test "$RC" = 0
check "-L: the 301 is printed with where it leads" \
  grep -q "/dir: HTTP/1.1 301 Moved Permanently.* -> redirect to $U11/dir/ (-L); conn 1 (new)" <<<"$OUT"
check "-L: the Location is fetched on the same connection" \
  grep -q "/dir/: HTTP/1.1 200 OK.* -> $WORK/dir.out; conn 1 (reused)" <<<"$OUT"
check "-L: -o holds the index page only" cmp -s "$WORK/dir.out" "$WORK/site/dir/index.html"

# ---------------------------------------------------------------- --keepalive off
get --trace --keepalive off "$U11/a.txt" "$U11/a.txt"
check "--keepalive off: exit 0 [rc $RC]" test "$RC" = 0
check "--keepalive off: a new connection per URL (conn 1, conn 2)" \
  bash -c 'grep -q "conn 1 (new)" <<<"$1" && grep -q "conn 2 (new)" <<<"$1"' _ "$OUT"
check "--keepalive off: two active opens [got $(syns)]" test "$(syns)" = 2
check "--keepalive off: we sent Connection: close" grep -q "we sent Connection: close" <<<"$OUT"
check "--keepalive off: the server closed first, so TIME-WAIT is the server's" \
  grep -q "the server closed first: TIME-WAIT is on the server's side" <<<"$OUT"
check "--keepalive off: no TIME-WAIT on our side" bash -c '! grep -q "TIME-WAIT on our side" <<<"$1"' _ "$OUT"
ports=$(our_ports | tr '\n' ' ')
held=0
for p in $ports; do kernel_time_wait "$p" && held=$((held + 1)); done
check "--keepalive off: ss in the namespace shows the kernel's TIME-WAIT for both [$held of: $ports]" \
  test "$held" = 2

# ---------------------------------------------------------------- HTTP/1.0
get --trace --http1.0 "$U11/a.txt" "$U11/a.txt"
check "--http1.0: exit 0 [rc $RC]" test "$RC" = 0
check "--http1.0: the server saw HTTP/1.0 requests" grep -q '"GET /a.txt HTTP/1.0" 200' "$WORK/python-$PORT11.log"
check "--http1.0: closes after each response (two active opens) [got $(syns)]" test "$(syns)" = 2
check "--http1.0: says why" grep -q "HTTP/1.0 request without Connection: keep-alive" <<<"$OUT"
get --trace --msl 0.5 --http1.0 --keepalive on "$U11/a.txt" "$U11/a.txt"
check "--http1.0 --keepalive on: keep-alive negotiated, one connection [got $(syns) active opens]" \
  bash -c 'test "$2" = 1 && grep -q "conn 1 (reused)" <<<"$1"' _ "$OUT" "$(syns)"

# ---------------------------------------------------------------- an HTTP/1.0 server
get --trace "$U10/a.txt" "$U10/a.txt"
check "HTTP/1.0 server: exit 0 [rc $RC]" test "$RC" = 0
check "HTTP/1.0 server: its response without keep-alive ends the connection" \
  grep -q "HTTP/1.0 response without Connection: keep-alive" <<<"$OUT"
check "HTTP/1.0 server: two connections [got $(syns) active opens]" test "$(syns)" = 2
check "HTTP/1.0 server: the server closed first" grep -q "the server closed first" <<<"$OUT"

# ---------------------------------------------------------------- -o writes the exact bytes
get --msl 0.5 "$U11/big.bin" "$U11/a.txt" -o "$WORK/big.out" -o "$WORK/a.out"
check "-o: exit 0 [rc $RC]" test "$RC" = 0
want=$(sha256sum <"$WORK/site/big.bin" | cut -d' ' -f1)
got=$(sha256sum <"$WORK/big.out" 2>/dev/null | cut -d' ' -f1)
check "-o: the first file has the served bytes (sha256 ${got:0:12})" test "$want" = "$got"
check "-o: the second file pairs with the second URL" cmp -s "$WORK/site/a.txt" "$WORK/a.out"
get --msl 0.5 "$U11/a.txt" "$U11/big.bin" -o "$WORK/only.out"
check "-o: fewer files than URLs: the rest is discarded [rc $RC]" \
  bash -c 'test "$1" = 0 && cmp -s "$2" "$3"' _ "$RC" "$WORK/site/a.txt" "$WORK/only.out"
# With --offload every segment get sends leaves its checksum to the kernel (NEEDS_CSUM): a wrong
# one would be dropped by the server's kernel, and the request would time out.
get --offload --msl 0.5 "$U11/big.bin" -o "$WORK/big-offload.out"
got=$(sha256sum <"$WORK/big-offload.out" 2>/dev/null | cut -d' ' -f1)
check "--offload: exit 0 and the served bytes [rc $RC, sha256 ${got:0:12}]" \
  test "$RC" = 0 -a "$want" = "$got"
# -o -: the body alone on stdout, like curl's; the result lines and the trace go to stderr.
lab_exec timeout 60 "$TCPLAB" get --msl 0.5 --trace -o - "$U11/big.bin" \
  >"$WORK/stdout.bin" 2>"$WORK/stderr.txt"; RC=$?
check "-o -: exit 0 and stdout holds exactly the body [rc $RC]" \
  bash -c 'test "$1" = 0 && cmp -s "$2" "$3"' _ "$RC" "$WORK/site/big.bin" "$WORK/stdout.bin"
check "-o -: the result line (-> stdout) and the trace are on stderr" \
  bash -c 'grep -q "big.bin: HTTP/1.1 200 OK.* -> stdout;" "$1" && grep -q "CLOSED -> SYN-SENT" "$1"' \
  _ "$WORK/stderr.txt"
# -o into a file that refuses the bytes (/dev/full: ENOSPC): exit 1, the error on stderr, and
# the result line does not claim the body was saved.
lab_exec timeout 60 "$TCPLAB" get --msl 0.5 -o /dev/full "$U11/a.txt" >"$WORK/full.out" 2>"$WORK/full.err"; RC=$?
check "-o /dev/full: exit 1, 'cannot write' on stderr, the result line says writing failed [rc $RC]" \
  bash -c 'test "$1" = 1 && grep -q "cannot write /dev/full" "$2" && grep -q -- "-> /dev/full (writing it failed)" "$3"' \
  _ "$RC" "$WORK/full.err" "$WORK/full.out"
lab_exec timeout 60 "$TCPLAB" get --msl 0.5 -o - -o - "$U11/a.txt" "$U11/big.bin" >"$WORK/stdout2.bin" \
  2>/dev/null; RC=$?
check "-o - twice: the bodies follow each other on stdout, in URL order [rc $RC]" \
  bash -c 'test "$1" = 0 && cat "$2" "$3" | cmp -s - "$4"' _ "$RC" "$WORK/site/a.txt" "$WORK/site/big.bin" \
  "$WORK/stdout2.bin"
# -o - into a reader that sleeps first: tcplab never waits in write(). While the pipe is full it
# stops reading its socket, so it advertises a zero window and answers the server's window
# probes (RFC 9293 §3.8.6.1) instead of falling silent, and reads again once the reader drains.
# A small receive buffer closes the window within a few hundred KB.
lab_exec timeout 60 "$TCPLAB" get --msl 0.5 --trace --recv-buffer 65536 -o - "$U11/slow.bin" \
  2>"$WORK/slow.err" | (sleep 3; sha256sum) >"$WORK/slow.sum"; RC=${PIPESTATUS[0]}
want=$(sha256sum <"$WORK/site/slow.bin" | cut -d' ' -f1)
got=$(cut -d' ' -f1 <"$WORK/slow.sum")
check "-o - to a slow reader: exit 0 and the body's hash is right [rc $RC, sha256 ${got:0:12}]" \
  test "$RC" = 0 -a "$want" = "$got"
check "-o - to a slow reader: the session stops reading while the output is full" \
  grep -q "the body's output is full; not reading until it drains" "$WORK/slow.err"
zero_windows=$(grep -cE " Out 192\.0\.2\.2:[0-9]+ > 192\.0\.2\.1:$PORT11 .* win 0( |$)" "$WORK/slow.err")
check "-o - to a slow reader: a zero window advertised, and probes answered [$zero_windows segments]" \
  test "$zero_windows" -ge 2
check "-o - to a slow reader: reading resumes when the output drains" \
  grep -q "the body's output drained; reading again" "$WORK/slow.err"
check "--help says a slow reader closes the window" \
  bash -c '"$1" get --help | grep -q "the server sees a zero window"' _ "$TCPLAB"
# -o FIFO with no reader yet: tcplab says what it waits for (the open would otherwise block
# without a word), then the body goes through whole once a reader comes.
rm -f "$WORK/body.fifo"; mkfifo "$WORK/body.fifo"
lab_exec timeout 60 "$TCPLAB" get --msl 0.5 -o "$WORK/body.fifo" "$U11/big.bin" >/dev/null 2>"$WORK/fifo.err" &
get_pid=$!
for _ in $(seq 50); do grep -q "waiting for a process to read the FIFO" "$WORK/fifo.err" && break; sleep 0.1; done
noticed=$(grep -c "waiting for a process to read the FIFO $WORK/body.fifo (the body goes there)" "$WORK/fifo.err")
got=$(timeout 60 sha256sum "$WORK/body.fifo" | cut -d' ' -f1)  # opened under timeout
wait "$get_pid"; RC=$?
want=$(sha256sum <"$WORK/site/big.bin" | cut -d' ' -f1)
check "-o FIFO with no reader: says it waits, then the body whole [rc $RC, notice $noticed, sha256 ${got:0:12}]" \
  test "$RC" = 0 -a "$noticed" = 1 -a "$want" = "$got"
# One file named by two -o would get the second body over the start of the first.
get --msl 0.5 "$U11/big.bin" "$U11/a.txt" -o "$WORK/same.out" -o "$WORK/./same.out"
check "-o FILE twice: usage error before anything is fetched [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "name the same file" <<<"$2" && ! test -e "$3"' _ "$RC" "$OUT" \
  "$WORK/same.out"
echo old >"$WORK/linked.out"
ln -s "$WORK/linked.out" "$WORK/link.out"
get --msl 0.5 "$U11/big.bin" "$U11/a.txt" -o "$WORK/linked.out" -o "$WORK/link.out"
check "-o FILE and -o a symlink to it: usage error [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "name the same file" <<<"$2"' _ "$RC" "$OUT"
get --msl 0.5 "$U11/a.txt" "$U11/a.txt" "$U11/a.txt" -o /dev/null -o /dev/null -o "$WORK/third.out"
check "-o /dev/null may repeat [rc $RC]" bash -c 'test "$1" = 0 && cmp -s "$2" "$3"' _ "$RC" \
  "$WORK/site/a.txt" "$WORK/third.out"
get "$U11/a.txt" -o /dev/null --pcap "$WORK/run.out" --trace-json "$WORK/./run.out"
check "--pcap F --trace-json F: usage error, file not created [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "name the same file" <<<"$2" && ! test -e "$3"' \
  _ "$RC" "$OUT" "$WORK/run.out"
get "$U11/a.txt" -o - --trace-json -
check "-o - with --trace-json -: usage error [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "both write to stdout" <<<"$2"' _ "$RC" "$OUT"
get "$U11/a.txt" --pcap -
check "--pcap -: refused with the reason [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "a capture cannot go to stdout" <<<"$2" && ! test -e -' _ "$RC" "$OUT"
get "$U11/a.txt" --backlog 1
check "--backlog (a listening server's flag): usage error naming serve [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "a flag of tcplab serve" <<<"$2"' _ "$RC" "$OUT"
get "http://192.0.2.2:8000/" --pcap "$WORK/own.pcap"
check "the stack's own address: usage error before the capture is made, not a handshake that waits [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "names the stack.s own address 192.0.2.2" <<<"$2" && ! test -e "$3"' \
  _ "$RC" "$OUT" "$WORK/own.pcap"
# RFC 1122 §4.2.3.10: an OPEN to a multicast or broadcast address is refused as an error.
for bad in 224.0.0.1 192.0.2.255; do
  get "http://$bad/" --pcap "$WORK/bad.pcap"
  check "$bad: usage error naming RFC 1122 §4.2.3.10, no SYN, no capture [rc $RC]" \
    bash -c 'test "$1" = 2 && grep -q "names $3, which .*RFC 1122 §4.2.3.10" <<<"$2" && ! test -e "$4"' \
    _ "$RC" "$OUT" "$bad" "$WORK/bad.pcap"
done
get --msl 0.5 "$U11/missing.txt"
check "a 404 is a response: exit 0 [rc $RC]" \
  bash -c 'test "$1" = 0 && grep -q "HTTP/1.1 404" <<<"$2"' _ "$RC" "$OUT"

# ---------------------------------------------------------------- failures
get "http://$HOST:9/"
check "refused port: exit 1 [rc $RC]" test "$RC" = 1
check "refused port: a clear message" \
  grep -q "connection refused: $HOST:9 answered our SYN with RST" <<<"$OUT"
# -o FILE that exists keeps its contents when its URL fails (as curl's -o: nothing lost), and
# an empty body that did arrive still replaces them.
printf 'the old contents\n' >"$WORK/kept.out"
get -o "$WORK/kept.out" "http://$HOST:9/"
check "-o an existing file, the URL refused: exit 1, the file as it was [rc $RC]" \
  bash -c 'test "$1" = 1 && test "$(cat "$2")" = "the old contents"' _ "$RC" "$WORK/kept.out"
printf 'the old contents\n' >"$WORK/emptied.out"
get --msl 0.5 -o "$WORK/emptied.out" "$U11/empty.txt"
check "-o an existing file, an empty body: the file is emptied [rc $RC]" \
  bash -c 'test "$1" = 0 && test ! -s "$2"' _ "$RC" "$WORK/emptied.out"
# A firewall's reject rule (nftables is per namespace) answers our SYN with ICMP: port and
# protocol unreachable are hard errors (RFC 1122 §4.2.3.9) that end the active open at once,
# as curl's "Connection refused"; host unreachable is soft: named in the trace, SYN retried.
REJECT_PORT=8099
lab_exec nft add table inet getlab
lab_exec nft add chain inet getlab input '{ type filter hook input priority 0; }'
lab_exec nft add rule inet getlab input tcp dport $REJECT_PORT reject with icmp type port-unreachable
get --timeout 20 --trace "http://$HOST:$REJECT_PORT/"
check "ICMP port unreachable: exit 1 [rc $RC]" test "$RC" = 1
check "ICMP port unreachable: a clear message" \
  grep -q "connection refused: ICMP port unreachable came back for our SYN to $HOST:$REJECT_PORT" <<<"$OUT"
check "ICMP port unreachable: the connection ends on the first SYN's answer, never retried" \
  bash -c 'grep -q "SYN-SENT -> CLOSED (RFC 1122 §4.2.3.9 (ICMP port unreachable from $1 for our" <<<"$2" &&
    ! grep -q "retransmission fired" <<<"$2" && ! grep -q "icmp-unhandled-type" <<<"$2"' _ "$HOST" "$OUT"
lab_exec nft flush chain inet getlab input
lab_exec nft add rule inet getlab input tcp dport $REJECT_PORT reject with icmp type prot-unreachable
get --timeout 20 "http://$HOST:$REJECT_PORT/"
check "ICMP protocol unreachable: exit 1 with a clear message [rc $RC]" bash -c 'test "$1" = 1 &&
  grep -q "no TCP at .*: ICMP protocol unreachable came back for our SYN" <<<"$2"' _ "$RC" "$OUT"
lab_exec nft flush chain inet getlab input
lab_exec nft add rule inet getlab input tcp dport $REJECT_PORT reject with icmp type host-unreachable
get --timeout 2 --trace "http://$HOST:$REJECT_PORT/"
check "ICMP host unreachable: soft, dropped by name, the SYN retried until --timeout [rc $RC]" \
  bash -c 'test "$1" = 1 && grep -q "timed out after 2 s" <<<"$2" && grep -q "retransmission fired" <<<"$2" &&
    grep -q "drop icmp-soft-error ICMP host unreachable (code 1) .* in SYN-SENT" <<<"$2"' _ "$RC" "$OUT"
check "ICMP host unreachable: the timeout names it (RFC 1122 §4.2.3.9: available to the application)" \
  grep -q "no SYN-ACK from $HOST:$REJECT_PORT; ICMP host unreachable came back from" <<<"$OUT"
lab_exec nft delete table inet getlab
get --timeout 1 "http://192.0.2.3:$PORT11/"
check "no answer: exit 1 [rc $RC]" test "$RC" = 1
check "no answer: timed out with a clear message" \
  grep -q "timed out after 1 s waiting for the connection" <<<"$OUT"
get "$U11/a.txt" -o "$WORK/x" -o "$WORK/y"
check "more -o than URLs: usage error [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "2 -o files for 1 URLs" <<<"$2"' _ "$RC" "$OUT"
get "https://$HOST/"
check "https: usage error with the reason [rc $RC]" \
  bash -c 'test "$1" = 2 && grep -q "only http:// URLs" <<<"$2"' _ "$RC" "$OUT"
get
check "no URL: usage error [rc $RC]" test "$RC" = 2

# ---------------------------------------------------------------- hostile servers
# A kernel server that answers in one fixed, faulty way per port: trailing bytes after a
# complete response, a kept connection closed with our next request unread (the kernel sends
# RST), and faulty framing or field values that must not keep a connection in use.
cat >"$WORK/hostile.py" <<'PY'
import socket, sys, threading, time
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
def read_request(c, buf=b""):
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None, buf
        buf += d
    i = buf.index(b"\r\n\r\n") + 4
    return buf[:i], buf[i:]
def stream_after(response):  # a complete response, then a byte every 0.3 s, never a FIN
    def serve(c):
        read_request(c); c.sendall(response)
        for _ in range(200):
            c.send(b"z"); time.sleep(0.3)
    return serve
def idle_close(c):  # closes 50 ms after its response, while our next request is unread
    read_request(c); c.sendall(OK); time.sleep(0.05); c.close()
def answer_each(response):  # the same response to every request, connection kept
    def serve(c):
        rest = b""
        while True:
            req, rest = read_request(c, rest)
            if req is None: return
            print(req.split(b"\r\n")[0].decode(), flush=True)
            c.sendall(response)
    return serve
def choices(c):  # a 300 for "/" naming its preferred choice, and that choice
    rest = b""
    while True:
        req, rest = read_request(c, rest)
        if req is None: return
        c.sendall(b"HTTP/1.1 300 Multiple Choices\r\nLocation: /chosen\r\nContent-Length: 0\r\n\r\n"
                  if req.startswith(b"GET / ") else OK)
MODES = {
    "choices": choices,
    "trailing-close": stream_after(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n"
                                   b"\r\nhello"),
    "trailing-keepalive": stream_after(OK),
    "idle-close": idle_close,
    "nul-close": answer_each(b"HTTP/1.1 200 OK\r\nConnection: close\x00\r\nContent-Length: 5\r\n"
                             b"\r\nhello"),
    "chunked-1.0": answer_each(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               b"Connection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    "cl-te": answer_each(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    "status-799": answer_each(b"HTTP/1.1 799 Library Error\r\nLocation: /elsewhere\r\n"
                              b"Content-Length: 5\r\n\r\nhello"),
}
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
serve = MODES[sys.argv[2]]
while True:
    c, _ = s.accept()
    threading.Thread(target=lambda c=c: (serve(c), c.close()), daemon=True).start()
PY
# start_hostile PORT MODE
start_hostile() {
  ip netns exec "$LAB_NAME" timeout 120 python3 "$WORK/hostile.py" "$1" "$2" >"$WORK/hostile-$1.log" 2>&1 &
  PY_PIDS+=($!)
  for _ in $(seq 100); do
    lab_exec ss -ltnH "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.1
  done
  echo "# hostile server $2 on port $1 did not start:"; cat "$WORK/hostile-$1.log"
  return 1
}
start_hostile 8101 trailing-close && start_hostile 8102 trailing-keepalive && start_hostile 8103 idle-close &&
  start_hostile 8104 nul-close && start_hostile 8105 chunked-1.0 && start_hostile 8106 cl-te &&
  start_hostile 8107 choices && start_hostile 8108 status-799 ||
  { not_ok "hostile servers start"; exit 1; }

# Bytes after a response are not progress: the 1 s grace, then --timeout, bound the close.
start=$(date +%s%N)
get --trace --msl 0.5 --timeout 2 "http://$HOST:8101/"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "trailing bytes after Connection: close: exit 0 within grace + --timeout [rc $RC, $took_ms ms]" \
  bash -c 'test "$1" = 0 && test "$2" -lt 6000 &&
    grep -q "we close (the server did not close within 1 s)" <<<"$3" &&
    grep -q "bytes after the response on a closing connection; discarding them" <<<"$3"' \
  _ "$RC" "$took_ms" "$OUT"
start=$(date +%s%N)
get --trace --msl 0.5 --timeout 2 "http://$HOST:8102/"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "trailing bytes on a kept connection: our close aborted after --timeout, exit 0 [rc $RC, $took_ms ms]" \
  bash -c 'test "$1" = 0 && test "$2" -lt 5000 &&
    grep -q "the close did not finish within 2 s (--timeout); the server kept sending" <<<"$3"' \
  _ "$RC" "$took_ms" "$OUT"
# Ctrl-C once every URL has its answer: the exit is by those answers.
lab_exec timeout --preserve-status -s INT 1.5 "$TCPLAB" get --timeout 20 "http://$HOST:8102/" \
  >"$WORK/int.out" 2>&1; RC=$?
check "Ctrl-C while only the close is left: exit 0, says every URL was fetched [rc $RC]" \
  bash -c 'test "$1" = 0 && grep -q "interrupted while closing a connection (every URL was fetched)" "$2"' \
  _ "$RC" "$WORK/int.out"

# RFC 9112 §9.3.1: a RST on the reused connection before any response byte: retried once.
get --trace --msl 0.5 "http://$HOST:8103/a" "http://$HOST:8103/b"
check "RST on a reused connection before the response: retried on a new one, exit 0 [rc $RC]" \
  bash -c 'test "$1" = 0 && grep -q "/b: HTTP/1.1 200 OK.*conn 2 (new), retried: the kept connection" <<<"$2" &&
    grep -q "reset by the server (RST) before any response; retrying on a new connection" <<<"$2"' \
  _ "$RC" "$OUT"

# RFC 9110 §5.5, RFC 9112 §6.1, §6.3 rule 3: faulty field values and framing never reuse.
get --msl 0.5 "http://$HOST:8104/a" "http://$HOST:8104/b"
check "NUL in Connection: close: a bad response naming it, no reuse [rc $RC]" \
  bash -c 'test "$1" = 1 && grep -q "control character in a header field value .*close\\\\x00" <<<"$2" &&
    ! grep -q "(reused)" <<<"$2"' _ "$RC" "$OUT"
get --msl 0.5 "http://$HOST:8105/a" "http://$HOST:8105/b"
check "HTTP/1.0 with Transfer-Encoding: processed, then not reused [rc $RC]" \
  bash -c 'test "$1" = 0 && grep -q "faulty framing (RFC 9112 §6.1)" <<<"$2" &&
    grep -q "/b: .*conn 2 (new)" <<<"$2"' \
  _ "$RC" "$OUT"
get --msl 0.5 "http://$HOST:8106/a"
check "CL and TE together: the URL fails naming both, the connection is aborted [rc $RC]" \
  bash -c 'test "$1" = 1 && grep -q "both Transfer-Encoding and Content-Length" <<<"$2" &&
    grep -q "ended (aborted)" <<<"$2"' \
  _ "$RC" "$OUT"

# RFC 9110 §15.4.1: a 300's Location is the server's preferred choice; -L follows it, as curl -L.
get --msl 0.2 -L -o "$WORK/chosen.out" "http://$HOST:8107/"
check "-L: a 300 with a Location is followed to it, on the same connection [rc $RC]" \
  bash -c 'test "$1" = 0 && grep -q "/: HTTP/1.1 300 Multiple Choices.* -> redirect to http://$3:8107/chosen (-L)" <<<"$2" &&
    grep -q "/chosen: HTTP/1.1 200 OK.*conn 1 (reused)" <<<"$2" && test "$(cat "$4")" = hello' \
  _ "$RC" "$OUT" "$HOST" "$WORK/chosen.out"
get --msl 0.2 "http://$HOST:8107/"
check "without -L: the 300 is the answer, exit 0 [rc $RC]" \
  bash -c 'test "$1" = 0 && grep -q "HTTP/1.1 300 Multiple Choices" <<<"$2" && ! grep -q "redirect to" <<<"$2"' \
  _ "$RC" "$OUT"

# RFC 9110 §15: a code above 599 is no HTTP status; it is read as a 5xx (its Location not followed).
get --msl 0.2 -L -o "$WORK/799.out" "http://$HOST:8108/"
check "status 799: printed as not an HTTP status code, read as a 5xx, body kept [rc $RC]" \
  bash -c 'test "$1" = 0 &&
    grep -q "/: HTTP/1.1 799 Library Error (not an HTTP status code: read as a 5xx" <<<"$2" &&
    ! grep -q "redirect to" <<<"$2" && test "$(cat "$3")" = hello' \
  _ "$RC" "$OUT" "$WORK/799.out"

# ---------------------------------------------------------------- quick ACK
# Python writes a response's header and its body with two send()s, and its Nagle holds the short
# body until our ACK of the header: that ACK goes at once (a quick ACK), not after 200 ms.
start=$(date +%s%N)
get --trace --msl 0.2 "$U11/a.txt" "$U11/a.txt" "$U11/a.txt"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "quick ACK: three small responses, exit 0, each header ACKed at once [rc $RC]" \
  bash -c 'test "$1" = 0 && test "$(grep -c "\[quick ACK\]" <<<"$2")" -ge 3' _ "$RC" "$OUT"
check "quick ACK: no response waited for a delayed ACK" bash -c '! grep -q "\[delayed ACK\]" <<<"$1"' _ "$OUT"
check "quick ACK: three small files and 0.4 s of TIME-WAIT in under 0.9 s [took $took_ms ms]" \
  test "$took_ms" -lt 900

# ---------------------------------------------------------------- the SYN-ACK's numbers
# The SYN-ACK arriving in SYN-SENT carries the server's ISN: it reads relative, like the rest.
get --trace --msl 0.2 --isn 1000 "$U11/a.txt"
check "the SYN-ACK is traced relative to both ISNs: S. 0:0(0) ack 1" \
  grep -qE "^[0-9.]+ In  [0-9.:]+ > [0-9.:]+  S\. 0:0\(0\) ack 1 win" <<<"$OUT"
OUT=$(lab_exec timeout 60 "$TCPLAB" get --msl 0.2 --isn 1000 --trace-json - -o /dev/null "$U11/a.txt" 2>/dev/null)
check "--trace-json: the SYN-ACK has ack 1 and relative true" \
  grep -qE '"flags":"S\.","seq":0,"end":0,"len":0,"ack":1,"win":[0-9]+,"relative":true,' <<<"$OUT"

# ---------------------------------------------------------------- one ISN key per boot
# RFC 6528 / RFC 6191: every run uses the key in /run/tcplab, so on a 4-tuple a new run's ISN and
# TSval are newer than an old run's, and a server's TIME-WAIT takes the new SYN at once.
KEY=/run/tcplab/isn-key
check "ISN key: $KEY holds 16 bytes, mode 0600, owned by root [$(stat -c '%s %a %u' $KEY 2>&1)]" \
  test "$(stat -c '%s %a %u' $KEY 2>/dev/null)" = "16 600 0"
key_before=$(sha256sum <$KEY 2>/dev/null)
# The first run leaves every ephemeral port (49152-65535) in TIME-WAIT at the HTTP/1.0 server (it
# closes first), so each connection of the second run lands on one of them.
get --msl 0.2 $(for _ in $(seq 16384); do echo "$U10/a.txt"; done)
check "TIME-WAIT reuse: 16384 URLs fetched to fill the server's TIME-WAIT [rc $RC]" test "$RC" = 0
lab_exec ss -tanH state time-wait "( sport = :$PORT10 )" | awk '{print $4}' | sed 's/.*://' | sort -u \
  >"$WORK/tw-ports"
get --trace --msl 0.2 $(for _ in $(seq 200); do echo "$U10/a.txt"; done)
retransmitted=$(grep -c ' S 0:0(0).*\[retransmission\]' <<<"$OUT")
reused=$(grep -oE 'Out 192\.0\.2\.2:[0-9]+ > [0-9.]+:[0-9]+  S 0:0' <<<"$OUT" | sed -E 's/.*2\.2:([0-9]+) .*/\1/' |
  sort -u | comm -12 - "$WORK/tw-ports" | wc -l)
check "TIME-WAIT reuse: 200 more URLs, $reused on a server TIME-WAIT, no SYN resent [rc $RC, $retransmitted]" \
  test "$RC" = 0 -a "$reused" -ge 100 -a "$retransmitted" = 0
check "ISN key: unchanged by later runs" test "$(sha256sum <$KEY 2>/dev/null)" = "$key_before"
