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
  return 0
}
trap lab_cleanup EXIT

# lab_up: make this test's namespace.
lab_up() {
  ip netns add "$LAB_NAME" && ip -n "$LAB_NAME" link set lo up
}

# lab_exec COMMAND...: run a client inside the namespace.
lab_exec() { ip netns exec "$LAB_NAME" "$@"; }

# start_server [ARGS...]: start `tcplab serve ARGS` inside the namespace, wait for its
# readiness line (at most 10 s). Output goes to $SERVER_LOG.
start_server() {
  [ -n "$SERVER_PID" ] || true
  ip netns list | awk '{print $1}' | grep -qx "$LAB_NAME" || lab_up
  SERVER_LOG=$(mktemp)
  ip netns exec "$LAB_NAME" "$TCPLAB" serve "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q '^tcplab: up on' "$SERVER_LOG" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not come up; its output:"; cat "$SERVER_LOG"
  return 1
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
