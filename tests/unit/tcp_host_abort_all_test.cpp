// Tests for TcpHost::abort_all: what a process that exits does to its connections, as a
// kernel does for a dying process's sockets (RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>).
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;

TEST_CASE("tcp: abort_all resets a connection with data in flight and tells the application") {
  Established c;
  const std::string data(3000, 'x');
  REQUIRE(c.socket->send(bytes_of(data)) > 0);
  REQUIRE_FALSE(c.peer.take().empty());  // in flight, not acknowledged
  CHECK(c.peer.stack.tcp().abort_all(c.peer.now) == 1);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.rst);
  CHECK(c.app.reason == CloseReason::Aborted);
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);
}

TEST_CASE("tcp: abort_all resets a connection not yet accepted, and sends nothing when none is open") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  CHECK(peer.stack.tcp().abort_all(peer.now) == 0);
  CHECK(peer.take().empty());
  auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
  peer.inject(syn, 80);
  auto synack = peer.take();
  REQUIRE(synack.size() == 1);
  peer.inject(Peer::make(".", peer.isn + 1, synack[0].seq + 1, 65535), 80);  // in the accept queue
  CHECK(peer.stack.tcp().abort_all(peer.now) == 1);
  auto out = peer.take();
  INFO(peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.rst);
  CHECK(out[0].seq == synack[0].seq + 1);  // SND.NXT
}
