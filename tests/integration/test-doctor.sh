#!/usr/bin/env bash
# `tcplab doctor` on a good setup and on deliberately broken ones, each built inside a lab
# namespace (or, for /dev/net/tun's mode, a private mount namespace inside it), never on the
# machine itself: a 0600 device node for an unprivileged user, a persistent TUN owned by that
# user, a running tcplab holding the name, a non-TUN device with the name, rp_filter=1 (fine
# while the stack is routed via the TUN), an address clash on a veth, a route clash,
# --host-ip none without a TUN, and nftables input chains: policy drop, a drop by wildcard,
# address or port, and the accept doctor advises placed before a drop.
source "$(dirname "$0")/lib.sh"
require_lab

[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
for tool in nft setpriv unshare python3; do
  command -v "$tool" >/dev/null || { not_ok "$(basename "$0"): $tool missing (run tests/setup.sh)"; exit 1; }
done
NOBODY=65534

# A new namespace inherits the machine's IPv4 conf/all and conf/default (with
# net.core.devconf_inherit_init_net=0, the default), so rp_filter is set explicitly: the
# good setup must not depend on the VM.
fresh_lab() {
  ip netns del "$LAB_NAME" 2>/dev/null
  lab_up && lab_exec sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}
# doctor [ARGS...]: run doctor in the lab as root; output in $OUT, exit status in $RC.
doctor() { OUT=$(lab_exec "$TCPLAB" doctor "$@" 2>&1); RC=$?; }
# expect NAME STATUS REGEX TITLE: the line of check NAME has STATUS and matches REGEX.
expect() {
  local line
  line=$(grep -E "^(ok  |FAIL|info)  $1 " <<<"$OUT")
  if [[ "$line" == "$2"* ]] && grep -qE -- "$3" <<<"$line"; then ok "$4"; else
    not_ok "$4"; echo "# got: ${line:-no line for $1}"
  fi
}
# as_nobody MODE [SETUP]: doctor as uid 65534 with /dev/net/tun replaced, in a private mount
# namespace, by a node of MODE. The node's mode is not per network namespace.
as_nobody() {
  OUT=$(lab_exec unshare -m sh -c '
    set -e
    dir=$(mktemp -d)
    mknod "$dir/tun" c 10 200
    chmod "$1" "$dir/tun"
    mount --bind "$dir/tun" /dev/net/tun
    setpriv --reuid="$2" --regid="$2" --clear-groups "$3" doctor; rc=$?
    umount /dev/net/tun; rm -rf "$dir"; exit $rc' _ "$1" "$NOBODY" "$TCPLAB" 2>&1)
  RC=$?
}

# ---------------------------------------------------------------- a good setup
fresh_lab
doctor
check "good setup: exit 0 [rc $RC]" test "$RC" = 0
[ "$RC" = 0 ] || echo "$OUT"
check "good setup: one line per check, eight checks, none FAIL" bash -c '
  [ "$(grep -cE "^(ok  |info)  [a-z_-]+ " <<<"$1")" = 8 ] && ! grep -q "^FAIL" <<<"$1"' _ "$OUT"
expect tun-device ok "opens read-write as uid 0" "good setup: tun-device ok"
expect privilege ok "running as root" "good setup: privilege ok"
expect addresses ok "host 192.0.2.1/24, stack 192.0.2.2: free, chosen automatically" "good setup: addresses ok"
expect device-name ok "no interface named tcplab0" "good setup: no tcplab0 yet"
expect netem info "sch_netem" "good setup: netem is information"
echo "$OUT" | sed 's/^/# /'

json=$(lab_exec "$TCPLAB" doctor --json); rc=$?
check "--json: exit 0, an array of objects with exactly check/ok/status/detail/fix [rc $rc]" python3 -c '
import json, sys
checks = json.loads(sys.argv[1])
assert [c["check"] for c in checks] == ["tun-device", "privilege", "addresses", "rp_filter", "firewall",
                                        "device-name", "tun-settings", "netem"], checks
for c in checks:
    assert set(c) == {"check", "ok", "status", "detail", "fix"}, c
    assert c["ok"] is True and isinstance(c["detail"], str) and isinstance(c["fix"], str), c
# The information checks are told apart from the passes, as the text output does.
assert [c["status"] for c in checks if c["check"] in ("tun-settings", "netem")] == ["info", "info"], checks
assert [c["status"] for c in checks if c["check"] in ("tun-device", "privilege")] == ["ok", "ok"], checks
' "$json"

# ---------------------------------------------------------------- /dev/net/tun 0600, unprivileged user
as_nobody 0600
check "node 0600 as uid $NOBODY: exit 1 [rc $RC]" test "$RC" = 1
expect tun-device FAIL "mode 0600 owner 0:0; open\(\) as uid $NOBODY fails: Permission denied" \
  "node 0600: tun-device FAIL says the mode and the error"
expect tun-device FAIL "fix: run as root .*sudo chmod 0666 /dev/net/tun" "node 0600: the fix is root or chmod"
expect privilege FAIL "uid $NOBODY is not root, has no CAP_NET_ADMIN" "node 0600: privilege FAIL"
expect firewall info "needs root" "unprivileged: firewall rules cannot be listed (info)"

as_nobody 0666
expect tun-device ok "mode 0666 .* opens read-write as uid $NOBODY" "node 0666: tun-device ok for uid $NOBODY"
expect privilege FAIL "there is no persistent TUN tcplab0" "node 0666, no persistent TUN: privilege FAIL"
expect privilege FAIL "sudo ip tuntap add mode tun user nobody name tcplab0" \
  "privilege fix: a persistent TUN for this user by name (not a literal \$USER)"

ip -n "$LAB_NAME" tuntap add mode tun user "$NOBODY" name tcplab0
as_nobody 0666
check "node 0666 and a persistent TUN owned by uid $NOBODY: exit 0 [rc $RC]" test "$RC" = 0
expect privilege ok "persistent TUN that uid $NOBODY may use" "persistent TUN: privilege ok"
expect device-name ok "persistent TUN \(owner uid $NOBODY\), not in use" "persistent TUN: device-name ok"
expect tun-settings info "tcplab0 MTU 1500" "persistent TUN: its MTU is reported"

# ---------------------------------------------------------------- name clashes
fresh_lab
start_server --http-port 80 || { not_ok "server starts"; exit 1; }
doctor
check "tcplab already running: exit 1 [rc $RC]" test "$RC" = 1
expect device-name FAIL "another process holds open \(is tcplab already running\?\)" \
  "tcplab already running: device-name FAIL"
expect addresses ok "host 192.0.2.1/24, stack 192.0.2.2: free" "tcplab already running: its own address is no clash"
expect tun-settings info "offloads: " "tcplab0 exists: MTU and offloads reported"
stop_server

fresh_lab
ip -n "$LAB_NAME" link add tcplab0 type veth peer name tl-peer
doctor
expect device-name FAIL "tcplab0 exists and is not a TUN device" "a veth named tcplab0: device-name FAIL"
expect device-name FAIL "fix: pick another name with --tun NAME" "a veth named tcplab0: the fix names --tun"
doctor --tun tcplab1
check "--tun tcplab1 avoids the clash [rc $RC]" test "$RC" = 0

fresh_lab
ip -n "$LAB_NAME" tuntap add mode tun name tcplab0
doctor
expect device-name ok "persistent TUN \(no owner\), not in use: tcplab attaches" \
  "root and an unused persistent TUN: device-name ok"

# ---------------------------------------------------------------- rp_filter
# Strict mode drops a packet from the TUN only when the route back to its source leaves
# elsewhere: with the stack's address on the TUN's prefix (what serve sets up) it works.
fresh_lab
lab_exec sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
doctor
check "rp_filter=1, stack routed via the TUN: exit 0 [rc $RC]" test "$RC" = 0
expect rp_filter ok "strict.*192.0.2.2 is routed via tcplab0" "rp_filter=1, stack routed via the TUN: ok"
start_server --http-port 80 || { not_ok "server starts with rp_filter=1"; exit 1; }
check "rp_filter=1: curl gets 200 from the stack, as doctor said" bash -c '
  [ "$(ip netns exec "$1" timeout 20 curl -s -o /dev/null -w "%{http_code}" --max-time 10 \
    http://192.0.2.2/)" = 200 ]' _ "$LAB_NAME"
check "rp_filter=1: ping gets its reply" lab_exec timeout 10 ping -c 1 -W 5 192.0.2.2
stop_server
# --host-ip none with an --ip the admin's TUN does not route: strict filtering drops the
# stack's packets, and the fix changes only the settings that are 1.
lab_exec sysctl -qw net.ipv4.conf.default.rp_filter=0
ip -n "$LAB_NAME" tuntap add mode tun name tcplab0
ip -n "$LAB_NAME" addr add 192.0.2.1/24 dev tcplab0
lab_exec sysctl -qw net.ipv4.conf.tcplab0.rp_filter=1
doctor --host-ip none --ip 198.51.100.2
expect rp_filter FAIL "strict.*198.51.100.2, which is not routed via tcplab0" "rp_filter=1, stack elsewhere: FAIL"
expect rp_filter FAIL "fix: sudo sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.tcplab0.rp_filter=2 \(" \
  "rp_filter=1: the fix makes all and the TUN loose, nothing else"
lab_exec sysctl -qw net.ipv4.conf.all.rp_filter=0
doctor --host-ip none --ip 198.51.100.2
expect rp_filter FAIL "fix: sudo sysctl -w net.ipv4.conf.tcplab0.rp_filter=2 \(" \
  "rp_filter: only the TUN strict, only the TUN's setting changes"
lab_exec sysctl -qw net.ipv4.conf.tcplab0.rp_filter=2
doctor --host-ip none --ip 198.51.100.2
expect rp_filter ok "loose" "rp_filter=2: ok"

# ---------------------------------------------------------------- address and route clashes
fresh_lab
ip -n "$LAB_NAME" link add v0 type veth peer name v1
ip -n "$LAB_NAME" addr add 192.0.2.2/24 dev v0
# With no flags doctor answers as serve would: auto steps over the range in use.
doctor
expect addresses ok "host 198.51.100.1/24, stack 198.51.100.2: free, chosen automatically \(192.0.2.0/24 is in use" \
  "address clash, automatic choice: addresses ok on the next free range"
# An explicit choice that clashes is refused, as serve refuses it.
doctor --host-ip 192.0.2.1/24 --ip 192.0.2.2
check "192.0.2.2/24 on a veth, asked for explicitly: exit 1 [rc $RC]" test "$RC" = 1
expect addresses FAIL "v0" "address clash: addresses FAIL names the interface"
doctor --host-ip 198.51.100.1/24 --ip 198.51.100.2
expect addresses ok "host 198.51.100.1/24, stack 198.51.100.2" "the suggested other addresses are free"

fresh_lab
ip -n "$LAB_NAME" link add v0 type veth peer name v1
ip -n "$LAB_NAME" link set v1 up
ip -n "$LAB_NAME" route add 192.0.2.0/25 dev v1
doctor --host-ip 192.0.2.1/24
expect addresses FAIL "192.0.2.0/25" "route clash: addresses FAIL names the route"

# ---------------------------------------------------------------- --tun naming the machine's own interface
# A VM's eth0 (here a veth of that name) or lo is no TUN: its address is not an admin's
# preparation, and the fix must never be to delete it.
fresh_lab
ip -n "$LAB_NAME" link add eth0 type veth peer name eth0p
ip -n "$LAB_NAME" addr add 10.20.30.1/24 dev eth0
ip -n "$LAB_NAME" link set eth0 up
doctor --tun eth0
expect addresses ok "host 192.0.2.1/24, stack 192.0.2.2: free" "--tun eth0: eth0's own address is not taken for the TUN's"
expect device-name FAIL "eth0 exists and is not a TUN device" "--tun eth0: device-name FAIL"
check "--tun eth0: the fix picks another name and never deletes eth0" bash -c '
  grep -E "^FAIL  device-name " <<<"$1" | grep -q -- "--tun NAME" && ! grep -q "ip link del" <<<"$1"' _ "$OUT"
doctor --tun lo
check "--tun lo: no advice to delete lo" bash -c '
  grep -qE "^FAIL  device-name .*lo exists and is not a TUN" <<<"$1" && ! grep -q "link del" <<<"$1"' _ "$OUT"
doctor --tun eth0 --host-ip 10.20.30.1/24 --ip 10.20.30.2
expect addresses FAIL "overlaps address 10.20.30.1/24 on interface eth0" "--tun eth0 with eth0's prefix: a clash"

# ---------------------------------------------------------------- --host-ip none agrees with serve
fresh_lab
doctor --host-ip none
expect addresses FAIL "no TUN tcplab0 was prepared" "--host-ip none without a prepared TUN: addresses FAIL"
expect addresses FAIL "fix: leave --host-ip out" "--host-ip none without a prepared TUN: the fix"
out=$(lab_exec timeout 20 "$TCPLAB" serve --host-ip none 2>&1); rc=$?
check "serve --host-ip none without a prepared TUN: exit 1 with doctor's words [rc $rc: $out]" \
  bash -c '[ "$1" = 1 ] && grep -q "no TUN tcplab0 was prepared" <<<"$2" && ! grep -q "up on" <<<"$2"' _ "$rc" "$out"
check "serve --host-ip none: the TUN it created is gone again" bash -c '! ip -n "$1" link show tcplab0 >/dev/null 2>&1' _ "$LAB_NAME"
expect device-name FAIL "no interface named tcplab0: with --host-ip none" \
  "--host-ip none without a prepared TUN: device-name does not promise that tcplab creates it"
# Another tcplab on tcplab1 holds 192.0.2.1/24: still the missing TUN is what doctor and serve name.
start_server --tun tcplab1 --http-port 80 || { not_ok "server on tcplab1 starts"; exit 1; }
doctor --host-ip none
expect addresses FAIL "no TUN tcplab0 was prepared" "--host-ip none, no TUN, --ip in another TUN's prefix: the missing TUN"
check "--host-ip none, no TUN: no complaint about an overlap" bash -c '! grep -q "overlaps" <<<"$1"' _ "$OUT"
out=$(lab_exec timeout 20 "$TCPLAB" serve --host-ip none 2>&1); rc=$?
check "serve --host-ip none, no TUN, another TUN's prefix: exit 1 naming the missing TUN [rc $rc: $out]" \
  bash -c '[ "$1" = 1 ] && grep -q "no TUN tcplab0 was prepared" <<<"$2" && ! grep -q "overlaps" <<<"$2"' _ "$rc" "$out"
stop_server
ip -n "$LAB_NAME" tuntap add mode tun name tlq0
doctor --tun tlq0 --host-ip none --ip 172.31.9.2
expect addresses FAIL "sudo ip addr add 172.31.9.1/24 dev tlq0 && sudo ip link set tlq0 up \(then --ip 172.31.9.2\)" \
  "--host-ip none on an unaddressed TUN: the advice is the /24 around --ip"
ip -n "$LAB_NAME" tuntap del mode tun name tlq0
ip -n "$LAB_NAME" tuntap add mode tun name tcplab0
doctor --host-ip none
expect addresses FAIL "the TUN tcplab0 carries no IPv4 address" "--host-ip none on a TUN without an address: FAIL"
ip -n "$LAB_NAME" addr add 192.0.2.1/24 dev tcplab0
doctor --host-ip none
expect addresses ok "stack 192.0.2.2: free" "--host-ip none on a TUN an admin addressed: ok"
doctor --host-ip none --ip 198.51.100.2
expect addresses FAIL "198.51.100.2 is not routed through the TUN tcplab0" "--host-ip none, --ip outside the TUN's prefix: FAIL"

# ---------------------------------------------------------------- addresses no link can have
for args in "--ip 224.0.0.5:multicast" "--host-ip 0.0.0.1/24:0.0.0.0/8" "--ip 127.0.0.2:loopback" \
  "--host-ip 255.255.255.255/24:broadcast" "--ip 240.0.0.1:240.0.0.0/4"; do
  flags=${args%%:*} why=${args#*:}
  for cmd in doctor serve get; do
    extra=(); [ "$cmd" = get ] && extra=(http://192.0.2.2/)
    # shellcheck disable=SC2086
    out=$(lab_exec timeout 10 "$TCPLAB" "$cmd" $flags "${extra[@]}" 2>&1); rc=$?
    check "$cmd $flags: a usage error (exit 2) saying $why [rc $rc: $out]" \
      bash -c '[ "$1" = 2 ] && grep -q -- "$2" <<<"$3"' _ "$rc" "$why" "$out"
  done
done

# ---------------------------------------------------------------- every automatic range in use
fresh_lab
ip -n "$LAB_NAME" link add v0 type veth peer name v1
ip -n "$LAB_NAME" link set v0 up
for range in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 100.64.0.0/10; do
  ip -n "$LAB_NAME" route add "$range" dev v0
done
doctor
expect addresses FAIL "192.0.2.0/24 \(it overlaps route 192.0.2.0/24 dev v0\), 198.51.100.0/24 \(it overlaps" \
  "all ranges in use: each documentation range with its reason"
expect addresses FAIL "100.64.0.0/24 to 100.64.255.0/24 \(each overlaps route 100.64.0.0/10 dev v0\)" \
  "all ranges in use: the shared address space with its reason"
expect addresses FAIL "fix: pass a private range that no interface or route here uses" \
  "all ranges in use: the fix is a range of one's own, not leaving the flags out"
check "all ranges in use: no advice to leave the flags out" bash -c '! grep -q "leave --host-ip" <<<"$1"' _ "$OUT"
ip -n "$LAB_NAME" route del 100.64.0.0/10 dev v0
doctor
expect addresses ok "host 100.64.0.1/24.*\(192.0.2.0/24 \(it overlaps.*198.51.100.0/24 \(it.*203.0.113.0/24 \(it overlaps.* are in use here, so tcplab took 100.64.0.0/24\)" \
  "three ranges skipped: the note explains each"

# ---------------------------------------------------------------- --offload
fresh_lab
doctor --offload
expect tun-settings info "creates it with MTU 1500 and offloads \(IFF_VNET_HDR" "doctor --offload: tun-settings says offloads"
doctor
expect tun-settings info "and no offloads" "doctor without --offload: no offloads"

# ---------------------------------------------------------------- firewall (nftables is per namespace)
fresh_lab
lab_exec nft add table inet lab
lab_exec nft add chain inet lab input '{ type filter hook input priority 0; policy drop; }'
doctor
check "nft input policy drop: exit 1 [rc $RC]" test "$RC" = 1
expect firewall FAIL "policy drop;\` and no accept rule for tcplab0" "nft input policy drop: firewall FAIL"
lab_exec nft add rule inet lab input iifname '"tcplab0"' accept
doctor
expect firewall ok "no nft rule drops traffic on tcplab0" "nft policy drop with an accept for tcplab0: ok"

# Each of these alone in an ip input chain with policy accept drops the lab's traffic.
for rule in 'ip saddr 192.0.2.0/24 drop' 'iifname "tcplab*" drop' 'tcp sport 80 drop'; do
  fresh_lab
  lab_exec nft add table ip qa
  lab_exec nft add chain ip qa c '{ type filter hook input priority 0; policy accept; }'
  lab_exec nft "add rule ip qa c $rule"
  doctor
  expect firewall FAIL "nft rule \`$(sed 's/[][*.^$]/\\&/g' <<<"$rule")\`" "nft \`$rule\`: firewall FAIL names the rule"
done
# The fix doctor gives for a drop makes it ok: the accept it inserts comes first.
fresh_lab
lab_exec nft add table ip qa
lab_exec nft add chain ip qa c '{ type filter hook input priority 0; policy accept; }'
lab_exec nft add rule ip qa c iifname '"tcplab0"' drop
doctor
expect firewall FAIL "fix: .*sudo nft insert rule ip qa c iifname tcplab0 accept$" "nft iifname drop: the fix inserts an accept"
fix=$(grep -oE "sudo nft insert rule ip qa c iifname tcplab0 accept" <<<"$OUT" | head -1)
# shellcheck disable=SC2086
lab_exec ${fix#sudo }
doctor
expect firewall ok "no nft rule drops traffic on tcplab0" "after doctor's own fix (accept before the drop): firewall ok"
start_server --http-port 80 || { not_ok "server starts"; exit 1; }
check "after doctor's own fix: curl gets 200 from the stack" bash -c '
  [ "$(ip netns exec "$1" timeout 20 curl -s -o /dev/null -w "%{http_code}" --max-time 10 \
    http://192.0.2.2/)" = 200 ]' _ "$LAB_NAME"
stop_server

"$TCPLAB" doctor --help | grep -q "rp_filter"; rc=$?
check "--help lists the checks" test "$rc" = 0
"$TCPLAB" doctor --bogus >/dev/null 2>&1; rc=$?
check "an unknown flag is a usage error (exit 2) [rc $rc]" test "$rc" = 2
