// The UDP datagram a script's "< udp (LEN)" line sends (RFC 768). tcplab has no UDP, so the
// datagram exists only to be refused with ICMP port unreachable (RFC 1122 §3.2.2.1): the
// stack reads only its header (wire::parse_udp), and stack/wire emits no UDP. Built here,
// beside its only user.
#pragma once
#include <cstdint>
#include <vector>

#include "stack/wire/bytes.hpp"

namespace tcplab::scenario {

constexpr size_t kUdpHeaderLength = 8;

// Header (source port, destination port, length, checksum) and `payload_length` filler bytes.
// RFC 768: "An all zero transmitted checksum value means that the transmitter generated no
// checksum", which IPv4 allows.
inline std::vector<std::byte> udp_datagram(uint16_t source_port, uint16_t destination_port,
                                           uint32_t payload_length) {
  std::vector<std::byte> out(kUdpHeaderLength + payload_length, std::byte{'u'});
  wire::write_u16(out, 0, source_port);
  wire::write_u16(out, 2, destination_port);
  wire::write_u16(out, 4, static_cast<uint16_t>(out.size()));
  wire::write_u16(out, 6, 0);
  return out;
}

}  // namespace tcplab::scenario
