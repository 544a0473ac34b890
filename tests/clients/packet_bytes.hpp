// Big-endian fields and the Internet checksum for the test clients that build raw IPv4
// packets themselves (syn_flood, tun_http_floor): they link nothing of the stack, so that
// what they measure or send does not depend on the code under test.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tcpclient {

inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) { return uint32_t(get16(p)) << 16 | get16(p + 2); }
inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

// RFC 1071: the Internet checksum's running sum of 16-bit words (an odd last byte padded with
// zero), then folded and complemented.
inline uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += get16(p + i);
  if (n % 2) sum += uint32_t(p[n - 1]) << 8;
  return sum;
}
inline uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace tcpclient
