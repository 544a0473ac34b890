// Tests for the ways a passive SYN-RECEIVED connection is forgotten (Connection::discard):
// each state change names its rule, as every other transition does.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

struct HalfOpen {
  HalfOpen() {
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
    peer.tracer.add(&trace);
    peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    iss = out[0].seq;
  }
  Peer peer;
  RecordingAccept acceptor;
  TraceRecorder trace;
  Seq iss;
};

}  // namespace

TEST_CASE("tcp: SYN-RECEIVED -> CLOSED by a RST at RCV.NXT names RFC 9293 §3.10.7.4 second") {
  HalfOpen h;
  h.peer.inject(Peer::make("R", h.peer.isn + 1, Seq(0), 0), 80);
  INFO(h.peer.dump());
  CHECK(h.peer.take().empty());
  CHECK(h.trace.states.back() ==
        "SYN-RECEIVED -> CLOSED: RFC 9293 §3.10.7.4 second (RST in SYN-RECEIVED, passive OPEN: back to "
        "LISTEN)");
  CHECK(h.peer.stack.tcp().stats().connections_current == 0);
}

TEST_CASE("tcp: SYN-RECEIVED -> CLOSED by a new SYN names §3.10.7.4 fourth and counts a drop") {
  HalfOpen h;
  h.peer.inject(Peer::make("S", h.peer.isn + 100, Seq(0), 65535), 80);
  INFO(h.peer.dump());
  CHECK(h.peer.take().empty());
  CHECK(h.trace.states.back() ==
        "SYN-RECEIVED -> CLOSED: RFC 9293 §3.10.7.4 fourth (SYN in SYN-RECEIVED, passive OPEN: back to "
        "LISTEN)");
  CHECK(h.peer.stack.drops().get(DropReason::TcpInvalidInState) == 1);
  CHECK(TraceRecorder::has(h.trace.drops, "half-open connection forgotten (RFC 9293 §3.10.7.4 fourth)"));
  // The listener still listens: the next SYN opens afresh.
  h.peer.inject(Peer::make("S", h.peer.isn + 100, Seq(0), 65535), 80);
  auto out = h.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
}

TEST_CASE("tcp: SYN-RECEIVED -> CLOSED after SYN,ACK retransmissions names RFC 9293 §3.8.3") {
  HalfOpen h;
  for (int i = 0; i < 20 && h.peer.stack.tcp().stats().connections_current > 0; ++i) {
    h.peer.advance(seconds(60));
    h.peer.take();
  }
  INFO(h.peer.dump());
  CHECK(h.peer.stack.tcp().stats().connections_current == 0);
  CHECK(h.trace.states.back() ==
        "SYN-RECEIVED -> CLOSED: RFC 9293 §3.8.3 "
        "(SYN,ACK retransmissions exhausted, passive OPEN: forgotten)");
}
