// The rate limit on the ICMP errors the stack sends (RFC 1812 §4.3.2.8, RFC 1122 §3.2.2):
// a token bucket, host-wide. An error may be sent when a token is there; tokens come back
// one per `interval` up to `burst`. Sans-IO: the caller passes the time.
//
// Policy, after Linux's host-wide limit (net.ipv4.icmp_msgs_per_sec = 1000,
// icmp_msgs_burst = 50): 50 errors at once, then one per millisecond. Echo replies are not
// errors and are not limited (Linux's icmp_ratemask leaves them out too).
// Deviation (icmp-no-per-destination-limit): Linux adds a per-destination limit
// (icmp_ratelimit, 1 s); tcplab talks to one host, its own lab's, so that would limit the
// same traffic twice.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

#include "stack/time.hpp"

namespace tcplab::ip {

struct IcmpRateLimit {
  Duration interval = milliseconds(1);  // one token back per interval
  uint32_t burst = 50;                  // tokens at most (and at the start)
};

class IcmpErrorLimiter {
 public:
  explicit IcmpErrorLimiter(IcmpRateLimit limit = {}) : limit_(limit), tokens_(limit.burst) {}

  // Takes a token if there is one: true means the error may be sent.
  bool allow(Instant now) {
    refill(now);
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }
  uint32_t tokens(Instant now) {
    refill(now);
    return tokens_;
  }

 private:
  void refill(Instant now) {
    if (!last_ || now < *last_ || limit_.interval <= Duration::zero()) {
      if (!last_ || now < *last_) last_ = now;
      if (limit_.interval <= Duration::zero()) tokens_ = limit_.burst;
      return;
    }
    auto earned = (now - *last_) / limit_.interval;
    if (earned <= 0) return;
    if (static_cast<uint64_t>(earned) >= limit_.burst - tokens_) {
      tokens_ = limit_.burst;
      last_ = now;  // a full bucket does not save up time
    } else {
      tokens_ += static_cast<uint32_t>(earned);
      *last_ += earned * limit_.interval;  // keep the fraction of an interval already earned
    }
  }

  IcmpRateLimit limit_;
  uint32_t tokens_;
  std::optional<Instant> last_;
};

}  // namespace tcplab::ip
