#include "stack/wire/tcp_in_ipv4.hpp"

namespace tcplab::wire {

std::optional<TcpInIpv4> tcp_in_ipv4(ConstBytes ipv4) {
  auto ip = parse_ipv4(ipv4);
  if (!ip || ip->header.is_fragment() || ip->header.protocol != static_cast<uint8_t>(IpProtocol::Tcp))
    return std::nullopt;
  auto tcp = parse_tcp(ip->payload, ip->header.source, ip->header.destination, /*verify_checksum=*/false);
  if (!tcp) return std::nullopt;
  return TcpInIpv4{ip->header, *tcp};
}

}  // namespace tcplab::wire
