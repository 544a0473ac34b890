#!/usr/bin/env bash
# The HTTP server and the services run on any TCP behind the socket interface (ours, or the
# kernel's through serve --kernel-tcp), so they may include from stack/ only that interface and
# the neutral value types it uses - never the TCP host, a connection, the records or the loop.
cd "$(dirname "$0")/../.." || exit 1
allowed='^stack/(tcp/(socket|provider|state)\.hpp|services/[a-z_]+\.hpp|four_tuple\.hpp|time\.hpp|seq\.hpp|drop_reason\.hpp|trace/trace\.hpp|text/[a-z_]+\.hpp|wire/[a-z_0-9]+\.hpp)$'
bad=$(grep -rHoE '#include "stack/[^"]+"' http/ stack/services/ | sed -E 's/#include "([^"]+)"/\1/' |
  awk -F: -v re="$allowed" '$2 !~ re { print "    " $1 " includes " $2 }')
if [ -z "$bad" ]; then
  echo "ok - http/ and stack/services/ include only the socket interface from stack/"
else
  echo "not ok - http/ and stack/services/ reach into the stack's internals:"
  echo "$bad"
  exit 1
fi
