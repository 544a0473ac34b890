// Tests for stack/tcp/acceptability.hpp: RFC 9293 §3.10.7.4's four-case acceptability table,
// each row at its edges, and across the 2^32 wrap.
#include <doctest/doctest.h>

#include "stack/tcp/acceptability.hpp"

using tcplab::Seq;
using tcplab::tcp::segment_acceptable;

TEST_CASE("acceptability: length 0, window 0: SEG.SEQ = RCV.NXT") {
  CHECK(segment_acceptable(0, 0, Seq(1000), Seq(1000)));
  CHECK_FALSE(segment_acceptable(0, 0, Seq(999), Seq(1000)));
  CHECK_FALSE(segment_acceptable(0, 0, Seq(1001), Seq(1000)));
}

TEST_CASE("acceptability: length 0, window > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND") {
  CHECK(segment_acceptable(0, 100, Seq(1000), Seq(1000)));
  CHECK(segment_acceptable(0, 100, Seq(1099), Seq(1000)));
  CHECK_FALSE(segment_acceptable(0, 100, Seq(1100), Seq(1000)));
  CHECK_FALSE(segment_acceptable(0, 100, Seq(999), Seq(1000)));
}

TEST_CASE("acceptability: length > 0, window 0: not acceptable") {
  CHECK_FALSE(segment_acceptable(1, 0, Seq(1000), Seq(1000)));
  CHECK_FALSE(segment_acceptable(500, 0, Seq(1000), Seq(1000)));
}

TEST_CASE("acceptability: length > 0, window > 0: first or last octet in the window") {
  CHECK(segment_acceptable(10, 100, Seq(1000), Seq(1000)));
  CHECK(segment_acceptable(10, 100, Seq(1099), Seq(1000)));        // first octet is the last in window
  CHECK(segment_acceptable(10, 100, Seq(991), Seq(1000)));         // last octet SEG.SEQ+SEG.LEN-1 = RCV.NXT
  CHECK_FALSE(segment_acceptable(10, 100, Seq(990), Seq(1000)));   // ends just before RCV.NXT
  CHECK_FALSE(segment_acceptable(10, 100, Seq(1100), Seq(1000)));  // starts at the right edge
  // Straddling the whole window: neither end inside, so the table says no.
  CHECK_FALSE(segment_acceptable(300, 100, Seq(900), Seq(1000)));
}

TEST_CASE("acceptability: the tests wrap at 2^32") {
  Seq rcv_nxt(0xFFFFFFF0u);
  CHECK(segment_acceptable(0, 0x20, Seq(0x0Fu), rcv_nxt));  // RCV.NXT+RCV.WND = 0x10
  CHECK_FALSE(segment_acceptable(0, 0x20, Seq(0x10u), rcv_nxt));
  CHECK(segment_acceptable(0x20, 0x20, Seq(0xFFFFFFE0u), rcv_nxt));  // last octet 0xFFFFFFFF
  CHECK_FALSE(segment_acceptable(0x10, 0x20, Seq(0xFFFFFFE0u), rcv_nxt));
}

// Compile-time too: the function is constexpr.
static_assert(segment_acceptable(0, 0, Seq(7), Seq(7)));
static_assert(!segment_acceptable(1, 0, Seq(7), Seq(7)));
