// Tests for stack/tcp/isn.*: SipHash-2-4 against the reference vectors, RFC 6528 ISNs.
#include <doctest/doctest.h>

#include <vector>

#include "stack/tcp/isn.hpp"

using namespace tcplab;
using tcplab::tcp::IsnGenerator;

TEST_CASE("isn: SipHash-2-4 matches the reference test vectors") {
  // Key 00..0f, messages 00..(n-1): vectors from the SipHash paper's appendix.
  std::array<uint8_t, 16> key{};
  for (int i = 0; i < 16; ++i) key[i] = static_cast<uint8_t>(i);
  std::vector<std::byte> msg;
  CHECK(tcp::siphash24(key, msg) == 0x726fdb47dd0e0e31ull);
  for (int i = 0; i < 15; ++i) msg.push_back(std::byte(i));
  CHECK(tcp::siphash24(key, msg) == 0xa129ca6149be45e5ull);
}

TEST_CASE("isn: same tuple advances with the 4 microsecond clock; other tuples differ") {
  std::array<uint8_t, 16> key{7};
  IsnGenerator gen(key, std::nullopt);
  FourTuple a{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40000};
  FourTuple b = a;
  b.remote_port = 40001;
  Instant t{seconds(10)};
  Seq first = gen.next(a, t);
  CHECK(gen.next(a, t + microseconds(400)) - first == 100);
  CHECK(gen.next(b, t) != first);
  std::array<uint8_t, 16> other{8};
  CHECK(IsnGenerator(other, std::nullopt).next(a, t) != first);
}

TEST_CASE("isn: --isn fixes it") {
  IsnGenerator gen({}, 12345u);
  FourTuple a{wire::Ipv4Address{1}, 2, wire::Ipv4Address{3}, 4};
  CHECK(gen.next(a, Instant{seconds(99)}) == Seq(12345));
}
