// IPv4 output for replies the IP layer makes itself (ICMP): a header with our address, the
// configured TTL and an identification counter, built in the outbox; a reply larger than the
// MTU (an echo reply to a big reassembled ping) leaves as fragments (RFC 791 §3.2).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/outbox.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

class Ipv4Output {
 public:
  Ipv4Output(wire::Ipv4Address source, uint8_t ttl, uint16_t mtu = 1500)
      : source_(source), ttl_(ttl), mtu_(mtu) {}

  // Builds one datagram to `destination`: `fill` writes at most `max_payload` bytes of payload
  // into the span it gets and returns how many it wrote. It stays in the outbox as one packet,
  // or as several fragments if it does not fit the MTU; returns how many packets that is.
  // Buffers are reused from earlier batches, so this allocates nothing once warm.
  template <class Fill>
  size_t send(Outbox& outbox, wire::IpProtocol protocol, wire::Ipv4Address destination, size_t max_payload,
              Fill&& fill) {
    auto& buffer = outbox.start_packet();
    buffer.resize(wire::kIpv4MinHeaderLength + max_payload);
    wire::MutableBytes all(buffer);
    size_t payload_length = fill(all.subspan(wire::kIpv4MinHeaderLength));
    buffer.resize(wire::kIpv4MinHeaderLength + payload_length);

    wire::Ipv4Header header;
    header.identification = next_identification_++;
    header.ttl = ttl_;
    header.protocol = static_cast<uint8_t>(protocol);
    header.source = source_;
    header.destination = destination;
    if (buffer.size() <= mtu_) {
      // No DF. RFC 1191 §3 lets a host answer a too-big report by no longer setting DF
      // instead of sending smaller. The IP layer's replies cannot be sent again in a smaller
      // size: with DF, a reply that fits our link but not a later hop would be dropped there,
      // and the router's "fragmentation needed" quotes no TCP segment, so nothing learns from
      // it (a large ping across a smaller hop was never answered). Without DF the router
      // fragments it and the peer reassembles. Linux's own echo replies carry no DF either.
      // TCP sets DF on every segment (host_context.cpp) for path MTU discovery.
      // RFC 6864: a datagram that may be fragmented needs an identification that does not
      // soon repeat for its source, destination and protocol; the counter repeats after 65,536.
      header.dont_fragment = false;
      wire::emit_ipv4_header(header, payload_length, wire::MutableBytes(buffer));
      return 1;
    }
    // Too big for the link: keep the payload aside (start_packet() below may move the buffer)
    // and cut it into fragments.
    scratch_.assign(buffer.begin() + wire::kIpv4MinHeaderLength, buffer.end());
    outbox.cancel_last();
    return send_fragments(outbox, header);
  }

  uint16_t next_identification() const { return next_identification_; }
  uint16_t mtu() const { return mtu_; }

 private:
  size_t send_fragments(Outbox& outbox, wire::Ipv4Header header) {
    // RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes, offsets count
    // 8-byte units, MF is set on all but the last, and all share the identification.
    size_t per_fragment = (mtu_ - wire::kIpv4MinHeaderLength) / 8 * 8;
    header.dont_fragment = false;
    size_t packets = 0;
    for (size_t offset = 0; offset < scratch_.size(); offset += per_fragment) {
      size_t length = std::min(per_fragment, scratch_.size() - offset);
      header.fragment_offset = static_cast<uint16_t>(offset / 8);
      header.more_fragments = offset + length < scratch_.size();
      auto& buffer = outbox.start_packet();
      buffer.resize(wire::kIpv4MinHeaderLength + length);
      wire::emit_ipv4_header(header, length, wire::MutableBytes(buffer));
      std::copy_n(scratch_.begin() + static_cast<std::ptrdiff_t>(offset), length,
                  buffer.begin() + wire::kIpv4MinHeaderLength);
      ++packets;
    }
    return packets;
  }

  wire::Ipv4Address source_;
  uint8_t ttl_;
  uint16_t mtu_;
  uint16_t next_identification_ = 0;
  std::vector<std::byte> scratch_;  // the payload of a datagram being fragmented
};

}  // namespace tcplab::ip
