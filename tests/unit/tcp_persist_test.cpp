// Tests for giving up zero-window probing (Connection::persist_timeout): RFC 1122 §4.2.2.17
// keeps a connection open only "as long as the receiving TCP continues to send
// acknowledgments in response to the probe segments", so unanswered probes count like
// retransmissions (TcpConfig::max_retransmissions) and the connection is then reset.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

namespace {

// Advances the clock one persist_max (60 s) at a time, so each turn fires the persist timer
// once, and returns how many probes went before something other than a probe was sent. With
// `answer`, the peer acknowledges each probe with its window still shut: alive, not reading.
int probes_until_other(Established& c, std::vector<Sent>& other, bool answer = false, int bound = 40) {
  int probes = 0;
  for (int i = 0; i < bound; ++i) {
    c.peer.advance(seconds(60));
    for (auto& s : c.peer.take()) {
      if (s.payload.size() == 1 && !s.flags.rst) {
        ++probes;
      } else {
        other.push_back(s);
      }
    }
    if (!other.empty()) break;
    if (answer) c.peer_acks(c.our_nxt, 0);
  }
  return probes;
}

// Lets seven probes go (one short of max_retransmissions), each one segment.
void seven_probes(Established& c) {
  for (int i = 0; i < 7; ++i) {
    c.peer.advance(seconds(60));
    REQUIRE(c.peer.take().size() == 1);
  }
}

}  // namespace

TEST_CASE("tcp: zero-window probes nobody answers end the connection like retransmissions") {
  Established c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  c.peer_acks(c.our_nxt, 0);
  REQUIRE(c.socket->send(bytes_of("data")) == 4);
  std::vector<Sent> other;
  int probes = probes_until_other(c, other);
  INFO(c.peer.dump());
  CHECK(probes == 8);  // max_retransmissions
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
  CHECK(c.app.reason == CloseReason::TimedOut);
  CHECK(c.peer.stack.tcp().stats().timeouts == 1);
  CHECK(TraceRecorder::has(trace.states,
                           "ESTABLISHED -> CLOSED: RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17 "
                           "(zero-window probes unanswered)"));
}

TEST_CASE("tcp: a probe answered with a zero window starts the count again") {
  Established c;
  c.peer_acks(c.our_nxt, 0);
  REQUIRE(c.socket->send(bytes_of("data")) == 4);
  seven_probes(c);
  c.peer_acks(c.our_nxt, 0);  // the receiver is alive; its window is still closed
  std::vector<Sent> other;
  int probes = probes_until_other(c, other);
  INFO(c.peer.dump());
  CHECK(probes == 8);
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
  CHECK(c.app.reason == CloseReason::TimedOut);
}

TEST_CASE("tcp: LAST-ACK behind a zero window does not last for ever") {
  Established c;
  c.peer_acks(c.our_nxt, 0);
  REQUIRE(c.socket->send(bytes_of("data")) == 4);
  c.peer.inject(Peer::make("F.", c.peer_nxt, c.our_nxt, 0), c.port);
  c.peer_nxt += 1;
  c.peer.take();
  c.socket->close();
  CHECK(c.socket->state() == State::LastAck);
  std::vector<Sent> other;
  int probes = probes_until_other(c, other);
  INFO(c.peer.dump());
  CHECK(probes == 8);
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);
}

TEST_CASE("tcp: an ACK refused at the fifth check does not answer the probes") {
  Established c;
  c.peer_acks(c.our_nxt, 0);
  REQUIRE(c.socket->send(bytes_of("data")) == 4);
  seven_probes(c);
  // An ACK of data never sent (RFC 9293 §3.10.7.4 fifth: ACK it and drop it) is no answer from
  // a live receiver: the next probe is still the eighth and last.
  c.peer_acks(c.our_nxt + 1000, 0);
  c.peer.take();
  std::vector<Sent> other;
  int probes = probes_until_other(c, other);
  INFO(c.peer.dump());
  CHECK(probes == 1);
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
}

// Like Linux's tcp_probe_timer for an orphaned socket: once the application has let go
// (release(), after CLOSE), nobody waits for the connection, so a receiver that answers every
// probe but never opens its window cannot hold the send buffer for ever.
TEST_CASE("tcp: a released connection gives up on a zero window even when the probes are answered") {
  Established c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  c.peer_acks(c.our_nxt, 0);
  REQUIRE(c.socket->send(bytes_of("data")) == 4);
  c.socket->close();
  REQUIRE(c.socket->state() == State::FinWait1);
  REQUIRE(c.socket->release());
  std::vector<Sent> other;
  const int probes = probes_until_other(c, other, true);
  INFO(c.peer.dump());
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.rst);
  CHECK(probes == 8);  // max_retransmissions, answered or not
  CHECK(c.peer.stack.tcp().stats().timeouts == 1);
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);
  CHECK(TraceRecorder::has(trace.states, "FIN-WAIT-1 -> CLOSED: Deviation: released-zero-window"));
}

TEST_CASE("tcp: a released connection counts its probes again after the window opens") {
  Established c;
  c.peer_acks(c.our_nxt, 0);
  REQUIRE(c.socket->send(bytes_of(std::string(10000, 'x'))) == 10000);
  c.socket->close();
  REQUIRE(c.socket->release());
  for (int i = 0; i < 7; ++i) {
    c.peer.advance(seconds(60));
    REQUIRE(c.peer.take().size() == 1);
    c.peer_acks(c.our_nxt, 0);
  }
  c.peer_acks(c.our_nxt, 2920);  // the window opens: two segments go, then it closes again
  REQUIRE(c.peer.take().size() == 2);
  c.our_nxt += 2920;
  c.peer_acks(c.our_nxt, 0);
  std::vector<Sent> other;
  const int probes = probes_until_other(c, other, true);
  INFO(c.peer.dump());
  CHECK(probes == 8);
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
}
