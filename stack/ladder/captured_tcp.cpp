// Reading TCP segments out of captured IPv4 packets for the ladder (see captured_tcp.hpp).
#include "stack/ladder/captured_tcp.hpp"

#include <chrono>

#include "stack/time.hpp"

namespace tcplab::ladder {

namespace {

bool is_tcp(const wire::Ipv4Header& h) { return h.protocol == static_cast<uint8_t>(wire::IpProtocol::Tcp); }

// The version nibble says IPv4, but the captured bytes end inside the header.
bool ipv4_header_cut(wire::ConstBytes bytes) {
  if (bytes.empty() || (static_cast<uint8_t>(bytes[0]) >> 4) != 4) return false;
  size_t header_length = size_t{static_cast<uint8_t>(bytes[0]) & 0x0fu} * 4;
  return bytes.size() < wire::kIpv4MinHeaderLength || bytes.size() < header_length;
}

}  // namespace

std::optional<CapturedTcp> CapturedTcpReader::segment(const wire::Ipv4Packet& packet, size_t fragments) {
  // Checksums are not verified: captures of locally sent packets often hold partial
  // checksums that the NIC (or nobody, on a TUN with offloads) fills in later, and a cut
  // segment cannot be summed at all.
  auto tcp = wire::parse_tcp(packet.payload, packet.header.source, packet.header.destination,
                             /*verify_checksum=*/false);
  if (!tcp) return std::nullopt;
  CapturedTcp c;
  c.ip = packet.header;
  c.tcp = *tcp;
  const size_t tcp_header_length = packet.payload.size() - tcp->payload.size();
  c.payload_length =
      static_cast<uint32_t>(packet.header.total_length - packet.header.header_length - tcp_header_length);
  c.captured_payload = static_cast<uint32_t>(tcp->payload.size());
  c.fragments = fragments;
  return c;
}

std::optional<CapturedTcp> CapturedTcpReader::add(wire::ConstBytes ipv4, int64_t time_ns, bool cut) {
  // A whole packet is read as strictly as the stack reads it; only one the capture says it cut
  // may claim more bytes than it holds.
  auto packet = cut ? wire::parse_captured_ipv4(ipv4) : wire::parse_ipv4(ipv4);
  if (!packet) {
    ++(cut && ipv4_header_cut(ipv4) ? skipped_.header_cut : skipped_.not_tcp);
    return std::nullopt;
  }
  if (!is_tcp(packet->header)) {
    ++skipped_.not_tcp;
    return std::nullopt;
  }
  std::optional<CapturedTcp> out;
  if (packet->header.is_fragment()) {
    fragment(*packet, time_ns, out);
    return out;
  }
  out = segment(*packet, 0);
  // RFC 9293 §3.1: the TCP header is at least 20 bytes and the data offset says how long;
  // when the capture ends inside it, there is nothing reliable to draw.
  if (!out) ++(cut ? skipped_.header_cut : skipped_.not_tcp);
  return out;
}

void CapturedTcpReader::fragment(const wire::Ipv4Packet& packet, int64_t time_ns,
                                 std::optional<CapturedTcp>& out) {
  const Instant now = Instant{} + std::chrono::nanoseconds(time_ns);
  // A capture's clock is the reassembly clock: a datagram whose fragments are further apart
  // than the stack's timeout is given up, as a host would, which also bounds what is held.
  count_expired(reassembler_.expire(now));
  // A fragment the snap length cut cannot fill its part of the datagram, so the datagram can
  // never be whole: counted under a reason of its own, not as a fragment that went missing.
  if (packet.payload.size() + packet.header.header_length < packet.header.total_length) {
    ++skipped_.fragments_cut;
    return;
  }
  // The reassembler counts what it holds: fragments dropped with a refused one, fragments
  // that made a whole datagram, fragments given up when their datagram expires.
  auto outcome = reassembler_.add(packet, now);
  using Kind = ip::Reassembler::Outcome::Kind;
  if (outcome.kind == Kind::Held) return;
  if (outcome.kind == Kind::Refused) {
    skipped_.fragments += outcome.fragments_dropped;
    return;
  }
  auto whole = wire::parse_ipv4(outcome.datagram);
  if (whole) out = segment(*whole, outcome.fragments);
  if (!out) skipped_.not_tcp += outcome.fragments;
}

void CapturedTcpReader::finish() { count_expired(reassembler_.expire(Instant::max())); }

void CapturedTcpReader::count_expired(const std::vector<ip::Reassembler::Expired>& expired) {
  for (const auto& e : expired) skipped_.fragments += e.fragments;
}

}  // namespace tcplab::ladder
