// Tests for stack/tcp/connection*.cpp and host.cpp through a whole Stack: a scripted peer with
// a random ISN injects segments, each test asserts the exact segments the stack answers with.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

TEST_CASE("tcp: passive open answers SYN with SYN-ACK carrying MSS and window scale") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = Peer::make("S", peer.isn, Seq(0), 64240);
  syn.options.mss = 1400;
  syn.options.window_scale = 7;
  peer.inject(syn, 80);
  auto out = peer.take();
  INFO(peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(out[0].ack == peer.isn + 1);
  CHECK(out[0].options.mss == 1460);
  CHECK(out[0].options.window_scale == 5);  // 1 MiB buffer needs a shift of 5
  CHECK(out[0].window == 65535);            // never scaled in a SYN (RFC 7323 §2.2)
  CHECK(out[0].source_port == 80);
  CHECK(out[0].destination_port == 40000);
  CHECK(peer.stack.tcp().stats().connections_current == 1);
  CHECK(acceptor.calls == 0);
  CHECK(peer.stack.tcp().accept(80) == nullptr);  // not ESTABLISHED yet

  peer.inject(Peer::make(".", peer.isn + 1, out[0].seq + 1, 502), 80);
  CHECK(peer.take().empty());
  CHECK(acceptor.calls == 1);
  auto* s = peer.stack.tcp().accept(80);
  REQUIRE(s != nullptr);
  CHECK(s->state() == State::Established);
  CHECK(s->info().snd_wnd == 502u << 7);
  CHECK(peer.stack.tcp().stats().handshakes_completed == 1);
}

TEST_CASE("tcp: no window scale option from the peer means none from us") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 8192), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].options.window_scale.has_value());
  CHECK(out[0].options.mss == 1460);
}

TEST_CASE("tcp: in-order data is delivered and ACKed after the delayed-ACK timeout") {
  Established c;
  c.peer_sends("P.", "hello");
  INFO(c.peer.dump());
  CHECK(c.app.received == "hello");
  CHECK(c.peer.take().empty());  // ACK is delayed
  c.peer.advance(milliseconds(199));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].seq == c.our_nxt);
}

TEST_CASE("tcp: every second full-sized segment is ACKed at once") {
  Established c;
  std::string full(1460, 'a');
  c.peer_sends(".", full);
  CHECK(c.peer.take().empty());
  c.peer_sends(".", full);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.received.size() == 2920);
}

TEST_CASE("tcp: application data goes out with PSH and is retired by the ACK") {
  Established c;
  CHECK(c.socket->send(bytes_of("response")) == 8);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "P.");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].payload == "response");
  c.peer_acks(c.our_nxt + 8);
  CHECK(c.peer.take().empty());
  CHECK(c.socket->info().snd_una == 9);
  CHECK(c.peer.stack.next_deadline() == std::nullopt);  // nothing outstanding, no timer
}

TEST_CASE("tcp: passive close: FIN -> ACK, CLOSE-WAIT; close -> FIN, LAST-ACK; ACK -> closed") {
  Established c;
  c.peer_sends("F.", "");
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.socket->state() == State::CloseWait);
  CHECK(c.app.peer_fin == 1);
  CHECK(c.socket->peer_closed());
  c.socket->close();
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "F.");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(c.socket->state() == State::LastAck);
  c.peer_acks(c.our_nxt + 1);
  CHECK(c.app.closed == 1);
  CHECK(c.app.reason == CloseReason::Normal);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);
  CHECK(c.peer.stack.tcp().connections().empty());
}

TEST_CASE("tcp: active close goes through FIN-WAIT-1, FIN-WAIT-2 and TIME-WAIT for 2 MSL") {
  auto config = default_stack_config();
  config.tcp.msl = seconds(1);
  Established c(config);
  c.socket->close();
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "F.");
  CHECK(c.socket->state() == State::FinWait1);
  c.peer_acks(c.our_nxt + 1);
  CHECK(c.socket->state() == State::FinWait2);
  c.our_nxt += 1;
  c.peer_sends("F.", "");
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.closed == 1);
  CHECK(c.app.reason == CloseReason::Normal);
  CHECK(c.peer.stack.tcp().stats().connections_time_wait == 1);
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);

  // A retransmitted FIN is ACKed again and restarts the 2 MSL timer.
  c.peer.advance(milliseconds(1500));
  c.peer.inject(Peer::make("F.", c.peer_nxt - 1, c.our_nxt, 65535), c.port);
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  c.peer.advance(milliseconds(1999));
  CHECK(c.peer.stack.tcp().connections().size() == 1);
  c.peer.advance(milliseconds(1));
  CHECK(c.peer.stack.tcp().connections().empty());
  CHECK(c.peer.stack.tcp().stats().connections_time_wait == 0);
}

TEST_CASE("tcp: half-close: after the peer's FIN we keep sending") {
  Established c;
  c.peer_sends("F.", "");
  c.peer.take();
  CHECK(c.socket->send(bytes_of("more")) == 4);
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "more");
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp: RST to a closed port uses the RFC's sequence numbers") {
  Peer peer;
  // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 81);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R.");
  CHECK(out[0].seq == Seq(0));
  CHECK(out[0].ack == peer.isn + 1);
  // With ACK: <SEQ=SEG.ACK><CTL=RST>
  peer.inject(Peer::make(".", peer.isn, Seq(12345), 1000), 81);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == Seq(12345));
  // A RST is never answered.
  peer.inject(Peer::make("R", peer.isn, Seq(0), 0), 81);
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpNoConnection) == 3);
}

TEST_CASE("tcp: LISTEN answers an ACK with RST and ignores a RST") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make(".", peer.isn, Seq(777), 1000), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == Seq(777));
  peer.inject(Peer::make("R", peer.isn, Seq(0), 0), 80);
  CHECK(peer.take().empty());
  CHECK(peer.stack.tcp().connections().empty());
}

TEST_CASE("tcp: bad checksum is dropped without an answer") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80, /*corrupt=*/true);
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpBadChecksum) == 1);
}
