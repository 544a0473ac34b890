// Reading the IP header and 8 transport bytes an ICMP error quotes (RFC 792, RFC 1122
// §3.2.2: "the Internet header and at least the first 8 data octets of the datagram").
#include "stack/wire/icmp_quote.hpp"

namespace tcplab::wire {

namespace {
constexpr size_t kQuotedTransportBytes = 8;
}

Parsed<IcmpQuote> parse_icmp_quote(ConstBytes body) {
  if (body.size() < kIpv4MinHeaderLength) return DropReason::IcmpBadQuote;
  uint8_t version_ihl = read_u8(body, 0);
  size_t header_length = static_cast<size_t>(version_ihl & 0x0f) * 4;
  if ((version_ihl >> 4) != 4 || header_length < kIpv4MinHeaderLength ||
      body.size() < header_length + kQuotedTransportBytes)
    return DropReason::IcmpBadQuote;
  IcmpQuote q;
  q.total_length = read_u16(body, 2);
  q.protocol = read_u8(body, 9);
  q.source = Ipv4Address{read_u32(body, 12)};
  q.destination = Ipv4Address{read_u32(body, 16)};
  ConstBytes transport = body.subspan(header_length, kQuotedTransportBytes);
  q.source_port = read_u16(transport, 0);
  q.destination_port = read_u16(transport, 2);
  q.tcp_seq = read_u32(transport, 4);
  return q;
}

}  // namespace tcplab::wire
