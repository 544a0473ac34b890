// Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), where M is a clock
// ticking every 4 microseconds and F is SipHash-2-4 keyed with a secret, so an off-path
// attacker cannot guess the next ISN of another connection.
#pragma once
#include <array>
#include <cstdint>
#include <optional>

#include "stack/four_tuple.hpp"
#include "stack/seq.hpp"
#include "stack/time.hpp"
#include "stack/wire/bytes.hpp"

namespace tcplab::tcp {

// SipHash-2-4 (Aumasson & Bernstein), 64-bit output, 128-bit key.
uint64_t siphash24(const std::array<uint8_t, 16>& key, wire::ConstBytes message);

class IsnGenerator {
 public:
  IsnGenerator(const std::array<uint8_t, 16>& key, std::optional<uint32_t> fixed)
      : key_(key), fixed_(fixed) {}
  // `now` since the clock's epoch drives M (RFC 6528 §3: a 4 µs timer).
  Seq next(const FourTuple& tuple, Instant now) const;

 private:
  std::array<uint8_t, 16> key_;
  std::optional<uint32_t> fixed_;  // --isn N: every connection starts at N (labs)
};

}  // namespace tcplab::tcp
