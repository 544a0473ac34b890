#!/usr/bin/env bash
# Path MTU discovery (RFC 1191, RFC 5927 §4.1) on a real lower-MTU path, against the Linux
# kernel as the router. Two namespaces: the lab namespace holds tcplab's TUN and forwards
# (ip_forward=1 there only); a client namespace hangs off it by a veth pair whose links are
# 1500 bytes both ways, so the client's SYN says MSS 1460, but the router's route toward the
# client network says mtu 1200. Our 1500-byte DF segments make the kernel answer "fragmentation
# needed, next-hop MTU 1200" through the TUN; tcplab must lower its MSS to 1160, resend at
# once in the smaller size and finish the transfer byte-exact (no black hole). The negative
# case: with our own MTU below the path's (--mtu 1100) nothing is reported and nothing changes.
# A 1400-byte ping crosses the same hop: our echo replies carry no DF, so the router
# fragments them instead of dropping them.
# A 500-byte hop, below tcplab's 576-byte floor: its segments must leave without DF.
# An ICMP quoting a sequence number not in flight does not happen naturally on this path
# (the router answers each datagram as it forwards it); tests/unit/tcp_path_mtu_test.cpp
# covers that refusal with a hand-built ICMP.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
PATTERN=$BUILD_DIR/clients/http_pattern
BULK=$BUILD_DIR/clients/tcp_bulk
for b in "$TCPLAB" "$PATTERN" "$BULK"; do
  [ -x "$b" ] || { not_ok "$(basename "$0"): $b not built (run make)"; exit 1; }
done
command -v tshark >/dev/null || { not_ok "$(basename "$0"): tshark missing (tests/setup.sh installs it)"; exit 1; }
command -v curl >/dev/null || { not_ok "$(basename "$0"): curl missing (tests/setup.sh installs it)"; exit 1; }

STACK=192.0.2.2
ROUTER=198.51.100.1  # the lab namespace's side of the veth pair
CLIENT=198.51.100.2
PATH_MTU=1200
URL=http://$STACK
CLIENT_NS=$LAB_NAME-client
WORK=$(mktemp -d)
# Deleting the lab namespace deletes the veth pair with it; the client namespace goes too.
trap 'lab_cleanup; ip netns del "$CLIENT_NS" 2>/dev/null; rm -rf "$WORK"' EXIT

client_exec() { ip netns exec "$CLIENT_NS" "$@"; }

# path_up: the client namespace, the veth pair between it and the lab namespace, the route
# with the small MTU, forwarding in the lab namespace. Nothing is done in the root namespace.
path_up() {
  lab_up &&
    ip netns add "$CLIENT_NS" &&
    ip -n "$CLIENT_NS" link set lo up &&
    ip -n "$LAB_NAME" link add pmtu-router type veth peer name pmtu-client netns "$CLIENT_NS" &&
    ip -n "$LAB_NAME" addr add "$ROUTER/24" dev pmtu-router &&
    ip -n "$LAB_NAME" link set pmtu-router up &&
    ip -n "$LAB_NAME" route replace 198.51.100.0/24 dev pmtu-router src "$ROUTER" mtu "$PATH_MTU" &&
    ip netns exec "$LAB_NAME" sysctl -qw net.ipv4.ip_forward=1 &&
    ip -n "$CLIENT_NS" addr add "$CLIENT/24" dev pmtu-client &&
    ip -n "$CLIENT_NS" link set pmtu-client up &&
    ip -n "$CLIENT_NS" route add 192.0.2.0/24 via "$ROUTER"
}

restart() {
  [ -n "$SERVER_PID" ] && stop_server
  [ -n "$SERVER_LOG" ] && rm -f "$SERVER_LOG"
  start_server --host-ip 192.0.2.1/24 --ip "$STACK" --http-port 80 --echo 7 --trace "$@"
}

# fetch SECONDS N OUT: curl /bytes/N from the client namespace into OUT, bounded in time;
# prints curl's total time in seconds.
fetch() {
  client_exec timeout $(($1 + 10)) curl -sS --max-time "$1" -o "$3" -w '%{time_total}' "$URL/bytes/$2"
}
same_bytes() { [ -f "$1" ] && test "$(sha256sum <"$1")" = "$("$PATTERN" "$2" | sha256sum)"; }
# tshark_count FILTER / tshark_max FIELD FILTER: packets matching a display filter; the largest
# value of FIELD among them (0 if none). An ICMP error carries the IP header it quotes, and
# tshark matches ip.* fields in either header: OURS is a filter for our own datagrams only.
OURS="ip.src == $STACK && !icmp"
tshark_count() { tshark -r "$CAP" -Y "$1" 2>/dev/null | wc -l; }
tshark_max() {
  tshark -r "$CAP" -Y "$2" -T fields -e "$1" 2>/dev/null | awk '$1 > m { m = $1 } END { print m + 0 }'
}
# trace_max_len PORT FROM: the largest payload of our segments to the client's PORT in the
# text trace, from line FROM on (segment lines end their seq range with "(LEN)").
trace_max_len() {
  tail -n +"$2" "$SERVER_LOG" | grep -E "^[0-9.]+ Out $STACK:80 > $CLIENT:$1 " |
    sed -nE 's/.* [0-9]+:[0-9]+\(([0-9]+)\).*/\1/p' | awk '$1 > m { m = $1 } END { print m + 0 }'
}

echo "# $TCPLAB"
path_up || { not_ok "the two namespaces, the veth pair and the mtu $PATH_MTU route are set up"; exit 1; }
route=$(ip -n "$LAB_NAME" route show 198.51.100.0/24)
echo "# lab namespace (router): $route"
check "router: the route toward the client network carries mtu $PATH_MTU" grep -q "mtu $PATH_MTU" <<<"$route"
check "client: its link has MTU 1500 (so its SYN says MSS 1460)" \
  grep -q 'mtu 1500 ' <<<"$(ip -n "$CLIENT_NS" link show pmtu-client)"

# ---------------------------------------------------------------- discovery on the real path
CAP=$WORK/path.pcapng
restart --pcap "$CAP" || { not_ok "server starts in the router namespace"; exit 1; }
N=2000000
secs=$(fetch 30 $N "$WORK/body")
check "curl /bytes/$N from the client namespace through the mtu $PATH_MTU hop: bytes equal the pattern" \
  same_bytes "$WORK/body" $N
echo "# transfer took ${secs:-?} s (curl --max-time 30)"
# A second connection to the same client: the estimate is kept per connection, so it is found
# again (Deviation path-mtu-per-connection in stack/tcp/connection_path_mtu.cpp).
fetch 30 200000 "$WORK/body2" >/dev/null
check "a second connection, curl /bytes/200000: bytes equal the pattern" same_bytes "$WORK/body2" 200000
echo "# echo back through the same path (client's 1448-byte segments in, ours lowered out):"
if client_exec timeout 40 "$BULK" --host "$STACK" --port 7 --mode echo --bytes 4000000 --timeout 30 \
  >"$WORK/bulk" 2>&1; then
  ok "4 MB echo client -> stack -> client across the path, every byte compared"
else
  not_ok "4 MB echo client -> stack -> client across the path, every byte compared"
fi
sed 's/^/#   /' "$WORK/bulk"
# A big ping: our 1428-byte echo replies do not fit the 1200 hop either. They leave without
# DF (they cannot be resent smaller), so the router fragments them and the client reassembles.
out=$(client_exec timeout 15 ping -n -c 3 -i 0.2 -W 2 -M do -s 1400 "$STACK" 2>&1)
received=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$out")
check "ping -M do -s 1400 from the client: every reply arrives across the 1200 hop [$received of 3]" \
  test "${received:-0}" = 3
if stop_server; then ok "server exits cleanly on SIGTERM"; else not_ok "server exits cleanly on SIGTERM"; fi

note=$(grep -m1 -n "path MTU $PATH_MTU: MSS 1460 -> 1160" "$SERVER_LOG")
check "trace: fragmentation needed accepted, 'path MTU $PATH_MTU: MSS 1460 -> 1160'" test -n "$note"
echo "# ${note#*:}"
note_line=${note%%:*}
port=$(sed -nE "s/.* <> $CLIENT:([0-9]+) path MTU.*/\1/p" <<<"$note")
stamp=$(awk '{ print $1 }' <<<"${note#*:}")
check "trace: the client's SYN said MSS 1460" \
  grep -qE "^[0-9.]+ In  $CLIENT:$port > $STACK:80  S .*<mss 1460" "$SERVER_LOG"
before=$(head -n "${note_line:-0}" "$SERVER_LOG" | grep -E "^[0-9.]+ Out $STACK:80 > $CLIENT:$port " |
  sed -nE 's/.* [0-9]+:[0-9]+\(([0-9]+)\).*/\1/p' | awk '$1 > m { m = $1 } END { print m + 0 }')
after=$(trace_max_len "$port" "${note_line:-1}")
echo "# trace, connection from port $port: largest payload before the ICMP $before, after it $after"
check "trace: before it, full-size segments left (payload > 1160) [$before]" test "$before" -gt 1160
check "trace: after it, every data segment is at most 1160 bytes [$after]" \
  test "$after" -gt 0 -a "$after" -le 1160
# No timer: the resend leaves in the same instant as the note (RFC 1191 §6.4).
resent=$(grep -E "^$stamp Out $STACK:80 > $CLIENT:$port .*\(([0-9]+)\)" "$SERVER_LOG" | head -1)
check "trace: what was outstanding is resent in the smaller size at once, not after a timeout" \
  test -n "$resent"
check "trace: the resend is labelled [retransmission (path MTU)]" \
  grep -q '\[retransmission (path MTU)\]' <<<"$resent"
echo "# ${resent}"
reductions=$(grep -c "path MTU $PATH_MTU: MSS 1460 -> 1160" "$SERVER_LOG")
check "trace: each of the 3 connections lowered its own MSS once [$reductions]" test "$reductions" = 3
notes=$(grep -c "path MTU $PATH_MTU: MSS" "$SERVER_LOG")
icmp_drops=$(grep -cE '^[0-9.]+ drop icmp-' "$SERVER_LOG")
fired=$(grep -cE ' retransmission fired' "$SERVER_LOG")
echo "# trace: $notes 'path MTU' notes, $icmp_drops ICMP drops, $fired retransmission timeouts"

# The capture: what the kernel sent back, and what we sent after it.
frag_needed="icmp.type == 3 && icmp.code == 4 && ip.dst == $STACK"
icmps=$(tshark_count "$frag_needed")
mtus=$(tshark -r "$CAP" -Y "$frag_needed" -T fields -e icmp.mtu 2>/dev/null | sort -u | tr '\n' ' ')
from=$(tshark -r "$CAP" -Y "$frag_needed" -T fields -E occurrence=f -e ip.src 2>/dev/null | sort -u | tr '\n' ' ')
qlen=$(tshark -r "$CAP" -Y "$frag_needed" -T fields -E occurrence=f -e ip.len 2>/dev/null | sort -u | tr '\n' ' ')
echo "# capture: $icmps ICMP fragmentation needed from ${from}(next-hop MTU ${mtus}, IP length ${qlen})"
check "capture: the kernel sent ICMP type 3 code 4 with next-hop MTU $PATH_MTU" \
  test "$icmps" -gt 0 -a "$mtus" = "$PATH_MTU "
check "trace: every one was accepted (as many 'path MTU' notes as ICMPs [$notes/$icmps], no ICMP drop)" \
  test "$notes" = "$icmps" -a "$icmp_drops" = 0
big=$(tshark_count "$OURS && ip.len > $PATH_MTU")
check "capture: every datagram over $PATH_MTU bytes got its own ICMP [$big datagrams, $icmps ICMPs]" \
  test "$big" = "$icmps"
last=$(tshark -r "$CAP" -Y "$frag_needed" -T fields -e frame.number 2>/dev/null | tail -1)
later=$(tshark_count "$OURS && tcp.len > 0 && frame.number > ${last:-0}")
largest=$(tshark_max ip.len "$OURS && frame.number > ${last:-0}")
largest_tcp=$(tshark_max tcp.len "$OURS && frame.number > ${last:-0}")
echo "# capture: after the last ICMP, $later data segments, largest IP length $largest, tcp.len $largest_tcp"
check "capture: after the last ICMP, our datagrams are at most $PATH_MTU bytes (tcp.len <= 1160)" \
  test "$later" -gt 100 -a "$largest" -le "$PATH_MTU" -a "$largest_tcp" -le 1160
check "capture: every TCP segment of ours carries DF" test "$(tshark_count "$OURS && ip.flags.df == 0")" = 0
replies="ip.src == $STACK && icmp.type == 0"
check "capture: our 3 echo replies are 1428 bytes, without DF, never fragmented by us" \
  test "$(tshark_count "$replies && ip.len == 1428 && ip.flags.df == 0 && ip.flags.mf == 0")" = 3
check "capture: no malformed packets" test "$(tshark_count _ws.malformed)" = 0

# ---------------------------------------------------------------- a hop below tcplab's floor
# A 500-byte hop: tcplab never takes the path MTU below 576 (Deviation path-mtu-floor-576), so
# its 576-byte segments still do not fit. It must stop setting DF on them (RFC 1191 §3; Linux
# does the same below its own floor): the router fragments them, nothing is lost for ever.
ip -n "$LAB_NAME" route replace 198.51.100.0/24 dev pmtu-router src "$ROUTER" mtu 500 ||
  { not_ok "the route toward the client network takes mtu 500"; exit 1; }
CAP=$WORK/floor.pcapng
restart --pcap "$CAP" || { not_ok "server starts for the 500-byte hop"; exit 1; }
secs=$(fetch 30 $N "$WORK/body")
check "mtu 500 hop: curl /bytes/$N, bytes equal the pattern (no black hole)" same_bytes "$WORK/body" $N
echo "# transfer took ${secs:-?} s"
if stop_server; then ok "mtu 500 hop: server exits cleanly"; else not_ok "mtu 500 hop: server exits cleanly"; fi
note=$(grep -m1 "path MTU 500, below 576: MSS 1460 -> 536, segments leave without DF" "$SERVER_LOG")
check "mtu 500 hop: trace 'path MTU 500, below 576: MSS 1460 -> 536, segments leave without DF'" test -n "$note"
fired=$(grep -cE ' retransmission fired' "$SERVER_LOG")
icmps=$(tshark_count "$frag_needed")
last=$(tshark -r "$CAP" -Y "$frag_needed" -T fields -e frame.number 2>/dev/null | tail -1)
later=$(tshark_count "$OURS && tcp.len > 0 && frame.number > ${last:-0}")
largest=$(tshark_max ip.len "$OURS && frame.number > ${last:-0}")
with_df=$(tshark_count "$OURS && tcp.len > 0 && frame.number > ${last:-0} && ip.flags.df == 1")
echo "# mtu 500 hop: $icmps ICMPs, $fired retransmission timeouts; after the last ICMP $later data" \
  "segments, largest IP length $largest, $with_df with DF"
check "mtu 500 hop: after the last ICMP, 576-byte datagrams at most, none with DF" \
  test "$later" -gt 100 -a "$largest" -le 576 -a "$with_df" = 0
ip -n "$LAB_NAME" route replace 198.51.100.0/24 dev pmtu-router src "$ROUTER" mtu "$PATH_MTU" ||
  { not_ok "the route toward the client network takes mtu $PATH_MTU again"; exit 1; }

# ---------------------------------------------------------------- our MTU below the path's
CAP=$WORK/small.pcapng
restart --pcap "$CAP" --mtu 1100 || { not_ok "server starts with --mtu 1100"; exit 1; }
secs=$(fetch 30 $N "$WORK/body")
check "--mtu 1100 (MSS 1060 < path 1160): curl /bytes/$N, bytes equal the pattern" same_bytes "$WORK/body" $N
echo "# transfer took ${secs:-?} s"
if stop_server; then ok "--mtu 1100: server exits cleanly"; else not_ok "--mtu 1100: server exits cleanly"; fi
largest=$(tshark_max ip.len "$OURS")
check "--mtu 1100: no ICMP fragmentation needed arrives" test "$(tshark_count "$frag_needed")" = 0
check "--mtu 1100: the trace has no 'path MTU' note" bash -c '! grep -q "path MTU" "$1"' _ "$SERVER_LOG"
check "--mtu 1100: our datagrams stay at most 1100 bytes [$largest]" test "$largest" -gt 0 -a "$largest" -le 1100
