// Tests for the ICMP error rate limit (stack/ip/icmp_rate_limit.hpp, RFC 1812 §4.3.2.8) on the
// virtual clock: the bucket alone, then the stack answering a burst of UDP with port
// unreachables, counting the ones it did not send, while echo replies stay unlimited.
#include <doctest/doctest.h>

#include <vector>

#include "stack/ip/icmp_rate_limit.hpp"
#include "stack/stack.hpp"
#include "tests/unit/ip_test_packets.hpp"

using namespace tcplab;
using namespace tcplab::ip::test;

TEST_CASE("icmp rate limit: a burst of 50, then one per millisecond, never more than 50 saved") {
  ip::IcmpErrorLimiter limiter;  // the documented default
  Instant t = Instant{} + seconds(500);
  for (int i = 0; i < 50; ++i) {
    CAPTURE(i);
    CHECK(limiter.allow(t));
  }
  CHECK_FALSE(limiter.allow(t));
  CHECK_FALSE(limiter.allow(t + microseconds(999)));
  CHECK(limiter.allow(t + milliseconds(1)));
  CHECK_FALSE(limiter.allow(t + milliseconds(1)));
  // 10.5 ms later: 10 tokens, the half interval kept for the next one.
  t += milliseconds(1);
  CHECK(limiter.tokens(t + microseconds(10500)) == 10);
  CHECK(limiter.tokens(t + milliseconds(11)) == 11);
  // An idle hour refills the bucket to the burst, no further.
  CHECK(limiter.tokens(t + seconds(3600)) == 50);
}

TEST_CASE("icmp rate limit: a configured rate (one per second, burst 2)") {
  ip::IcmpErrorLimiter limiter({seconds(1), 2});
  Instant t{};
  CHECK(limiter.allow(t));
  CHECK(limiter.allow(t));
  CHECK_FALSE(limiter.allow(t + milliseconds(999)));
  CHECK(limiter.allow(t + seconds(1)));
  CHECK_FALSE(limiter.allow(t + seconds(1)));
}

TEST_CASE("stack: a UDP flood gets 50 port unreachables at once, the rest counted as not sent") {
  trace::Tracer tracer;
  Stack stack(StackConfig{}, tracer);
  PacketSpec udp;
  udp.protocol = 17;
  auto datagram = ipv4_packet(udp, udp_datagram(udp, pattern(8)));
  Instant t = Instant{} + seconds(10);
  for (int i = 0; i < 80; ++i) stack.receive(datagram, t);
  CHECK(stack.outbox().size() == 50);
  CHECK(stack.ip_stats().unreachables_sent == 50);
  CHECK(stack.drops().get(DropReason::IcmpErrorRateLimited) == 30);
  stack.outbox().clear();
  // Echo replies are not errors: never limited, even with the bucket empty.
  auto ping = ipv4_packet({}, icmp_message(8, 0, 1, pattern(8)));
  for (int i = 0; i < 100; ++i) stack.receive(ping, t);
  CHECK(stack.outbox().size() == 100);
  stack.outbox().clear();
  // 5 ms later, 5 more errors may go.
  for (int i = 0; i < 10; ++i) stack.receive(datagram, t + milliseconds(5));
  CHECK(stack.outbox().size() == 5);
  CHECK(stack.drops().get(DropReason::IcmpErrorRateLimited) == 35);
}
