# Helpers shared by tests/integration/test-tcp*.sh (source after lib.sh): where the clients
# are, running one with a time limit, and reading the server's SIGUSR1 connection table.

# TCPLAB_BUILD=build-foo runs the binaries of another build directory (default build/).
BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
CLIENTS=$BUILD_DIR/clients
STACK_IP=192.0.2.2
CLIENT_OUT=

# need_binaries: fail the file (not skip) when the build is missing pieces.
need_binaries() {
  local missing=
  for b in "$TCPLAB" "$CLIENTS"/tcp_echo_client "$CLIENTS"/tcp_bulk "$CLIENTS"/tcp_cycles "$CLIENTS"/tcp_concurrent; do
    [ -x "$b" ] || missing="$missing $b"
  done
  if [ -n "$missing" ]; then not_ok "$(basename "$0"): not built:$missing (run make)"; exit 1; fi
}

# client SECONDS PROGRAM ARGS...: runs a client in the namespace with a hard time limit;
# its stdout goes to $CLIENT_OUT, its stderr to our stdout (prefixed with "# ").
client() {
  local limit=$1 prog=$2; shift 2
  local err rc
  err=$(mktemp)
  # The client's own deadline comes first, so it says what it was waiting for.
  CLIENT_OUT=$(lab_exec timeout -k 2 "$limit" "$CLIENTS/$prog" --host "$STACK_IP" \
    --timeout "$((limit > 2 ? limit - 1 : limit))" "$@" 2>"$err")
  rc=$?
  sed 's/^/# /' "$err"; rm -f "$err"
  [ $rc -eq 124 ] && echo "# $prog timed out after ${limit}s"
  return $rc
}

# field NAME: the value of NAME=... in the last client's summary line.
field() { echo "$CLIENT_OUT" | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -1; }

# connection_table: asks the server for its status (SIGUSR1) and prints the connection
# table it writes: a "connections: N" line, then one indented line per connection. Waits (at
# most 5 s) until all N lines are there.
connection_table() {
  local before
  before=$(wc -l <"$SERVER_LOG")
  kill -USR1 "$SERVER_PID" 2>/dev/null || return 1
  new_table() {
    tail -n +"$((before + 1))" "$SERVER_LOG" |
      awk '/connections: [0-9]/ { p = 1; print; next } p && /^[ \t]/ { print; next } p { exit }'
  }
  table_complete() {
    local t n; t=$(new_table); n=$(table_count "$t")
    [ -n "$n" ] && [ "$(echo "$t" | tail -n +2 | grep -c .)" -eq "$n" ]
  }
  wait_for 5 table_complete
  new_table
}

# table_count TABLE: the N of "connections: N".
table_count() { echo "$1" | sed -nE 's/.*connections: ([0-9]+).*/\1/p' | head -1; }

# wait_table_empty SECONDS: polls the table until it lists no connection; prints the last one.
wait_table_empty() {
  local t
  table_empty() { t=$(connection_table); [ "$(table_count "$t")" = "0" ]; }
  wait_for "$1" table_empty; local rc=$?
  echo "$t"
  return $rc
}

# show TEXT: prints TEXT as "# " comment lines (diagnostics under a failing check).
show() { echo "$1" | head -n "${2:-15}" | sed 's/^/#   /'; }
