// Wrapping 32-bit TCP sequence numbers (RFC 9293 §3.4): every comparison is modular,
// so code that compares sequence numbers stays correct across the 2^32 wrap.
#pragma once
#include <cstdint>

namespace tcplab {

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(uint32_t value) : value_(value) {}

  constexpr uint32_t raw() const { return value_; }

  // Moving forward or backward by a byte count wraps at 2^32 by design.
  friend constexpr Seq operator+(Seq s, uint32_t n) { return Seq(s.value_ + n); }
  friend constexpr Seq operator-(Seq s, uint32_t n) { return Seq(s.value_ - n); }
  constexpr Seq& operator+=(uint32_t n) {
    value_ += n;
    return *this;
  }

  // Signed distance a - b: positive when a is "after" b within half the space.
  friend constexpr int32_t operator-(Seq a, Seq b) { return static_cast<int32_t>(a.value_ - b.value_); }

  friend constexpr bool operator==(Seq a, Seq b) { return a.value_ == b.value_; }
  friend constexpr bool operator<(Seq a, Seq b) { return (a - b) < 0; }
  friend constexpr bool operator<=(Seq a, Seq b) { return (a - b) <= 0; }
  friend constexpr bool operator>(Seq a, Seq b) { return (a - b) > 0; }
  friend constexpr bool operator>=(Seq a, Seq b) { return (a - b) >= 0; }

 private:
  uint32_t value_ = 0;
};

// RFC 9293 §3.4 uses "a <= b < c" checks everywhere; these name them.
constexpr bool seq_in_half_open(Seq low, Seq value, Seq high) { return low <= value && value < high; }
constexpr bool seq_in_closed(Seq low, Seq value, Seq high) { return low <= value && value <= high; }

// Bytes from a to b (b not before a); callers must know b >= a.
constexpr uint32_t seq_distance(Seq from, Seq to) { return static_cast<uint32_t>(to - from); }

}  // namespace tcplab
