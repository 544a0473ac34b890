// IPv4 input decisions after the header parsed: is the packet for us, and may its source
// address be answered at all (RFC 1122 §3.2.1.3)? Pure functions over the parsed header.
#pragma once
#include <optional>
#include <string_view>

#include "stack/drop_reason.hpp"
#include "stack/ip/cidr.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

// True for addresses that cannot name one host as a source (RFC 1122 §3.2.1.3):
// 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback: never on a wire), 224.0.0.0/4
// (multicast), 240.0.0.0/4 (reserved, includes 255.255.255.255 limited broadcast).
bool is_invalid_source(wire::Ipv4Address address);

// A packet refused by check_addresses: the reason, and in words why (empty for
// Ipv4NotForUs, whose name says it all).
struct PacketRefusal {
  DropReason reason;
  std::string_view detail;
};

// Why a verified packet is not ours to process, or nothing if it is:
// Ipv4NotForUs when the destination is not `ours` (we are a host, not a router:
// RFC 1122 §3.2.1.3 says silently discard), Ipv4BadSource for the sources above, our
// own address (a packet "from us" arriving on the link is spoofed or looped), and, when the
// link's prefix is known, its network and broadcast addresses (RFC 1122 §3.2.1.3: a
// directed broadcast "MUST NOT be used as an IP source address"; /31 and /32 have neither,
// RFC 3021).
std::optional<PacketRefusal> check_addresses(const wire::Ipv4Header& header, wire::Ipv4Address ours,
                                             const std::optional<Ipv4Cidr>& link_prefix = std::nullopt);

}  // namespace tcplab::ip
