// Tests for stack/tcp/invalid_ack_limit.cpp: ACKs to unacceptable segments are limited per
// connection (one per TcpConfig::invalid_ack_interval), counted, and data is always answered.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;

TEST_CASE("tcp: ACKs to unacceptable segments: one per 500 ms per connection, the rest counted") {
  Established c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  auto out_of_window = [&] { c.peer.inject(Peer::make(".", c.peer_nxt + 5000000, c.our_nxt, 1000), c.port); };
  out_of_window();
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].ack == c.peer_nxt);
  // Ten more bare ACKs out of the window and ten ACKs of unsent data inside 500 ms: silence.
  for (int i = 0; i < 10; ++i) {
    c.peer.advance(milliseconds(20));
    out_of_window();
    c.peer.inject(Peer::make(".", c.peer_nxt, c.our_nxt + 100, 1000), c.port);
  }
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.tcp().stats().invalid_acks_suppressed == 20);
  CHECK(c.peer.stack.drops().get(DropReason::TcpUnacceptableSegment) == 11);
  CHECK(c.peer.stack.drops().get(DropReason::TcpAckUnacceptable) == 10);
  // Each suppressed ACK is traced with what it would have answered.
  CHECK(TraceRecorder::has(trace.notes, "dup ACK suppressed: one ACK to unacceptable segments per 500 ms"));
  CHECK(TraceRecorder::has(
      trace.notes, "ACK to an ACK of unsent data suppressed: one ACK to unacceptable segments per 500 ms"));
  // Out-of-window data is always answered (it cannot be part of an ACK loop).
  c.peer.inject(Peer::make(".", c.peer_nxt + 5000000, c.our_nxt, 1000, bytes_of("x")), c.port);
  CHECK(c.peer.take().size() == 1);
  // 500 ms after the first answer (300 ms after the last suppressed one) it answers again.
  c.peer.advance(milliseconds(300));
  out_of_window();
  CHECK(c.peer.take().size() == 1);
  CHECK(c.peer.stack.tcp().stats().invalid_acks_suppressed == 20);
  CHECK(c.socket->state() == tcp::State::Established);
}

TEST_CASE("tcp: the limit is per connection, and invalid_ack_interval 0 turns it off") {
  SUBCASE("two connections each get their own answer") {
    Established a;
    a.peer.set_port(40001);
    RecordingAccept acceptor2;
    // A second connection to another port on the same stack.
    REQUIRE(a.peer.stack.tcp().listen(81, &acceptor2));
    a.peer.inject(Peer::make("S", a.peer.isn, Seq(0), 65535), 81);
    auto synack = a.peer.take();
    REQUIRE(synack.size() == 1);
    a.peer.inject(Peer::make(".", a.peer.isn + 1, synack[0].seq + 1, 65535), 81);
    REQUIRE(a.peer.take().empty());
    a.peer.inject(Peer::make(".", a.peer.isn + 5000000, synack[0].seq + 1, 1000), 81);
    a.peer.set_port(40000);
    a.peer.inject(Peer::make(".", a.peer_nxt + 5000000, a.our_nxt, 1000), a.port);
    INFO(a.peer.dump());
    CHECK(a.peer.take().size() == 2);
    CHECK(a.peer.stack.tcp().stats().invalid_acks_suppressed == 0);
  }
  SUBCASE("interval 0") {
    auto config = default_stack_config();
    config.tcp.invalid_ack_interval = Duration::zero();
    Established c(config);
    for (int i = 0; i < 5; ++i) c.peer.inject(Peer::make(".", c.peer_nxt + 5000000, c.our_nxt, 1000), c.port);
    INFO(c.peer.dump());
    CHECK(c.peer.take().size() == 5);
    CHECK(c.peer.stack.tcp().stats().invalid_acks_suppressed == 0);
  }
}
