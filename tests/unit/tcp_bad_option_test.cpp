// Tests for a segment whose TCP options are malformed (wire::parse_tcp, TcpHost::packet_arrives):
// it is dropped and counted as tcp-bad-option, and the trace says which rule it broke, so a
// student who crafted it can see why nothing answered.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/wire/checksum.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

struct Drops : trace::Sink {
  std::vector<std::string> lines;
  void drop(Instant, DropReason r, std::span<const std::byte>, std::string_view detail) override {
    lines.push_back(std::string(to_string(r)) + ": " + std::string(detail));
  }
};

// Rewrites the TCP checksum of an IPv4 packet (20-byte header) after its bytes were changed.
void refresh_tcp_checksum(std::vector<std::byte>& packet, wire::Ipv4Address from, wire::Ipv4Address to) {
  constexpr size_t kChecksumAt = 20 + 16;
  packet[kChecksumAt] = packet[kChecksumAt + 1] = std::byte{0};
  wire::ChecksumAccumulator acc;
  acc.add_u32(from.value);
  acc.add_u32(to.value);
  acc.add_u16(6);
  acc.add_u16(static_cast<uint16_t>(packet.size() - 20));
  acc.add(wire::ConstBytes(packet).subspan(20));
  uint16_t sum = acc.finish();
  packet[kChecksumAt] = static_cast<std::byte>(sum >> 8);
  packet[kChecksumAt + 1] = static_cast<std::byte>(sum & 0xff);
}

}  // namespace

TEST_CASE("tcp: a SACK option whose length is not 2 + 8n drops the segment, and the trace says so") {
  Established c;
  Drops drops;
  c.peer.tracer.add(&drops);
  // One data segment carrying a one-block SACK option, emitted well-formed (nop, nop, kind 5,
  // length 10), then its length byte set to 9: the block no longer fits RFC 2018 §3's 8n + 2.
  const std::string hello = "hello";  // the segment's payload points into it
  auto seg = Peer::make("P.", c.peer_nxt, c.our_nxt, 65535, bytes_of(hello));
  seg.options.sack[0] = wire::SackBlock{c.our_nxt, c.our_nxt};
  seg.options.sack_blocks = 1;
  std::vector<std::byte> packet;
  c.peer.build_packet(seg, c.port, packet);
  constexpr size_t kSackLengthAt = 20 + 20 + 3;  // IPv4 header, TCP header, nop, nop, kind
  REQUIRE(static_cast<uint8_t>(packet[kSackLengthAt - 1]) == 5);
  REQUIRE(static_cast<uint8_t>(packet[kSackLengthAt]) == 10);
  packet[kSackLengthAt] = std::byte{9};
  refresh_tcp_checksum(packet, c.peer.ip, c.peer.stack.config().address);

  c.peer.stack.receive(packet, c.peer.now);
  CHECK(c.peer.stack.drops().get(DropReason::TcpBadOption) == 1);
  CHECK(drops.lines == std::vector<std::string>{"tcp-bad-option: SACK option length is not 2 + 8n"});
  CHECK(c.peer.take().empty());  // not acknowledged: the segment never reached the connection
  CHECK(c.app.received.empty());

  // The same segment, well-formed, is taken.
  c.peer_sends("P.", "hello");
  CHECK(c.app.received == "hello");
}
