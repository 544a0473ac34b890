// SipHash-2-4 and the RFC 6528 ISN built from it.
#include "stack/tcp/isn.hpp"

namespace tcplab::tcp {
namespace {

uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(uint64_t m) {
    v3 ^= m;
    round();  // c = 2 compression rounds
    round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t siphash24(const std::array<uint8_t, 16>& key, wire::ConstBytes message) {
  uint64_t k0 = load_le64(key.data()), k1 = load_le64(key.data() + 8);
  SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
             k1 ^ 0x7465646279746573ull};
  size_t n = message.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) s.absorb(load_le64(reinterpret_cast<const uint8_t*>(message.data() + i)));
  // Last block: remaining bytes, with the length's low byte on top.
  uint64_t last = uint64_t{n & 0xff} << 56;
  for (size_t j = 0; i + j < n; ++j) last |= uint64_t{static_cast<uint8_t>(message[i + j])} << (8 * j);
  s.absorb(last);
  s.v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) s.round();  // d = 4 finalization rounds
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

Seq IsnGenerator::next(const FourTuple& t, Instant now) const {
  if (fixed_) return Seq(*fixed_);
  std::array<std::byte, 12> m{};
  wire::MutableBytes b(m);
  wire::write_u32(b, 0, t.local_ip.value);
  wire::write_u16(b, 4, t.local_port);
  wire::write_u32(b, 6, t.remote_ip.value);
  wire::write_u16(b, 10, t.remote_port);
  // RFC 9293 §3.4.1 (SHLD-1, was RFC 6528 §3): F() is a pseudorandom function of the
  // connection's local and remote address and port and a secret key.
  uint32_t f = static_cast<uint32_t>(siphash24(key_, b));
  // RFC 9293 §3.4.1 (was RFC 6528 §3): M is the 4 microsecond timer.
  auto ticks = std::chrono::duration_cast<microseconds>(now.time_since_epoch()).count() / 4;
  return Seq(static_cast<uint32_t>(ticks) + f);
}

}  // namespace tcplab::tcp
