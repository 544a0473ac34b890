#!/usr/bin/env bash
# TUN offloads (--offload, IFF_VNET_HDR), in a lab namespace: 64 MiB down through curl and
# 64 MiB up through the kernel's TCP, every byte verified, while the summary shows that GSO
# super-packets were really written and TSO super-packets really read (so a TUN that silently
# stayed without offloads fails here); then a capture taken with offloads that tshark reads
# with nothing malformed and every checksum right, and faults turning offloads off.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
require_lab
need_binaries
PATTERN=$CLIENTS/http_pattern
[ -x "$PATTERN" ] || { not_ok "$(basename "$0"): not built: $PATTERN (run make)"; exit 1; }
URL=http://$STACK_IP
N=$((64 * 1024 * 1024))
curl_ns() { local t=$1; shift; lab_exec timeout $((t + 10)) curl -sS --max-time "$t" "$@"; }

# offload_field NAME: a number from the last "offload:" summary line, e.g. "GSO super-packets".
offload_field() {
  grep '^tcplab: offload:' "$SERVER_LOG" | tail -1 | sed -nE "s/.*$1 ([0-9]+).*/\\1/p"
}
# kernel_tcp_counter NAME: a Tcp: counter of the client's kernel (/proc/net/snmp).
kernel_tcp_counter() {
  lab_exec awk -v name="$1" '/^Tcp:/ { if (!col) { for (i = 1; i <= NF; i++) if ($i == name) col = i }
                                       else print $col }' /proc/net/snmp
}
# tcp_checksum_errors: TCP segments with a bad checksum the client's kernel has dropped.
tcp_checksum_errors() { kernel_tcp_counter InCsumErrors; }
# summary: SIGUSR1, then wait (at most 5 s) for the offload line it adds.
summary() {
  local before; before=$(grep -c '^tcplab: offload:' "$SERVER_LOG")
  kill -USR1 "$SERVER_PID"
  wait_for 5 test "$(grep -c '^tcplab: offload:' "$SERVER_LOG")" -gt "$before"
}

if ! start_server --offload --discard 9 --echo 7; then
  not_ok "server starts with --offload"
  exit 1
fi
check "--offload: no warning at start (the kernel took IFF_VNET_HDR and TUN_F_TSO4)" \
  bash -c "! grep -q 'warning' '$SERVER_LOG'"

got=$(curl_ns 60 "$URL/bytes/$N" | sha256sum)
check "--offload: curl /bytes/$N, the body equals the pattern" test "$got" = "$("$PATTERN" $N | sha256sum)"
if client 60 tcp_bulk --port 9 --mode discard --bytes "$N"; then
  ok "--offload: 64 MiB client -> stack into discard ($(field mbps) MB/s)"
else
  not_ok "--offload: 64 MiB client -> stack into discard"
fi
if client 60 tcp_bulk --port 7 --mode echo --bytes "$N"; then
  ok "--offload: 64 MiB through echo both ways, every byte verified ($(field mbps) MB/s)"
else
  not_ok "--offload: 64 MiB through echo both ways, every byte verified"
fi

summary
grep '^tcplab: offload:' "$SERVER_LOG" | tail -1 | sed 's/^/# /'
written=$(offload_field "GSO super-packets")
segments=$(offload_field "carrying")
read_big=$(offload_field "TSO super-packets read")
refused=$(offload_field "refused")
check "summary: GSO super-packets were written [$written]" test "${written:-0}" -gt 100
# 64 MiB down at MSS 1460 is about 46,000 segments; most of them must have left merged.
check "summary: most segments left inside super-packets [$segments]" test "${segments:-0}" -gt 40000
check "summary: TSO super-packets were read [$read_big]" test "${read_big:-0}" -gt 100
check "summary: no virtio-net header refused [$refused]" test "$refused" = 0
# With no capture, TCP takes the kernel's partial checksums on trust: no byte is summed twice.
trusted=$(offload_field "trusted")
completed=$(offload_field "checksums completed")
check "summary: partial TCP checksums trusted, not summed [trusted $trusted, completed $completed]" \
  test "${trusted:-0}" -gt 100 -a "$completed" = 0
# Our lone segments (handshake, ACKs, the last of a run) leave their checksums to the kernel
# too; the kernel's TCP took every one (a wrong sum would be counted as InCsumErrors there).
left=$(offload_field "checksum left")
check "summary: single segments' checksums left to the kernel [$left]" test "${left:-0}" -gt 10
check "kernel: no TCP checksum errors in the client's namespace [$(tcp_checksum_errors)]" \
  test "$(tcp_checksum_errors)" = 0
# The last summary's drop counters, named on the check's line so a failure says which. One
# kind may be there without a fault: on a loaded machine the client's kernel sends a segment
# again (a tail loss probe or a spurious timeout) that had already arrived, and RFC 9293
# §3.10.7.4 drops such an old segment with an ACK, counted as tcp-unacceptable-segment. So
# nothing else may be dropped, and no more of those than the kernel's retransmissions.
drops=$(grep '^tcplab: drops:' "$SERVER_LOG" | tail -1)
resent=$(kernel_tcp_counter RetransSegs)
old_segments=$(sed -nE 's/^tcplab: drops: tcp-unacceptable-segment ([0-9]+)$/\1/p' <<<"$drops")
only_old_segments_resent() {
  [ "$drops" = "tcplab: drops: none" ] && return 0
  [ -n "$old_segments" ] && [ "$old_segments" -le "${resent:-0}" ]
}
check "summary: nothing dropped but old segments the kernel sent again [${drops#tcplab: }; resent $resent]" \
  only_old_segments_resent
stop_server
check "server exits cleanly on SIGTERM" test $? = 0

# The capture: super-packets read are records of up to 64 KiB, finished checksums and all;
# the segments written are in it one by one, as the stack made them.
CAP=$(mktemp --suffix=.pcapng)
trap 'rm -f "$CAP"; lab_cleanup' EXIT
SMALL=$((4 * 1024 * 1024))
start_server --offload --echo 7 --pcap "$CAP" || { not_ok "server starts with --offload --pcap"; exit 1; }
got=$(curl_ns 60 "$URL/bytes/$SMALL" | sha256sum)
check "--offload --pcap: curl /bytes/$SMALL equals the pattern" test "$got" = "$("$PATTERN" $SMALL | sha256sum)"
if client 60 tcp_bulk --port 7 --mode echo --bytes "$SMALL"; then
  ok "--offload --pcap: 4 MiB through echo, verified"
else
  not_ok "--offload --pcap: 4 MiB through echo, verified"
fi
summary
# A capture must show checksums as they would be on a wire: finished once, then verified.
trusted=$(offload_field "trusted")
completed=$(offload_field "checksums completed")
check "--offload --pcap: partial checksums finished for the capture [completed $completed, trusted $trusted]" \
  test "${completed:-0}" -gt 10 -a "$trusted" = 0
check "--offload --pcap: our checksums computed whole for the capture [left $(offload_field "checksum left")]" \
  test "$(offload_field "checksum left")" = 0
stop_server
if command -v tshark >/dev/null; then
  count() { tshark -r "$CAP" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y "$1" 2>/dev/null | wc -l; }
  check "capture: tshark reads it [$(count frame) packets]" test "$(count frame)" -gt 100
  check "capture: no malformed packets" test "$(count _ws.malformed)" = 0
  check "capture: super-packets read are in it whole [$(count 'ip.dst==192.0.2.2 && ip.len > 1500')]" \
    test "$(count 'ip.dst==192.0.2.2 && ip.len > 1500')" -gt 0
  check "capture: what we wrote is MTU-sized segments" test "$(count 'ip.src==192.0.2.2 && ip.len > 1500')" = 0
  # Status 1 is "Good", 0 "Bad": the first shows tshark really checked (the second could not fail
  # if it had not).
  check "capture: tshark verified TCP checksums [$(count 'tcp.checksum.status == 1')]" \
    test "$(count 'tcp.checksum.status == 1')" -gt 100
  check "capture: every TCP checksum is right" test "$(count 'tcp.checksum.status == 0')" = 0
  check "capture: every IP header checksum is right" test "$(count 'ip.checksum.status == 0')" = 0
else
  skipped "capture checks" "no tshark (tests/setup.sh installs it)"
fi

# The fault injector acts on single packets: with a fault flag, --offload is turned off.
start_server --offload --delay 1 || { not_ok "server starts with --offload --delay 1"; exit 1; }
check "--offload with a fault flag: a warning says offloads are off" \
  grep -q 'warning: --offload is off while faults are injected' "$SERVER_LOG"
got=$(curl_ns 30 "$URL/bytes/1000000" | sha256sum)
check "--offload with a fault flag: curl still gets the right bytes" \
  test "$got" = "$("$PATTERN" 1000000 | sha256sum)"
kill -USR1 "$SERVER_PID"; wait_for 5 grep -q 'connections:' "$SERVER_LOG"
check "--offload with a fault flag: the summary has no offload line" \
  bash -c "! grep -q '^tcplab: offload:' '$SERVER_LOG'"
stop_server

# A persistent TUN an admin made keeps its settings: offloads that --offload turned on (they
# belong to the device) are off again once tcplab exits.
ip -n "$LAB_NAME" tuntap add mode tun name tcplabo && ip -n "$LAB_NAME" addr add 192.0.2.1/24 dev tcplabo &&
  ip -n "$LAB_NAME" link set tcplabo up
features() { lab_exec ethtool -k tcplabo | grep -E '^(tx-checksumming|tcp-segmentation-offload):' | tr '\n' ' '; }
before=$(features)
start_server --offload --tun tcplabo --http-port 0 || not_ok "server starts with --offload on a persistent TUN"
during=$(features)
stop_server
after=$(features)
check "persistent TUN: offloads on while --offload runs ($during)" grep -q 'tx-checksumming: on' <<<"$during"
check "persistent TUN: as the admin left it after exit ($after)" test -n "$before" -a "$after" = "$before"
ip -n "$LAB_NAME" link del tcplabo
