// The TCP segment inside one IPv4 packet, for those who describe packets rather than process
// them (traces, captures, ladders): the checksum is not verified, since a segment refused for
// its checksum, or hit by an injected fault, is still the segment it was.
#pragma once
#include <optional>

#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::wire {

struct TcpInIpv4 {
  Ipv4Header ip;
  TcpSegment tcp;  // its payload points into the packet
};

// Nothing for a packet that is not IPv4, not TCP, a fragment (only the first holds the TCP
// header, and not the whole segment), or whose TCP header does not parse.
std::optional<TcpInIpv4> tcp_in_ipv4(ConstBytes ipv4);

}  // namespace tcplab::wire
