// Hand-built IPv4 packets for the stack/ip tests, written byte by byte (not with stack/wire's
// emit), so a test never builds its input with the code it is testing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tests/unit/wire_test_bytes.hpp"

namespace tcplab::ip::test {

constexpr uint32_t kHost = 0xC0000201;   // 192.0.2.1, the kernel's side
constexpr uint32_t kStack = 0xC0000202;  // 192.0.2.2, the stack

struct PacketSpec {
  uint8_t protocol = 1;
  uint32_t source = kHost;
  uint32_t destination = kStack;
  std::vector<std::byte> options;    // multiple of 4
  uint16_t flags_fragment = 0x4000;  // DF
  uint8_t ttl = 64;
  uint16_t identification = 0x1234;
};

inline void put16(std::vector<std::byte>& b, size_t at, uint16_t v) {
  b[at] = std::byte(v >> 8);
  b[at + 1] = std::byte(v & 0xff);
}
inline void put32(std::vector<std::byte>& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v & 0xffff));
}
inline uint16_t get16(std::span<const std::byte> b, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned>(b[at]) << 8) | static_cast<unsigned>(b[at + 1]));
}
inline uint32_t get32(std::span<const std::byte> b, size_t at) {
  return (uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}

// A whole IPv4 packet with a correct header checksum.
inline std::vector<std::byte> ipv4_packet(const PacketSpec& spec, std::span<const std::byte> payload) {
  size_t header = 20 + spec.options.size();
  std::vector<std::byte> p(header + payload.size());
  p[0] = std::byte(0x40 | (header / 4));
  put16(p, 2, static_cast<uint16_t>(p.size()));
  put16(p, 4, spec.identification);
  put16(p, 6, spec.flags_fragment);
  p[8] = std::byte{spec.ttl};
  p[9] = std::byte{spec.protocol};
  put32(p, 12, spec.source);
  put32(p, 16, spec.destination);
  for (size_t i = 0; i < spec.options.size(); ++i) p[20 + i] = spec.options[i];
  for (size_t i = 0; i < payload.size(); ++i) p[header + i] = payload[i];
  put16(p, 10, wire::test::naive_checksum(std::span(p).first(header)));
  return p;
}

// An ICMP message (type, code, rest-of-header word, data) with a correct checksum.
inline std::vector<std::byte> icmp_message(uint8_t type, uint8_t code, uint32_t rest,
                                           std::span<const std::byte> data) {
  std::vector<std::byte> m(8 + data.size());
  m[0] = std::byte{type};
  m[1] = std::byte{code};
  put32(m, 4, rest);
  for (size_t i = 0; i < data.size(); ++i) m[8 + i] = data[i];
  put16(m, 2, wire::test::naive_checksum(m));
  return m;
}

inline std::vector<std::byte> pattern(size_t n, uint8_t start = 0) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(start + i));
  return v;
}

// A UDP datagram (RFC 768) from port 40000 to 9 carrying `data`, with the checksum over the
// pseudo-header for `spec`'s addresses, or none (zero) when `with_checksum` is false.
inline std::vector<std::byte> udp_datagram(const PacketSpec& spec, std::span<const std::byte> data,
                                           bool with_checksum = true) {
  std::vector<std::byte> d(8 + data.size());
  put16(d, 0, 40000);
  put16(d, 2, 9);
  put16(d, 4, static_cast<uint16_t>(d.size()));
  for (size_t i = 0; i < data.size(); ++i) d[8 + i] = data[i];
  if (!with_checksum) return d;
  std::vector<std::byte> summed(12);
  put32(summed, 0, spec.source);
  put32(summed, 4, spec.destination);
  put16(summed, 8, 17);
  put16(summed, 10, static_cast<uint16_t>(d.size()));
  summed.insert(summed.end(), d.begin(), d.end());
  uint16_t sum = wire::test::naive_checksum(summed);
  put16(d, 6, sum == 0 ? 0xffff : sum);  // RFC 768: a computed zero is sent as all ones
  return d;
}

}  // namespace tcplab::ip::test
