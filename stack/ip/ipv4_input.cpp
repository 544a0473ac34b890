// IPv4 input address checks (RFC 1122 §3.2.1.3).
#include "stack/ip/ipv4_input.hpp"

namespace tcplab::ip {
namespace {

// RFC 3021: a /31 has two hosts and no network or broadcast address; a /32 is one host.
constexpr uint8_t kLongestPrefixWithBroadcast = 30;

// Why `source` does not name one host, or an empty view if it does.
std::string_view bad_source(wire::Ipv4Address source, wire::Ipv4Address ours,
                            const std::optional<Ipv4Cidr>& link_prefix) {
  uint32_t first_octet = source.value >> 24;
  // {0, <Host-number>}: "this network", only while booting.
  if (first_octet == 0) return "source in 0.0.0.0/8 (this network)";
  // {127, <any>}: loopback, "MUST NOT appear outside a host".
  if (first_octet == 127) return "source in 127.0.0.0/8 (loopback)";
  if (first_octet >= 224 && first_octet < 240) return "source is multicast (224.0.0.0/4)";
  if (first_octet >= 240) return "source in 240.0.0.0/4 (reserved, or the limited broadcast)";
  if (source == ours) return "source is our own address";
  if (link_prefix && link_prefix->prefix_length <= kLongestPrefixWithBroadcast) {
    // {<Network-number>, -1} and {<Network-number>, 0}: no one host has them (RFC 1122
    // §3.2.1.3), and an answer would go to every host of the link (RFC 1122 §3.2.2: no ICMP
    // error to a broadcast source).
    if (source == link_prefix->broadcast()) return "source is the directed broadcast of the link's prefix";
    if (source == link_prefix->network()) return "source is the network address of the link's prefix";
  }
  return {};
}

}  // namespace

bool is_invalid_source(wire::Ipv4Address address) {
  // No address of ours and no prefix: 0.0.0.0 as "ours" only matches what 0/8 refuses anyway.
  return !bad_source(address, wire::Ipv4Address{0}, std::nullopt).empty();
}

std::optional<PacketRefusal> check_addresses(const wire::Ipv4Header& header, wire::Ipv4Address ours,
                                             const std::optional<Ipv4Cidr>& link_prefix) {
  if (header.destination != ours) return PacketRefusal{DropReason::Ipv4NotForUs, {}};
  std::string_view why = bad_source(header.source, ours, link_prefix);
  if (!why.empty()) return PacketRefusal{DropReason::Ipv4BadSource, why};
  return std::nullopt;
}

}  // namespace tcplab::ip
