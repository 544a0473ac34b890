// An IPv4 address with a prefix length ("192.0.2.1/24"), as --host-ip takes it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

struct Ipv4Cidr {
  wire::Ipv4Address address;
  uint8_t prefix_length = 32;

  // "192.0.2.1/24"; the prefix is required (0..32) so a typo never picks a mask silently.
  static std::optional<Ipv4Cidr> parse(std::string_view text);

  // 255.255.255.0 for /24, as a host-order address.
  wire::Ipv4Address netmask() const {
    uint32_t mask = prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
    return wire::Ipv4Address{mask};
  }
  // Is `other` inside this address's network?
  bool contains(wire::Ipv4Address other) const {
    uint32_t mask = netmask().value;
    return (other.value & mask) == (address.value & mask);
  }
  // Network and broadcast addresses of the prefix (meaningful for prefixes up to /30).
  wire::Ipv4Address network() const { return wire::Ipv4Address{address.value & netmask().value}; }
  wire::Ipv4Address broadcast() const { return wire::Ipv4Address{address.value | ~netmask().value}; }

  std::string to_string() const { return address.to_string() + "/" + std::to_string(prefix_length); }
};

}  // namespace tcplab::ip
