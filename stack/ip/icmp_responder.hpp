// ICMP messages the stack answers with (RFC 792): echo replies and destination unreachable.
// Pure builders: they write an ICMP message into a buffer; stack.cpp wraps it in IPv4.
#pragma once
#include <cstddef>

#include "stack/wire/bytes.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

// RFC 792: an error quotes "the internet header plus the first 64 bits of the original data".
constexpr size_t kIcmpQuotedDataBytes = 8;
constexpr size_t kIcmpHeaderLength = 8;

// Bytes of the offending datagram an ICMP error quotes: its header as received (options
// included) followed by up to 8 bytes of its payload. `packet` is what parse_ipv4 parsed.
wire::ConstBytes icmp_error_quote(wire::ConstBytes packet, const wire::Ipv4Packet& parsed);

// RFC 792 echo reply: same identifier, sequence number and data as the request, type 0,
// checksum recomputed. Writes 8 + request.body.size() bytes into out (which must hold them).
size_t build_echo_reply(const wire::IcmpMessage& request, wire::MutableBytes out);

// RFC 792 time exceeded (type 11), code 1: "fragment reassembly time exceeded".
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpFragmentReassemblyTimeExceeded = 1;

// RFC 792 time exceeded with code 1, the unused field zero, and `quote` (fragment zero's
// header and first 8 data bytes) as the body. Writes 8 + quote.size() bytes into out.
size_t build_reassembly_time_exceeded(wire::ConstBytes quote, wire::MutableBytes out);

// RFC 792 destination unreachable (type 3) with `code`, the unused field zero, and `quote`
// (from icmp_error_quote) as the body. Writes 8 + quote.size() bytes into out.
size_t build_unreachable(wire::UnreachableCode code, wire::ConstBytes quote, wire::MutableBytes out);

}  // namespace tcplab::ip
