#!/usr/bin/env bash
# TUN, IPv4 and ICMP against the real kernel, in a lab namespace: ping (count, size,
# bounded flood), every malformed IPv4 case injected onto the TUN and dropped with its
# reason while ping keeps working, UDP -> ECONNREFUSED, unknown protocol -> protocol
# unreachable, SIGUSR1 counters, SIGTERM -> exit 0 and the TUN gone, usage errors,
# TUN busy / address in use, non-root errors (with /dev/net/tun at 0666 and at 0600, whatever
# the machine's own mode), and a persistent TUN used without root.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
INJECT=$BUILD_DIR/clients/raw_inject
UDP_PROBE=$BUILD_DIR/clients/udp_probe
for b in "$TCPLAB" "$INJECT" "$UDP_PROBE"; do
  [ -x "$b" ] || { not_ok "$(basename "$0"): $b not built (run make)"; exit 1; }
done
STACK=192.0.2.2
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# The unprivileged runs use a copy of the binary in a world-readable place: a checkout in a
# 0700 home directory (Debian's default) is out of reach for uid 65534.
NOBODY_DIR=$(mktemp -d)
chmod 755 "$NOBODY_DIR"
cp "$TCPLAB" "$NOBODY_DIR/tcplab"
NOBODY_TCPLAB=$NOBODY_DIR/tcplab
# Each server gets a fresh log; lib.sh removes only the last one, so older ones are kept here.
OLD_LOGS=()
forget_log() { [ -n "${SERVER_LOG:-}" ] && OLD_LOGS+=("$SERVER_LOG"); SERVER_LOG=; }
cleanup_all() { rm -rf "$NOBODY_DIR"; rm -f "${OLD_LOGS[@]}"; lab_cleanup; }
trap cleanup_all EXIT

# wait_for_line PATTERN [TENTHS]: true once PATTERN (grep -E) appears in the server log.
wait_for_line() {
  local pattern=$1 tries=${2:-30}
  for _ in $(seq "$tries"); do
    grep -qE -- "$pattern" "$SERVER_LOG" && return 0
    sleep 0.1
  done
  return 1
}
# ping_ok [ARGS...]: one ping answered within 2 s.
ping_ok() { lab_exec timeout 5 ping -n -c 1 -W 2 "$@" "$STACK" >/dev/null 2>&1; }
# run_cli ARGS...: runs tcplab inside the namespace (never in the root namespace, even for
# argument errors), with a time limit; sets OUT (stdout+stderr) and RC.
run_cli() { OUT=$(lab_exec timeout 10 "$@" 2>&1); RC=$?; }

lab_up || { not_ok "make lab namespace"; exit 1; }

# ------------------------------------------------------------------ usage (no TUN needed)
run_cli "$TCPLAB" --version
check "--version prints the version" grep -qE '^tcplab [0-9]+\.[0-9]+' <<<"$OUT"
run_cli "$TCPLAB" serve --help
missing=
for flag in --tun --host-ip --ip --mtu --ttl --trace --trace-json --pcap --backlog --msl --isn --echo \
  --discard --chargen --chargen-bytes --rto-min --no-delayed-ack --no-nagle --recv-buffer --send-buffer \
  --http-port --keepalive --keepalive-timeout --max-requests --header-timeout --root; do
  grep -qE -- "^  $flag( |$)" <<<"$OUT" || missing="$missing $flag"
done
check "serve --help lists every contract flag${missing:+ (missing:$missing)}" test -z "$missing" -a "$RC" -eq 0
check "serve --help shows defaults" grep -q '(default: auto)' <<<"$OUT"
# --ip 192.0.2.1 alone puts the host side on .2 (ip_address_choice_test): the help says so.
check "serve --help: --ip .1 makes the host side .2" grep -qF '(.2 if ADDR is .1;' <<<"$(tr -s '\n ' ' ' <<<"$OUT")"
for bad in "serve --mtu abc" "serve --mtu 100" "serve --ip 300.1.1.1" "serve --host-ip 192.0.2.1" \
  "serve --host-ip 192.0.2.1/24 --ip 198.51.100.2" "serve --frobnicate" "serve --tun" "serve --keepalive maybe" \
  "serve --echo 7 --discard 7" "serve --tun a/b" "serve --keepalive off --max-requests 3" "frobnicate"; do
  run_cli "$TCPLAB" $bad
  lines=$(printf '%s\n' "$OUT" | grep -c .)
  check "'tcplab $bad' exits 2 with one line" test "$RC" -eq 2 -a "$lines" -eq 1
done
run_cli "$TCPLAB" serve --mtu abc
check "bad value names the flag and the allowed range" grep -q "bad value 'abc' for --mtu: expected a whole number from 576 to 65535" <<<"$OUT"
# --pcap and --trace-json naming one file would each write over the other: refused before the
# file is created, and also when the names differ but the file is the same (a symlink).
run_cli "$TCPLAB" serve --pcap "$NOBODY_DIR/run.out" --trace-json "$NOBODY_DIR/./run.out"
check "serve --pcap F --trace-json F: usage error, file not created [rc $RC: $OUT]" bash -c \
  'test "$1" = 2 && grep -q "name the same file" <<<"$2" && ! test -e "$3"' \
  _ "$RC" "$OUT" "$NOBODY_DIR/run.out"
touch "$NOBODY_DIR/old.out" && ln -s "$NOBODY_DIR/old.out" "$NOBODY_DIR/link.out"
run_cli "$TCPLAB" serve --pcap "$NOBODY_DIR/old.out" --trace-json "$NOBODY_DIR/link.out"
check "serve --pcap F --trace-json a symlink to F: usage error [rc $RC]" bash -c \
  'test "$1" = 2 && grep -q "name the same file" <<<"$2"' _ "$RC" "$OUT"
rm -f "$NOBODY_DIR/old.out" "$NOBODY_DIR/link.out"
# The status file is rewritten whole at each report: it would wipe a capture of the same name.
run_cli "$TCPLAB" serve --pcap "$NOBODY_DIR/run.out" --status-file "$NOBODY_DIR/run.out"
check "serve --pcap F --status-file F: usage error, file not created [rc $RC: $OUT]" bash -c \
  'test "$1" = 2 && grep -q "name the same file" <<<"$2" && ! test -e "$3"' \
  _ "$RC" "$OUT" "$NOBODY_DIR/run.out"
check "no TUN was left behind by usage errors" bash -c "! ip -n '$LAB_NAME' link show tcplab0 >/dev/null 2>&1"

# ------------------------------------------------------------------ non-root
# The unprivileged runs see a /dev/net/tun of a chosen mode, bound in a private mount namespace
# (lib.sh's tun_node_cmd): 0666 as an admin would set it up for them, 0600 as many VMs ship it.
# If nodes cannot be bound here, only the machine's own mode is tested and the rest is skipped.
tun_nodes_probe || echo "# no bound /dev/net/tun nodes ($TUN_NODES_WHY); using the machine's $(real_tun_mode) one"
# run_nobody MODE ARGS...: `tcplab ARGS` as uid 65534 in the namespace with a MODE /dev/net/tun.
run_nobody() {
  local mode=$1; shift
  tun_node_cmd "$mode"
  OUT=$("${TUN_CMD[@]}" ip netns exec "$LAB_NAME" timeout 10 "${NOBODY[@]}" "$NOBODY_TCPLAB" "$@" 2>&1); RC=$?
}
# nobody_case MODE NAME: true if the case can run; otherwise prints its SKIPPED line.
nobody_case() {
  tun_mode_usable "$1" && return 0
  skipped "$2" "needs a $1 /dev/net/tun; this machine's is $(real_tun_mode) and $TUN_NODES_WHY"
  return 1
}
name="non-root, /dev/net/tun 0666: exit 1 naming CAP_NET_ADMIN and the persistent-TUN fix"
if nobody_case 0666 "$name"; then
  run_nobody 0666 serve --tun tcplabx
  check "$name" bash -c "[ $RC -eq 1 ] && grep -q 'needs root or CAP_NET_ADMIN' <<<\"\$0\" &&
    grep -q 'ip tuntap add mode tun user' <<<\"\$0\"" "$OUT"
  echo "# $OUT"
fi
name="non-root, /dev/net/tun 0600: exit 1 naming the node's mode and the chmod fix"
if nobody_case 0600 "$name"; then
  run_nobody 0600 serve --tun tcplabx
  check "$name" bash -c "[ $RC -eq 1 ] && grep -q 'cannot open /dev/net/tun: permission denied' <<<\"\$0\" &&
    grep -q 'sudo chmod 0666 /dev/net/tun' <<<\"\$0\"" "$OUT"
  echo "# $OUT"
fi

# ------------------------------------------------------------------ server with defaults
if ! start_server --trace; then
  not_ok "server starts with default flags"
  exit 1
fi
check "readiness line is exact" grep -qx 'tcplab: up on tcplab0, stack 192.0.2.2, host 192.0.2.1/24' "$SERVER_LOG"
check "readiness is followed by the ping line to paste, into this namespace" \
  grep -qx "  $LAB exec --name $LAB_NAME -- ping -c 3 192.0.2.2" "$SERVER_LOG"
check "the kernel side has 192.0.2.1/24 and is up" \
  bash -c "ip -n '$LAB_NAME' addr show tcplab0 | grep -q 'inet 192.0.2.1/24' && ip -n '$LAB_NAME' link show tcplab0 | grep -q ',UP'"

out=$(lab_exec timeout 15 ping -n -c 5 -i 0.2 "$STACK" 2>&1)
check "ping -c 5: 5 replies" grep -q '5 packets transmitted, 5 received' <<<"$out"
out=$(lab_exec timeout 15 ping -n -c 3 -i 0.2 -s 1400 "$STACK" 2>&1)
check "ping -s 1400: 3 replies of 1408 bytes" \
  bash -c "grep -q '3 packets transmitted, 3 received' <<<\"\$0\" && grep -q '^1408 bytes from' <<<\"\$0\"" "$out"
# Bigger than the MTU: the kernel fragments the request, the stack reassembles it (RFC 791
# §3.2, RFC 1122 §3.3.2) and fragments its reply, which the kernel reassembles in turn.
for size in 4000 8000; do
  out=$(lab_exec timeout 15 ping -n -c 3 -i 0.2 -s "$size" "$STACK" 2>&1)
  check "ping -s $size (fragments both ways): 3 replies of $((size + 8)) bytes" \
    bash -c "grep -q '3 packets transmitted, 3 received' <<<\"\$0\" && grep -q '^$((size + 8)) bytes from' <<<\"\$0\"" "$out"
done
check "the trace shows the reassembled requests" grep -q 'note reassembled datagram id [0-9]*, 8028 bytes' "$SERVER_LOG"
out=$(lab_exec timeout 30 ping -n -q -f -c 2000 -w 20 "$STACK" 2>&1)
check "ping -f -c 2000: 0% loss" grep -q '2000 packets transmitted, 2000 received, 0% packet loss' <<<"$out"
echo "# $(grep rtt <<<"$out")"

# ------------------------------------------------------------------ malformed packets
cases="bad-checksum:ipv4-bad-checksum bad-version:ipv4-bad-version ihl-lt-5:ipv4-bad-header-length
ihl-past-packet:ipv4-bad-header-length total-length-gt-packet:ipv4-bad-total-length
truncated-header:ipv4-truncated fragment-bad-length:fragment-bad-length fragment-too-big:fragment-too-big
fragment-overlap:fragment-overlap
wrong-destination:ipv4-not-for-us bad-source:ipv4-bad-source icmp-bad-checksum:icmp-bad-checksum
icmp-truncated:icmp-truncated icmp-unhandled-type:icmp-unhandled-type"
for c in $cases; do
  name=${c%%:*} reason=${c#*:}
  before=$(grep -c "drop $reason\b" "$SERVER_LOG")
  lab_exec timeout 5 "$INJECT" "$name" >/dev/null
  after=$before
  for _ in $(seq 30); do
    after=$(grep -c "drop $reason\b" "$SERVER_LOG")
    [ "$after" -gt "$before" ] && break
    sleep 0.1
  done
  if [ "$after" -eq $((before + 1)) ] && ping_ok; then
    ok "malformed '$name' dropped as '$reason', ping still answered"
  else
    not_ok "malformed '$name' dropped as '$reason' (drop lines $before -> $after), ping still answered"
  fi
done

# ------------------------------------------------------------------ ICMP errors
out=$(lab_exec timeout 5 "$INJECT" unknown-protocol --expect-icmp 3/2 2>&1)
check "unknown protocol 253: the kernel receives protocol unreachable quoting our packet" \
  grep -q 'got ICMP 3/2 from the stack, quote matches, checksum ok' <<<"$out"
before=$(lab_exec awk '/^Icmp:/ && ++n == 2 {print $5}' /proc/net/snmp)
out=$(lab_exec timeout 5 "$UDP_PROBE" "$STACK" 9 2000 2>&1)
after=$(lab_exec awk '/^Icmp:/ && ++n == 2 {print $5}' /proc/net/snmp)
check "UDP: connected socket gets ECONNREFUSED" grep -q 'ECONNREFUSED' <<<"$out"
check "UDP: the kernel counted one more ICMP destination unreachable ($before -> $after)" test "$after" -eq $((before + 1))
check "trace notes the port unreachable" wait_for_line 'note icmp port unreachable to 192.0.2.1'
check "ping still answered after the ICMP errors" ping_ok
# RFC 1812 §4.3.2.8: 2000 packets that each deserve an error get a burst of 50 errors and
# then one per millisecond; the rest are counted as not sent (unless the 2000 took 2 s).
lab_exec timeout 20 "$INJECT" unknown-protocol --count 2000 >/dev/null
check "a burst of 2000 bad packets: the ICMP errors beyond the bucket are not sent, each traced" \
  wait_for_line 'drop icmp-error-rate-limited protocol unreachable not sent'
echo "# so far: $(grep -c 'drop icmp-error-rate-limited' "$SERVER_LOG") errors not sent, sent: \
$(grep -c 'note icmp protocol unreachable' "$SERVER_LOG") (for 2000 + 1 earlier packets)"
check "ping still answered after the burst (echo replies are not rate-limited)" ping_ok

# ------------------------------------------------------------------ second server: busy, address in use
run_cli "$TCPLAB" serve
check "same TUN name while running: exit 1, 'busy'" bash -c "[ $RC -eq 1 ] && grep -q 'tcplab0 is busy' <<<\"\$0\"" "$OUT"
echo "# $OUT"
run_cli "$TCPLAB" serve --tun tcplab1 --host-ip 192.0.2.1/24
check "host address already on tcplab0: exit 1, names the interface" \
  bash -c "[ $RC -eq 1 ] && grep -q 'overlaps address 192.0.2.1/24 on interface tcplab0' <<<\"\$0\"" "$OUT"
echo "# $OUT"
run_cli "$TCPLAB" serve --tun tcplab1 --host-ip none --ip 192.0.2.1
check "--host-ip none on a TUN nobody prepared: exit 1, says so before any address clash" \
  bash -c "[ $RC -eq 1 ] && grep -q -- 'no TUN tcplab1 was prepared' <<<\"\$0\" && ! grep -q overlaps <<<\"\$0\"" "$OUT"
check "failed starts leave no tcplab1 behind" bash -c "! ip -n '$LAB_NAME' link show tcplab1 >/dev/null 2>&1"
check "first server still answers" ping_ok

# ------------------------------------------------------------------ SIGUSR1, SIGTERM
kill -USR1 "$SERVER_PID"
check "SIGUSR1 prints non-zero drop counters by name (an overlap drops both fragments)" \
  wait_for_line '^tcplab: drops: .*ipv4-bad-checksum 1.*fragment-bad-length 1, fragment-too-big 1, fragment-overlap 2'
check "SIGUSR1 prints the connection table" wait_for_line '^tcplab: connections: [0-9]+'
check "SIGUSR1 does not stop the server" ping_ok
pid=$SERVER_PID
stop_server
rc=$?
check "SIGTERM: exit code 0" test "$rc" -eq 0
check "SIGTERM: counters printed at exit" bash -c "grep -A1 '^tcplab: stopping' '$SERVER_LOG' | grep -q '^tcplab: drops: .*ipv4-truncated 1'"
check "SIGTERM: the TUN we created is gone" bash -c "! ip -n '$LAB_NAME' link show tcplab0 >/dev/null 2>&1"
check "SIGTERM: process is gone" bash -c "! kill -0 $pid 2>/dev/null"

# ------------------------------------------------------------------ SIGINT
forget_log
if start_server --http-port 0; then
  kill -INT "$SERVER_PID"; stop_server; rc=$?
  check "SIGINT: exit code 0 and the TUN is gone" bash -c "[ $rc -eq 0 ] && ! ip -n '$LAB_NAME' link show tcplab0 >/dev/null 2>&1"
else
  not_ok "server starts again after a clean stop"
fi

# ------------------------------------------------------------------ persistent TUN without root
# An admin's setup: a TUN owned by an unprivileged user, addressed and up, and a /dev/net/tun
# any user may open. The user then runs tcplab without any privilege.
persistent_cases=("unprivileged user attaches to a persistent TUN it owns"
  "--host-ip none on the persistent TUN: up and answering"
  "persistent TUN without its address, as non-root: exit 1 with the admin's command"
  "persistent TUN of another user: exit 1, says whose it is")
if ! tun_mode_usable 0666; then
  for name in "${persistent_cases[@]}"; do nobody_case 0666 "$name"; done
  exit 0
fi
ip -n "$LAB_NAME" tuntap add mode tun user 65534 name tcplabp &&
  ip -n "$LAB_NAME" addr add 192.0.2.1/24 dev tcplabp &&
  ip -n "$LAB_NAME" link set tcplabp up
forget_log
SERVER_LOG=$(mktemp)
chmod 644 "$SERVER_LOG"
tun_node_cmd 0666
"${TUN_CMD[@]}" ip netns exec "$LAB_NAME" "${NOBODY[@]}" "$NOBODY_TCPLAB" serve --tun tcplabp --http-port 0 \
  >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
if wait_for_line '^tcplab: up on tcplabp' 50; then
  ok "${persistent_cases[0]} (address already set)"
  check "persistent TUN: ping answered" ping_ok
  stop_server; rc=$?
  check "persistent TUN: exit 0 and the TUN stays (it is the admin's)" \
    bash -c "[ $rc -eq 0 ] && ip -n '$LAB_NAME' link show tcplabp >/dev/null 2>&1"
else
  not_ok "${persistent_cases[0]}"
  sed 's/^/# /' "$SERVER_LOG"
  stop_server
fi
"${TUN_CMD[@]}" ip netns exec "$LAB_NAME" "${NOBODY[@]}" "$NOBODY_TCPLAB" serve --tun tcplabp --host-ip none \
  --http-port 0 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
if wait_for_line '^tcplab: up on tcplabp, stack 192.0.2.2, host as configured' 50 && ping_ok; then
  ok "${persistent_cases[1]}"
else
  not_ok "${persistent_cases[1]}"
  sed 's/^/# /' "$SERVER_LOG"
fi
stop_server
ip -n "$LAB_NAME" addr flush dev tcplabp
run_nobody 0666 serve --tun tcplabp
check "${persistent_cases[2]}" \
  bash -c "[ $RC -eq 1 ] && grep -q 'sudo ip addr add 192.0.2.1/24 dev tcplabp' <<<\"\$0\"" "$OUT"
echo "# $OUT"
ip -n "$LAB_NAME" tuntap del mode tun name tcplabp
ip -n "$LAB_NAME" tuntap add mode tun user 0 name tcplabr
run_nobody 0666 serve --tun tcplabr --host-ip none
check "${persistent_cases[3]}" \
  bash -c "[ $RC -eq 1 ] && grep -q 'exists but you may not attach to it (it belongs to uid 0)' <<<\"\$0\"" "$OUT"
echo "# $OUT"
ip -n "$LAB_NAME" tuntap del mode tun name tcplabr
exit 0
