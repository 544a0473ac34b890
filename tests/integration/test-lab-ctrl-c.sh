#!/usr/bin/env bash
# Ctrl-C at a terminal under `tools/lab run`: the command is started as a background job, which
# bash starts with SIGINT ignored, yet Ctrl-C must stop a command that sets no handler of its
# own (sleep), and a command that catches SIGINT and keeps going must not leave run waiting
# for ever: a second Ctrl-C sends it SIGTERM, a third SIGKILL. Each time run removes the
# namespace it made. A pseudo-terminal (python3 pty) stands for the student's terminal: ^C
# typed into it reaches its foreground process group, as at a real keyboard.
source "$(dirname "$0")/lib.sh"
require_lab

command -v python3 >/dev/null || { skipped "$(basename "$0")" "no python3 for the pty driver"; exit 0; }
NAMES=("$LAB_NAME-sleep" "$LAB_NAME-int" "$LAB_NAME-term" "$LAB_NAME-reset")
cleanup_all() {
  local ns pids
  for ns in "${NAMES[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  lab_cleanup
}
trap cleanup_all EXIT

# ctrl_c NS PRESSES COMMAND...: runs `tools/lab --name NS run -- COMMAND` in a pty; once a
# sleep runs in NS (at most 10 s), types ^C PRESSES times, 1 s apart, and waits at most 8 s more for run
# to end. Prints "exited RC" (RC 128+N for a signal N) or "still running", then the pty's
# output after "# ". It kills what it started (run, by PID) if run did not end.
ctrl_c() {
  local ns=$1 presses=$2; shift 2
  timeout 60 python3 - "$ns" "$presses" "$LAB" --name "$ns" run -- "$@" <<'EOF'
import os, pty, select, subprocess, sys, time
ns, presses, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out, status = b"", None

def pump(seconds):
    global out, status
    end = time.time() + seconds
    while time.time() < end and status is None:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st

def sleeping_in_ns():
    pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    for p in pids:
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() == "sleep":
                    return True
        except OSError:
            pass
    return False

# Every command here runs sleep: once a sleep runs in the namespace, the command is past its
# start-up (its own traps set), as a student's server is once it prints its banner.
for _ in range(100):
    if sleeping_in_ns():
        break
    pump(0.1)
for i in range(presses):
    if status is not None:
        break
    if i:
        pump(1)
    os.write(fd, b"\x03")
pump(8)
if status is None:
    print("still running")
    os.kill(pid, 9)
    os.waitpid(pid, 0)
else:
    print("exited", os.waitstatus_to_exitcode(status) % 256 if os.WIFEXITED(status)
          else 128 + os.WTERMSIG(status))
# What run wrote just before it ended may still wait in the pty: read it too, so a failure
# shows every message (at most 2 s; EIO once the terminal has no other end).
end = time.time() + 2
while time.time() < end and select.select([fd], [], [], 0.2)[0]:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
for line in out.decode(errors="replace").splitlines():
    print("# " + line)
EOF
}
ns_gone() { ! ip netns list | awk '{print $1}' | grep -qx "$1"; }

# A command without a SIGINT handler of its own: the first ^C ends it (130 = 128 + SIGINT).
ns=${NAMES[0]}
out=$(ctrl_c "$ns" 1 sleep 30)
check "tools/lab run -- sleep 30: one Ctrl-C ends it (exit 130) and removes the namespace" \
  bash -c '[ "$(head -n 1 <<<"$0")" = "exited 130" ]' "$out"
check "... the namespace $ns is gone" ns_gone "$ns"
echo "$out" | sed 's/^[^#]/# &/'

# A command that catches SIGINT and goes on: the second ^C sends it SIGTERM.
ns=${NAMES[1]}
out=$(ctrl_c "$ns" 2 bash -c 'trap "echo caught SIGINT" INT; while :; do sleep 0.2; done')
check "a command that catches SIGINT: the second Ctrl-C ends it with SIGTERM (exit 143)" \
  bash -c '[ "$(head -n 1 <<<"$0")" = "exited 143" ] && grep -q "again: sending SIGTERM" <<<"$0"' "$out"
check "... the namespace $ns is gone" ns_gone "$ns"
echo "$out" | sed 's/^[^#]/# &/'

# A command that catches SIGINT and SIGTERM: the third ^C sends it SIGKILL.
ns=${NAMES[2]}
out=$(ctrl_c "$ns" 3 bash -c 'trap "echo caught" INT TERM; while :; do sleep 0.2; done')
check "a command that catches SIGINT and SIGTERM: the third Ctrl-C kills it (exit 137)" \
  bash -c '[ "$(head -n 1 <<<"$0")" = "exited 137" ] && grep -q "sending SIGKILL" <<<"$0"' "$out"
check "... the namespace $ns is gone" ns_gone "$ns"
echo "$out" | sed 's/^[^#]/# &/'

# tcplab stopped while a client downloads: tcplab resets the open connection as it exits, and
# run removes the namespace only after the client has had its moment to read that reset, so
# curl fails with "Connection reset by peer" (exit 56), as the README says, instead of being
# killed by the clean-up (exit 143) before it could tell.
ns=${NAMES[3]}
log=$(mktemp)
timeout 60 "$LAB" --name "$ns" run -- "$TCPLAB" serve >"$log" 2>&1 &
run_pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -oE 'curl http://[0-9.]+/' "$log" | head -n 1 | cut -d' ' -f2)
  [ -n "$url" ] && break
  sleep 0.1
done
timeout 30 ip netns exec "$ns" curl -sS --limit-rate 100k -o /dev/null "${url}bytes/10000000" 2>"$log.curl" &
curl_pid=$!
sleep 1
server=$(ip netns pids "$ns" 2>/dev/null | while read -r pid; do
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = tcplab ] && echo "$pid"; done | head -n 1)
[ -n "$server" ] && kill -INT "$server"
curl_rc=0
wait "$curl_pid" || curl_rc=$?
wait "$run_pid" 2>/dev/null
check "tcplab stopped under run during a download: curl reads the reset (rc $curl_rc: $(head -c 80 "$log.curl"))" \
  bash -c '[ "$1" = 56 ] && grep -q "reset" "$2"' _ "$curl_rc" "$log.curl"
check "... tcplab said it reset the connection" grep -q "reset 1 connection still open at exit" "$log"
check "... the namespace $ns is gone" ns_gone "$ns"
rm -f "$log" "$log.curl"
exit 0
