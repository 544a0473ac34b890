#include <doctest/doctest.h>

#include "stack/text/escape_unprintable.hpp"

using tcplab::text::escape_unprintable;

TEST_CASE("escape_unprintable: printable ASCII, tabs, backslashes and UTF-8 pass through") {
  CHECK(escape_unprintable("bad time (at '+x\t\\r')") == "bad time (at '+x\t\\r')");
  CHECK(escape_unprintable("LISTEN -> SYN-RECEIVED, RFC 9293 §3.10.7.2 ✓") ==
        "LISTEN -> SYN-RECEIVED, RFC 9293 §3.10.7.2 ✓");
}

TEST_CASE("escape_unprintable: NUL, escape sequences, DEL, C1 controls and broken UTF-8 become \\xNN") {
  CHECK(escape_unprintable(std::string_view("\x00\x01\xff garbage", 11)) == "\\x00\\x01\\xff garbage");
  CHECK(escape_unprintable("\x1b[2J\x7f\n") == "\\x1b[2J\\x7f\\x0a");
  CHECK(escape_unprintable("\xc2\x9b"
                           "2J") == "\\xc2\\x9b2J");  // C1 CSI
  CHECK(escape_unprintable("\xc0\xaf \xed\xa0\x80 \xe2\x82") == "\\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82");
  CHECK(escape_unprintable(escape_unprintable("\x1b")) == "\\x1b");  // already escaped: unchanged
}
