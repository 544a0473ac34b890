// Tests for the event loop with a virtio-net header on the link (--offload), over a
// SOCK_SEQPACKET socketpair standing in for the TUN: a partial checksum is finished before
// the stack sees the packet, a header that cannot be honoured is a counted refusal, and what
// the loop writes starts with a zero header, and a run of segments leaves as one GSO write.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "stack/loop/event_loop.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/checksum.hpp"
#include "stack/wire/virtio_net_header.hpp"
#include "tests/unit/gso_test_segments.hpp"
#include "tests/unit/link_pair.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;

namespace {

struct VnetLink : testing::LinkPair {
  void send(const wire::VirtioNetHeader& header, std::vector<std::byte> packet) const {
    std::vector<std::byte> frame(wire::kVirtioNetHeaderLength);
    wire::emit_virtio_net_header(header, frame);
    frame.insert(frame.end(), packet.begin(), packet.end());
    REQUIRE(write(test_side, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
  }
};

// A loop on a socketpair link whose frames carry a virtio-net header (as a TUN does with
// --offload), or none.
struct VnetLoop {
  VnetLink link;
  trace::Tracer tracer;
  Stack stack{StackConfig{}, tracer};
  SteadyClock clock;
  loop::EventLoop loop{link.stack_side, stack, tracer, clock};
  explicit VnetLoop(bool vnet_header = true) { loop.set_vnet_header(vnet_header); }
};

// The ping with its ICMP checksum left partial, as a sender with TUN_F_CSUM leaves it: ICMP
// has no pseudo-header, so the field holds zero.
std::vector<std::byte> partial_ping() {
  auto ping = wire::test::hex(wire::test::kPingRequest);
  wire::write_u16(ping, 22, 0);
  return ping;
}

// A SYN from 192.0.2.1:40000 to port 80 (MSS 1460), with a complete TCP checksum.
std::vector<std::byte> syn_to_port_80() {
  wire::TcpSegment seg;
  seg.source_port = 40000;
  seg.destination_port = 80;
  seg.seq = Seq(1000);
  seg.flags.syn = true;
  seg.window = 65535;
  seg.options.mss = 1460;
  std::vector<std::byte> tcp_bytes(60);
  tcp_bytes.resize(wire::emit_tcp(seg, wire::test::kPeer, wire::test::kUs, tcp_bytes));
  wire::Ipv4Header ip;
  ip.protocol = 6;
  ip.source = wire::test::kPeer;
  ip.destination = wire::test::kUs;
  std::vector<std::byte> syn(20 + tcp_bytes.size());
  wire::emit_ipv4_header(ip, tcp_bytes.size(), syn);
  std::copy(tcp_bytes.begin(), tcp_bytes.end(), syn.begin() + 20);
  return syn;
}

wire::VirtioNetHeader needs_checksum_at(uint16_t start, uint16_t offset) {
  wire::VirtioNetHeader h;
  h.flags = wire::kVirtioNeedsChecksum;
  h.checksum_start = start;
  h.checksum_offset = offset;
  return h;
}

}  // namespace

TEST_CASE("loop with vnet header: a partial checksum is finished and the ping answered") {
  VnetLoop t;
  auto& [link, tracer, stack, clock, loop] = t;
  link.send(needs_checksum_at(20, 2), partial_ping());
  for (int i = 0; i < 10 && loop.stats().packets_written < 1; ++i)
    loop.run_once(std::chrono::milliseconds(200));
  CHECK(loop.stats().checksums_completed == 1);
  CHECK(loop.stats().vnet_refused == 0);
  CHECK(loop.stats().link_writes == 1);
  CHECK(stack.ip_stats().echo_replies == 1);
  std::vector<std::byte> reply(2000);
  ssize_t n = read(link.test_side, reply.data(), reply.size());
  REQUIRE(n == static_cast<ssize_t>(wire::kVirtioNetHeaderLength + partial_ping().size()));
  auto header = wire::parse_virtio_net_header(reply);
  REQUIRE(header);
  CHECK(*header == wire::VirtioNetHeader{});  // the stack's own checksums are complete
  std::span<const std::byte> ip(reply.data() + wire::kVirtioNetHeaderLength, partial_ping().size());
  CHECK(wire::read_u8(ip, 20) == 0);  // echo reply
  CHECK(wire::internet_checksum(ip.subspan(20)) == 0);
}

TEST_CASE("loop with vnet header: a header the packet cannot honour is refused and counted") {
  VnetLoop t;
  auto& [link, tracer, stack, clock, loop] = t;
  const auto ping = partial_ping();
  link.send(needs_checksum_at(static_cast<uint16_t>(ping.size()), 2), ping);  // beyond the end
  const std::byte stub[4] = {};  // shorter than a virtio-net header
  REQUIRE(write(link.test_side, stub, sizeof stub) == 4);
  for (int i = 0; i < 10 && loop.stats().packets_read < 2; ++i) loop.run_once(std::chrono::milliseconds(50));
  CHECK(loop.stats().packets_read == 2);
  CHECK(loop.stats().vnet_refused == 2);
  CHECK(stack.ip_stats().packets_received == 0);
  CHECK(loop.stats().link_writes == 0);
}

TEST_CASE("loop with vnet header: a GSO type or size the TUN was not offered is refused and counted") {
  // As Linux's virtio_net_hdr_to_skb refuses them: tcplab offers TCPv4 segmentation only.
  VnetLoop t;
  auto& [link, tracer, stack, clock, loop] = t;
  const auto ping = wire::test::hex(wire::test::kPingRequest);
  wire::VirtioNetHeader unknown;
  unknown.gso_type = 0x7f;
  unknown.gso_size = 1000;
  wire::VirtioNetHeader no_size;
  no_size.gso_type = static_cast<uint8_t>(wire::VirtioGso::TcpV4);
  wire::VirtioNetHeader not_tcp = no_size;
  not_tcp.gso_size = 1448;
  for (const auto& header : {unknown, no_size, not_tcp}) link.send(header, ping);
  for (int i = 0; i < 10 && loop.stats().packets_read < 3; ++i) loop.run_once(std::chrono::milliseconds(50));
  CHECK(loop.stats().packets_read == 3);
  CHECK(loop.stats().vnet_refused == 3);
  CHECK(loop.stats().gso_reads == 0);
  CHECK(stack.ip_stats().echo_replies == 0);
}

TEST_CASE("loop with vnet header: a run of segments is one GSO write, the rest go alone") {
  VnetLoop t;
  auto& [link, tracer, stack, clock, loop] = t;
  struct OutCounter : trace::Sink {
    int out = 0;
    void packet(Instant, trace::Direction d, std::span<const std::byte>) override {
      out += d == trace::Direction::Out ? 1 : 0;
    }
  } counter;
  tracer.add(&counter);
  auto packets = wire::test::train(4, 300);  // 3 x 1448 + 300, PSH on the last
  packets.push_back(wire::test::segment({.seq = 1000 + 3 * 1448 + 300, .payload = 0}));  // a pure ACK
  for (const auto& p : packets) {
    auto& buffer = stack.outbox().start_packet();
    buffer.assign(p.begin(), p.end());
  }
  loop.run_once(std::chrono::milliseconds(0));
  CHECK(counter.out == 5);  // the tap saw every segment as the stack made it
  CHECK(loop.stats().link_writes == 2);
  CHECK(loop.stats().gso_writes == 1);
  CHECK(loop.stats().gso_segments == 4);
  CHECK(loop.stats().packets_written == 5);

  // First frame: virtio-net header, the first segment's headers (52 bytes), then every payload
  // in order: exactly what the iovecs laid out.
  std::vector<std::byte> frame(70000);
  ssize_t n = read(link.test_side, frame.data(), frame.size());
  REQUIRE(n == static_cast<ssize_t>(10 + 52 + 3 * 1448 + 300));
  frame.resize(static_cast<size_t>(n));
  auto header = wire::parse_virtio_net_header(frame);
  REQUIRE(header);
  CHECK(header->gso() == wire::VirtioGso::TcpV4);
  CHECK(header->gso_size == 1448);
  std::vector<std::byte> payloads;
  for (size_t i = 0; i < 4; ++i) payloads.insert(payloads.end(), packets[i].begin() + 52, packets[i].end());
  CHECK(std::equal(payloads.begin(), payloads.end(), frame.begin() + 62));
  // Second frame: the pure ACK, alone behind a zero header.
  n = read(link.test_side, frame.data(), 70000);
  REQUIRE(n == static_cast<ssize_t>(10 + packets[4].size()));
  CHECK(*wire::parse_virtio_net_header(frame) == wire::VirtioNetHeader{});
  CHECK(std::equal(packets[4].begin(), packets[4].end(), frame.begin() + 10));
}

TEST_CASE("loop without vnet header: the same segments are written one by one") {
  VnetLoop t(false);
  auto& [link, tracer, stack, clock, loop] = t;
  auto packets = wire::test::train(4, 300);
  for (const auto& p : packets) stack.outbox().start_packet().assign(p.begin(), p.end());
  loop.run_once(std::chrono::milliseconds(0));
  CHECK(loop.stats().link_writes == 4);
  CHECK(loop.stats().gso_writes == 0);
  std::vector<std::byte> frame(70000);
  for (const auto& p : packets) {
    ssize_t n = read(link.test_side, frame.data(), frame.size());
    REQUIRE(n == static_cast<ssize_t>(p.size()));
    CHECK(std::equal(p.begin(), p.end(), frame.begin()));
  }
}

TEST_CASE("loop with vnet header: only a partial checksum at the TCP checksum field is trusted") {
  // A SYN whose TCP checksum is wrong, behind a NEEDS_CSUM header that names another field
  // (the IPv4 header checksum): it must be finished and verified, never taken on trust.
  VnetLoop t;
  auto& [link, tracer, stack, clock, loop] = t;
  struct Quiet : tcp::AcceptHandler {
    void on_acceptable(uint16_t) override {}
  } acceptor;
  REQUIRE(stack.tcp().listen(80, &acceptor));
  auto syn = syn_to_port_80();
  wire::write_u16(syn, 36, 0xdead);  // a TCP checksum nobody finishes
  link.send(needs_checksum_at(0, 10), syn);
  for (int i = 0; i < 10 && loop.stats().packets_read < 1; ++i) loop.run_once(std::chrono::milliseconds(50));
  loop.run_once(std::chrono::milliseconds(50));
  CHECK(loop.stats().packets_read == 1);
  CHECK(loop.stats().checksums_trusted == 0);
  CHECK(loop.stats().packets_written == 0);  // no SYN-ACK: the segment was not taken
}

TEST_CASE("loop with vnet header: a partial TCP checksum is trusted, or finished for a capture") {
  // A SYN to port 80 with its checksum field holding only the pseudo-header sum, as a kernel
  // with TUN_F_CSUM sends it. Without a trace or capture TCP takes it on trust (no byte summed);
  // with one, the loop finishes the checksum so the capture shows a correct packet.
  for (bool capturing : {false, true}) {
    CAPTURE(capturing);
    VnetLoop t;
    auto& [link, tracer, stack, clock, loop] = t;
    struct Seen : trace::Sink {
      std::vector<std::byte> in, out;
      void packet(Instant, trace::Direction d, std::span<const std::byte> p) override {
        (d == trace::Direction::In ? in : out).assign(p.begin(), p.end());
      }
    } seen;
    if (capturing) tracer.add(&seen);
    struct Quiet : tcp::AcceptHandler {
      void on_acceptable(uint16_t) override {}
    } acceptor;
    REQUIRE(stack.tcp().listen(80, &acceptor));
    auto syn = syn_to_port_80();
    const uint16_t full = wire::read_u16(syn, 36);
    wire::ChecksumAccumulator pseudo;
    pseudo.add(wire::ConstBytes(syn).subspan(12, 8));
    pseudo.add_u16(6);
    pseudo.add_u16(static_cast<uint16_t>(syn.size() - 20));
    wire::write_u16(syn, 36, static_cast<uint16_t>(~pseudo.finish()));
    REQUIRE(wire::read_u16(syn, 36) != full);
    link.send(needs_checksum_at(20, 16), syn);
    for (int i = 0; i < 10 && loop.stats().packets_written < 1; ++i)
      loop.run_once(std::chrono::milliseconds(200));
    CHECK(loop.stats().packets_written == 1);  // the SYN-ACK: TCP took the SYN
    CHECK(stack.tcp().drops().get(DropReason::TcpBadChecksum) == 0);
    CHECK(loop.stats().checksums_trusted == (capturing ? 0u : 1u));
    CHECK(loop.stats().checksums_completed == (capturing ? 1u : 0u));
    if (capturing) {
      REQUIRE(seen.in.size() == syn.size());
      CHECK(wire::read_u16(seen.in, 36) == full);
    }
    // The SYN-ACK the other way: without a capture its checksum is left to the link (no byte
    // of it summed here), and finishing it as the kernel does gives a correct segment; with a
    // capture it is complete, behind a zero header, as the capture shows it.
    CHECK(loop.stats().checksums_left == (capturing ? 0u : 1u));
    std::vector<std::byte> frame(2000);
    const ssize_t n = read(link.test_side, frame.data(), frame.size());
    REQUIRE(n > static_cast<ssize_t>(wire::kVirtioNetHeaderLength + 40));
    frame.resize(static_cast<size_t>(n));
    auto header = wire::parse_virtio_net_header(frame);
    REQUIRE(header);
    wire::MutableBytes synack = wire::MutableBytes(frame).subspan(wire::kVirtioNetHeaderLength);
    if (capturing) {
      CHECK(*header == wire::VirtioNetHeader{});
      REQUIRE(seen.out.size() == synack.size());
      CHECK(std::equal(seen.out.begin(), seen.out.end(), synack.begin()));
    } else {
      CHECK(*header == needs_checksum_at(20, 16));
      CHECK(wire::test::naive_tcp_checksum(synack) != 0);
      REQUIRE(wire::complete_partial_checksum(*header, synack));
    }
    CHECK(wire::test::naive_tcp_checksum(synack) == 0);
  }
}
