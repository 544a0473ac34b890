# Shared helpers for integration tests (source this). Each test runs the stack in a lab
# namespace of its own, kills only what it started (by PID) and always removes the namespace.
# Output protocol: "ok - NAME", "not ok - NAME", "SKIPPED - NAME: why".

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TCPLAB=$ROOT/build/tcplab
LAB=$ROOT/tools/lab
LAB_NAME=${LAB_NAME:-tl-$$-$RANDOM}
SERVER_PID=
SERVER_LOG=

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
skipped() { echo "SKIPPED - $1: $2"; }  # skipped NAME WHY: counted by run-all.sh, never silent

# wait_for SECONDS COMMAND...: true as soon as COMMAND succeeds, polled every 0.1 s; false if
# it still fails after SECONDS (it is tried once more at the end). Tests synchronise on the
# condition they need, never on a fixed sleep.
wait_for() {
  local limit=$1; shift
  local end=$((${EPOCHREALTIME//[.,]/} + limit * 1000000))
  while [ "${EPOCHREALTIME//[.,]/}" -lt "$end" ]; do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}
check() {  # check NAME COMMAND...: ok if COMMAND succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# Skips the whole file when root or /dev/net/tun is missing, except in CI where that is a failure.
require_lab() {
  local why=
  [ "$(id -u)" -eq 0 ] || why="not root"
  [ -c /dev/net/tun ] || why="no /dev/net/tun"
  if [ -n "$why" ]; then
    if [ "${CI:-}" = "true" ]; then not_ok "$(basename "$0"): $why (required under CI=true)"; exit 1; fi
    echo "SKIPPED - $(basename "$0"): $why"; exit 0
  fi
}

lab_cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  ip netns del "$LAB_NAME" 2>/dev/null
  [ -n "$SERVER_LOG" ] && rm -f "$SERVER_LOG"
  [ -n "$TUN_NODE_DIR" ] && rmdir "$TUN_NODE_DIR" 2>/dev/null
  return 0
}
trap lab_cleanup EXIT

# lab_up: make this test's namespace.
lab_up() {
  ip netns add "$LAB_NAME" && ip -n "$LAB_NAME" link set lo up
}

# lab_exec COMMAND...: run a client inside the namespace.
# Not for a background job whose PID is kept to stop it later: `lab_exec X &` runs the
# function in a subshell, so $! is that shell, and killing it leaves X running (orphaned, in a
# namespace nobody can delete). Start such jobs with `ip netns exec "$LAB_NAME" X &`, which
# execs X in place: $! is X.
lab_exec() { ip netns exec "$LAB_NAME" "$@"; }

# start_server [ARGS...]: start `tcplab serve ARGS` inside the namespace, wait for its
# readiness line (at most 10 s). Output goes to $SERVER_LOG. The array SERVER_PREFIX, empty
# unless a test sets it, goes before tcplab: a command that execs it, such as setpriv, so that
# $SERVER_PID is still the server's.
start_server() {
  [ -n "$SERVER_PID" ] || true
  ip netns list | awk '{print $1}' | grep -qx "$LAB_NAME" || lab_up
  SERVER_LOG=$(mktemp)
  ip netns exec "$LAB_NAME" "${SERVER_PREFIX[@]}" "$TCPLAB" serve "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q '^tcplab: up on' "$SERVER_LOG" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not come up; its output:"; cat "$SERVER_LOG"
  return 1
}

# stop_pids PID...: SIGTERM to each process a test started, at most 3 s each, then SIGKILL.
stop_pids() {
  local pid
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
}

# stop_server: SIGTERM, wait at most 10 s (then SIGKILL); returns the server's exit code.
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "# server did not stop within 10 s of SIGTERM; killing it"
    kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  local rc=0
  wait "$SERVER_PID" 2>/dev/null || rc=$?
  SERVER_PID=
  return $rc
}

# ------------------------------------------------------------------ /dev/net/tun of a chosen mode
# Unprivileged runs need a /dev/net/tun that any user may open, and a test must also see what a
# user gets from a 0600 one; a VM may have either, and a test must not change the machine.
# tun_node_cmd MODE sets TUN_CMD to a command prefix: what follows runs in a private mount
# namespace (nothing propagates out) in which a fresh node 10:200 of MODE is bound over
# /dev/net/tun. The node sits on a tmpfs mounted only in that namespace, so a nodev /tmp does
# not matter. The prefix execs what follows, so `"${TUN_CMD[@]}" CMD... &` has CMD's PID in $!.
# If tun_nodes_probe found that impossible, the prefix is empty (the machine's own node):
# check tun_mode_usable MODE first and report the case as skipped when it is not.
TUN_NODE_DIR=
TUN_NODES_WHY="tun_nodes_probe was not run"
TUN_CMD=()
TUN_BIND_SCRIPT='
mode=$1 dir=$2; shift 2
if ! { mount -t tmpfs -o size=16k,mode=755 tcplab-tun "$dir" && mknod -m "$mode" "$dir/tun" c 10 200 &&
  mount --bind "$dir/tun" /dev/net/tun; } 2>/dev/null; then
  echo "cannot bind a $mode node over /dev/net/tun in a private mount namespace" >&2; exit 125
fi
exec "$@"'
tun_node_cmd() {
  TUN_CMD=()
  [ -n "$TUN_NODES_WHY" ] && return 0
  TUN_CMD=(unshare -m --propagation private -- bash -c "$TUN_BIND_SCRIPT" tun-node "$1" "$TUN_NODE_DIR")
}
with_tun_node() {  # with_tun_node MODE COMMAND...
  tun_node_cmd "$1"; shift
  "${TUN_CMD[@]}" "$@"
}

# tun_nodes_probe: true if nodes can be bound here (checked by opening a bound 0666 node as
# uid 65534 and failing to open a bound 0600 one); otherwise TUN_NODES_WHY says why not.
tun_nodes_probe() {
  local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  TUN_NODES_WHY=
  TUN_NODE_DIR=$(mktemp -d) || TUN_NODES_WHY="mktemp failed"
  [ -z "$TUN_NODES_WHY" ] && ! command -v unshare >/dev/null && TUN_NODES_WHY="no unshare(1)"
  if [ -z "$TUN_NODES_WHY" ] && ! with_tun_node 0666 "${as_nobody[@]}" bash -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
    TUN_NODES_WHY="cannot bind a 0666 /dev/net/tun node in a private mount namespace (unshare -m, mknod)"
  fi
  if [ -z "$TUN_NODES_WHY" ] && with_tun_node 0600 "${as_nobody[@]}" bash -c 'exec 3<>/dev/net/tun' 2>/dev/null
  then
    TUN_NODES_WHY="uid 65534 could open a bound 0600 /dev/net/tun node"
  fi
  [ -z "$TUN_NODES_WHY" ]
}

# real_tun_mode: 0666 if any user may open the machine's own /dev/net/tun, else 0600.
real_tun_mode() {
  local mode; mode=$(stat -c %a /dev/net/tun 2>/dev/null)
  if [ "${mode: -1}" = 6 ]; then echo 0666; else echo 0600; fi
}
# tun_mode_usable MODE: true if commands can be given a /dev/net/tun of MODE.
tun_mode_usable() { [ -z "$TUN_NODES_WHY" ] || [ "$(real_tun_mode)" = "$1" ]; }
