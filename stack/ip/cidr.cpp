// Parsing "A.B.C.D/N" for --host-ip.
#include "stack/ip/cidr.hpp"

namespace tcplab::ip {

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = wire::Ipv4Address::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  auto digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 2) return std::nullopt;
  unsigned prefix = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + static_cast<unsigned>(c - '0');
  }
  if (prefix > 32) return std::nullopt;
  return Ipv4Cidr{*address, static_cast<uint8_t>(prefix)};
}

}  // namespace tcplab::ip
