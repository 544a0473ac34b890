// IPv4 output for replies the IP layer makes itself (ICMP): one header per packet with our
// address, the configured TTL, DF set and an identification counter, built in the outbox.
#pragma once
#include <cstddef>
#include <cstdint>

#include "stack/outbox.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

class Ipv4Output {
 public:
  Ipv4Output(wire::Ipv4Address source, uint8_t ttl) : source_(source), ttl_(ttl) {}

  // Builds one packet to `destination`: `fill` writes at most `max_payload` bytes of payload
  // into the span it gets and returns how many it wrote. The packet stays in the outbox.
  // The buffer is reused from earlier batches, so this allocates nothing once warm.
  template <class Fill>
  size_t send(Outbox& outbox, wire::IpProtocol protocol, wire::Ipv4Address destination, size_t max_payload,
              Fill&& fill) {
    auto& buffer = outbox.start_packet();
    buffer.resize(wire::kIpv4MinHeaderLength + max_payload);
    wire::MutableBytes all(buffer);
    size_t payload_length = fill(all.subspan(wire::kIpv4MinHeaderLength));
    buffer.resize(wire::kIpv4MinHeaderLength + payload_length);

    wire::Ipv4Header header;
    // RFC 6864 §4.1: for atomic datagrams (DF set, never fragmented) the identification
    // carries no meaning; a counter still lets a student tell packets apart in a capture.
    header.identification = next_identification_++;
    header.dont_fragment = true;  // Deviation: we never fragment, so we say so (like Linux with PMTUD).
    header.ttl = ttl_;
    header.protocol = static_cast<uint8_t>(protocol);
    header.source = source_;
    header.destination = destination;
    wire::emit_ipv4_header(header, payload_length, wire::MutableBytes(buffer));
    return buffer.size();
  }

  uint16_t next_identification() const { return next_identification_; }

 private:
  wire::Ipv4Address source_;
  uint8_t ttl_;
  uint16_t next_identification_ = 0;
};

}  // namespace tcplab::ip
