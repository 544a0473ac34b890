// Tests for stack/time.hpp: the real clock counts from boot, not from when tcplab started.
#include <doctest/doctest.h>
#include <time.h>

#include "stack/time.hpp"

using namespace tcplab;

TEST_CASE("time: SteadyClock is CLOCK_MONOTONIC, so M and TSval keep counting across runs (RFC 6528 §3)") {
  timespec ts{};
  REQUIRE(::clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  Duration monotonic = seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  Duration ours = SteadyClock().now().time_since_epoch();
  CHECK(ours >= monotonic);
  CHECK(ours - monotonic < seconds(1));
}
