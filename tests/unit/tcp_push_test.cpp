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

TEST_CASE("tcp: a push long passed does not let a short write through 2^32 bytes later") {
  // The end of the last PUSH is a sequence number, compared in sequence arithmetic (RFC 9293
  // §3.4). Kept after SND.NXT passed it, it would come round again after 2^32 bytes and make
  // an unpushed short write near it look like the end of a pushed message (Nagle skipped).
  JumboEstablished c;
  const std::string& segment = c.segment;
  uint64_t left = (uint64_t{1} << 32) - 50;  // bytes sent from the push's end up to here
  // Two whole segments, the second waiting for the window when the push comes: nothing short
  // is ever held for this push, and it ends where the second segment does.
  REQUIRE(c.socket->send(bytes_of(segment + segment)) == 2 * segment.size());
  c.socket->push();
  c.send_one_and_ack(0);
  c.send_one_and_ack(0);
  while (left > 1000) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left - 1000, segment.size()));
    c.send_one_and_ack(n);
    left -= n;
  }
  // 1000 bytes before the push's end comes round: one segment in flight, then a short write.
  REQUIRE(c.socket->send(bytes_of(std::string(950, 'a'))) == 950);
  REQUIRE(data_segments(c.peer.take()) == 1);  // nothing in flight: Nagle lets it go
  REQUIRE(c.socket->send(bytes_of(std::string(100, 'b'))) == 100);  // crosses the old push's end
  INFO(c.peer.dump());
  CHECK(data_segments(c.peer.take()) == 0);  // RFC 896: held until the ACK, never pushed
  c.peer_acks(c.our_nxt + 950);
  CHECK(data_segments(c.peer.take()) == 1);
}
