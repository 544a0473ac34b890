// The IPv4 pseudo-header that TCP's and UDP's checksums also cover (RFC 9293 §3.1, RFC 768):
// source and destination address, a zero byte, the protocol number and the transport length.
#pragma once
#include <cstddef>
#include <cstdint>

#include "stack/wire/checksum.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::wire {

inline void add_pseudo_header(ChecksumAccumulator& acc, Ipv4Address source, Ipv4Address destination,
                              IpProtocol protocol, size_t transport_length) {
  acc.add_u32(source.value);
  acc.add_u32(destination.value);
  acc.add_u16(static_cast<uint16_t>(protocol));
  acc.add_u16(static_cast<uint16_t>(transport_length));
}

}  // namespace tcplab::wire
