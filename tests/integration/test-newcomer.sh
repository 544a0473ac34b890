#!/usr/bin/env bash
# A newcomer's first ten minutes, on a VM whose own network is 192.0.2.0/24 (reproduced in a
# namespace: a veth with 192.0.2.2/24 and a default route via 192.0.2.1, the gateway in a
# second namespace of our own). `tcplab serve` without flags must pick a free range and answer
# there; every explicit choice that clashes (addresses, supersets, gateways, routes of non-main
# tables) must be refused with exit 1 and leave routes and addresses byte-identical; an admin's
# persistent TUN with 192.0.2.1/24 keeps working and a second TUN beside it steps over its
# range; the banner's lines work exactly as printed
# (named namespace, tools/lab run with options before or after the command, an unnamed
# namespace, also when tcplab was started in the background and re-parented); tools/lab status names the tcplab PID and tools/lab table shows its table.
source "$(dirname "$0")/lib.sh"
require_lab

TCPLAB=$ROOT/${TCPLAB_BUILD:-build}/tcplab
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
GW_NS=$LAB_NAME-gw      # the VM's gateway
RUN1=$LAB_NAME-r1       # made by tools/lab run, options before the command
RUN2=$LAB_NAME-r2       # options after the command
RUN3=$LAB_NAME-r3       # SIGTERM to tools/lab itself
RUN4=$LAB_NAME-r4       # SIGHUP to tools/lab itself (its terminal closed)
FRESH_NS=$LAB_NAME-p    # an admin's persistent TUN
TMP=$(mktemp -d)
BG_PIDS=()

cleanup_all() {
  local pid
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${BG_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  # Whatever still runs in our own namespaces was started by this test.
  for ns in "$LAB_NAME" "$GW_NS" "$RUN1" "$RUN2" "$RUN3" "$RUN4" "$FRESH_NS"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$TMP"
  lab_cleanup
}
trap cleanup_all EXIT

# wait_for_log FILE PATTERN [TENTHS]: true once PATTERN (grep -E) is in FILE.
wait_for_log() {
  local file=$1 pattern=$2 tries=${3:-100}
  for _ in $(seq "$tries"); do
    grep -qE -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# banner_line LOG WORD: the first indented banner line whose command is WORD (curl, ping, kill).
banner_line() { grep -E "^  .*(^| )$2 " "$1" | head -n 1; }
# run_pasted LINE PREFIX: runs a banner line exactly as printed (bash -c), but only if it
# starts with PREFIX, the way into our own namespace: a wrong banner must never send traffic
# from the machine's own namespace. Output in PASTED_OUT.
run_pasted() {
  local line=$1 prefix=$2
  PASTED_OUT=
  case "$line" in
    "  $prefix"*) ;;
    *) echo "# refusing to run '$line': it does not start with '$prefix'"; return 1 ;;
  esac
  PASTED_OUT=$(timeout 20 bash -c "$line" 2>&1)
}
curl_line_works() {
  run_pasted "$(banner_line "$1" curl)" "$2" && grep -q '</html>' <<<"$PASTED_OUT"
}
ping_line_works() {
  run_pasted "$(banner_line "$1" ping)" "$2" && grep -q '3 packets transmitted, 3 received' <<<"$PASTED_OUT"
}
# The namespace's routes (every table) and addresses, to compare before and after.
snapshot() { ip -n "$1" route show table all; echo ---; ip -n "$1" addr; }
snapshot4() { ip -n "$1" -4 route show table all; echo ---; ip -n "$1" -4 addr; }
# settle SNAPSHOT NS: waits (at most 5 s) until SNAPSHOT of NS stops changing by itself: the
# kernel updates carrier ("linkdown") and link state a moment after a device changes.
settle() {
  local previous current
  previous=$("$1" "$2")
  for _ in $(seq 25); do
    sleep 0.2
    current=$("$1" "$2")
    [ "$current" == "$previous" ] && return 0
    previous=$current
  done
  return 1
}
# run_cli ARGS...: tcplab inside the VM namespace, with a time limit; sets OUT and RC.
run_cli() { OUT=$(lab_exec timeout 10 "$TCPLAB" "$@" 2>&1); RC=$?; }

# ------------------------------------------------------------------ the VM
lab_up || { not_ok "make lab namespace"; exit 1; }
# No IPv6 in the VM: its duplicate address detection would change `ip addr` while we compare.
lab_exec sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns add "$GW_NS" && ip -n "$GW_NS" link set lo up &&
  ip -n "$LAB_NAME" link add vm0 type veth peer name gw0 netns "$GW_NS" &&
  ip -n "$LAB_NAME" addr add 192.0.2.2/24 dev vm0 && ip -n "$LAB_NAME" link set vm0 up &&
  ip -n "$GW_NS" addr add 192.0.2.1/24 dev gw0 && ip -n "$GW_NS" link set gw0 up &&
  ip -n "$LAB_NAME" route add default via 192.0.2.1 &&
  ip -n "$LAB_NAME" route add 203.0.113.0/24 dev vm0 table 100 &&
  ip -n "$LAB_NAME" route add 10.20.30.0/24 via 100.64.7.1 dev vm0 onlink table 101 &&
  ip -n "$LAB_NAME" route add default via 172.31.9.1 dev vm0 onlink table 102 ||
  { not_ok "build the VM's network in a namespace"; exit 1; }
gateway_answers() { lab_exec timeout 5 ping -q -n -c 1 -W 2 192.0.2.1 >/dev/null; }
check "the VM reaches its gateway 192.0.2.1" gateway_answers
settle snapshot "$LAB_NAME" || echo "# the VM's routes and addresses kept changing for 5 s"

# ------------------------------------------------------------------ clashing choices are refused
FREE='use a free range instead, e.g. --host-ip 198.51.100.1/24 --ip 198.51.100.2'
refusals=(
  "--ip 192.0.2.50|needs the host side 192.0.2.1/24, which overlaps address 192.0.2.2/24 on interface vm0"
  "--host-ip 192.0.2.1/24|overlaps address 192.0.2.2/24 on interface vm0"
  "--host-ip 192.0.2.9/24 --ip 192.0.2.50|overlaps address 192.0.2.2/24 on interface vm0"
  "--host-ip 192.0.0.1/16|overlaps address 192.0.2.2/24 on interface vm0"
  "--host-ip 192.0.0.1/8|overlaps address 192.0.2.2/24 on interface vm0"
  "--host-ip 100.64.7.9/24|contains 100.64.7.1, the gateway of route 10.20.30.0/24 via 100.64.7.1 dev vm0 table 101"
  "--host-ip 172.31.9.5/24|contains 172.31.9.1, the gateway of default route via 172.31.9.1 dev vm0 table 102"
  "--host-ip 203.0.113.1/24|overlaps route 203.0.113.0/24 dev vm0 table 100"
  "--ip 203.0.113.7|overlaps route 203.0.113.0/24 dev vm0 table 100"
  "--host-ip none --ip 192.0.2.7|no TUN tcplab0 was prepared"
)
for r in "${refusals[@]}"; do
  args=${r%%|*} expected=${r#*|}
  before=$(snapshot "$LAB_NAME")
  run_cli serve $args
  after=$(snapshot "$LAB_NAME")
  lines=$(printf '%s\n' "$OUT" | grep -c .)
  if [ "$RC" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF -- "$expected" <<<"$OUT"; then
    ok "'serve $args' refused: exit 1, one line naming the clash"
  else
    not_ok "'serve $args' refused: exit 1, one line naming the clash (rc $RC): $OUT"
  fi
  [[ "$args" == --host-ip\ none* ]] || check "'serve $args' names a free alternative" grep -qF -- "$FREE" <<<"$OUT"
  check "'serve $args' left routes (all tables) and addresses byte-identical" test "$before" == "$after"
  [ "$before" == "$after" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/# /'
done
echo "# $OUT"

# ------------------------------------------------------------------ no flags: a free range
if start_server; then
  check "no flags on the VM: up on 198.51.100.x" \
    grep -qx 'tcplab: up on tcplab0, stack 198.51.100.2, host 198.51.100.1/24' "$SERVER_LOG"
  check "the banner says why 192.0.2.0/24 was skipped" grep -qx \
    'tcplab: 192.0.2.0/24 is in use here (it overlaps address 192.0.2.2/24 on interface vm0), so tcplab took 198.51.100.0/24' \
    "$SERVER_LOG"
  check "the banner names the namespace" grep -q "runs in network namespace $LAB_NAME;" "$SERVER_LOG"
  PREFIX="$LAB exec --name $LAB_NAME -- "
  check "the banner's curl line works as printed (ip netns exec namespace)" curl_line_works "$SERVER_LOG" "$PREFIX"
  check "the banner's ping line works as printed (ip netns exec namespace)" ping_line_works "$SERVER_LOG" "$PREFIX"
  check "the banner gives the PID for kill -USR1" grep -qx "  kill -USR1 $SERVER_PID" "$SERVER_LOG"
  check "the VM's default route is untouched" \
    bash -c "ip -n '$LAB_NAME' route show default | grep -q '^default via 192.0.2.1 dev vm0'"
  check "the VM still routes 192.0.2.1 through vm0" bash -c "ip -n '$LAB_NAME' route get 192.0.2.1 | grep -q 'dev vm0'"
  check "the VM still reaches its gateway" gateway_answers
  check "only one route to 192.0.2.0/24 in the main table" \
    test "$(ip -n "$LAB_NAME" route show 192.0.2.0/24 | wc -l)" -eq 1
  stop_server
else
  not_ok "no flags on the VM: up on a free range"
fi

# ------------------------------------------------------------------ status and table, --status-file
STATUS=$TMP/status
if start_server --status-file "$STATUS"; then
  out=$("$LAB" status --name "$LAB_NAME" 2>&1)
  check "tools/lab status names the tcplab PID" grep -q "^lab: tcplab PID $SERVER_PID: " <<<"$out"
  # A connection that stays open while the table is taken (the header timeout is 10 s).
  ip netns exec "$LAB_NAME" timeout 6 bash -c 'exec 3<>/dev/tcp/198.51.100.2/80; sleep 4' &
  BG_PIDS+=($!)
  sleep 0.5
  out=$("$LAB" --name "$LAB_NAME" table 2>&1)
  rc=$?
  check "tools/lab table: exit 0, the drop counters and the live connection" \
    bash -c "[ $rc -eq 0 ] && grep -q '^tcplab: drops: ' <<<\"\$0\" && grep -qE 'ESTABLISHED +198.51.100.2:80 ' <<<\"\$0\"" "$out"
  echo "$out" | sed 's/^/# /'
  check "the same report went to the server's stderr" wait_for_log "$SERVER_LOG" 'ESTABLISHED +198.51.100.2:80 ' 30
  stop_server
else
  not_ok "serve --status-file starts"
fi
# Each report replaces the status file whole: a device or a symbolic link there is refused at
# start (exit 2), and stays what it was.
mknod -m 666 "$TMP/devnull" c 1 3
ln -s "$TMP/status" "$TMP/status-link"
for target in "$TMP/devnull" "$TMP/status-link"; do
  run_cli serve --status-file "$target"
  err=$OUT rc=$RC
  check "serve --status-file ${target##*/}: exit 2 ($rc), it says why: $err" \
    bash -c "[ $rc -eq 2 ] && grep -q 'replaces the file whole' <<<\"\$0\"" "$err"
done
check "the device is still a device, the link still a link" test -c "$TMP/devnull" -a -L "$TMP/status-link"
run_cli serve --status-file "$TMP/no-such-dir/status"
check "serve --status-file in a missing directory: exit 2 ($RC), it says so" \
  bash -c "[ $RC -eq 2 ] && grep -q 'does not exist' <<<\"\$0\"" "$OUT"
# Without a status file, table says how to get one and fails.
if start_server; then
  out=$("$LAB" table --name "$LAB_NAME" 2>&1)
  rc=$?
  check "tools/lab table without a status file: exit 1 and the fix" \
    bash -c "[ $rc -eq 1 ] && grep -q 'start it with --status-file FILE' <<<\"\$0\"" "$out"
  check "... and the table still went to the server's stderr" wait_for_log "$SERVER_LOG" '^tcplab: connections: ' 30
  stop_server
else
  not_ok "serve starts again"
fi

# Started through sudo (SUDO_USER set), the user's next terminal is not root: the lines say sudo.
# (Only their form is checked: they cannot be run where sudo is not installed.)
if SUDO_USER=student start_server --http-port 0; then
  check "through sudo: the lines to paste start with sudo" \
    grep -qx "  sudo $LAB exec --name $LAB_NAME -- ping -c 3 198.51.100.2" "$SERVER_LOG"
  check "through sudo: kill -USR1 with sudo" grep -qx "  sudo kill -USR1 $SERVER_PID" "$SERVER_LOG"
  stop_server
else
  not_ok "serve starts with SUDO_USER set"
fi

# ------------------------------------------------------------------ tools/lab run, both option orders
# run_lab NS LOG ARGS...: tools/lab ARGS in the background; waits for the readiness line.
run_lab() {
  local log=$2; shift 2
  "$LAB" "$@" >"$log" 2>&1 &
  LAB_PID=$!
  BG_PIDS+=("$LAB_PID")
  wait_for_log "$log" '^tcplab: up on' 100
}
# stop_lab NS LOG: SIGTERM to the tcplab the banner names; run must exit and remove NS.
stop_lab() {
  local ns=$1 log=$2 pid
  pid=$(sed -nE 's/^  kill -USR1 ([0-9]+)$/\1/p' "$log")
  [ -n "$pid" ] && kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$LAB_PID" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$LAB_PID" 2>/dev/null && ! ip netns list | awk '{print $1}' | grep -qx "$ns"
}
for order in before after; do
  ns=$RUN1 log=$TMP/run-before.log
  if [ "$order" = before ]; then
    run_lab "$ns" "$log" --name "$ns" run -- "$TCPLAB" serve
  else
    ns=$RUN2 log=$TMP/run-after.log
    run_lab "$ns" "$log" run --name "$ns" -- "$TCPLAB" serve
  fi
  if [ $? -ne 0 ]; then
    not_ok "tools/lab with --name $order run: tcplab comes up"; sed 's/^/# /' "$log"; continue
  fi
  check "tools/lab with --name $order run: up, in namespace $ns" \
    bash -c "grep -qx 'tcplab: up on tcplab0, stack 192.0.2.2, host 192.0.2.1/24' '$log' && ip netns list | awk '{print \$1}' | grep -qx '$ns'"
  PREFIX="$LAB exec --name $ns -- "
  check "tools/lab run ($order): the banner's curl line works as printed" curl_line_works "$log" "$PREFIX"
  check "tools/lab run ($order): the banner's ping line works as printed" ping_line_works "$log" "$PREFIX"
  pid=$(sed -nE 's/^  kill -USR1 ([0-9]+)$/\1/p' "$log")
  out=$("$LAB" --name "$ns" status 2>&1)
  check "tools/lab --name X status ($order): names tcplab PID $pid" grep -q "^lab: tcplab PID $pid: " <<<"$out"
  out=$("$LAB" status --name "$ns" 2>&1)
  check "tools/lab status --name X ($order): names tcplab PID $pid" grep -q "^lab: tcplab PID $pid: " <<<"$out"
  check "tools/lab run ($order): the banner shows the table command" \
    grep -qx "  $LAB table --name $ns" "$log"
  out=$(bash -c "$(grep -x "  $LAB table --name $ns" "$log")" 2>&1)
  check "tools/lab run ($order): the banner's table line shows the table (status file set by run)" \
    bash -c "grep -q '^lab: tcplab PID $pid in $ns:' <<<\"\$0\" && grep -q '^tcplab: connections: ' <<<\"\$0\"" "$out"
  check "tools/lab run ($order): SIGTERM to tcplab ends run, which removes the namespace" stop_lab "$ns" "$log"
  check "tools/lab run ($order): and the status file it set" test ! -e "/run/tcplab-lab/$ns.status"
done
# SIGTERM to `tools/lab run` itself reaches the command at once, and run still cleans up.
if run_lab "$RUN3" "$TMP/run-term.log" run --name "$RUN3" -- "$TCPLAB" serve; then
  kill -TERM "$LAB_PID"
  for _ in $(seq 100); do kill -0 "$LAB_PID" 2>/dev/null || break; sleep 0.1; done
  rc=0
  wait "$LAB_PID" || rc=$?
  check "SIGTERM to tools/lab run: tcplab stops cleanly (exit 0) and the namespace is removed" \
    bash -c "[ $rc -eq 0 ] && grep -q '^tcplab: stopping' '$TMP/run-term.log' && ! ip netns list | awk '{print \$1}' | grep -qx '$RUN3'"
else
  not_ok "tools/lab run comes up for the SIGTERM check"; sed 's/^/# /' "$TMP/run-term.log"
fi
# SIGHUP to `tools/lab run` (the terminal it runs in was closed): tcplab is stopped, and the
# status file run set is removed only after tcplab has written its final report into it.
if run_lab "$RUN4" "$TMP/run-hup.log" run --name "$RUN4" -- "$TCPLAB" serve; then
  pid=$(sed -nE 's/^  kill -USR1 ([0-9]+)$/\1/p' "$TMP/run-hup.log")
  kill -HUP "$LAB_PID"
  for _ in $(seq 100); do kill -0 "$LAB_PID" 2>/dev/null || break; sleep 0.1; done
  for _ in $(seq 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  check "SIGHUP to tools/lab run: tcplab stops and the namespace is removed" \
    bash -c "! kill -0 '$LAB_PID' 2>/dev/null && [ -n '$pid' ] && ! kill -0 '$pid' 2>/dev/null && ! ip netns list | awk '{print \$1}' | grep -qx '$RUN4'"
  check "SIGHUP to tools/lab run: and the status file it set (written as tcplab exits)" \
    test ! -e "/run/tcplab-lab/$RUN4.status"
else
  not_ok "tools/lab run comes up for the SIGHUP check"; sed 's/^/# /' "$TMP/run-hup.log"
fi
out=$("$LAB" exec --name "$LAB_NAME" -- echo --name x 2>&1)
check "tools/lab: words after -- belong to the command" test "$out" == "--name x"
out=$("$LAB" status --frobnicate 2>&1); rc=$?
check "tools/lab: an unknown option after the command is a usage error" test "$rc" -eq 2

# ------------------------------------------------------------------ an unnamed namespace
UNNAMED_LOG=$TMP/unnamed.log
unshare --net -- bash -c "ip link set lo up && exec '$TCPLAB' serve" >"$UNNAMED_LOG" 2>&1 &
UNNAMED_PID=$!
BG_PIDS+=("$UNNAMED_PID")
if wait_for_log "$UNNAMED_LOG" '^tcplab: up on' 100; then
  PREFIX="nsenter --net=/proc/$UNNAMED_PID/ns/net -- "
  check "unnamed namespace: the banner's curl line works as printed (nsenter)" curl_line_works "$UNNAMED_LOG" "$PREFIX"
  check "unnamed namespace: the banner's ping line works as printed (nsenter)" ping_line_works "$UNNAMED_LOG" "$PREFIX"
else
  not_ok "unnamed namespace: tcplab comes up"; sed 's/^/# /' "$UNNAMED_LOG"
fi
kill -TERM "$UNNAMED_PID" 2>/dev/null
wait "$UNNAMED_PID" 2>/dev/null

# ------------------------------------------------------------------ an unnamed namespace, re-parented
# Started in the background from a subshell that exits (as `nohup ... &` and `setsid` leave it):
# tcplab's parent is re-parented, so no ancestor is left in the namespace the user came from and
# only PID 1 can tell (through /proc/1/net where /proc/1/ns/net is refused, as it is to root
# without CAP_SYS_PTRACE). A banner that guessed "default" would print a bare curl to the host.
REPARENTED_LOG=$TMP/reparented.log
(unshare --net -- bash -c "ip link set lo up && exec timeout -s INT 60 '$TCPLAB' serve" \
  >"$REPARENTED_LOG" 2>&1 </dev/null &)
if wait_for_log "$REPARENTED_LOG" '^  (sudo )?kill -USR1 [0-9]+$' 100; then
  pid=$(sed -nE 's/^  (sudo )?kill -USR1 ([0-9]+)$/\2/p' "$REPARENTED_LOG")
  BG_PIDS+=("$pid")
  PREFIX="nsenter --net=/proc/$pid/ns/net -- "
  check "re-parented, unnamed namespace: the banner's curl line enters it (nsenter), as printed" \
    curl_line_works "$REPARENTED_LOG" "$PREFIX"
  kill -TERM "$pid" 2>/dev/null
else
  not_ok "re-parented, unnamed namespace: tcplab comes up"; sed 's/^/# /' "$REPARENTED_LOG"
fi

# ------------------------------------------------------------------ an admin's persistent TUN
ip netns add "$FRESH_NS" && ip -n "$FRESH_NS" link set lo up &&
  ip -n "$FRESH_NS" tuntap add mode tun name tcplabp &&
  ip -n "$FRESH_NS" addr add 192.0.2.1/24 dev tcplabp && ip -n "$FRESH_NS" link set tcplabp up ||
  not_ok "make a persistent TUN with 192.0.2.1/24"
for args in "" "--host-ip 192.0.2.1/24"; do
  # A log of its own each time: the background job truncates it only once it has started.
  log=$TMP/persistent${args:+-explicit}.log
  # IPv4 only: bringing up the admin's TUN lets the kernel add its IPv6 link-local address.
  settle snapshot4 "$FRESH_NS"
  before=$(snapshot4 "$FRESH_NS")
  ip netns exec "$FRESH_NS" "$TCPLAB" serve --tun tcplabp $args >"$log" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  if wait_for_log "$log" '^tcplab: up on' 100; then
    check "persistent TUN with 192.0.2.1/24, serve --tun tcplabp $args: keeps its addresses" \
      grep -qx 'tcplab: up on tcplabp, stack 192.0.2.2, host 192.0.2.1/24' "$log"
    check "persistent TUN, $args: the banner's ping line works" ping_line_works "$log" "$LAB exec --name $FRESH_NS -- "
  else
    not_ok "persistent TUN with 192.0.2.1/24, serve --tun tcplabp $args: comes up"; sed 's/^/# /' "$log"
  fi
  kill -TERM "$pid"; wait "$pid"; rc=$?
  settle snapshot4 "$FRESH_NS"
  after=$(snapshot4 "$FRESH_NS")
  check "persistent TUN, $args: exit 0, routes and addresses as the admin left them" \
    test "$rc" -eq 0 -a "$before" == "$after"
  [ "$before" == "$after" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/# /'
done
# Another --host-ip than the one the admin gave would replace it: refused, nothing changed.
ip netns exec "$FRESH_NS" timeout 20 "$TCPLAB" serve --tun tcplabp --host-ip 198.51.100.1/24 \
  >"$TMP/other-host.log" 2>&1
rc=$?
after=$(snapshot4 "$FRESH_NS")
check "persistent TUN, another --host-ip: exit 1, says it does not replace the admin's, nothing changed" \
  bash -c '[ "$1" = 1 ] && grep -q "the TUN tcplabp already carries 192.0.2.1/24, not 198.51.100.1/24, and tcplab does not replace" "$2" &&
    [ "$3" == "$4" ]' _ "$rc" "$TMP/other-host.log" "$before" "$after"
# An --mtu of its own, and an address given to an admin's TUN that had none, last for the run.
mtu_of() { ip -n "$FRESH_NS" -o link show tcplabp | grep -oE 'mtu [0-9]+'; }
mtu_before=$(mtu_of)
log=$TMP/persistent-mtu.log
ip netns exec "$FRESH_NS" "$TCPLAB" serve --tun tcplabp --mtu 9000 >"$log" 2>&1 &
pid=$!
BG_PIDS+=("$pid")
wait_for_log "$log" '^tcplab: up on' 100 || { not_ok "persistent TUN with --mtu 9000 comes up"; sed 's/^/# /' "$log"; }
mtu_during=$(mtu_of)
kill -TERM "$pid"; wait "$pid"; rc=$?
check "persistent TUN, --mtu 9000: used while running, the admin's MTU back on exit ($mtu_before, $mtu_during, $(mtu_of))" \
  test "$rc" -eq 0 -a "$mtu_during" = "mtu 9000" -a "$(mtu_of)" = "$mtu_before"
ip -n "$FRESH_NS" addr flush dev tcplabp
log=$TMP/persistent-noaddr.log
ip netns exec "$FRESH_NS" "$TCPLAB" serve --tun tcplabp >"$log" 2>&1 &
pid=$!
BG_PIDS+=("$pid")
wait_for_log "$log" '^tcplab: up on' 100 || { not_ok "persistent TUN without an address comes up"; sed 's/^/# /' "$log"; }
during=$(ip -n "$FRESH_NS" -4 -o addr show dev tcplabp | wc -l)
kill -TERM "$pid"; wait "$pid"; rc=$?
check "persistent TUN without an address: one given for the run, none left after it ($during during)" \
  test "$rc" -eq 0 -a "$during" = 1 -a "$(ip -n "$FRESH_NS" -4 -o addr show dev tcplabp | wc -l)" = 0
ip -n "$FRESH_NS" addr add 192.0.2.1/24 dev tcplabp
# A second TUN beside the admin's: auto steps over the range the first one uses.
log=$TMP/second.log
ip netns exec "$FRESH_NS" "$TCPLAB" serve --tun tcplab1 >"$log" 2>&1 &
pid=$!
BG_PIDS+=("$pid")
if wait_for_log "$log" '^tcplab: up on' 100; then
  check "a second TUN beside one with 192.0.2.1/24 gets 198.51.100.0/24" \
    grep -qx 'tcplab: up on tcplab1, stack 198.51.100.2, host 198.51.100.1/24' "$log"
  check "... and says it stepped over tcplabp's range" \
    grep -q 'overlaps address 192.0.2.1/24 on interface tcplabp), so tcplab took 198.51.100.0/24' "$log"
  check "... its banner's ping line works" ping_line_works "$log" "$LAB exec --name $FRESH_NS -- "
else
  not_ok "a second TUN beside the admin's comes up"; sed 's/^/# /' "$log"
fi
kill -TERM "$pid"; wait "$pid"
exit 0
