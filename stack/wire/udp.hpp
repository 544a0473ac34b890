// The UDP header (RFC 768), read only to decide whether a datagram deserves an answer: the
// stack has no UDP sockets, and a datagram that is well formed gets ICMP port unreachable.
#pragma once
#include <cstdint>

#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/result.hpp"

namespace tcplab::wire {

struct UdpHeader {
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  uint16_t length = 0;  // header and data, in bytes (at least 8)
  uint16_t checksum = 0;
};

// Refuses a datagram shorter than its 8-byte header or than its length field says
// (udp-truncated), one whose length field is below 8 (udp-bad-length), and one whose
// checksum is non-zero and does not verify over the pseudo-header (udp-bad-checksum).
Parsed<UdpHeader> parse_udp(ConstBytes bytes, Ipv4Address source, Ipv4Address destination);

}  // namespace tcplab::wire
