#!/usr/bin/env bash
# `make bench`: tcplab measured side by side with the Linux kernel's own TCP in one run, in a
# namespace of its own. Prints figures and ratios; asserts nothing about speed (targets live
# here, not in tests). Every load is bounded in count and time.
#   BENCH_BYTES   bytes per bulk transfer (default 256 MiB)
#   BENCH_REQUESTS requests per ab run (default 5000)
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BYTES=${BENCH_BYTES:-268435456}
REQUESTS=${BENCH_REQUESTS:-5000}
NS=tl-bench-$$
SRV_PID=; KERNEL_PID=
cleanup() {
  for p in $SRV_PID $KERNEL_PID; do kill "$p" 2>/dev/null; done
  for p in $SRV_PID $KERNEL_PID; do wait "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  return 0
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (namespaces and a TUN): sudo make bench"; exit 1; }
command -v ab >/dev/null || { echo "bench: needs ab (apt-get install apache2-utils)"; exit 1; }

ip netns add "$NS" && ip -n "$NS" link set lo up
log=$(mktemp)
ip netns exec "$NS" "$BUILD/tcplab" serve --chargen 19 --chargen-bytes "$BYTES" --discard 9 \
  --msl 1 >"$log" 2>&1 &
SRV_PID=$!
ip netns exec "$NS" "$BUILD/clients/bench_kernel_server" --host 127.0.0.1 --chargen-port 1919 \
  --discard-port 1909 --bytes "$BYTES" --seconds 300 >/dev/null &
KERNEL_PID=$!
for _ in $(seq 50); do grep -q '^tcplab: up on' "$log" && break; sleep 0.1; done
grep -q '^tcplab: up on' "$log" || { cat "$log"; exit 1; }
sleep 0.3

mbps() {  # mbps HOST PORT MODE -> MB/s from tcp_bulk
  ip netns exec "$NS" timeout 120 "$BUILD/clients/tcp_bulk" --host "$1" --port "$2" --mode "$3" \
    --bytes "$BYTES" --timeout 110 | sed -nE 's/.*mbps=([0-9.]+).*/\1/p'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "tcplab benchmark: $((BYTES >> 20)) MiB transfers, $REQUESTS HTTP requests per run"
echo
printf '%-40s %12s %12s %8s\n' "bulk transfer (MB/s)" "tcplab" "kernel lo" "ratio"
t_out=$(mbps 192.0.2.2 19 chargen); k_out=$(mbps 127.0.0.1 1919 chargen)
printf '%-40s %12s %12s %8s\n' "server -> client (chargen)" "$t_out" "$k_out" "$(ratio "$t_out" "$k_out")"
t_in=$(mbps 192.0.2.2 9 discard); k_in=$(mbps 127.0.0.1 1909 discard)
printf '%-40s %12s %12s %8s\n' "client -> server (discard)" "$t_in" "$k_in" "$(ratio "$t_in" "$k_in")"
echo "(the kernel pair talks over loopback with no TUN in the path: an upper bound, not a peer)"
echo

rps() {  # rps ARGS... -> requests per second from ab
  ip netns exec "$NS" timeout 120 ab -q -s 10 "$@" http://192.0.2.2/ 2>/dev/null |
    sed -nE 's/^Requests per second: +([0-9.]+).*/\1/p'
}
if grep -q "could not listen on port 80" "$log"; then
  echo "HTTP: the server did not listen on port 80; skipped"
else
  printf '%-40s %12s %12s %8s\n' "HTTP GET / (requests/s)" "keep-alive" "close" "ratio"
  for c in 1 10; do
    ka=$(rps -k -n "$REQUESTS" -c "$c"); cl=$(rps -n "$REQUESTS" -c "$c")
    printf '%-40s %12s %12s %8s\n' "ab -c $c" "$ka" "$cl" "$(ratio "$ka" "$cl")"
  done
  echo "(the article's point in numbers: a kept connection skips the handshake and the teardown)"
fi
echo
rss=$(awk '/VmHWM/ {print $2}' /proc/$SRV_PID/status 2>/dev/null)
echo "tcplab peak resident memory: ${rss:-?} kB"
