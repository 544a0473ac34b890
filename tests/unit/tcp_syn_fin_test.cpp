// Tests for SYN+FIN (host.cpp syn_fin_arrives, connection_illegal_flags.cpp): a challenge ACK
// in a synchronized state (RFC 5961 §4.2), a counted tcp-bad-flags drop everywhere else.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

TEST_CASE("tcp: SYN+FIN in ESTABLISHED gets a challenge ACK and changes nothing") {
  Established c;
  // At RCV.NXT, one before it (the SYN would be trimmed as old) and far inside the window.
  for (Seq seq : {c.peer_nxt, c.peer_nxt - 1, c.peer_nxt + 5000}) {
    c.peer.advance(milliseconds(500));  // RFC 5961 §7: one challenge ACK per 500 ms
    c.peer.inject(Peer::make("SF.", seq, c.our_nxt, 1000), c.port);
    auto out = c.peer.take();
    INFO(c.peer.dump());
    REQUIRE(out.size() == 1);
    CHECK(out[0].flags.to_string() == ".");
    CHECK(out[0].seq == c.our_nxt);
    CHECK(out[0].ack == c.peer_nxt);
    CHECK(c.socket->state() == tcp::State::Established);
  }
  CHECK(c.app.peer_fin == 0);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_sent == 3);
  CHECK(c.peer.stack.drops().get(DropReason::TcpBadFlags) == 3);
  // In-order data afterwards is delivered: RCV.NXT did not move over the FIN.
  c.peer_sends("P.", "hello");
  CHECK(c.app.received == "hello");
}

TEST_CASE("tcp: SYN+FIN challenge ACKs share the connection's RFC 5961 §7 limit") {
  Established c;
  for (int i = 0; i < 4; ++i) c.peer.inject(Peer::make("SF", c.peer_nxt + 100, Seq(0), 1000), c.port);
  INFO(c.peer.dump());
  CHECK(c.peer.take().size() == 1);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_suppressed == 3);
  CHECK(c.peer.stack.drops().get(DropReason::TcpBadFlags) == 4);
}

TEST_CASE("tcp: SYN+FIN without a synchronized connection is refused as tcp-bad-flags") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  // To a listener: no SYN,ACK, no connection.
  peer.inject(Peer::make("SF", peer.isn, Seq(0), 65535), 80);
  // To a closed port: no RST.
  peer.inject(Peer::make("SF", peer.isn, Seq(0), 65535), 81);
  INFO(peer.dump());
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpBadFlags) == 2);
  CHECK(peer.stack.tcp().connections().empty());
  CHECK(peer.stack.tcp().stats().segments_received == 0);
  // In SYN-RECEIVED (not synchronized): refused too, and the half-open connection stays.
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
  REQUIRE(peer.take().size() == 1);
  peer.inject(Peer::make("SF", peer.isn, Seq(0), 65535), 80);
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpBadFlags) == 3);
  REQUIRE(peer.stack.tcp().connections().size() == 1);
  CHECK(peer.stack.tcp().connections()[0].state == tcp::State::SynReceived);
}
