// Tests for stack/tcp/timestamps.*: the TSval clock, RFC 7323 §4.3 TS.Recent rules, §4.1 RTT
// samples, §5.3 R1 PAWS with wrap-around, §5.5 TS.Recent validity.
#include <doctest/doctest.h>

#include "stack/tcp/timestamps.hpp"

using namespace tcplab;
using tcplab::tcp::Timestamps;

namespace {
const Instant t0 = Instant{} + seconds(1000);
}

TEST_CASE("timestamps: TSval ticks every millisecond from a per-connection offset (RFC 7323 §5.4)") {
  Timestamps ts;
  ts.set_offset(0xFFFFFF00u);
  CHECK(ts.value(Instant{}) == 0xFFFFFF00u);
  CHECK(ts.value(Instant{} + milliseconds(300)) == 44u);  // wraps modulo 2^32
  CHECK(ts.value(Instant{} + microseconds(1999)) == 0xFFFFFF01u);
}

TEST_CASE("timestamps: TS.Recent only from segments at or before Last.ACK.sent (RFC 7323 §4.3)") {
  Timestamps ts;
  ts.enable(100, t0);
  CHECK(ts.recent() == 100);
  ts.note_arrival(200, Seq(5000), Seq(5000), t0);  // SEG.SEQ == Last.ACK.sent
  CHECK(ts.recent() == 200);
  ts.note_arrival(300, Seq(6000), Seq(5000), t0);  // beyond: a later segment of a delayed ACK
  CHECK(ts.recent() == 200);
  ts.note_arrival(150, Seq(4000), Seq(5000), t0);  // older TSval: never moves back
  CHECK(ts.recent() == 200);
}

TEST_CASE("timestamps: PAWS compares modulo 2^32 and skips an outdated TS.Recent (§5.3 R1, §5.5)") {
  Timestamps ts;
  ts.enable(0xFFFFFFF0u, t0);
  CHECK(ts.paws_rejects(0xFFFFFFE0u, t0));
  CHECK_FALSE(ts.paws_rejects(0xFFFFFFF0u, t0));  // equal is fine
  CHECK_FALSE(ts.paws_rejects(0x10u, t0));        // after the wrap: newer
  CHECK_FALSE(ts.paws_rejects(0xFFFFFFE0u, t0 + Timestamps::kRecentValidity + seconds(1)));
  // Before enable(): no test at all.
  Timestamps off;
  CHECK_FALSE(off.paws_rejects(0, t0));
}

TEST_CASE("timestamps: RTT = now - TSecr in milliseconds; an echo from the future is no sample (§4.1)") {
  Timestamps ts;
  ts.set_offset(1000);
  Instant now = Instant{} + milliseconds(250);
  REQUIRE(ts.rtt(ts.value(Instant{} + milliseconds(200)), now).has_value());
  CHECK(*ts.rtt(ts.value(Instant{} + milliseconds(200)), now) == milliseconds(50));
  CHECK_FALSE(ts.rtt(ts.value(now) + 5, now).has_value());
}
