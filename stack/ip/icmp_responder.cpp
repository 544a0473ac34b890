// Builders for the ICMP messages the stack sends (RFC 792, RFC 1122 §3.2.2).
#include "stack/ip/icmp_responder.hpp"

#include <algorithm>

namespace tcplab::ip {

wire::ConstBytes icmp_error_quote(wire::ConstBytes packet, const wire::Ipv4Packet& parsed) {
  size_t data = std::min(kIcmpQuotedDataBytes, parsed.payload.size());
  // The header and the payload are contiguous in the received bytes, so the quote is the
  // front of the packet exactly as it arrived (its checksum and TTL untouched).
  return packet.first(parsed.header_bytes.size() + data);
}

size_t build_echo_reply(const wire::IcmpMessage& request, wire::MutableBytes out) {
  // RFC 792 echo: "the data received in the echo message must be returned in the echo reply",
  // and identifier + sequence number (the `rest` word) travel back unchanged.
  return wire::emit_icmp(static_cast<uint8_t>(wire::IcmpType::EchoReply), 0, request.rest, request.body, out);
}

size_t build_unreachable(wire::UnreachableCode code, wire::ConstBytes quote, wire::MutableBytes out) {
  // RFC 792 destination unreachable: the second word is "unused" and must be zero.
  return wire::emit_icmp(static_cast<uint8_t>(wire::IcmpType::DestinationUnreachable),
                         static_cast<uint8_t>(code), 0, quote, out);
}

size_t build_reassembly_time_exceeded(wire::ConstBytes quote, wire::MutableBytes out) {
  // RFC 792 time exceeded: like destination unreachable, an unused zero word, then the quote.
  return wire::emit_icmp(kIcmpTimeExceeded, kIcmpFragmentReassemblyTimeExceeded, 0, quote, out);
}

}  // namespace tcplab::ip
