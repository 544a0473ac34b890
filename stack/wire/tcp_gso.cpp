// Which segments merge into one GSO super-packet, and the headers that describe it.
#include "stack/wire/tcp_gso.hpp"

#include <algorithm>
#include <optional>

#include "stack/wire/checksum.hpp"
#include "stack/wire/virtio_net_header.hpp"

namespace tcplab::wire {
namespace {

constexpr uint8_t kTcpFlagAck = 0x10;
constexpr uint8_t kTcpFlagPsh = 0x08;
constexpr uint8_t kProtocolTcp = 6;
constexpr size_t kTcpChecksumOffset = 16;  // RFC 9293 §3.1: checksum field within the TCP header

// What merging needs to know of one packet, if it is a plain IPv4/TCP data segment.
struct Shape {
  size_t ip_header = 0;
  size_t header = 0;  // IP + TCP
  size_t payload = 0;
  uint32_t seq = 0;
  bool push = false;
};

// The IPv4 header length of a whole (unfragmented) IPv4 datagram carrying TCP with room for a
// TCP header, or nothing for any other packet.
std::optional<size_t> tcp_in_ipv4(ConstBytes p) {
  if (p.size() < 40 || (read_u8(p, 0) >> 4) != 4) return std::nullopt;
  const size_t ip_header = size_t{read_u8(p, 0) & 0x0fu} * 4;
  // RFC 791 §3.1: a fragment (MF set or an offset) is not a whole segment: its TCP header and
  // checksum field may be in another fragment, or in none of its bytes.
  if (ip_header < 20 || read_u16(p, 2) != p.size() || (read_u16(p, 6) & 0x3fff) != 0) return std::nullopt;
  if (read_u8(p, 9) != kProtocolTcp || ip_header + 20 > p.size()) return std::nullopt;
  return ip_header;
}

std::optional<Shape> shape_of(ConstBytes p) {
  const auto ip_header = tcp_in_ipv4(p);
  if (!ip_header) return std::nullopt;
  Shape s;
  s.ip_header = *ip_header;
  const size_t tcp_header = static_cast<size_t>(read_u8(p, s.ip_header + 12) >> 4) * 4;
  s.header = s.ip_header + tcp_header;
  if (tcp_header < 20 || s.header >= p.size()) return std::nullopt;  // no payload: nothing to merge
  // RFC 9293 §3.1 flags: ACK alone, or ACK+PSH; SYN, FIN, RST, URG, ECE and CWR never merge.
  const uint8_t flags = read_u8(p, s.ip_header + 13);
  if ((flags & ~kTcpFlagPsh) != kTcpFlagAck) return std::nullopt;
  s.push = (flags & kTcpFlagPsh) != 0;
  s.payload = p.size() - s.header;
  s.seq = read_u32(p, s.ip_header + 4);
  return s;
}

bool same_bytes(ConstBytes a, ConstBytes b, size_t from, size_t to) {
  auto at = [](ConstBytes bytes, size_t i) { return bytes.begin() + static_cast<std::ptrdiff_t>(i); };
  return std::equal(at(a, from), at(a, to), at(b, from));
}

// Header bytes equal apart from the fields segmentation sets per segment.
bool same_headers(ConstBytes a, ConstBytes b, const Shape& s) {
  const size_t t = s.ip_header;
  return same_bytes(a, b, 0, 2) &&              // version, IHL, TOS (total length differs)
         same_bytes(a, b, 6, 10) &&             // flags, fragment offset, TTL, protocol (id differs)
         same_bytes(a, b, 12, t + 4) &&         // addresses, IP options, ports (checksum differs)
         same_bytes(a, b, t + 8, t + 13) &&     // ack, data offset (seq differs)
         (read_u8(a, t + 13) & ~kTcpFlagPsh) == (read_u8(b, t + 13) & ~kTcpFlagPsh) &&
         same_bytes(a, b, t + 14, t + 16) &&    // window
         same_bytes(a, b, t + 18, s.header);    // urgent pointer, options (checksum differs)
}

}  // namespace

GsoRun plan_tcp_gso(std::span<const ConstBytes> packets, size_t max_length) {
  GsoRun run;
  if (packets.empty()) return run;
  auto first = shape_of(packets[0]);
  if (!first) return run;
  run.header_length = first->header;
  run.segment_size = static_cast<uint16_t>(first->payload);
  run.payload_length = first->payload;
  Shape previous = *first;
  for (size_t i = 1; i < packets.size(); ++i) {
    // Only the last segment may be short or carry PSH: the one before must be neither.
    if (previous.push || previous.payload != run.segment_size) break;
    auto next = shape_of(packets[i]);
    if (!next || next->header != first->header || next->ip_header != first->ip_header) break;
    if (next->payload > run.segment_size || next->seq != previous.seq + previous.payload) break;
    if (run.header_length + run.payload_length + next->payload > max_length) break;
    // One iovec per payload plus the headers' must stay within writev()'s IOV_MAX (1024):
    // a peer's tiny MSS (down to 64 bytes) would otherwise fit more in 64 KiB.
    if (run.count + 1 > kMaxGsoSegments) break;
    if (!same_headers(packets[0], packets[i], *first)) break;
    run.payload_length += next->payload;
    ++run.count;
    previous = *next;
  }
  return run;
}

size_t emit_tcp_gso_headers(std::span<const ConstBytes> packets, const GsoRun& run, MutableBytes out) {
  const ConstBytes first = packets[0];
  const size_t ip_header = size_t{read_u8(first, 0) & 0x0fu} * 4;
  VirtioNetHeader vnet;
  vnet.flags = kVirtioNeedsChecksum;
  vnet.gso_type = static_cast<uint8_t>(VirtioGso::TcpV4);
  vnet.header_length = static_cast<uint16_t>(run.header_length);
  vnet.gso_size = run.segment_size;
  vnet.checksum_start = static_cast<uint16_t>(ip_header);
  vnet.checksum_offset = kTcpChecksumOffset;
  emit_virtio_net_header(vnet, out);

  MutableBytes h = out.subspan(kVirtioNetHeaderLength, run.header_length);
  std::copy_n(first.begin(), run.header_length, h.begin());
  const size_t total = run.header_length + run.payload_length;
  write_u16(h, 2, static_cast<uint16_t>(total));
  write_u16(h, 10, 0);
  write_u16(h, 10, internet_checksum(ConstBytes(h).first(ip_header)));
  const ConstBytes last = packets[run.count - 1];
  write_u8(h, ip_header + 13,
           static_cast<uint8_t>(read_u8(h, ip_header + 13) | (read_u8(last, ip_header + 13) & kTcpFlagPsh)));
  // RFC 9293 §3.1 pseudo-header: source, destination, zero, protocol, TCP length. Stored as
  // the folded sum itself, which is ~finish(): virtio NEEDS_CSUM semantics.
  ChecksumAccumulator pseudo;
  pseudo.add(ConstBytes(h).subspan(12, 8));
  pseudo.add_u16(kProtocolTcp);
  pseudo.add_u16(static_cast<uint16_t>(total - ip_header));
  write_u16(h, ip_header + kTcpChecksumOffset, static_cast<uint16_t>(~pseudo.finish()));
  return kVirtioNetHeaderLength + run.header_length;
}

std::optional<VirtioNetHeader> partial_tcp_checksum_header(ConstBytes packet) {
  const auto ip_header = tcp_in_ipv4(packet);
  if (!ip_header) return std::nullopt;
  VirtioNetHeader vnet;
  vnet.flags = kVirtioNeedsChecksum;
  vnet.checksum_start = static_cast<uint16_t>(*ip_header);
  vnet.checksum_offset = kTcpChecksumOffset;
  return vnet;
}

std::optional<std::string_view> inbound_header_fault(const VirtioNetHeader& header, ConstBytes packet) {
  switch (header.gso()) {
    case VirtioGso::None:
      break;
    case VirtioGso::TcpV4:
      if (header.gso_size == 0) return "a GSO packet with no segment size";
      if (!tcp_in_ipv4(packet)) return "TCPv4 segmentation on a packet that is not one IPv4/TCP datagram";
      break;
    default:
      return "a GSO type tcplab does not offer the TUN";
  }
  if (header.needs_checksum() && !partial_checksum_in_bounds(header, packet.size()))
    return "partial checksum offsets outside the packet";
  return std::nullopt;
}

bool partial_tcp_checksum(const VirtioNetHeader& header, ConstBytes packet) {
  const auto expected = partial_tcp_checksum_header(packet);
  return header.needs_checksum() && expected && header.checksum_start == expected->checksum_start &&
         header.checksum_offset == expected->checksum_offset;
}

}  // namespace tcplab::wire
