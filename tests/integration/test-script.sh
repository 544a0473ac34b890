#!/usr/bin/env bash
# `tcplab script` (scenario scripts in memory, no root) and step mode: every scenario passes
# through the CLI, the self-tests fail as they must, a failing script prints its mismatch
# table, usage errors exit 2, --pcap/--trace-json/--seed, --step driven through stdin - and
# `serve --step` in a lab namespace, pausing a real curl's SYN until `c` arrives.
source "$(dirname "$0")/lib.sh"

SCEN=$ROOT/tests/scenarios
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
TMP=$(mktemp -d)
cleanup_all() { rm -rf "$TMP"; lab_cleanup; }
trap cleanup_all EXIT

# contains NAME FILE TEXT: ok if FILE has TEXT as a fixed string.
contains() {
  if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1"; echo "# missing: $3"; sed 's/^/#   /' "$2"; fi
}

# --- every scenario and the self-tests through the CLI ---------------------------------
"$TCPLAB" script "$SCEN" >"$TMP/all" 2>&1; rc=$?
scripts=$(ls "$SCEN"/*.pkt | wc -l)
passed=$(grep -c '^ok - ' "$TMP/all")
check "script: all $scripts scenarios pass (rc $rc, $passed ok)" \
  test "$rc" -eq 0 -a "$passed" -eq "$scripts" -a "$scripts" -gt 0
"$TCPLAB" script --expect-fail "$SCEN/selftest" >"$TMP/self" 2>&1; rc=$?
selftests=$(ls "$SCEN"/selftest/*.pkt | wc -l)
check "script --expect-fail: all $selftests self-tests fail as expected (rc $rc)" \
  test "$rc" -eq 0 -a "$(grep -c '^ok - .*failed as expected' "$TMP/self")" -eq "$selftests"

# --- a failing script: exit 1, the mismatch table, the rerun hint ---------------------
sed 's/^+0    > S\. 0:0(0) ack 1 win 65535/+0    > S. 0:0(0) ack 2 win 65535/' "$SCEN/passive-open.pkt" \
  >"$TMP/wrong-ack.pkt"
"$TCPLAB" script --seed 7 "$TMP/wrong-ack.pkt" >"$TMP/fail" 2>&1; rc=$?
check "failing script exits 1 (got $rc)" test "$rc" -eq 1
contains "failing script: not ok line" "$TMP/fail" "not ok - wrong-ack"
contains "failing script: mismatch table" "$TMP/fail" "#   field     expected                 actual"
contains "failing script: the differing field" "$TMP/fail" \
  "#   ack       2                        1                         <-- differs"
contains "failing script: rerun hint names tcplab script" "$TMP/fail" \
  "rerun with tcplab script --seed 7 --verbose"

# The rerun hint repeats the flags that made the failure, quoted for the shell: pasted, it fails
# again (passive-open with its SYN lost never reaches SYN-RECEIVED).
"$TCPLAB" script --seed 7 --fault 'drop in syn' "$SCEN/passive-open.pkt" >"$TMP/fault" 2>&1
contains "rerun hint keeps --fault, quoted" "$TMP/fault" \
  "rerun with tcplab script --fault 'drop in syn' --seed 7 --verbose $SCEN/passive-open.pkt"
rerun=$(sed -n 's/^# seed [0-9]*: rerun with tcplab //p' "$TMP/fault")
eval "\"\$TCPLAB\" $rerun" >"$TMP/rerun" 2>&1; rc=$?
check "the pasted rerun command fails the same way (rc $rc)" \
  bash -c '[ "$1" = 1 ] && grep -q "^not ok - passive-open" "$2"' _ "$rc" "$TMP/rerun"

# Bytes a terminal would act on or lose are shown escaped: a NUL no longer ends the message.
printf '\x00\x01\xff garbage\n' >"$TMP/nul.pkt"
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 \x1b[31mlisten(3, 1) = 0\n' >"$TMP/esc.pkt"
"$TCPLAB" script "$TMP/nul.pkt" "$TMP/esc.pkt" >"$TMP/bytes" 2>&1
contains "script error: a NUL and other bytes are shown as \\xNN" "$TMP/bytes" \
  "nul.pkt:1:1: script error: bad time: expected seconds like 0.100, +0.1 or * (at '\x00\x01\xff')"
contains "script error: an escape sequence is shown, not sent to the terminal" "$TMP/bytes" \
  "(at '\x1b[31mlisten(3,')"

# --- usage errors exit 2 ------------------------------------------------------------------
for args in "--bogus $SCEN/passive-open.pkt" "--seed x $SCEN/passive-open.pkt" "" "--pcap" \
  "--drop 1 --drop 0 $SCEN/passive-open.pkt" "--delay 20 --delay out:30 $SCEN/passive-open.pkt"; do
  # shellcheck disable=SC2086
  "$TCPLAB" script $args >/dev/null 2>"$TMP/err"; rc=$?
  check "usage error exits 2: tcplab script $args (got $rc: $(head -1 "$TMP/err"))" test "$rc" -eq 2
done
# --pcap and --trace-json naming one file would each write over the other.
"$TCPLAB" script --pcap "$TMP/same.out" --trace-json "$TMP/./same.out" "$SCEN/passive-open.pkt" \
  >/dev/null 2>"$TMP/err"; rc=$?
check "--pcap F --trace-json F: usage error, file not created (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 2 ] && grep -q "name the same file" "$2" && ! [ -e "$3" ]' \
  _ "$rc" "$TMP/err" "$TMP/same.out"
# The same through a symlink whose target does not exist yet: open() would create the target.
ln -s "$TMP/target.out" "$TMP/link.out"
"$TCPLAB" script --pcap "$TMP/link.out" --trace-json "$TMP/target.out" "$SCEN/passive-open.pkt" \
  >/dev/null 2>"$TMP/err"; rc=$?
check "--pcap LINK --trace-json its new target: usage error, nothing created (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 2 ] && grep -q "name the same file" "$2" && ! [ -e "$3" ]' \
  _ "$rc" "$TMP/err" "$TMP/target.out"
# An output naming one of the inputs would empty it before it is read: refused, input intact.
mkdir -p "$TMP/own"
cp "$SCEN/passive-open.pkt" "$TMP/own/mine.pkt"
for flag in --trace-json --pcap; do
  for operand in "$TMP/own/mine.pkt" "$TMP/own"; do
    "$TCPLAB" script "$flag" "$TMP/own/mine.pkt" "$operand" >/dev/null 2>"$TMP/err"; rc=$?
    check "script $flag over its own script ($operand): usage error, script intact (rc $rc: $(head -1 "$TMP/err"))" \
      bash -c '[ "$1" = 2 ] && grep -q "is the input file" "$2" && cmp -s "$3" "$4"' \
      _ "$rc" "$TMP/err" "$SCEN/passive-open.pkt" "$TMP/own/mine.pkt"
  done
done
# A new *.pkt output inside a directory operand would be run as one of its scripts.
"$TCPLAB" script --trace-json "$TMP/own/new.pkt" "$TMP/own" >/dev/null 2>"$TMP/err"; rc=$?
check "script --trace-json DIR/new.pkt DIR: usage error, nothing created (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 2 ] && grep -q "would be read as a script of the directory" "$2" && ! [ -e "$3" ]' \
  _ "$rc" "$TMP/err" "$TMP/own/new.pkt"
# "-" is a script on stdin, once; not with --step, which reads its keys there.
"$TCPLAB" script - <"$SCEN/passive-open.pkt" >"$TMP/out" 2>&1; rc=$?
check "script - reads the script from stdin (rc $rc: $(head -1 "$TMP/out"))" \
  bash -c '[ "$1" = 0 ] && grep -q "^ok - stdin" "$2"' _ "$rc" "$TMP/out"
printf 'junk\n' | "$TCPLAB" script - >"$TMP/out" 2>&1; rc=$?
check "script -: an error in a piped script points at stdin:LINE:COL (rc $rc: $(sed -n 2p "$TMP/out"))" \
  bash -c '[ "$1" = 1 ] && grep -q "^# stdin:1:1: script error" "$2"' _ "$rc" "$TMP/out"
"$TCPLAB" script - - <"$SCEN/passive-open.pkt" >/dev/null 2>"$TMP/err"; rc=$?
check "script - -: usage error (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 2 ] && grep -q "stdin is named more than once" "$2"' _ "$rc" "$TMP/err"
for name in - /dev/stdin; do
  "$TCPLAB" script --step "$name" <"$SCEN/passive-open.pkt" >/dev/null 2>"$TMP/err"; rc=$?
  check "script --step $name: usage error (rc $rc: $(head -1 "$TMP/err"))" \
    bash -c '[ "$1" = 2 ] && grep -q "step reads its keys from stdin" "$2"' _ "$rc" "$TMP/err"
done
# stdin that is a socket (no name to open again): read from descriptor 0 as it is.
python3 - "$TCPLAB" "$SCEN/passive-open.pkt" >"$TMP/out" 2>&1 <<'PYEOF'
import socket, subprocess, sys
ours, theirs = socket.socketpair()
ours.sendall(open(sys.argv[2], "rb").read())
ours.shutdown(socket.SHUT_WR)
r = subprocess.run([sys.argv[1], "script", "-"], stdin=theirs, capture_output=True, text=True, timeout=20)
print("rc", r.returncode)
print(r.stdout + r.stderr)
PYEOF
check "script - with a socket on stdin: passes ($(grep -m1 'ok - ' "$TMP/out"))" \
  bash -c 'grep -q "^rc 0$" "$1" && grep -q "^ok - stdin" "$1"' _ "$TMP/out"
# --help with a value: the error names --help, not "unknown flag '--help'".
"$TCPLAB" script --help=x >/dev/null 2>"$TMP/err"; rc=$?
check "script --help=x: usage error saying --help takes no value (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 2 ] && grep -q -- "--help takes no value" "$2"' _ "$rc" "$TMP/err"
# An output FIFO that no process reads yet: tcplab says it waits for a reader, then writes.
for flag in --pcap --trace-json; do
  rm -f "$TMP/out.fifo"; mkfifo "$TMP/out.fifo"
  timeout 20 "$TCPLAB" script "$flag" "$TMP/out.fifo" "$SCEN/passive-open.pkt" >/dev/null 2>"$TMP/err" &
  pid=$!
  for _ in $(seq 50); do grep -q "waiting for a process to read the FIFO" "$TMP/err" && break; sleep 0.1; done
  noticed=$(grep -c "waiting for a process to read the FIFO $TMP/out.fifo" "$TMP/err")
  timeout 20 cat "$TMP/out.fifo" >"$TMP/fifo.read"
  wait "$pid"; rc=$?
  check "script $flag FIFO with no reader: says it waits, then writes (rc $rc, notice $noticed, $(wc -c <"$TMP/fifo.read") bytes read)" \
    bash -c '[ "$1" = 0 ] && [ "$2" = 1 ] && [ -s "$3" ]' _ "$rc" "$noticed" "$TMP/fifo.read"
done
# A UNIX socket also makes open() fail with ENXIO: an error at once, no wait for a reader.
python3 - "$TMP/out.sock" "$TCPLAB" "$SCEN/passive-open.pkt" >"$TMP/sock.out" 2>&1 <<'PYEOF'
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
r = subprocess.run([sys.argv[2], "script", "--pcap", sys.argv[1], sys.argv[3]], capture_output=True,
                   text=True, timeout=20)
print("rc", r.returncode)
print(r.stderr)
PYEOF
check "script --pcap SOCKET: refused at once, no FIFO notice ($(grep -v '^rc' "$TMP/sock.out" | head -1))" \
  bash -c 'grep -q "^rc 1$" "$1" && grep -q "No such device or address" "$1" && ! grep -q "FIFO" "$1"' _ "$TMP/sock.out"
# A whole number too large for the seed is out of range, not "not a whole number".
"$TCPLAB" script --seed 99999999999999999999 "$SCEN/passive-open.pkt" >/dev/null 2>"$TMP/err"; rc=$?
contains "--seed too large: the error states the range (rc $rc)" "$TMP/err" \
  "for --seed: expected a whole number from 0 to 18446744073709551615"
"$TCPLAB" script --help >"$TMP/help"; rc=$?
check "script --help exits 0" test "$rc" -eq 0
contains "script --help lists --step" "$TMP/help" "--step"

# --- captures and JSON without root -------------------------------------------------------
"$TCPLAB" script --seed 3 --pcap "$TMP/p.pcap" --trace-json "$TMP/t.json" "$SCEN/passive-open.pkt" \
  >/dev/null 2>&1
if command -v tshark >/dev/null; then
  # passive-open: SYN, SYN-ACK, ACK.
  frames=$(tshark -r "$TMP/p.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
  check "--pcap: tshark reads 3 packets (got $frames)" test "$frames" -eq 3
  synack=$(tshark -r "$TMP/p.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==1' -T fields \
    -e frame.time_relative 2>/dev/null)
  check "--pcap: SYN-ACK at script time 0 (got '$synack')" test "$synack" = "0.000000000"
else
  echo "SKIPPED - --pcap read by tshark: tshark not installed (tests/setup.sh installs it)"
fi
# tcplab cwnd on a capture: told it is a capture, not that a "trace" has no events.
"$TCPLAB" cwnd "$TMP/p.pcap" >/dev/null 2>"$TMP/err"; rc=$?
contains "cwnd on a capture: names the file type (rc $rc)" "$TMP/err" \
  "$TMP/p.pcap is a pcapng capture, not a JSON trace"
check "cwnd on a capture: exit 1 (rc $rc)" test "$rc" -eq 1
# cwnd on a file that is neither: named as such (as ladder names it), not "no congestion events".
printf '# notes\n' >"$TMP/notes.md"
"$TCPLAB" cwnd "$TMP/notes.md" >/dev/null 2>"$TMP/err"; rc=$?
contains "cwnd on a text file: not a JSON trace (rc $rc)" "$TMP/err" \
  "notes.md: not a tcplab JSON trace (--trace-json) file"
check "cwnd on a text file: exit 1 (rc $rc)" test "$rc" -eq 1
# '-' is standard input for both readers.
"$TCPLAB" ladder - <"$TMP/p.pcap" >"$TMP/stdin.txt" 2>"$TMP/err"; rc=$?
check "ladder - reads a capture from stdin (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 0 ] && grep -q "^1 connection, 3 segments from pcapng" "$2"' _ "$rc" "$TMP/stdin.txt"
"$TCPLAB" cwnd - <"$TMP/t.json" >"$TMP/stdin.csv" 2>"$TMP/err"; rc=$?
check "cwnd - reads a trace from stdin (rc $rc: $(head -1 "$TMP/err"))" \
  bash -c '[ "$1" = 0 ] && grep -q "^[0-9.]*,[0-9]*,,RFC 6928 §2 (initial window)$" "$2"' \
  _ "$rc" "$TMP/stdin.csv"
"$TCPLAB" cwnd --conn 2 "$TMP/t.json" >/dev/null 2>"$TMP/err"
check "cwnd --conn 2 of one connection: 'has 1 connection', not '1 connections'" \
  grep -q -- "--conn 2, but the trace has 1 connection$" "$TMP/err"
# --svg naming the file read would replace the capture or trace with the drawing.
cp "$TMP/p.pcap" "$TMP/keep.pcap"
cp "$TMP/t.json" "$TMP/keep.json"
for reader in "ladder $TMP/keep.pcap --svg $TMP/./keep.pcap" "cwnd $TMP/keep.json --svg $TMP/keep.json"; do
  # shellcheck disable=SC2086
  "$TCPLAB" $reader >/dev/null 2>"$TMP/err"; rc=$?
  check "$reader: usage error, input intact (rc $rc: $(head -1 "$TMP/err"))" \
    bash -c '[ "$1" = 2 ] && grep -q "is the input file" "$2" && cmp -s "$3" "$4" && cmp -s "$5" "$6"' \
    _ "$rc" "$TMP/err" "$TMP/p.pcap" "$TMP/keep.pcap" "$TMP/t.json" "$TMP/keep.json"
done
"$TCPLAB" ladder - </dev/null >/dev/null 2>"$TMP/err"
contains "ladder - with nothing on stdin: names it 'standard input'" "$TMP/err" "standard input: empty file"
echo hello | "$TCPLAB" cwnd - >/dev/null 2>"$TMP/err"
contains "cwnd - with text on stdin: names it 'standard input'" "$TMP/err" "standard input: not a tcplab JSON trace"
lines=$(wc -l <"$TMP/t.json")
if python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    json.loads(line); n += 1
sys.exit(0 if n > 0 else 1)' "$TMP/t.json"; then
  ok "--trace-json: $lines lines, each parseable JSON"
else
  not_ok "--trace-json: parseable JSON lines"
fi
contains "--trace-json: the state change to ESTABLISHED" "$TMP/t.json" '"to":"ESTABLISHED"'

# --trace-json - : stdout holds the JSON lines only (script results go to stderr), so it pipes
# into jq or into a file that tcplab ladder reads; the text trace beside it goes to stderr too.
"$TCPLAB" script --seed 3 --trace --trace-json - "$SCEN/passive-open.pkt" >"$TMP/stdout.json" \
  2>"$TMP/stderr.txt"
check "--trace-json -: every stdout line is JSON ($(wc -l <"$TMP/stdout.json") lines)" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
sys.exit(0 if lines and all(json.loads(l) for l in lines) else 1)' "$TMP/stdout.json"
contains "--trace-json -: the script result on stderr" "$TMP/stderr.txt" "ok - passive-open"
check "--trace-json -: tcplab ladder reads the saved stdout" \
  bash -c '"$1" ladder "$2" >/dev/null' _ "$TCPLAB" "$TMP/stdout.json"

# The JSON "t" is the script's virtual time, as the text trace's first column: with --delay the
# first event is not at 0, and the second script starts again at 0 - never a negative time
# (which tcplab ladder refuses) and never a JSON time that disagrees with --trace.
"$TCPLAB" script --seed 1 --delay 5 --trace --trace-json "$TMP/delay.json" "$SCEN/passive-open.pkt" \
  "$SCEN/active-open.pkt" >"$TMP/delay.txt" 2>&1
check "--delay 5, two scripts: the JSON trace's times agree with --trace, none negative" python3 -c '
import json, re, sys
json_t = [json.loads(l)["t"] for l in open(sys.argv[1])]
text_t = [float(m.group(1)) for m in (re.match(r"(\d+\.\d{6}) ", l) for l in open(sys.argv[2])) if m]
assert json_t and min(json_t) >= 0, min(json_t)
assert json_t[0] == text_t[0] > 0, (json_t[0], text_t[0])
assert ["%.6f" % t for t in json_t] == ["%.6f" % t for t in text_t], (len(json_t), len(text_t))
' "$TMP/delay.json" "$TMP/delay.txt"
check "--delay 5, two scripts: tcplab ladder reads the JSON trace" \
  bash -c '"$1" ladder "$2" >/dev/null' _ "$TCPLAB" "$TMP/delay.json"

# A trace or capture that could not all be written (a full disk) is said on exit, exit 1.
"$TCPLAB" script --seed 3 --trace-json /dev/full "$SCEN/passive-open.pkt" >/dev/null 2>"$TMP/err"
rc=$?
check "--trace-json on a full disk: exit 1 ($rc) and the reason" \
  bash -c "[ $rc -eq 1 ] && grep -q 'JSON trace /dev/full is incomplete: cannot write: No space' \"\$0\"" "$TMP/err"
"$TCPLAB" script --seed 3 --trace "$SCEN/passive-open.pkt" >/dev/full 2>"$TMP/err"
rc=$?
check "--trace to a full disk: exit 1 ($rc) and the reason" \
  bash -c "[ $rc -eq 1 ] && grep -q 'text trace on stdout is incomplete' \"\$0\"" "$TMP/err"
mkdir -p "$TMP/small"
unshare -m bash -c 'mount -t tmpfs -o size=4k tmpfs "$1" && "$2" script --seed 3 --pcap "$1/p.pcapng" "$3"' \
  _ "$TMP/small" "$TCPLAB" "$SCEN" >/dev/null 2>"$TMP/err"
rc=$?
check "--pcap filling a 4 KiB file system: exit 1 ($rc) and the reason" \
  bash -c "[ $rc -eq 1 ] && grep -q 'capture is incomplete: cannot write .*No space left' \"\$0\"" "$TMP/err"

# --- --seed: reproducible, and different seeds differ -----------------------------------
run_seed() { "$TCPLAB" script --seed "$1" --trace --absolute "$SCEN/passive-open.pkt" 2>&1; }
check "--seed 42 twice: identical output" test "$(run_seed 42)" = "$(run_seed 42)"
check "--seed 42 and 43: different ISNs and ports" test "$(run_seed 42)" != "$(run_seed 43)"
# Relative numbers do not depend on the ISNs: --absolute is what made the runs differ.
"$TCPLAB" script --seed 42 --trace --absolute "$SCEN/passive-open.pkt" >"$TMP/abs" 2>&1
check "--absolute: the SYN shows a raw sequence number" \
  bash -c "grep -E '^0\.000000 In .*  S [0-9]+:' '$TMP/abs' | grep -vq ' S 0:0(0)'"

# --- step mode through stdin ----------------------------------------------------------------
printf 'n\np\nb ESTABLISHED\nc\nq\n' |
  "$TCPLAB" script --step --seed 5 "$SCEN/passive-open.pkt" >"$TMP/step" 2>&1
rc=${PIPESTATUS[1]}
check "--step: the script still passes (rc $rc)" test "$rc" -eq 0
contains "--step: passes" "$TMP/step" "ok - passive-open"
contains "--step: pauses before the SYN is processed" "$TMP/step" "before: no TCB for this connection (yet)"
check "--step: step 1 is the inbound SYN" \
  grep -qE '^step 1  0\.000000  In  .* S 0:0\(0\) win 64240' "$TMP/step"
check "--step: step 2 is our SYN-ACK, after it was built" \
  grep -qE '^step 2  0\.000000  Out .* S\. 0:0\(0\) ack 1 win 65535' "$TMP/step"
contains "--step: the TCB in SYN-RECEIVED" "$TMP/step" "  now:    SYN-RECEIVED  snd.una 0  snd.nxt 1"
contains "--step: p prints it again" "$TMP/step" "step> p"
contains "--step: b ESTABLISHED runs on" "$TMP/step" "(running until a connection enters ESTABLISHED)"
check "--step: step 3 is the state change to ESTABLISHED" \
  grep -qE '^step 3  0\.010000  state .* SYN-RECEIVED -> ESTABLISHED' "$TMP/step"
contains "--step: changes shown as old->new" "$TMP/step" "SYN-RECEIVED->ESTABLISHED"
check "--step: exactly 3 pauses" test "$(grep -cE '^step [0-9]+ ' "$TMP/step")" -eq 3
no_escape() { ! grep -q $'\033' "$1"; }
check "--step: no colour when piped" no_escape "$TMP/step"

# At an outbound segment the TCB is shown with that segment sent: SND.NXT already covers its
# data and its FIN, as it covers a SYN.
# now_after FILE STEP NOW: the line after a step line matching STEP (an ERE) matches NOW.
now_after() { awk -v step="$2" -v now="$3" 'hit { if ($0 ~ now) found = 1; hit = 0 }
  $0 ~ step { hit = 1 } END { exit !found }' "$1"; }
printf 'n\n%.0s' $(seq 40) | "$TCPLAB" script --step --seed 5 "$SCEN/abort-sends-rst.pkt" \
  "$SCEN/active-close-time-wait.pkt" >"$TMP/step-data" 2>&1
check "--step: once our 100 data bytes are out, snd.nxt is 101" now_after "$TMP/step-data" \
  '^step [0-9]+  [0-9.]+  Out .* P\. 1:101\(100\)' '^  now: .* snd\.nxt 1->101 '
check "--step: once our FIN is out, snd.nxt counts it" now_after "$TMP/step-data" \
  '^step [0-9]+  [0-9.]+  Out .* F\. 1:1\(0\)' '^  now: .* snd\.nxt 1->2 '
# A connection in FIN-WAIT-2 is held as a compact record; at its move to TIME-WAIT the TCB
# shown is already the TIME-WAIT one, as for a full connection's state changes.
printf 'b TIME-WAIT\nn\nq\n' | "$TCPLAB" script --step --seed 5 "$SCEN/active-close-time-wait.pkt" \
  >"$TMP/step-tw" 2>&1
check "--step: at FIN-WAIT-2 -> TIME-WAIT the TCB shown is in TIME-WAIT" now_after "$TMP/step-tw" \
  '^step [0-9]+  [0-9.]+  state .* FIN-WAIT-2 -> TIME-WAIT' '^  now: +[A-Z-]*->TIME-WAIT '

# SIGUSR1 (a status request: tools/lab table) to a tcplab with no event loop handling it, as
# any tcplab is before its loop starts, is ignored rather than the signal's default: death.
mkfifo "$TMP/usr1"
"$TCPLAB" script --step --seed 5 "$SCEN/passive-open.pkt" <"$TMP/usr1" >"$TMP/usr1.out" 2>&1 &
usr1_pid=$!
exec 4>"$TMP/usr1"
for _ in $(seq 50); do grep -q '^step> ' "$TMP/usr1.out" && break; sleep 0.1; done
kill -USR1 "$usr1_pid"
sleep 0.2
echo c >&4
exec 4>&-
wait "$usr1_pid"; rc=$?
check "SIGUSR1 at a script's step prompt is ignored: the run completes (rc $rc)" \
  bash -c '[ "$1" = 0 ] && grep -q "^ok - passive-open" "$2"' _ "$rc" "$TMP/usr1.out"

printf 'n\nq\n' | "$TCPLAB" script --step --seed 5 "$SCEN/passive-open.pkt" "$SCEN/active-open.pkt" \
  >"$TMP/quit" 2>&1
rc=${PIPESTATUS[1]}
# Quitting is no failure, but not every script passed either: exit 1, and the summary counts
# the stopped script and the one never run.
check "--step q: exits 1, not every script ran (rc $rc)" test "$rc" -eq 1
contains "--step q: says where it stopped" "$TMP/quit" \
  "# stopped at $SCEN/passive-open.pkt line 21 (quit in step mode); 1 script(s) after it not run"
contains "--step q: the summary counts what did not run" "$TMP/quit" \
  "# 0 passed, 0 failed, 1 stopped (quit in step mode), 1 not run"

# --- step mode flushes the capture and the JSON trace at each pause ----------------------------
# While the prompt waits, the files hold what the screen shows (Wireshark can open the capture
# then), so a Ctrl-C at the prompt loses nothing that was shown. Paused at step 3 (the peer's
# ACK, before it is processed), the SYN, our SYN-ACK and that ACK have crossed the link: all
# three must be in the capture, and their segment events in the JSON trace.
# pauses_shown OUT N: the stepped run writing OUT has shown its Nth prompt.
pauses_shown() { [ "$(grep -c '^step> ' "$1" 2>/dev/null)" -ge "$2" ]; }
mkfifo "$TMP/step-cmds"
exec 4<>"$TMP/step-cmds"
timeout 20 "$TCPLAB" script --step --seed 5 --pcap "$TMP/paused.pcap" --pcap-format pcap \
  --trace-json "$TMP/paused.json" "$SCEN/passive-open.pkt" <&4 >"$TMP/paused.out" 2>&1 &
step_pid=$!
printf 'n\nn\n' >&4
wait_for 10 pauses_shown "$TMP/paused.out" 3
# Classic pcap: a 24-byte file header, then per packet a 16-byte record header and the bytes.
pcap_bytes=$(stat -c %s "$TMP/paused.pcap")
json_segments=$(grep -c '"segment"' "$TMP/paused.json")
check "--step: paused at step 3, the capture holds the three packets shown ($pcap_bytes bytes)" \
  test "$pcap_bytes" -ge $((24 + 3 * (16 + 40)))
check "--step: paused at step 3, the JSON trace holds the three segments shown ($json_segments)" \
  test "$json_segments" -ge 3
# A background job of a script ignores SIGINT, so SIGTERM stands in for Ctrl-C: death by a
# signal at the prompt, with no chance to flush.
kill -TERM "$step_pid"; wait "$step_pid"
exec 4>&-
check "--step: killed at the prompt, the capture still holds the three packets" \
  test "$(stat -c %s "$TMP/paused.pcap")" -ge $((24 + 3 * (16 + 40)))

# Flushing at the pauses must not cut a packet off from the comments its processing adds: a
# stepped pcapng capture carries the same comments as one written without --step.
if command -v tshark >/dev/null; then
  "$TCPLAB" script --seed 1 --pcap "$TMP/plain.pcapng" tests/scenarios/passive-close.pkt >/dev/null 2>&1
  yes n 2>/dev/null | head -100 | "$TCPLAB" script --step --seed 1 --pcap "$TMP/stepped.pcapng" \
    tests/scenarios/passive-close.pkt >/dev/null 2>&1
  comments() { tshark -r "$1" -T fields -e frame.number -e frame.comment 2>/dev/null; }
  check "--step: the capture's packet comments are those of a run without --step" \
    bash -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ \
    "$(comments "$TMP/plain.pcapng")" "$(comments "$TMP/stepped.pcapng")"

  # At each pause the pcapng capture holds every packet that crossed the link before the step,
  # comments and all: the SYN at step 2 (the SYN-ACK it led to), the ACK that the data segments
  # of steps 4-7 follow; those four reach the link together when the write's turn ends, so they
  # are all there at step 8, and not before.
  mkfifo "$TMP/burst-cmds"
  exec 5<>"$TMP/burst-cmds"
  timeout 30 "$TCPLAB" script --step --seed 1 --pcap "$TMP/burst.pcapng" \
    "$SCEN/fast-retransmit.pkt" <&5 >"$TMP/burst.out" 2>&1 &
  burst_pid=$!
  counts=""
  for pause in 1 2 3 4 5 6 7 8; do
    wait_for 10 pauses_shown "$TMP/burst.out" "$pause"
    counts="$counts $(tshark -r "$TMP/burst.pcapng" 2>/dev/null | wc -l)"
    printf 'n\n' >&5
  done
  printf 'q\n' >&5
  wait "$burst_pid"
  exec 5>&-
  check "--step pcapng: packets in the file at pauses 1-8 are those sent or received before [$counts]" \
    test "$counts" = " 0 1 2 3 3 3 3 7"
else
  echo "SKIPPED - --step pcapng comments and packets at each pause: tshark not installed" \
    "(tests/setup.sh installs it)"
fi

# --- files that are not scripts are refused by name, before anything is read --------------
timeout 10 "$TCPLAB" script /dev/zero >"$TMP/zero" 2>&1; rc=$?
check "script /dev/zero: exit 1 at once, not a memory hog (rc $rc)" test "$rc" -eq 1
contains "script /dev/zero: says why" "$TMP/zero" "# cannot read /dev/zero: script too large (at most 8 MiB)"
# A JSON trace into a pipe whose reader leaves (`>(head -c 100)`): the write fails (EPIPE) and
# the run ends, instead of tcplab holding the pipe's read end too and blocking once it is full.
timeout 60 "$TCPLAB" script --trace-json >(head -c 100 >/dev/null) tests/scenarios >"$TMP/pipe-trace" 2>&1; rc=$?
check "--trace-json into a pipe whose reader left: ends with exit 1, not a hang (rc $rc)" test "$rc" -eq 1
contains "--trace-json into a pipe whose reader left: says the trace is incomplete" "$TMP/pipe-trace" "incomplete"
timeout 10 "$TCPLAB" script /dev/stdin <tests/scenarios/passive-open.pkt >"$TMP/stdin" 2>&1; rc=$?
check "script /dev/stdin from a file: passes (rc $rc)" test "$rc" -eq 0
cat tests/scenarios/passive-open.pkt | timeout 10 "$TCPLAB" script /dev/stdin >"$TMP/pipe" 2>&1; rc=$?
check "script /dev/stdin from a pipe: passes (rc $rc)" test "$rc" -eq 0
contains "script /dev/stdin from a pipe: ok" "$TMP/pipe" "ok - stdin"
"$TCPLAB" script "$TMP/nodir/" >"$TMP/nodir" 2>&1
contains "script nodir/: the path is the name" "$TMP/nodir" "not ok - $TMP/nodir/"

# --- a directory without scripts: its "not ok" counts as a failure -------------------------
mkdir "$TMP/empty-dir"
"$TCPLAB" script "$TMP/empty-dir" >"$TMP/empty" 2>&1; rc=$?
check "a directory with no *.pkt: exit 1 (rc $rc)" test "$rc" -eq 1
contains "a directory with no *.pkt: not ok" "$TMP/empty" "not ok - $TMP/empty-dir: no *.pkt scripts"
contains "a directory with no *.pkt: counted as failed" "$TMP/empty" "# 0 passed, 1 failed"

# --- faults in a script: the same injector as serve's, between the peer and the stack ------
lost=tests/scenarios/with-faults/drop-third-data-segment.pkt
"$TCPLAB" script --trace --fault 'drop out data#3' "$lost" >"$TMP/fault.out" 2>&1; rc=$?
check "script --fault 'drop out data#3': the RTO retransmission the script expects (rc $rc)" test "$rc" -eq 0
contains "script --fault: the trace names the injected drop" "$TMP/fault.out" \
  "fault out dropped (drop out data#3)"
contains "script --fault: the same bytes retransmitted at 0.45 s" "$TMP/fault.out" \
  "0.450000 Out 192.0.2.2:8080 > "
"$TCPLAB" script "$lost" >/dev/null 2>&1; rc=$?
check "the same script without the fault fails (nothing was lost; rc $rc)" test "$rc" -eq 1
"$TCPLAB" script --fault 'drop sideways data' "$lost" >/dev/null 2>&1; rc=$?
check "script --fault with a bad spec is a usage error (rc $rc)" test "$rc" -eq 2

# --- --ladder: each script drawn after its result, states exact from the trace --------------
"$TCPLAB" script --ladder tests/scenarios/passive-close.pkt >"$TMP/ladder.out" 2>&1; rc=$?
check "script --ladder: exit 0 (rc $rc)" test "$rc" -eq 0
contains "script --ladder: one connection from the JSON trace" "$TMP/ladder.out" \
  "1 connection, 8 segments from JSON trace"
check "script --ladder: the server's states are exact, the retransmitted FIN marked" bash -c '
  grep -qE "\| LAST-ACK +\|$" "$1" && grep -q "^ok - passive-close" "$1" && grep -q "retransmission" "$1"' \
  _ "$TMP/ladder.out"

# --- serve --step with a real client (root and a TUN only) ------------------------------------
why=
[ "$(id -u)" -eq 0 ] || why="not root"
[ -c /dev/net/tun ] || why="no /dev/net/tun"
if [ -n "$why" ]; then
  if [ "${CI:-}" = "true" ]; then not_ok "serve --step: $why (required under CI=true)"; exit 1; fi
  echo "SKIPPED - serve --step: $why"
  exit 0
fi
lab_up
mkfifo "$TMP/cmds"
exec 3<>"$TMP/cmds"  # read-write: the server never sees end of input while we hold it
SERVER_LOG=$TMP/serve.log
ip netns exec "$LAB_NAME" "$TCPLAB" serve --step --http-port 80 <&3 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^tcplab: up on' "$SERVER_LOG" && break; sleep 0.1; done
contains "serve --step: starts" "$SERVER_LOG" "tcplab: up on"
contains "serve --step: warns that clients keep their own clocks" "$SERVER_LOG" \
  "tcplab: step mode: the stack stops at every segment, but real clients keep their own clocks"
lab_exec timeout 30 curl -sS --max-time 25 -o "$TMP/body" http://192.0.2.2/ 2>"$TMP/curl.err" &
curl_pid=$!
wait_for 10 pauses_shown "$SERVER_LOG" 1
check "serve --step: pauses on the inbound SYN" \
  grep -qE '^step 1  .*  In  192\.0\.2\.1:[0-9]+ > 192\.0\.2\.2:80  S 0:0\(0\)' "$SERVER_LOG"
sleep 0.5
check "serve --step: curl waits while the stack is paused" kill -0 "$curl_pid"
echo c >&3
wait "$curl_pid"; rc=$?
check "serve --step: c continues and curl succeeds (rc $rc)" test "$rc" -eq 0 -a -s "$TMP/body"
check "serve --step: no further pause after c" test "$(grep -c '^step> ' "$SERVER_LOG")" -eq 1
stop_server; rc=$?
check "serve --step: stops cleanly on SIGTERM (rc $rc)" test "$rc" -eq 0
# Ctrl-C at the prompt is acted on only when the loop runs again: tcplab says so at once.
ip netns exec "$LAB_NAME" "$TCPLAB" serve --step --http-port 80 <&3 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^tcplab: up on' "$SERVER_LOG" && break; sleep 0.1; done
lab_exec timeout 30 curl -sS --max-time 25 -o /dev/null http://192.0.2.2/ 2>/dev/null &
curl_pid=$!
wait_for 10 pauses_shown "$SERVER_LOG" 1
kill -INT "$SERVER_PID"
sleep 0.3
contains "serve --step: Ctrl-C at the prompt is answered at once" "$SERVER_LOG" \
  "tcplab: Ctrl-C noted: tcplab stops when the stack runs again; q stops it now"
echo q >&3
for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
stopped_by_q=yes
kill -0 "$SERVER_PID" 2>/dev/null && stopped_by_q=no
stop_server; rc=$?
check "serve --step: q after Ctrl-C stops it (rc $rc, stopped by q: $stopped_by_q)" \
  test "$rc" -eq 0 -a "$stopped_by_q" = yes
wait "$curl_pid" 2>/dev/null
exec 3>&-
