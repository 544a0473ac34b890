// Tests for the quick ACK (Connection::quick_ack_due): once the application has read every byte
// and the last segment was short, the delayed ACK goes at once, because the peer's Nagle may hold
// its next segment for it (RFC 896; RFC 9293 §3.8.6.3 lets an ACK go early).
#include <doctest/doctest.h>

#include <string>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

// Answers every read with a reply, from inside the callback, as the HTTP server does.
struct Replier : RecordingHandler {
  void on_readable(tcp::Socket& s) override {
    RecordingHandler::on_readable(s);
    s.send(bytes_of("reply"));
  }
};

}  // namespace

TEST_CASE("tcp quick ack: a short segment the application has read is ACKed at once") {
  Established c;
  c.peer_sends("P.", "HTTP/1.0 200 OK\r\n\r\n");  // a header: the peer's Nagle now holds the body
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.received == "HTTP/1.0 200 OK\r\n\r\n");
}

TEST_CASE("tcp quick ack: not while unread data is waiting; the delayed-ACK timer answers then") {
  Established c;
  c.app.read_on_readable = false;
  c.peer_sends("P.", "hello");
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(199));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp quick ack: a reply sent from the callback carries the ACK; no pure ACK before it") {
  Established c;
  Replier replier;
  c.socket->set_handler(&replier);
  c.peer_sends("P.", "GET / HTTP/1.1\r\n\r\n");
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "reply");
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp quick ack: full-sized segments are still ACKed every second one (RFC 9293 §3.8.6.3)") {
  // A turn per segment (take() ends it), so the ACK a pair calls for leaves with the second.
  Established c;
  const std::string full(1460, 'x');
  for (int i = 0; i < 3; ++i) {
    c.peer_sends(".", full);
    CHECK(c.peer.take().empty());  // the first of a pair waits
    c.peer_sends(".", full);
    auto out = c.peer.take();
    REQUIRE(out.size() == 1);  // the second is ACKed
    CHECK(out[0].ack == c.peer_nxt);
  }
  // The short tail of the peer's write is ACKed at once.
  c.peer_sends("P.", "tail");
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp delayed ack: segments 12 bytes short of the MSS (timestamps) are full-sized too") {
  // RFC 5681 §4.2: every second full-sized segment. A peer using timestamps never sends more
  // than MSS - 12 bytes in one segment; counting against twice the MSS waited for a third.
  Established c;
  const std::string full(1448, 'x');
  for (int i = 0; i < 3; ++i) {
    c.peer_sends(".", full);
    CHECK(c.peer.take().empty());
    c.peer_sends(".", full);
    auto out = c.peer.take();
    INFO(c.peer.dump());
    REQUIRE(out.size() == 1);
    CHECK(out[0].ack == c.peer_nxt);
  }
}

TEST_CASE("tcp quick ack: data the application sends later in the same turn carries the ACK instead") {
  // tcplab get: the response is read in the callback, the next request is sent after it returns.
  Established c;
  c.app.read_on_readable = false;
  c.peer_sends("P.", "HTTP/1.1 200 OK\r\n\r\n");
  std::byte buf[64];
  CHECK(c.socket->receive(buf) == 19);
  REQUIRE(c.socket->send(bytes_of("GET /next HTTP/1.1\r\n\r\n")) == 22);
  auto out = c.peer.take();  // the turn ends
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "GET /next HTTP/1.1\r\n\r\n");
  CHECK(out[0].ack == c.peer_nxt);
}
