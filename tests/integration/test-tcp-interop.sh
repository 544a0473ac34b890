#!/usr/bin/env bash
# Linux's own TCP against ours, in a lab namespace:
# echo round trips, half-close, client abort and our state afterwards, 1,000 connect/close
# cycles leaving nothing behind but bounded TIME-WAIT, 100 concurrent connections, and a
# capture written with --pcap that tshark parses. Bulk transfers: test-tcp-bulk.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
require_lab
need_binaries

PCAP=$(mktemp --suffix=.pcap)
TMP_ECHO_OUT=$(mktemp)
cleanup_all() { rm -f "$PCAP" "$TMP_ECHO_OUT"; lab_cleanup; }
trap cleanup_all EXIT

MSL=1  # TIME-WAIT = 2 x MSL = 2 s, so the test can watch it end

# ---------------------------------------------------------------- server 1: echo, chargen
# Client-side closes, aborts and concurrency; chargen limited to 1000 bytes so each chargen
# connection ends with the server's FIN (the server closes first and holds TIME-WAIT).
if ! start_server --echo 7 --discard 9 --chargen 19 --chargen-bytes 1000 --msl "$MSL" --pcap "$PCAP"; then
  not_ok "server starts with --echo 7 --discard 9 --chargen 19 --msl $MSL --pcap"
  exit 1
fi

# -- echo
if client 10 tcp_echo_client --port 7 --mode roundtrip --count 200 --size 1000; then
  ok "echo: 200 round trips of 1000 bytes, each verified"
  echo "# echo round trip: $(field rtt_us) us"
else
  not_ok "echo: 200 round trips of 1000 bytes, each verified"
fi

if command -v nc >/dev/null; then
  got=$(printf 'hello, tcplab\n' | lab_exec timeout 5 nc -N -w 3 "$STACK_IP" 7 2>&1)
  check "echo: nc gets its line back" test "$got" = "hello, tcplab"
fi

# -- half-close: our FIN first, the server keeps sending (RFC 9293 §3.10.4, CLOSE-WAIT)
if client 20 tcp_echo_client --port 7 --mode halfclose --size 2000000 &&
  [ "$(field after_fin)" -gt 0 ]; then
  ok "half-close: 2 MB echoed, $(field after_fin) bytes of it after the client's FIN, then the server's FIN"
else
  not_ok "half-close: echo keeps sending after the client's FIN ($CLIENT_OUT)"
fi
if client 10 tcp_bulk --port 19 --mode chargen --bytes 1000 --half-close; then
  ok "half-close: chargen sends all 1000 bytes after the client's FIN"
else
  not_ok "half-close: chargen sends all 1000 bytes after the client's FIN"
fi

# -- client abort: SO_LINGER 0 -> RST; the connection must be gone from our table
if client 10 tcp_echo_client --port 7 --mode abort --size 100; then
  port=$(field local_port)
  # The RST is on its way when the client returns: wait (at most 5 s) for its effect.
  port_gone() { table=$(connection_table); [ -n "$(table_count "$table")" ] && ! grep -q "192.0.2.1:$port\b" <<<"$table"; }
  if [ -n "$port" ] && wait_for 5 port_gone; then
    ok "abort: client RST (SO_LINGER 0) removes the connection from our table"
  else
    not_ok "abort: client RST (SO_LINGER 0) removes the connection from our table (port $port)"
    show "$table"
  fi
else
  not_ok "abort: client connects, round trip, RST"
fi
check "abort: the server still answers afterwards" client 10 tcp_echo_client --port 7 --count 1 --size 10

# -- 1,000 sequential cycles, client closes first: afterwards no connection at all on our side
if client 60 tcp_cycles --port 7 --count 1000 --payload 10 --close client; then
  ok "cycles: 1000 sequential connect/echo/close, client closing first"
  echo "# cycles (client closes): $(field conn_per_s) connections/s"
  # Our side went CLOSE-WAIT -> LAST-ACK -> CLOSED: nothing may remain.
  if table=$(wait_table_empty 5); then
    ok "cycles: nothing left behind after 1000 client-closed connections"
  else
    not_ok "cycles: nothing left behind after 1000 client-closed connections"
    show "$table"
  fi
else
  not_ok "cycles: 1000 sequential connect/echo/close, client closing first"
fi

# -- 1,000 sequential cycles, server closes first: only TIME-WAIT may remain, and not for long
if client 60 tcp_cycles --port 19 --count 1000 --close server; then
  ok "cycles: 1000 sequential chargen connections, server closing first"
  echo "# cycles (server closes): $(field conn_per_s) connections/s"
  check "cycles: every chargen connection delivered its 1000 bytes ($(field drained) in all)" \
    test "$(field drained)" = "1000000"
  table=$(connection_table)
  n=$(table_count "$table")
  others=$(echo "$table" | tail -n +2 | grep -v 'TIME-WAIT' | grep -c .)
  # The server closed each one first, so it holds TIME-WAIT for them for 2 x MSL (RFC 9293
  # §3.10.7.4): right after the last cycle at least that one must still be there.
  if [ -n "$n" ] && [ "$n" -ge 1 ] && [ "$others" -eq 0 ] && [ "$n" -le 1000 ]; then
    ok "cycles: only TIME-WAIT remains right after ($n connections, 1 to 1000)"
  else
    not_ok "cycles: only TIME-WAIT remains right after ($n connections, $others not in TIME-WAIT)"
    show "$table"
  fi
  # 2 x MSL after the last close, TIME-WAIT must be over (RFC 9293 §3.10.7.4, timeout).
  if table=$(wait_table_empty $((2 * MSL + 3))); then
    ok "cycles: TIME-WAIT ends after 2 x MSL (--msl $MSL)"
  else
    not_ok "cycles: TIME-WAIT ends after 2 x MSL (--msl $MSL)"
    show "$table"
  fi
else
  not_ok "cycles: 1000 sequential chargen connections, server closing first"
fi

# -- 100 concurrent connections on one port
if client 30 tcp_concurrent --port 7 --count 100 --size 200; then
  ok "concurrent: 100 connections open at once on port 7, each echo verified"
  echo "# concurrent: 100 connections established in $(field connect_seconds) s, done in $(field seconds) s"
else
  not_ok "concurrent: 100 connections open at once on port 7, each echo verified"
fi
if table=$(wait_table_empty 5); then
  ok "concurrent: nothing left behind"
else
  not_ok "concurrent: nothing left behind"
  show "$table"
fi

# -- zero window toward a tiny receive buffer, seen in the capture below
if client 40 tcp_bulk --port 7 --mode echo --bytes 4000000 --rcvbuf 2048 --pause-every 1000000 --pause-ms 300; then
  ok "zero window: 4 MB echo to a 2 KiB receive buffer that stops reading, verified"
else
  not_ok "zero window: 4 MB echo to a 2 KiB receive buffer that stops reading, verified"
fi

# -- stop cleanly, then read the capture. An echo client still connected sees our FIN (its
# read returns end of stream) instead of a connection that hangs after the server is gone.
lab_exec timeout 10 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7)); s.settimeout(8)
s.sendall(b"x"); s.recv(1)
sys.stdout.write("connected\n"); sys.stdout.flush()
print("eof" if s.recv(100) == b"" else "data")' "$STACK_IP" >"$TMP_ECHO_OUT" 2>&1 &
echo_pid=$!
wait_for 5 grep -q connected "$TMP_ECHO_OUT"
if stop_server; then ok "server exits cleanly on SIGTERM"; else not_ok "server exits cleanly on SIGTERM"; fi
wait "$echo_pid"
check "SIGTERM: a connected echo client reads the end of the stream ($(tr '\n' ' ' <"$TMP_ECHO_OUT"))" \
  grep -q '^eof$' "$TMP_ECHO_OUT"

if command -v tshark >/dev/null; then
  syns=$(tshark -r "$PCAP" -Y 'tcp.flags.syn==1' 2>/dev/null)
  synacks=$(echo "$syns" | grep -c "192.0.2.2 → 192.0.2.1.*\[SYN, ACK\]")
  plain=$(echo "$syns" | grep -c "192.0.2.1 → 192.0.2.2.*\[SYN\]")
  if [ "$synacks" -gt 0 ] && [ "$plain" -gt 0 ]; then
    ok "pcap: tshark reads the capture and shows the handshakes ($plain SYN, $synacks SYN-ACK)"
  else
    not_ok "pcap: tshark reads the capture and shows the handshakes"
    show "$(tshark -r "$PCAP" 2>&1 | head -5)"
  fi
  malformed=$(tshark -r "$PCAP" -Y '_ws.malformed' 2>/dev/null | wc -l)
  check "pcap: no packet in the capture is malformed ($malformed)" test "$malformed" -eq 0
  zero=$(tshark -r "$PCAP" -Y 'tcp.analysis.zero_window && ip.src==192.0.2.1' 2>/dev/null | wc -l)
  probes=$(tshark -r "$PCAP" -Y 'tcp.analysis.zero_window_probe || tcp.analysis.keep_alive' 2>/dev/null | wc -l)
  if [ "$zero" -gt 0 ]; then
    ok "pcap: the client advertised a zero window during the tiny-buffer transfer ($zero segments)"
    echo "# zero-window probes or keep-alives seen by tshark: $probes"
  else
    not_ok "pcap: the client advertised a zero window during the tiny-buffer transfer"
  fi
else
  echo "SKIPPED - pcap checks: tshark not installed"
fi
