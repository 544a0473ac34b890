// Tests for stack/tcp/isn.*: SipHash-2-4 against the reference vectors, RFC 6528 ISNs.
#include <doctest/doctest.h>

#include <vector>

#include "stack/tcp/isn.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using tcplab::testing::Peer;
using tcplab::testing::Sent;
using tcplab::tcp::IsnGenerator;

namespace {

// A stack (one tcplab run) that opens 192.0.2.2:50000 > 192.0.2.1:8000 at `at`; its SYN.
Sent syn_of_a_run(const std::array<uint8_t, 16>& key, Instant at) {
  StackConfig config = testing::default_stack_config();
  config.tcp.isn_key = key;
  testing::RecordingHandler app;
  Peer peer(config);
  peer.now = at;
  peer.stack.advance(at);
  REQUIRE(peer.stack.tcp().connect(peer.ip, 8000, &app, 50000) != nullptr);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].options.timestamps.has_value());
  return out[0];
}

}  // namespace

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

TEST_CASE("isn: runs with the same key give a 4-tuple ISNs and TSvals that only go up (RFC 6191)") {
  // Two runs on one boot share the key (stack/loop/boot_isn_key), so a peer still holding the first
  // run's connection in TIME-WAIT sees the second run's SYN as newer by both its tests.
  std::array<uint8_t, 16> key{42, 7};
  const Instant first_run = Instant{} + seconds(5000);
  Sent first = syn_of_a_run(key, first_run);
  Sent again = syn_of_a_run(key, first_run);
  CHECK(again.seq == first.seq);
  CHECK(again.options.timestamps->value == first.options.timestamps->value);

  // The first run's connection lasted 3 s and sent 500 kB; the second run starts 1 s after it ended.
  const Duration lifetime = seconds(3);
  Sent second = syn_of_a_run(key, first_run + lifetime + seconds(1));
  uint32_t last_tsval_of_first = first.options.timestamps->value + 3000;
  CHECK(static_cast<int32_t>(second.options.timestamps->value - last_tsval_of_first) > 0);
  CHECK(second.seq > first.seq + 1 + 500'000);
}
