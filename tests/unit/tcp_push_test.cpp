// Tests for the application's PUSH (Socket::push, RFC 9293 §3.9.1): the short last segment of
// a pushed message leaves at once, where Nagle alone would hold it until an ACK.
#include <doctest/doctest.h>

#include <string>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {
size_t data_segments(const std::vector<Sent>& out) {
  size_t n = 0;
  for (const auto& s : out) n += !s.payload.empty();
  return n;
}
}  // namespace

TEST_CASE("tcp: Nagle holds a message's short tail while data is in flight; push sends it") {
  for (bool pushed : {false, true}) {
    CAPTURE(pushed);
    Established c;
    const std::string message(1460 * 2 + 300, 'm');  // two full segments and a short tail
    REQUIRE(c.socket->send(bytes_of(message)) == message.size());
    if (pushed) c.socket->push();
    auto out = c.peer.take();
    // RFC 896: the tail waits for an ACK; with PUSH it goes with the rest.
    CHECK(data_segments(out) == (pushed ? 3u : 2u));
    if (!pushed) {
      // The ACK releases it, as Nagle promises.
      c.peer_acks(c.our_nxt + 2920);
      CHECK(data_segments(c.peer.take()) == 1);
    }
  }
}

TEST_CASE("tcp: push does not let unpushed short writes through") {
  Established c;
  const std::string first(1460 + 100, 'a');
  REQUIRE(c.socket->send(bytes_of(first)) == first.size());
  c.socket->push();
  CHECK(data_segments(c.peer.take()) == 2);
  // Two more short writes, not pushed, with data in flight: Nagle coalesces them.
  REQUIRE(c.socket->send(bytes_of(std::string(50, 'b'))) == 50);
  REQUIRE(c.socket->send(bytes_of(std::string(50, 'c'))) == 50);
  CHECK(data_segments(c.peer.take()) == 0);
  c.peer_acks(c.our_nxt + static_cast<uint32_t>(first.size()));
  auto out = c.peer.take();
  REQUIRE(data_segments(out) == 1);
  CHECK(out.back().payload == std::string(50, 'b') + std::string(50, 'c'));
}
