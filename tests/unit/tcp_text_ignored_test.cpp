// Tests for segment text the RFC says to ignore while the segment's ACK is processed: data
// after the peer's FIN (RFC 9293 §3.10.7.4 seventh), text into a zero window (first step) and
// a FIN beyond a hole (deviation fin-beyond-hole). Each is counted as tcp-text-ignored with a
// detail naming the rule.
#include <doctest/doctest.h>

#include "stack/tcp/time_wait.hpp"
#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::State;

TEST_CASE("tcp: data after the peer's FIN is ignored, counted and traced") {
  Established c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  c.peer_sends("F.", "");
  c.peer.take();
  REQUIRE(c.socket->state() == State::CloseWait);
  c.peer.inject(Peer::make("P.", c.peer_nxt, c.our_nxt, 1000, bytes_of("late")), c.port);
  INFO(c.peer.dump());
  CHECK(c.app.received.empty());
  CHECK(c.peer.stack.drops().get(DropReason::TcpTextIgnored) == 1);
  CHECK(TraceRecorder::has(trace.drops,
                           std::string("tcp-text-ignored: ") + std::string(tcp::kTextAfterFinDrop)));
  CHECK(c.socket->state() == State::CloseWait);
}

TEST_CASE("tcp: a zero-window probe's byte is not taken, counted and traced; its ACK is") {
  ZeroWindowEstablished c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  std::vector<Sent> out;
  c.peer.inject(Peer::make(".", c.peer_nxt, c.our_nxt, 1000, bytes_of("p")), c.port);
  out = c.peer.take();
  REQUIRE(out.size() == 1);  // "the window is still closed"
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].window == 0);
  CHECK(c.peer.stack.drops().get(DropReason::TcpTextIgnored) == 1);
  CHECK(c.peer.stack.drops().get(DropReason::TcpUnacceptableSegment) == 0);
  CHECK(TraceRecorder::has(trace.drops,
                           std::string("tcp-text-ignored: ") + std::string(tcp::kZeroWindowTextDrop)));
  // A bare FIN into the closed window carries no text: its drop says it was the FIN.
  c.peer.inject(Peer::make("F.", c.peer_nxt, c.our_nxt, 1000), c.port);
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.peer.stack.drops().get(DropReason::TcpTextIgnored) == 2);
  CHECK(TraceRecorder::has(trace.drops,
                           std::string("tcp-text-ignored: ") + std::string(tcp::kZeroWindowFinDrop)));
  CHECK(c.socket->state() == tcp::State::Established);
}

TEST_CASE("tcp: a segment refused at the ACK check is not also counted as ignored text") {
  ZeroWindowEstablished c;
  // A probe byte into our zero window whose ACK covers data we never sent (RFC 9293
  // §3.10.7.4 fifth): one segment, one reason.
  c.peer.inject(Peer::make(".", c.peer_nxt, c.our_nxt + 1000, 1000, bytes_of("p")), c.port);
  c.peer.take();
  CHECK(c.peer.stack.drops().get(DropReason::TcpAckUnacceptable) == 1);
  CHECK(c.peer.stack.drops().get(DropReason::TcpTextIgnored) == 0);
}

TEST_CASE("tcp: a FIN beyond a hole gets a duplicate ACK, is not taken, and is traced") {
  Established c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  // RFC 5681 §4.2: an out-of-order segment is ACKed at once, a bare FIN as well as data.
  c.peer.inject(Peer::make("F.", c.peer_nxt + 10, c.our_nxt, 65535), c.port);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].payload.empty());
  CHECK(c.peer.stack.drops().get(DropReason::TcpTextIgnored) == 1);
  CHECK(TraceRecorder::has(trace.drops,
                           std::string("tcp-text-ignored: ") + std::string(tcp::kFinBeyondHoleDrop)));
  CHECK(c.socket->state() == State::Established);
  // With data on it the data is held and the FIN is still not taken: one ACK, one drop.
  c.peer.inject(Peer::make("FP.", c.peer_nxt + 10, c.our_nxt, 65535, bytes_of("later")), c.port);
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.peer.stack.drops().get(DropReason::TcpTextIgnored) == 2);
  CHECK(c.socket->state() == State::Established);
}

TEST_CASE("tcp: data on a SYN is not queued, and the drop says so (deviation syn-data-not-queued)") {
  for (bool cookie : {false, true}) {
    INFO("answered with a SYN cookie: " << cookie);
    auto config = default_stack_config();
    if (cookie) config.tcp.syn_cookies = tcp::TcpConfig::SynCookieMode::Always;
    Peer peer(config);
    TraceRecorder trace;
    peer.tracer.add(&trace);
    RecordingAccept acceptor;
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
    const std::string early = "early data";  // outlives the segment, which points into it
    auto syn = Peer::make("S", peer.isn, Seq(0), 65535, bytes_of(early));
    syn.options.mss = 1460;
    peer.inject(syn, 80);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].ack == peer.isn + 1);  // the SYN alone is acknowledged
    CHECK(peer.stack.drops().get(DropReason::TcpTextIgnored) == 1);
    CHECK(TraceRecorder::has(trace.drops,
                             std::string("tcp-text-ignored: ") + std::string(tcp::kSynDataDrop)));
  }
}
