#!/usr/bin/env bash
# A real browser: headless Chromium inside the lab namespace loads the demo page
# - the article's page whose stylesheet, script and images follow the HTML - with
# keep-alive on and off. All assets must arrive (/stats: 9 more 2xx responses, the script
# ran), and /stats tells how many connections the page load cost each way.
source "$(dirname "$0")/lib.sh"
require_lab

BUILD_DIR=$ROOT/${TCPLAB_BUILD:-build}
TCPLAB=$BUILD_DIR/tcplab
[ -x "$TCPLAB" ] || { not_ok "$(basename "$0"): $TCPLAB not built (run make)"; exit 1; }
# Debian's package installs chromium; Ubuntu's installs a snap that answers to both names.
BROWSER=$(command -v chromium || command -v chromium-browser) || {
  skipped "$(basename "$0")" "no chromium or chromium-browser here (tests/setup.sh could not install one)"
  exit 0
}
URL=http://192.0.2.2
PAGE_REQUESTS=9  # index.html, style.css, app.js, img/1..6.svg (the icon is a data: URL)
PROFILE=
cleanup_profile() { [ -n "$PROFILE" ] && rm -rf "$PROFILE"; lab_cleanup; }
trap cleanup_profile EXIT

counter() {  # counter JSON NAME
  grep -oE "\"$2\": [0-9]+" <<<"$1" | head -1 | grep -oE '[0-9]+$'
}

# load_page MODE: one Chromium page load; sets CONNS, OK2XX, DOM.
load_page() {
  local before after
  before=$(lab_exec timeout 20 curl -sS --max-time 10 "$URL/stats")
  PROFILE=$(mktemp -d)
  DOM=$(lab_exec timeout 90 "$BROWSER" --no-sandbox --headless --disable-gpu --no-first-run \
    --user-data-dir="$PROFILE" --dump-dom "$URL/" 2>/dev/null)
  rm -rf "$PROFILE"; PROFILE=
  after=$(lab_exec timeout 20 curl -sS --max-time 10 "$URL/stats")
  # The "after" /stats request is already counted as a used connection, not yet as a response.
  CONNS=$(( $(counter "$after" connections_used) - $(counter "$before" connections_used) - 1 ))
  OK2XX=$(( $(counter "$after" 2xx) - $(counter "$before" 2xx) - 1 ))
  echo "# measured: Chromium, keep-alive $1: $OK2XX requests over $CONNS connections"
}

start_server --http-port 80 || { not_ok "server starts"; exit 1; }
load_page on
check "keep-alive on: the script ran and saw 6 images" grep -q "script ran; 6 images" <<<"$DOM"
check "keep-alive on: all $PAGE_REQUESTS assets arrived (2xx: $OK2XX)" test "$OK2XX" = "$PAGE_REQUESTS"
check "keep-alive on: fewer connections than requests ($CONNS < $PAGE_REQUESTS)" test "$CONNS" -ge 1 -a "$CONNS" -lt "$PAGE_REQUESTS"
ON_CONNS=$CONNS
stop_server

start_server --http-port 80 --keepalive off || { not_ok "server restarts with --keepalive off"; exit 1; }
load_page off
check "keep-alive off: the script ran and saw 6 images" grep -q "script ran; 6 images" <<<"$DOM"
check "keep-alive off: all $PAGE_REQUESTS assets arrived (2xx: $OK2XX)" test "$OK2XX" = "$PAGE_REQUESTS"
check "keep-alive off: one connection per request ($CONNS)" test "$CONNS" = "$PAGE_REQUESTS"
check "keep-alive saves handshakes: $ON_CONNS connections instead of $CONNS" test "$ON_CONNS" -lt "$CONNS"
stop_server
check "server exits cleanly" test $? = 0
