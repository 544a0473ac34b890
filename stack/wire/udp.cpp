// UDP header checks (see udp.hpp).
#include "stack/wire/udp.hpp"

#include "stack/wire/pseudo_header.hpp"

namespace tcplab::wire {
namespace {
constexpr size_t kUdpHeaderLength = 8;
constexpr size_t kSourcePort = 0, kDestinationPort = 2, kLength = 4, kChecksum = 6;
}  // namespace

Parsed<UdpHeader> parse_udp(ConstBytes bytes, Ipv4Address source, Ipv4Address destination) {
  if (bytes.size() < kUdpHeaderLength)
    return {DropReason::UdpTruncated, "shorter than the 8-byte UDP header"};
  UdpHeader h;
  h.source_port = read_u16(bytes, kSourcePort);
  h.destination_port = read_u16(bytes, kDestinationPort);
  h.length = read_u16(bytes, kLength);
  h.checksum = read_u16(bytes, kChecksum);
  // RFC 768: "Length is the length in octets of this user datagram including this header
  // and the data", so never below 8; bytes past it (IP padding) are not the datagram's.
  if (h.length < kUdpHeaderLength)
    return {DropReason::UdpBadLength, "UDP length below its own 8-byte header"};
  if (h.length > bytes.size()) return {DropReason::UdpTruncated, "shorter than its UDP length field says"};
  // RFC 768: a checksum of zero means the sender computed none. RFC 1122 §4.1.3.4: "If a UDP
  // datagram is received with a checksum that is non-zero and invalid, UDP MUST silently
  // discard the datagram" (silently: no port unreachable either).
  if (h.checksum != 0) {
    ChecksumAccumulator acc;
    add_pseudo_header(acc, source, destination, IpProtocol::Udp, h.length);
    acc.add(bytes.first(h.length));
    if (acc.finish() != 0)
      return {DropReason::UdpBadChecksum, "discarded without port unreachable (RFC 1122 §4.1.3.4)"};
  }
  return h;
}

}  // namespace tcplab::wire
