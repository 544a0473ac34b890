// Field-by-field dumps of IPv4, ICMP and TCP headers (microps-style: every field on its own
// line, named as in RFC 791, RFC 792 and RFC 9293 §3.1).
#include "stack/wire/dump.hpp"

#include <cstdio>
#include <string_view>

namespace tcplab::wire {

namespace {
void line(std::string& out, std::string_view name, std::string_view value) {
  out += "  ";
  out += name;
  out += ": ";
  out += value;
  out += '\n';
}

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

std::string hex8(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

std::string hex_bytes(ConstBytes b, size_t limit) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < b.size() && i < limit; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(b[i]));
    if (!s.empty()) s += ' ';
    s += buf;
  }
  if (b.size() > limit) s += " ...";
  return s;
}

const char* protocol_name(uint8_t p) {
  switch (p) {
    case static_cast<uint8_t>(IpProtocol::Icmp):
      return " (ICMP)";
    case static_cast<uint8_t>(IpProtocol::Tcp):
      return " (TCP)";
    case static_cast<uint8_t>(IpProtocol::Udp):
      return " (UDP)";
    default:
      return "";
  }
}

const char* icmp_type_name(uint8_t t) {
  switch (t) {
    case static_cast<uint8_t>(IcmpType::EchoReply):
      return " (echo reply)";
    case static_cast<uint8_t>(IcmpType::DestinationUnreachable):
      return " (destination unreachable)";
    case static_cast<uint8_t>(IcmpType::EchoRequest):
      return " (echo request)";
    default:
      return "";
  }
}

constexpr size_t kRawBytesShown = 32;  // enough for any header without flooding the trace
}  // namespace

void dump_ipv4_header(const Ipv4Header& h, std::string& out) {
  line(out, "ipv4.version", "4");
  line(out, "ipv4.ihl",
       std::to_string(h.header_length / 4) + " (" + std::to_string(h.header_length) + " bytes)");
  line(out, "ipv4.tos",
       std::to_string(h.tos) + " (dscp " + std::to_string(h.tos >> 2) + ", ecn " + std::to_string(h.tos & 3) +
           ")");
  line(out, "ipv4.total_length", std::to_string(h.total_length));
  line(out, "ipv4.identification", hex16(h.identification) + " (" + std::to_string(h.identification) + ")");
  std::string flags;
  if (h.dont_fragment) flags += "DF";
  if (h.more_fragments) flags += flags.empty() ? "MF" : ",MF";
  line(out, "ipv4.flags", flags.empty() ? "none" : flags);
  line(out, "ipv4.fragment_offset", std::to_string(h.fragment_offset));
  line(out, "ipv4.ttl", std::to_string(h.ttl));
  line(out, "ipv4.protocol", std::to_string(h.protocol) + protocol_name(h.protocol));
  line(out, "ipv4.header_checksum", hex16(h.checksum));
  line(out, "ipv4.source", h.source.to_string());
  line(out, "ipv4.destination", h.destination.to_string());
}

void dump_icmp(const IcmpMessage& m, std::string& out) {
  line(out, "icmp.type", std::to_string(m.type) + icmp_type_name(m.type));
  line(out, "icmp.code", std::to_string(m.code));
  line(out, "icmp.checksum", hex16(m.checksum));
  if (m.type == static_cast<uint8_t>(IcmpType::EchoRequest) ||
      m.type == static_cast<uint8_t>(IcmpType::EchoReply)) {
    line(out, "icmp.identifier", std::to_string(m.identifier()));
    line(out, "icmp.sequence", std::to_string(m.sequence()));
  } else {
    line(out, "icmp.rest",
         hex16(static_cast<uint16_t>(m.rest >> 16)) + " " + hex16(static_cast<uint16_t>(m.rest & 0xffff)));
  }
  line(out, "icmp.data", std::to_string(m.body.size()) + " bytes");
}

namespace {
// Header order of RFC 9293 §3.1. data_offset is in 32-bit words; checksum is shown only when
// the bytes were read off the wire.
void dump_tcp_fields(const TcpSegment& s, size_t data_offset, const uint16_t* checksum, std::string& out) {
  line(out, "tcp.source_port", std::to_string(s.source_port));
  line(out, "tcp.destination_port", std::to_string(s.destination_port));
  line(out, "tcp.sequence_number", std::to_string(s.seq.raw()));
  line(out, "tcp.acknowledgment_number", std::to_string(s.ack.raw()));
  line(out, "tcp.data_offset",
       std::to_string(data_offset) + " (" + std::to_string(data_offset * 4) + " bytes)");
  line(out, "tcp.flags", hex8(s.flags.to_byte()) + " [" + s.flags.to_string() + "]");
  line(out, "tcp.window", std::to_string(s.window));
  if (checksum) line(out, "tcp.checksum", hex16(*checksum) + " (verified)");
  line(out, "tcp.urgent_pointer", std::to_string(s.urgent_pointer));
  std::string options = s.options.to_string();
  line(out, "tcp.options", options.empty() ? "none" : options);
  line(out, "tcp.data", std::to_string(s.payload.size()) + " bytes");
  line(out, "tcp.seg_len", std::to_string(s.length()));  // RFC 9293 §3.4 SEG.LEN
}
}  // namespace

void dump_tcp(const TcpSegment& s, std::string& out) {
  dump_tcp_fields(s, (kTcpMinHeaderLength + s.options.emitted_length()) / 4, nullptr, out);
}

std::string dump_packet(ConstBytes bytes) {
  std::string out;
  out.reserve(640);
  out += "IPv4 datagram, " + std::to_string(bytes.size()) + " bytes\n";
  auto ip = parse_ipv4(bytes);
  if (!ip.ok()) {
    line(out, "ipv4", std::string("refused (") + std::string(to_string(ip.error())) + ")");
    line(out, "raw", hex_bytes(bytes, kRawBytesShown));
    return out;
  }
  dump_ipv4_header(ip->header, out);
  if (!ip->options.empty())
    line(out, "ipv4.options",
         std::to_string(ip->options.size()) + " bytes: " + hex_bytes(ip->options, kRawBytesShown));
  ConstBytes payload = ip->payload;
  switch (ip->header.protocol) {
    case static_cast<uint8_t>(IpProtocol::Icmp): {
      auto m = parse_icmp(payload);
      if (!m.ok()) {
        line(out, "icmp", std::string("refused (") + std::string(to_string(m.error())) + ")");
        line(out, "raw", hex_bytes(payload, kRawBytesShown));
      } else {
        dump_icmp(*m, out);
      }
      break;
    }
    case static_cast<uint8_t>(IpProtocol::Tcp): {
      auto s = parse_tcp(payload, ip->header.source, ip->header.destination);
      if (!s.ok()) {
        line(out, "tcp", std::string("refused (") + std::string(to_string(s.error())) + ")");
        line(out, "raw", hex_bytes(payload, kRawBytesShown));
        break;
      }
      // The wire values TcpSegment does not keep: the data offset and the checksum.
      uint16_t checksum = read_u16(payload, 16);
      dump_tcp_fields(*s, static_cast<size_t>(read_u8(payload, 12) >> 4), &checksum, out);
      break;
    }
    default:
      line(out, "payload", std::to_string(payload.size()) + " bytes");
      break;
  }
  return out;
}

}  // namespace tcplab::wire
