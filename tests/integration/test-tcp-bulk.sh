#!/usr/bin/env bash
# Bulk transfers between Linux's TCP and ours, in a lab namespace: 64 MiB each way,
# every byte verified, with MB/s; then the same toward a tiny client receive buffer that
# forces zero windows (our persist timer and window updates must carry the transfer).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
require_lab
need_binaries

BYTES=$((64 * 1024 * 1024))
if ! start_server --echo 7 --discard 9 --chargen 19 --chargen-bytes "$BYTES" --msl 1; then
  not_ok "server starts with --echo 7 --discard 9 --chargen 19 --chargen-bytes $BYTES"
  exit 1
fi

# The TUN's queue towards tcplab: at the kernel's default of 500 packets, the client's ACKs
# overflowed it while tcplab wrote a burst (hundreds dropped in a 5 MiB download).
qlen=$(ip -n "$LAB_NAME" -o link show tcplab0 | grep -o 'qlen [0-9]*')
check "serve: the TUN it creates queues 4096 packets towards tcplab [$qlen]" test "$qlen" = "qlen 4096"
tun_dropped() { ip netns exec "$LAB_NAME" cat /sys/class/net/tcplab0/statistics/tx_dropped; }
dropped_before=$(tun_dropped)

# bulk NAME SECONDS ARGS...: one transfer, its ok/not ok line and its MB/s.
bulk() {
  local name=$1 limit=$2; shift 2
  if client "$limit" tcp_bulk "$@"; then
    ok "$name"
    echo "# $name: $(field mbps) MB/s ($(field seconds) s, digest $(field digest), $(field pauses) reading pauses)"
  else
    not_ok "$name"
  fi
}

bulk "64 MiB client -> stack -> client through echo, every byte verified" 45 \
  --port 7 --mode echo --bytes "$BYTES"
bulk "64 MiB stack -> client from chargen, every byte checked against RFC 864's pattern" 45 \
  --port 19 --mode chargen --bytes "$BYTES"
bulk "64 MiB client -> stack into discard, ended by both FINs" 45 \
  --port 9 --mode discard --bytes "$BYTES"

# A 2 KiB SO_RCVBUF (Linux doubles it) and reading pauses: the client's window closes, the
# stack must stop, probe (RFC 9293 §3.8.6.1) and resume when the window reopens.
bulk "64 MiB from chargen into a 2 KiB receive buffer with reading pauses (zero windows), verified" 75 \
  --port 19 --mode chargen --bytes "$BYTES" --rcvbuf 2048 --pause-every 16777216 --pause-ms 300
bulk "64 MiB through echo with a 2 KiB client receive buffer (zero windows), verified" 75 \
  --port 7 --mode echo --bytes "$BYTES" --rcvbuf 2048 --pause-every 16777216 --pause-ms 300

if table=$(wait_table_empty 5); then
  ok "bulk: nothing left behind after the transfers"
else
  not_ok "bulk: nothing left behind after the transfers"
  show "$table"
fi
dropped=$(( $(tun_dropped) - dropped_before ))
check "bulk: the TUN dropped no packet before tcplab read it [$dropped]" test "$dropped" = 0
if stop_server; then ok "server exits cleanly on SIGTERM"; else not_ok "server exits cleanly on SIGTERM"; fi
# The exit summary says how many the TUN dropped unread, and only when there were any.
if [ "$dropped" = 0 ]; then
  check "summary: no line about packets the TUN dropped" \
    bash -c '! grep -q "packets the TUN dropped before tcplab read them" "$1"' _ "$SERVER_LOG"
else
  check "summary: the TUN's $dropped drops counted" \
    grep -q "the TUN dropped before tcplab read them $dropped " "$SERVER_LOG"
fi
