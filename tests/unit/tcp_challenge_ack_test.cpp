// Tests for the RFC 5961 §7 challenge-ACK limit (invalid_ack_limit.cpp): one challenge ACK per
// TcpConfig::challenge_ack_interval per connection, never a budget connections share, so an
// off-path attacker cannot learn from its own connection's challenge ACKs whether a spoofed
// RST hit another connection's window (the CVE-2016-5696 side channel).
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::State;

namespace {

// A victim connection (peer port 40000 to port 80) and the attacker's own connection (peer
// port 40001 to port 81) on one stack. Optionally one spoofed RST lands inside the victim's
// window (not at RCV.NXT: a challenge ACK goes to the victim's peer, which the attacker
// cannot see); then the attacker sends `rsts` in-window RSTs on its own connection at the
// same instant and counts the challenge ACKs it gets back.
size_t attacker_challenge_acks(bool spoof_hits_victim_window, int rsts) {
  Established victim;
  Peer& peer = victim.peer;
  RecordingAccept attacker_acceptor;
  REQUIRE(peer.stack.tcp().listen(81, &attacker_acceptor));
  peer.set_port(40001);
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 81);
  auto synack = peer.take();
  REQUIRE(synack.size() == 1);
  peer.inject(Peer::make(".", peer.isn + 1, synack[0].seq + 1, 65535), 81);
  REQUIRE(peer.take().empty());

  peer.set_port(40000);
  Seq guess = spoof_hits_victim_window ? victim.peer_nxt + 100 : victim.peer_nxt + 50000000;
  peer.inject(Peer::make("R", guess, Seq(0), 0), victim.port);
  peer.set_port(40001);
  for (int i = 0; i < rsts; ++i) peer.inject(Peer::make("R", peer.isn + 1 + 100, Seq(0), 0), 81);
  size_t to_attacker = 0;
  for (const auto& s : peer.take())
    if (s.destination_port == 40001) ++to_attacker;
  CHECK(victim.socket->state() == State::Established);
  return to_attacker;
}

}  // namespace

TEST_CASE("tcp: challenge ACKs on one connection do not depend on RSTs sent to another") {
  // 100 RSTs: the old host-wide budget of 100 per second answered 99 after a spoofed RST hit
  // the victim's window and 100 after a miss.
  size_t hit = attacker_challenge_acks(true, 100);
  size_t miss = attacker_challenge_acks(false, 100);
  CHECK(hit == miss);
  CHECK(hit == 1);  // one per 500 ms per connection
}

TEST_CASE("tcp: challenge ACKs: one per 500 ms per connection, the rest counted and traced") {
  Established c;
  TraceRecorder trace;
  c.peer.tracer.add(&trace);
  for (int i = 0; i < 3; ++i) c.peer.inject(Peer::make("S", c.peer.isn + 5000, Seq(0), 1000), c.port);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_sent == 1);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_suppressed == 2);
  CHECK(TraceRecorder::has(trace.notes,
                           "challenge ACK suppressed: one per 500 ms per connection (RFC 5961 §7)"));
  c.peer.advance(milliseconds(499));
  c.peer.inject(Peer::make("R", c.peer_nxt + 100, Seq(0), 0), c.port);
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));
  c.peer.inject(Peer::make("R", c.peer_nxt + 100, Seq(0), 0), c.port);
  CHECK(c.peer.take().size() == 1);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_sent == 2);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_suppressed == 3);
  CHECK(c.socket->state() == State::Established);
}

TEST_CASE("tcp: challenge_ack_interval 0 answers every challenge") {
  auto config = default_stack_config();
  config.tcp.challenge_ack_interval = Duration::zero();
  Established c(config);
  for (int i = 0; i < 5; ++i) c.peer.inject(Peer::make("R", c.peer_nxt + 100, Seq(0), 0), c.port);
  INFO(c.peer.dump());
  CHECK(c.peer.take().size() == 5);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_suppressed == 0);
}
