// Time as the sans-IO core sees it: a point passed in by the caller, never read from a clock
// inside protocol code (architecture rule 2). Tests start from Instant{} and add durations.
#pragma once
#include <chrono>

namespace tcplab {

using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The real clock, used only by stack/loop and tools; tests use virtual time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

// std::chrono::steady_clock is CLOCK_MONOTONIC on Linux: it counts from boot, not from
// tcplab's start, so the ISN's clock M (RFC 6528 §3) and TSval (RFC 7323 §5.4) keep going up
// from one run to the next (tests/unit/time_test.cpp checks it).
class SteadyClock final : public Clock {
 public:
  Instant now() const override { return std::chrono::steady_clock::now(); }
};

// Seconds since `origin` as a double, for traces and JSON.
inline double seconds_since(Instant origin, Instant t) {
  return std::chrono::duration<double>(t - origin).count();
}

}  // namespace tcplab
