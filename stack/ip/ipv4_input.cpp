// IPv4 input address checks (RFC 1122 §3.2.1.3).
#include "stack/ip/ipv4_input.hpp"

namespace tcplab::ip {

bool is_invalid_source(wire::Ipv4Address address) {
  uint32_t first_octet = address.value >> 24;
  if (first_octet == 0) return true;    // {0, <Host-number>}: "this network", only while booting
  if (first_octet == 127) return true;  // {127, <any>}: loopback, "MUST NOT appear outside a host"
  if (first_octet >= 224) return true;  // class D multicast and class E, incl. 255.255.255.255
  return false;
}

std::optional<DropReason> check_addresses(const wire::Ipv4Header& header, wire::Ipv4Address ours) {
  if (header.destination != ours) return DropReason::Ipv4NotForUs;
  if (is_invalid_source(header.source) || header.source == ours) return DropReason::Ipv4BadSource;
  return std::nullopt;
}

}  // namespace tcplab::ip
