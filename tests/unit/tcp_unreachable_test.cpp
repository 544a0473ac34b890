// Tests for ICMP destination unreachable and the other errors TCP is told of (stack.cpp
// icmp_error_arrives, TcpHost and connection_unreachable.cpp, RFC 1122 §4.2.3.9): a hand-built
// ICMP error quoting one of our segments goes through Stack::receive like any packet from the link.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/wire/icmp.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

namespace {

// An ICMP error (type 3 by default: a firewall's reject rule) with `code` from the peer's host,
// quoting the first 28 bytes of `ours` (IP + 8 TCP).
std::vector<std::byte> unreachable(const Peer& peer, std::span<const std::byte> ours, uint8_t code,
                                   uint8_t type = 3) {
  constexpr size_t kQuoted = 28;
  std::vector<std::byte> packet(20 + 8 + kQuoted);
  wire::emit_icmp(type, code, 0, ours.first(kQuoted), wire::MutableBytes(packet).subspan(20));
  wire::Ipv4Header h;
  h.protocol = 1;
  h.source = peer.ip;
  h.destination = peer.stack.config().address;
  wire::emit_ipv4_header(h, 8 + kQuoted, wire::MutableBytes(packet));
  return packet;
}

// Keeps a copy of the first packet in the outbox (read before Peer::take empties it).
std::vector<std::byte> first_sent(Peer& peer) {
  REQUIRE(peer.stack.outbox().size() > 0);
  auto first = peer.stack.outbox().packet(0);
  return {first.begin(), first.end()};
}

// Remembers drops with their details, and state changes with their rules.
struct Seen : trace::Sink {
  std::vector<std::string> drops, states;
  void drop(Instant, DropReason r, std::span<const std::byte>, std::string_view detail) override {
    drops.push_back(std::string(to_string(r)) + " " + std::string(detail));
  }
  void state_change(Instant, const FourTuple&, std::string_view from, std::string_view to,
                    std::string_view rule) override {
    states.push_back(std::string(from) + " -> " + std::string(to) + " " + std::string(rule));
  }
};

}  // namespace

TEST_CASE("tcp: port or protocol unreachable for our SYN ends the active open at once (RFC 1122 §4.2.3.9)") {
  for (uint8_t code : {3, 2}) {
    CAPTURE(int{code});
    Peer peer;
    Seen seen;
    peer.tracer.add(&seen);
    RecordingHandler app;
    auto* s = peer.stack.tcp().connect(peer.ip, 8000, &app);
    REQUIRE(s != nullptr);
    auto syn = first_sent(peer);
    peer.take();
    peer.stack.receive(unreachable(peer, syn, code), peer.now);
    INFO(peer.dump());
    CHECK(peer.take().empty());  // no RST, no retransmission: the connection is gone
    CHECK(app.closed == 1);
    CHECK(app.reason == (code == 3 ? CloseReason::PortUnreachable : CloseReason::ProtocolUnreachable));
    CHECK(peer.stack.drops().total() == 0);
    REQUIRE_FALSE(seen.states.empty());
    std::string name = code == 3 ? "port" : "protocol";
    CHECK(seen.states.back() == "SYN-SENT -> CLOSED RFC 1122 §4.2.3.9 (ICMP " + name +
                                    " unreachable from 192.0.2.1 for our SYN: a hard error)");
    // No timer is left: nothing more is sent later either.
    peer.advance(seconds(5));
    CHECK(peer.take().empty());
    CHECK(peer.stack.tcp().stats().connections_current == 0);
  }
}

TEST_CASE("tcp: other unreachable codes in SYN-SENT are soft errors: dropped, named, the SYN retried") {
  for (uint8_t code : {0, 1, 13}) {
    CAPTURE(int{code});
    Peer peer;
    Seen seen;
    peer.tracer.add(&seen);
    RecordingHandler app;
    auto* s = peer.stack.tcp().connect(peer.ip, 8000, &app);
    REQUIRE(s != nullptr);
    auto syn = first_sent(peer);
    peer.take();
    peer.stack.receive(unreachable(peer, syn, code), peer.now);
    CHECK(app.closed == 0);
    CHECK(s->state() == State::SynSent);
    CHECK(peer.stack.drops().get(DropReason::IcmpSoftError) == 1);
    REQUIRE(seen.drops.size() == 1);
    CHECK(seen.drops[0].find("icmp-soft-error ICMP ") == 0);
    CHECK(seen.drops[0].find("from 192.0.2.1 in SYN-SENT: soft error ignored (RFC 1122 §4.2.3.9)") !=
          std::string::npos);
    // "SHOULD make it available to the application": the socket reports the last one.
    auto soft = s->info().icmp_soft_error;
    REQUIRE(soft.has_value());
    CHECK(int{soft->code} == int{code});
    CHECK(soft->from.to_string() == "192.0.2.1");
    peer.advance(seconds(1));  // the initial RTO: the SYN goes again
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].flags.to_string() == "S");
    // The SYN-ACK comes after all: the path works, and the old soft error explains nothing.
    peer.set_port(8000);
    peer.inject(Peer::make("S.", peer.isn, out[0].seq + 1, 65535), s->tuple().local_port);
    REQUIRE(s->state() == State::Established);
    CHECK_FALSE(s->info().icmp_soft_error.has_value());
  }
}

TEST_CASE("tcp: port unreachable for an established connection is soft; a quote not in flight is refused") {
  Established c;
  std::string data(100, 'x');
  REQUIRE(c.socket->send(bytes_of(data)) == data.size());
  auto segment = first_sent(c.peer);
  c.peer.take();
  // In flight, but the connection is synchronized: soft (a deviation, like Linux).
  c.peer.stack.receive(unreachable(c.peer, segment, 3), c.peer.now);
  CHECK(c.app.closed == 0);
  CHECK(c.socket->state() == State::Established);
  CHECK(c.peer.stack.drops().get(DropReason::IcmpSoftError) == 1);
  // Once acknowledged, the same quote is stale (RFC 5927 §4.1).
  c.peer_acks(c.our_nxt + 100);
  c.peer.stack.receive(unreachable(c.peer, segment, 3), c.peer.now);
  CHECK(c.peer.stack.drops().get(DropReason::IcmpSeqNotInFlight) == 1);
  CHECK(c.socket->state() == State::Established);
}

TEST_CASE("tcp: time exceeded and parameter problem reach the connection as soft errors (RFC 1122 §3.2.2)") {
  // "An incoming Time Exceeded message MUST be passed to the transport layer" (§3.2.2.4), the
  // same for Parameter Problem (§3.2.2.5); TCP tells the application (§4.2.3.9), aborts nothing.
  for (uint8_t type : {11, 12}) {
    CAPTURE(type);
    Established c;
    std::string data(100, 'x');
    REQUIRE(c.socket->send(bytes_of(data)) == data.size());
    auto segment = first_sent(c.peer);
    c.peer.take();
    c.peer.stack.receive(unreachable(c.peer, segment, 0, type), c.peer.now);
    CHECK(c.socket->state() == State::Established);
    CHECK(c.peer.stack.drops().get(DropReason::IcmpSoftError) == 1);
    CHECK(c.peer.stack.drops().get(DropReason::IcmpUnhandledType) == 0);
    auto soft = c.socket->info().icmp_soft_error;
    REQUIRE(soft.has_value());
    CHECK(soft->type == type);
    CHECK(tcp::icmp_error_name(soft->type, soft->code) ==
          (type == 11 ? "time exceeded (TTL)" : "parameter problem"));
  }
}

TEST_CASE("tcp: port unreachable quoting a SYN we did not send (wrong SEG.SEQ or 4-tuple) changes nothing") {
  Peer peer;
  RecordingHandler app;
  auto* s = peer.stack.tcp().connect(peer.ip, 8000, &app);
  REQUIRE(s != nullptr);
  auto syn = first_sent(peer);
  peer.take();
  auto forged = syn;
  forged[24] ^= std::byte{0x01};  // SEG.SEQ's top byte: not ISS any more
  peer.stack.receive(unreachable(peer, forged, 3), peer.now);
  CHECK(peer.stack.drops().get(DropReason::IcmpSeqNotInFlight) == 1);
  auto other_port = syn;
  other_port[22] ^= std::byte{0x01};  // destination port 8000 -> 8256
  peer.stack.receive(unreachable(peer, other_port, 3), peer.now);
  CHECK(peer.stack.drops().get(DropReason::IcmpNoConnection) == 1);
  CHECK(app.closed == 0);
  CHECK(s->state() == State::SynSent);
}
