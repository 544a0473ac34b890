// Tests for path MTU discovery (stack.cpp fragmentation_needed_arrives, TcpHost and
// connection_path_mtu.cpp): a hand-built ICMP "fragmentation needed" (type 3 code 4) quoting
// one of our segments goes through Stack::receive like any packet from the link.
#include <doctest/doctest.h>

#include "stack/wire/icmp.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

// An ICMP type 3 code 4 from a router, quoting the first 28 bytes of `ours` (IP + 8 TCP).
std::vector<std::byte> frag_needed(const Peer& peer, std::span<const std::byte> ours, uint16_t mtu,
                                   size_t quoted = 28) {
  std::vector<std::byte> packet(20 + 8 + quoted);
  wire::emit_icmp(3, 4, mtu, ours.first(quoted), wire::MutableBytes(packet).subspan(20));
  wire::Ipv4Header h;
  h.protocol = 1;
  h.source = wire::Ipv4Address{0xC6336401};  // 198.51.100.1, a router on the way
  h.destination = peer.stack.config().address;
  wire::emit_ipv4_header(h, 8 + quoted, wire::MutableBytes(packet));
  return packet;
}

// Sends `n` bytes and keeps a copy of the first packet the stack sent.
std::vector<std::byte> send_and_keep_first(Established& c, size_t n) {
  std::string data(n, 'x');
  REQUIRE(c.socket->send(bytes_of(data)) == n);
  REQUIRE(c.peer.stack.outbox().size() > 0);
  auto first = c.peer.stack.outbox().packet(0);
  return std::vector<std::byte>(first.begin(), first.end());
}

// The DF bit of every packet in the outbox, in order (read before Peer::take empties it).
std::vector<bool> df_bits(Peer& peer) {
  std::vector<bool> out;
  for (size_t i = 0; i < peer.stack.outbox().size(); ++i)
    out.push_back((static_cast<uint8_t>(peer.stack.outbox().packet(i)[6]) & 0x40) != 0);
  return out;
}

}  // namespace

TEST_CASE("tcp: fragmentation needed lowers the MSS and resends what is outstanding") {
  Established c;
  auto first = send_and_keep_first(c, 2920);
  auto out = c.peer.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].payload.size() == 1460);
  c.peer.stack.receive(frag_needed(c.peer, first, 1400), c.peer.now);
  out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 3);  // 1360 + 1360 + 200, from SND.UNA
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].payload.size() == 1360);
  CHECK(out[1].payload.size() == 1360);
  CHECK(out[2].payload.size() == 200);
  CHECK(c.peer.stack.tcp().stats().path_mtu_reductions == 1);
  CHECK(c.peer.stack.tcp().stats().retransmissions == 3);
  // New data after the ACK also goes in 1360-byte segments.
  c.peer_acks(c.our_nxt + 2920);
  c.our_nxt += 2920;
  c.peer.take();
  send_and_keep_first(c, 2720);
  out = c.peer.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].payload.size() == 1360);
  CHECK(out[1].payload.size() == 1360);
  // A report of a larger MTU changes nothing (RFC 1191 never raises from an ICMP).
  c.peer_acks(c.our_nxt + 2720);
  c.our_nxt += 2720;
  auto again = send_and_keep_first(c, 10);
  c.peer.take();
  c.peer.stack.receive(frag_needed(c.peer, again, 1500), c.peer.now);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.tcp().stats().path_mtu_reductions == 1);
}

TEST_CASE("tcp: fragmentation needed with MTU 0 uses the RFC 1191 plateaus; 576 is the floor") {
  SUBCASE("MTU field 0: the plateau below 1500 is 1492") {
    Established c;
    auto first = send_and_keep_first(c, 1460);
    c.peer.take();
    c.peer.stack.receive(frag_needed(c.peer, first, 0), c.peer.now);
    auto out = c.peer.take();
    REQUIRE(out.size() == 2);
    CHECK(out[0].payload.size() == 1452);
    CHECK(out[1].payload.size() == 8);
  }
  SUBCASE("MTU 300 is taken as 576, and the segments leave without DF") {
    Established c;
    auto first = send_and_keep_first(c, 1000);
    c.peer.take();
    c.peer.stack.receive(frag_needed(c.peer, first, 300), c.peer.now);
    CHECK(df_bits(c.peer) == std::vector<bool>{false, false});
    auto out = c.peer.take();
    REQUIRE(out.size() == 2);
    CHECK(out[0].payload.size() == 536);
    CHECK(out[1].payload.size() == 464);
  }
}

TEST_CASE("tcp: below 576 DF goes off for good; at 576 or above it stays on") {
  SUBCASE("MTU 1200 keeps DF on the resent segments") {
    Established c;
    auto first = send_and_keep_first(c, 1460);
    c.peer.take();
    c.peer.stack.receive(frag_needed(c.peer, first, 1200), c.peer.now);
    CHECK(df_bits(c.peer) == std::vector<bool>{true, true});  // 1160 + 300
  }
  SUBCASE("MTU 576 exactly keeps DF; a later report of 500 turns it off and resends at once") {
    Established c;
    auto first = send_and_keep_first(c, 1000);
    c.peer.take();
    c.peer.stack.receive(frag_needed(c.peer, first, 576), c.peer.now);
    CHECK(df_bits(c.peer) == std::vector<bool>{true, true});
    auto resent = c.peer.stack.outbox().packet(0);
    std::vector<std::byte> second(resent.begin(), resent.end());
    c.peer.take();
    // The 576-byte datagram did not fit a 500-byte hop either: same MSS, now without DF, so
    // the router fragments instead of dropping (RFC 1191 §3), and nothing waits for the RTO.
    c.peer.stack.receive(frag_needed(c.peer, second, 500), c.peer.now);
    CHECK(df_bits(c.peer) == std::vector<bool>{false, false});
    auto out = c.peer.take();
    REQUIRE(out.size() == 2);
    CHECK(out[0].seq == c.our_nxt);
    CHECK(out[0].payload.size() == 536);
    CHECK(c.peer.stack.tcp().stats().path_mtu_reductions == 1);  // DF off is not a reduction
    // New data and a later report of a larger MTU: DF stays off.
    c.peer_acks(c.our_nxt + 1000);
    c.our_nxt += 1000;
    c.peer.take();
    auto later = send_and_keep_first(c, 100);
    CHECK(df_bits(c.peer) == std::vector<bool>{false});
    c.peer.take();
    c.peer.stack.receive(frag_needed(c.peer, later, 1200), c.peer.now);
    CHECK(c.peer.take().empty());
  }
}

TEST_CASE("tcp: fragmentation needed that does not match a segment in flight is ignored and counted") {
  Established c;
  auto first = send_and_keep_first(c, 1000);
  c.peer.take();
  c.peer_acks(c.our_nxt + 1000);  // nothing in flight now: SEG.SEQ < SND.UNA
  c.peer.take();
  c.peer.stack.receive(frag_needed(c.peer, first, 1200), c.peer.now);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.drops().get(DropReason::IcmpSeqNotInFlight) == 1);
  // Another 4-tuple: no connection.
  auto other = first;
  other[20] = std::byte{0x12};  // source port of the quoted TCP header
  c.peer.stack.receive(frag_needed(c.peer, other, 1200), c.peer.now);
  CHECK(c.peer.stack.drops().get(DropReason::IcmpNoConnection) == 1);
  // A quote cut inside the TCP header, and one of a datagram we did not send.
  c.peer.stack.receive(frag_needed(c.peer, first, 1200, 24), c.peer.now);
  auto foreign = first;
  foreign[12] = std::byte{10};  // quoted source address 10.x: not ours (checksum not checked)
  c.peer.stack.receive(frag_needed(c.peer, foreign, 1200), c.peer.now);
  CHECK(c.peer.stack.drops().get(DropReason::IcmpBadQuote) == 2);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.tcp().stats().path_mtu_reductions == 0);
  // Later data still uses 1460 bytes.
  send_and_keep_first(c, 2920);
  auto out = c.peer.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].payload.size() == 1460);
}

TEST_CASE("path MTU: TCP segments carry DF, echo replies do not; an ICMP about an echo reply is refused") {
  Established c;
  auto segment = send_and_keep_first(c, 100);
  c.peer.take();
  CHECK((static_cast<uint8_t>(segment[6]) & 0x40) != 0);  // DF: TCP does path MTU discovery
  // A 1400-byte ping (ping -s 1400) from the peer, as a router would forward it to us.
  std::vector<std::byte> data(1400, std::byte{0x5a});
  std::vector<std::byte> ping(20 + 8 + data.size());
  wire::emit_icmp(8, 0, 0x00010001, data, wire::MutableBytes(ping).subspan(20));
  wire::Ipv4Header h;
  h.protocol = 1;
  h.source = c.peer.ip;
  h.destination = c.peer.stack.config().address;
  wire::emit_ipv4_header(h, 8 + data.size(), wire::MutableBytes(ping));
  c.peer.stack.receive(ping, c.peer.now);
  REQUIRE(c.peer.stack.outbox().size() == 1);
  auto packet = c.peer.stack.outbox().packet(0);
  std::vector<std::byte> reply(packet.begin(), packet.end());
  c.peer.stack.outbox().clear();
  REQUIRE(reply.size() == ping.size());
  CHECK(static_cast<uint8_t>(reply[9]) == 1);  // ICMP
  // No DF: a hop smaller than 1428 bytes fragments the reply instead of dropping it (RFC 1191
  // §3 allows a host to stop setting DF; the reply cannot be resent in a smaller size).
  CHECK((static_cast<uint8_t>(reply[6]) & 0x40) == 0);
  // Had a router still answered "fragmentation needed" about it, the quote names no TCP
  // segment: refused as a bad quote; no connection changes.
  c.peer.stack.receive(frag_needed(c.peer, reply, 1200), c.peer.now);
  CHECK(c.peer.stack.drops().get(DropReason::IcmpBadQuote) == 1);
  CHECK(c.peer.stack.tcp().stats().path_mtu_reductions == 0);
  CHECK(c.peer.take().empty());
}
