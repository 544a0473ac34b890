// Tests for RST+FIN (wire::FlagCheck::Host, drop_fin_of_rst): RFC 9293 §3.10.7.4 checks the
// RST bit (second) before the FIN (eighth), so a RST+FIN is handled as the RST it carries.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

TEST_CASE("tcp: RST+FIN at RCV.NXT resets the connection") {
  Established c;
  c.peer.inject(Peer::make("RF.", c.peer_nxt, c.our_nxt, 1000), c.port);
  INFO(c.peer.dump());
  CHECK(c.peer.take().empty());
  CHECK(c.app.reason == CloseReason::ResetByPeer);
  CHECK(c.app.peer_fin == 0);  // the FIN is moot
  CHECK(c.peer.stack.tcp().stats().resets_received == 1);
  CHECK(c.peer.stack.drops().get(DropReason::TcpBadFlags) == 0);
}

TEST_CASE("tcp: RST+FIN elsewhere in the window gets a challenge ACK, outside it is ignored") {
  Established c;
  c.peer.inject(Peer::make("RF", c.peer_nxt + 100, Seq(0), 0), c.port);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);  // the FIN was not taken
  c.peer.inject(Peer::make("RF", c.peer_nxt + 2000000, Seq(0), 0), c.port);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.drops().get(DropReason::TcpRstIgnored) == 2);
  CHECK(c.socket->state() == State::Established);
  CHECK(c.app.peer_fin == 0);
}

TEST_CASE("tcp: RST+FIN at RCV.NXT resets even when our window is zero") {
  ZeroWindowEstablished c;
  c.peer.inject(Peer::make("RF.", c.peer_nxt, c.our_nxt, 1000), c.port);
  CHECK(c.app.reason == CloseReason::ResetByPeer);
}

TEST_CASE("tcp: RST+FIN for no connection is dropped unanswered like a RST") {
  Peer peer;
  peer.inject(Peer::make("RF.", peer.isn, Seq(1), 1000), 81);
  INFO(peer.dump());
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpNoConnection) == 1);
  CHECK(peer.stack.drops().get(DropReason::TcpBadFlags) == 0);
}
