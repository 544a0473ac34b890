// Tests for stack/wire/virtio_net_header and stack/wire/tcp_gso: the virtio-net header's
// little-endian layout, finishing a partial checksum, which segments merge into one GSO
// super-packet and the header bytes that describe it.
#include <doctest/doctest.h>

#include <vector>

#include "stack/wire/checksum.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/tcp_gso.hpp"
#include "stack/wire/virtio_net_header.hpp"
#include "tests/unit/gso_test_segments.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab::wire;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_tcp_checksum;
using tcplab::Seq;
using namespace tcplab::wire::test;

namespace {

std::vector<ConstBytes> spans(const std::vector<std::vector<std::byte>>& packets) {
  return {packets.begin(), packets.end()};
}

}  // namespace

TEST_CASE("virtio-net header: fields are little-endian, round trip") {
  auto bytes = hex("01 01 4200 a805 2200 1000");
  auto h = parse_virtio_net_header(bytes);
  REQUIRE(h);
  CHECK(h->needs_checksum());
  CHECK(h->gso() == VirtioGso::TcpV4);
  CHECK(h->header_length == 0x42);
  CHECK(h->gso_size == 1448);  // 0x05a8
  CHECK(h->checksum_start == 0x22);
  CHECK(h->checksum_offset == 16);
  std::vector<std::byte> out(kVirtioNetHeaderLength);
  CHECK(emit_virtio_net_header(*h, out) == 10);
  CHECK(out == bytes);
}

TEST_CASE("virtio-net header: too short is refused, the ECN bit is not the GSO type") {
  CHECK_FALSE(parse_virtio_net_header(hex("0000000000000000 00")));
  auto h = parse_virtio_net_header(hex("02 81 0000 0000 0000 0000"));
  REQUIRE(h);
  CHECK_FALSE(h->needs_checksum());
  CHECK(h->gso() == VirtioGso::TcpV4);
}

TEST_CASE("virtio-net header: completing a partial checksum gives the full one") {
  SegmentSpec s;
  s.payload = 999;  // odd, to cover the padding byte
  auto packet = segment(s);
  const uint16_t correct = read_u16(packet, 36);
  // What a sender with TUN_F_CSUM puts there: the folded pseudo-header sum.
  ChecksumAccumulator pseudo;
  pseudo.add(ConstBytes(packet).subspan(12, 8));
  pseudo.add_u16(6);
  pseudo.add_u16(static_cast<uint16_t>(packet.size() - 20));
  write_u16(packet, 36, static_cast<uint16_t>(~pseudo.finish()));
  CHECK(read_u16(packet, 36) != correct);
  VirtioNetHeader h;
  h.flags = kVirtioNeedsChecksum;
  h.checksum_start = 20;
  h.checksum_offset = 16;
  REQUIRE(complete_partial_checksum(h, packet));
  CHECK(read_u16(packet, 36) == correct);
  CHECK(naive_tcp_checksum(packet) == 0);
}

TEST_CASE("virtio-net header: offsets outside the packet are refused and change nothing") {
  auto packet = segment(SegmentSpec{});
  const auto before = packet;
  VirtioNetHeader h;
  h.flags = kVirtioNeedsChecksum;
  h.checksum_start = static_cast<uint16_t>(packet.size() - 1);
  h.checksum_offset = 16;
  CHECK_FALSE(complete_partial_checksum(h, packet));
  h.checksum_start = static_cast<uint16_t>(packet.size());
  h.checksum_offset = 0;
  CHECK_FALSE(complete_partial_checksum(h, packet));
  CHECK(packet == before);
}

TEST_CASE("tcp gso: a train of MSS segments with a short PSH last merges whole") {
  auto packets = train(5, 100);
  auto run = plan_tcp_gso(spans(packets));
  CHECK(run.count == 5);
  CHECK(run.header_length == 20 + 32);
  CHECK(run.segment_size == 1448);
  CHECK(run.payload_length == 4 * 1448 + 100);
}

TEST_CASE("tcp gso: the super-packet's header bytes") {
  auto packets = train(3, 500);
  auto in = spans(packets);
  auto run = plan_tcp_gso(in);
  REQUIRE(run.count == 3);
  std::vector<std::byte> out(10 + run.header_length);
  REQUIRE(emit_tcp_gso_headers(in, run, out) == out.size());
  auto vnet = parse_virtio_net_header(out);
  REQUIRE(vnet);
  CHECK(vnet->flags == kVirtioNeedsChecksum);
  CHECK(vnet->gso() == VirtioGso::TcpV4);
  CHECK(vnet->header_length == 52);
  CHECK(vnet->gso_size == 1448);
  CHECK(vnet->checksum_start == 20);
  CHECK(vnet->checksum_offset == 16);

  // The headers then the payloads, as writev() would lay them out, make one valid datagram
  // once the partial checksum is finished the way the kernel does it.
  std::vector<std::byte> whole(out.begin() + 10, out.end());
  for (const auto& p : packets) whole.insert(whole.end(), p.begin() + 52, p.end());
  CHECK(whole.size() == 52 + 2 * 1448 + 500);
  CHECK(read_u16(whole, 2) == whole.size());
  CHECK(internet_checksum(ConstBytes(whole).first(20)) == 0);
  CHECK(read_u16(whole, 4) == 1);                 // the first segment's IP id
  CHECK(read_u32(whole, 24) == 1000);             // the first segment's seq
  CHECK((read_u8(whole, 33) & 0x08) != 0);        // PSH from the last
  REQUIRE(complete_partial_checksum(*vnet, whole));
  CHECK(naive_tcp_checksum(whole) == 0);
  auto ip = parse_ipv4(whole);
  REQUIRE(ip);
  auto tcp = parse_tcp(ip->payload, kUs, kPeer);
  REQUIRE(tcp);
  CHECK(tcp->payload.size() == 2 * 1448 + 500);
}

TEST_CASE("tcp gso: PSH on the first keeps it alone, PSH in the middle ends the run there") {
  auto packets = train(4);
  packets[0] = segment(SegmentSpec{.seq = 1000, .push = true});
  CHECK(plan_tcp_gso(spans(packets)).count == 1);
  packets = train(4);
  packets[1] = segment(SegmentSpec{.seq = 1000 + 1448, .push = true, .id = 2});
  CHECK(plan_tcp_gso(spans(packets)).count == 2);
}

TEST_CASE("tcp gso: what does not merge") {
  auto base = train(3);
  auto with_second = [&](const SegmentSpec& s) {
    auto p = base;
    p[1] = segment(s);
    return plan_tcp_gso(spans(p)).count;
  };
  SegmentSpec next{.seq = 1000 + 1448, .id = 2};
  CHECK(with_second(next) == 3);  // the control: as built
  SegmentSpec gap = next;
  gap.seq += 1;
  CHECK(with_second(gap) == 1);
  SegmentSpec window = next;
  window.window = 501;
  CHECK(with_second(window) == 1);
  SegmentSpec ack = next;
  ack.ack = 5001;
  CHECK(with_second(ack) == 1);
  SegmentSpec timestamp = next;
  timestamp.ts_value = 78;
  CHECK(with_second(timestamp) == 1);
  SegmentSpec fin = next;
  fin.fin = true;
  CHECK(with_second(fin) == 1);
  SegmentSpec longer = next;
  longer.payload = 1449;
  CHECK(with_second(longer) == 1);
  // A short segment may only be the last.
  SegmentSpec shorter = next;
  shorter.payload = 1000;
  CHECK(with_second(shorter) == 2);
}

TEST_CASE("tcp gso: no payload, a fragment, not TCP, a bad length: written alone") {
  auto packets = train(2);
  auto pure_ack = segment(SegmentSpec{.payload = 0});
  std::vector<ConstBytes> in{pure_ack, packets[1]};
  CHECK(plan_tcp_gso(in).count == 1);
  auto fragment = packets[0];
  write_u16(fragment, 6, 0x2000);  // MF
  in = {fragment, packets[1]};
  CHECK(plan_tcp_gso(in).count == 1);
  auto udp = packets[0];
  write_u8(udp, 9, 17);
  in = {udp, packets[1]};
  CHECK(plan_tcp_gso(in).count == 1);
  auto truncated = packets[0];
  truncated.pop_back();
  in = {truncated, packets[1]};
  CHECK(plan_tcp_gso(in).count == 1);
  CHECK(plan_tcp_gso({}).count == 1);
}

TEST_CASE("tcp gso: a super-packet never exceeds the IPv4 limit or the cap") {
  auto packets = train(60);  // 60 * 1448 bytes of payload: more than 64 KiB
  auto run = plan_tcp_gso(spans(packets));
  CHECK(run.count == 45);  // 52 + 45 * 1448 = 65212 <= 65535 < 52 + 46 * 1448
  CHECK(run.header_length + run.payload_length <= kGsoMaxPacketLength);
  CHECK(plan_tcp_gso(spans(packets), 52 + 3 * 1448).count == 3);
  auto all = spans(packets);
  std::vector<ConstBytes> rest(all.begin() + 45, all.end());
  auto tail = plan_tcp_gso(rest);
  CHECK(tail.count == 15);
}

TEST_CASE("tcp gso: a run never needs more iovecs than writev() takes") {
  // A peer may announce an MSS as small as 64 bytes: 64 KiB of them would be over a thousand
  // segments, one iovec each. The run stops at kMaxGsoSegments whatever the byte limit.
  std::vector<std::vector<std::byte>> packets;
  uint32_t seq = 1000;
  for (size_t i = 0; i < 1100; ++i) {
    SegmentSpec s;
    s.seq = seq;
    s.id = static_cast<uint16_t>(i + 1);
    s.payload = 8;
    packets.push_back(segment(s));
    seq += 8;
  }
  auto run = plan_tcp_gso(spans(packets), size_t{1} << 20);
  CHECK(run.count == kMaxGsoSegments);
  CHECK(run.payload_length == kMaxGsoSegments * 8);
}

TEST_CASE("emit_tcp leaving the checksum to the link: finishing it gives the complete one") {
  // What --offload writes: the field holds the folded pseudo-header sum, NEEDS_CSUM from the
  // TCP header. The kernel (or complete_partial_checksum) must arrive at exactly the checksum
  // emit_tcp computes itself, at odd and even lengths.
  for (size_t payload_length : {size_t{0}, size_t{1}, size_t{999}, size_t{1448}}) {
    CAPTURE(payload_length);
    SegmentSpec spec{.payload = payload_length};
    const auto complete = segment(spec);
    spec.checksum = TcpChecksumFill::LeftToLink;
    auto partial = segment(spec);
    REQUIRE(partial.size() == complete.size());
    CHECK(read_u16(partial, 36) != read_u16(complete, 36));
    // Everything but the TCP checksum field is the same.
    CHECK(std::equal(partial.begin(), partial.begin() + 36, complete.begin()));
    CHECK(std::equal(partial.begin() + 38, partial.end(), complete.begin() + 38));
    auto header = partial_tcp_checksum_header(partial);
    REQUIRE(header);
    CHECK(header->needs_checksum());
    CHECK(header->gso() == VirtioGso::None);
    CHECK(header->checksum_start == 20);
    CHECK(header->checksum_offset == 16);
    REQUIRE(complete_partial_checksum(*header, partial));
    CHECK(partial == complete);
    CHECK(naive_tcp_checksum(partial) == 0);
  }
}

TEST_CASE("a partial-checksum header only for whole IPv4/TCP packets") {
  auto tcp = segment(SegmentSpec{.payload = 0});
  CHECK(partial_tcp_checksum_header(tcp));
  auto udp = tcp;
  write_u8(udp, 9, 17);
  CHECK_FALSE(partial_tcp_checksum_header(udp));
  auto fragment = tcp;
  write_u16(fragment, 6, 0x2000);  // MF
  CHECK_FALSE(partial_tcp_checksum_header(fragment));
  CHECK_FALSE(partial_tcp_checksum_header(ConstBytes(tcp).first(39)));
}
