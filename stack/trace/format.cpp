// Formatting shared by the trace sinks (see format.hpp).
#include "stack/trace/format.hpp"

#include <cstdio>

#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::trace {

SegmentNumbers segment_numbers(const SegmentEvent& e, bool absolute) {
  const auto& s = e.segment;
  SegmentNumbers n;
  n.len = static_cast<uint32_t>(s.payload.size());
  if (absolute) {
    n.seq = s.seq.raw();
    n.ack = s.ack.raw();
  } else if (e.relative) {
    // The sender's ISN is ours for outgoing segments and the peer's for incoming ones;
    // the acknowledgment counts in the other side's sequence space.
    Seq sender_isn = e.direction == Direction::Out ? e.iss : e.irs;
    Seq receiver_isn = e.direction == Direction::Out ? e.irs : e.iss;
    n.seq = seq_distance(sender_isn, s.seq);
    n.ack = seq_distance(receiver_isn, s.ack);
    n.relative_seq = n.relative_ack = true;
  } else {
    // A SYN carries its sender's ISN, so it is its own origin; anything else stays absolute.
    n.relative_seq = s.flags.syn;
    n.seq = s.flags.syn ? 0 : s.seq.raw();
    n.ack = s.ack.raw();
  }
  n.end = n.seq + n.len;  // wraps like the sequence space itself
  return n;
}

std::string segment_endpoints(Direction direction, const FourTuple& tuple) {
  return tuple.to_string(/*remote_first=*/direction == Direction::In);
}

std::string segment_summary(const SegmentEvent& e, bool absolute) {
  const auto& s = e.segment;
  auto n = segment_numbers(e, absolute);
  std::string out = s.flags.to_string();
  char buf[96];
  std::snprintf(buf, sizeof buf, " %u:%u(%u)", n.seq, n.end, n.len);
  out += buf;
  if (s.flags.ack) {
    std::snprintf(buf, sizeof buf, " ack %u", n.ack);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, " win %u", unsigned{s.window});
  out += buf;
  if (s.flags.urg) {
    std::snprintf(buf, sizeof buf, " urg %u", unsigned{s.urgent_pointer});
    out += buf;
  }
  // SACK blocks count in the acknowledging side's sequence space, like the ACK.
  Seq sack_base = e.relative ? (e.direction == Direction::Out ? e.irs : e.iss) : Seq(0);
  auto options = s.options.to_string(sack_base);
  if (!options.empty()) {
    out += ' ';
    out += options;
  }
  return out;
}

namespace {

std::string hex_head(std::span<const std::byte> bytes) {
  constexpr size_t kShown = 20;  // one minimal IPv4 header: enough to see what is wrong
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zu bytes:", bytes.size());
  std::string out = buf;
  size_t shown = bytes.size() < kShown ? bytes.size() : kShown;
  for (size_t i = 0; i < shown; ++i) {
    std::snprintf(buf, sizeof buf, " %02x", static_cast<unsigned>(bytes[i]));
    out += buf;
  }
  if (shown < bytes.size()) out += " ...";
  return out;
}

}  // namespace

std::string packet_summary(std::span<const std::byte> ipv4) {
  // No packet: a drop about a whole datagram in reassembly (its detail says which).
  if (ipv4.empty()) return "(datagram in reassembly)";
  auto ip = wire::parse_ipv4(ipv4);
  if (!ip) return hex_head(ipv4);
  const auto& h = ip->header;
  char buf[128];
  if (h.is_fragment()) {
    // Only the first fragment holds the transport header, so none is decoded: where the
    // piece goes is what matters (RFC 791 §3.2).
    std::snprintf(buf, sizeof buf, " frag id %u offset %u%s proto %u len %zu", unsigned{h.identification},
                  unsigned{h.fragment_offset} * 8, h.more_fragments ? " +" : "", unsigned{h.protocol},
                  ip->payload.size());
    return h.source.to_string() + " > " + h.destination.to_string() + buf;
  }
  if (h.protocol == static_cast<uint8_t>(wire::IpProtocol::Tcp)) {
    // The checksum is not verified here: a drop line must describe even a corrupt segment.
    auto tcp = wire::parse_tcp(ip->payload, h.source, h.destination, /*verify_checksum=*/false,
                               wire::FlagCheck::Host);  // describe what the TCP host took in
    if (!tcp) {
      const auto& p = ip->payload;
      const std::string why =
          " (" + std::string(to_string(tcp.error())) + ", " + std::to_string(p.size()) + " bytes)";
      if (p.size() < 20) return h.source.to_string() + " > " + h.destination.to_string() + " tcp" + why;
      // RFC 9293 §3.1: the fixed 20 bytes are readable even when the options or the data
      // offset are not, and say which connection the refused segment was meant for.
      std::snprintf(buf, sizeof buf, ":%u > ", unsigned{wire::read_u16(p, 0)});
      std::string out = h.source.to_string() + buf + h.destination.to_string();
      const auto flags = wire::TcpFlags::from_byte(wire::read_u8(p, 13));
      std::snprintf(buf, sizeof buf, ":%u %s seq %u", unsigned{wire::read_u16(p, 2)},
                    flags.to_string().c_str(), wire::read_u32(p, 4));
      out += buf;
      if (flags.ack) {
        std::snprintf(buf, sizeof buf, " ack %u", wire::read_u32(p, 8));
        out += buf;
      }
      return out + why;
    }
    const auto& s = *tcp;
    std::string out = h.source.to_string() + ":" + std::to_string(s.source_port) + " > " +
                      h.destination.to_string() + ":" + std::to_string(s.destination_port) + " " +
                      s.flags.to_string();
    std::snprintf(buf, sizeof buf, " seq %u", s.seq.raw());
    out += buf;
    if (s.flags.ack) {
      std::snprintf(buf, sizeof buf, " ack %u", s.ack.raw());
      out += buf;
    }
    std::snprintf(buf, sizeof buf, " win %u len %zu", unsigned{s.window}, s.payload.size());
    out += buf;
    return out;
  }
  std::string out = h.source.to_string() + " > " + h.destination.to_string();
  if (h.protocol == static_cast<uint8_t>(wire::IpProtocol::Icmp)) {
    auto icmp = wire::parse_icmp(ip->payload);
    if (icmp) {
      std::snprintf(buf, sizeof buf, " icmp type %u code %u len %zu", unsigned{icmp->type},
                    unsigned{icmp->code}, ip->payload.size());
    } else {
      std::snprintf(buf, sizeof buf, " icmp (%s) len %zu", std::string(to_string(icmp.error())).c_str(),
                    ip->payload.size());
    }
  } else if (h.protocol == static_cast<uint8_t>(wire::IpProtocol::Udp)) {
    std::snprintf(buf, sizeof buf, " udp len %zu", ip->payload.size());
  } else {
    std::snprintf(buf, sizeof buf, " proto %u len %zu", unsigned{h.protocol}, ip->payload.size());
  }
  return out + buf;
}

const char* to_string(Direction direction) { return direction == Direction::In ? "in" : "out"; }

const char* to_string(TimerAction action) {
  switch (action) {
    case TimerAction::Armed:
      return "armed";
    case TimerAction::Fired:
      return "fired";
    case TimerAction::Cancelled:
      return "cancelled";
  }
  return "?";
}

}  // namespace tcplab::trace
