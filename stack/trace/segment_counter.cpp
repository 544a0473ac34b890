// Counts TCP segments and header bytes from the packets crossing the link.
#include "stack/trace/segment_counter.hpp"

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::trace {

void SegmentCounter::packet(Instant, Direction direction, std::span<const std::byte> ipv4) {
  auto ip = wire::parse_ipv4(ipv4);
  if (!ip || ip->header.protocol != static_cast<uint8_t>(wire::IpProtocol::Tcp)) return;
  // The checksum is not the point here (the stack checks it on input); counting a segment the
  // stack will drop is still a segment that crossed the link.
  auto tcp = wire::parse_tcp(ip->payload, ip->header.source, ip->header.destination, false);
  if (!tcp) return;
  SegmentCount& count = direction == Direction::In ? in_ : out_;
  const uint64_t payload = tcp->payload.size();
  count.segments += 1;
  count.payload_bytes += payload;
  count.header_bytes += ip->header_bytes.size() + (ip->payload.size() - payload);
}

SegmentCount SegmentCounter::both() const {
  return SegmentCount{in_.segments + out_.segments, in_.header_bytes + out_.header_bytes,
                      in_.payload_bytes + out_.payload_bytes};
}

}  // namespace tcplab::trace
