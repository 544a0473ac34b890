// Hand-built capture files for the reader and ladder tests: IPv4/TCP packets, frames in each
// link type, classic pcap in both byte orders and timestamp units, and pcapng blocks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::capture::test {

using Bytes = std::vector<std::byte>;

inline const wire::Ipv4Address kClient{0xC0000201u};  // 192.0.2.1
inline const wire::Ipv4Address kServer{0xC0000202u};  // 192.0.2.2

struct Tcp {
  bool to_server = true;
  uint16_t client_port = 40000;
  uint8_t flags = 0x02;  // FIN 1, SYN 2, RST 4, PSH 8, ACK 16
  uint32_t seq = 0, ack = 0;
  size_t payload = 0;
  uint16_t window = 1000;
};

inline Bytes ipv4_tcp(const Tcp& t) {
  wire::TcpSegment s;
  s.source_port = t.to_server ? t.client_port : 80;
  s.destination_port = t.to_server ? 80 : t.client_port;
  s.seq = Seq(t.seq);
  s.ack = Seq(t.ack);
  s.flags = wire::TcpFlags::from_byte(t.flags);
  s.window = t.window;
  Bytes payload(t.payload, std::byte{'x'});
  s.payload = payload;
  Bytes packet(20 + 60 + t.payload);
  auto src = t.to_server ? kClient : kServer, dst = t.to_server ? kServer : kClient;
  size_t n = wire::emit_tcp(s, src, dst, wire::MutableBytes(packet).subspan(20));
  wire::Ipv4Header h;
  h.protocol = 6;
  h.source = src;
  h.destination = dst;
  wire::emit_ipv4_header(h, n, packet);
  packet.resize(20 + n);
  return packet;
}

// Little or big endian integer appenders.
struct Writer {
  bool big_endian = false;
  Bytes out;
  void u8(uint8_t v) { out.push_back(std::byte{v}); }
  void u16(uint16_t v) {
    if (big_endian) {
      u8(static_cast<uint8_t>(v >> 8));
      u8(static_cast<uint8_t>(v));
    } else {
      u8(static_cast<uint8_t>(v));
      u8(static_cast<uint8_t>(v >> 8));
    }
  }
  void u32(uint32_t v) {
    if (big_endian) {
      u16(static_cast<uint16_t>(v >> 16));
      u16(static_cast<uint16_t>(v));
    } else {
      u16(static_cast<uint16_t>(v));
      u16(static_cast<uint16_t>(v >> 16));
    }
  }
  void bytes(const Bytes& b) { out.insert(out.end(), b.begin(), b.end()); }
  void pad4() {
    while (out.size() % 4) u8(0);
  }
};

// Frames around an IPv4 packet.
inline Bytes ethernet(const Bytes& ip, bool vlan = false, uint16_t ethertype = 0x0800) {
  Writer w{true, {}};
  for (int i = 0; i < 12; ++i) w.u8(static_cast<uint8_t>(i));
  if (vlan) {
    w.u16(0x8100);
    w.u16(42);
  }
  w.u16(ethertype);
  w.bytes(ip);
  return w.out;
}
inline Bytes sll(const Bytes& ip, uint16_t protocol = 0x0800) {
  Writer w{true, {}};
  w.u16(0);  // packet type: to us
  w.u16(1);  // ARPHRD_ETHER
  w.u16(6);
  for (int i = 0; i < 8; ++i) w.u8(0);
  w.u16(protocol);
  w.bytes(ip);
  return w.out;
}
inline Bytes sll2(const Bytes& ip, uint16_t protocol = 0x0800) {
  Writer w{true, {}};
  w.u16(protocol);
  w.u16(0);  // reserved
  w.u32(3);  // interface index
  w.u16(1);  // ARPHRD_ETHER
  w.u8(0);   // packet type
  w.u8(6);   // address length
  for (int i = 0; i < 8; ++i) w.u8(0);
  w.bytes(ip);
  return w.out;
}

struct Record {
  uint32_t seconds = 1700000000;
  uint32_t fraction = 0;  // µs or ns as the magic says
  Bytes frame;
};

inline Bytes pcap_file(uint32_t magic, bool big_endian, uint32_t linktype,
                       const std::vector<Record>& records) {
  Writer w{big_endian, {}};
  w.u32(magic);
  w.u16(2);
  w.u16(4);
  w.u32(0);
  w.u32(0);
  w.u32(262144);
  w.u32(linktype);
  for (const auto& r : records) {
    w.u32(r.seconds);
    w.u32(r.fraction);
    w.u32(static_cast<uint32_t>(r.frame.size()));
    w.u32(static_cast<uint32_t>(r.frame.size()));
    w.bytes(r.frame);
  }
  return w.out;
}

// pcapng pieces; blocks are written with their two length fields.
inline void block(Writer& w, uint32_t type, const Bytes& body) {
  Writer b{w.big_endian, body};
  b.pad4();
  w.u32(type);
  w.u32(static_cast<uint32_t>(b.out.size() + 12));
  w.bytes(b.out);
  w.u32(static_cast<uint32_t>(b.out.size() + 12));
}
inline void section_header(Writer& w) {
  Writer b{w.big_endian, {}};
  b.u32(0x1A2B3C4D);
  b.u16(1);
  b.u16(0);
  b.u32(0xffffffff);  // section length unknown (-1)
  b.u32(0xffffffff);
  block(w, 0x0A0D0D0A, b.out);
}
inline void option(Writer& b, uint16_t code, const Bytes& value) {
  b.u16(code);
  b.u16(static_cast<uint16_t>(value.size()));
  b.bytes(value);
  b.pad4();
}
inline Bytes text_bytes(const std::string& s) {
  Bytes out;
  for (char c : s) out.push_back(std::byte(static_cast<unsigned char>(c)));
  return out;
}
inline void interface(Writer& w, uint16_t linktype, int tsresol = -1) {
  Writer b{w.big_endian, {}};
  b.u16(linktype);
  b.u16(0);
  b.u32(262144);
  if (tsresol >= 0) {
    option(b, 9, {std::byte(static_cast<uint8_t>(tsresol))});
    option(b, 0, {});
  }
  block(w, 1, b.out);
}
inline void enhanced_packet(Writer& w, uint32_t interface_id, uint64_t units, const Bytes& frame,
                            const std::vector<std::string>& comments = {}) {
  Writer b{w.big_endian, {}};
  b.u32(interface_id);
  b.u32(static_cast<uint32_t>(units >> 32));
  b.u32(static_cast<uint32_t>(units));
  b.u32(static_cast<uint32_t>(frame.size()));
  b.u32(static_cast<uint32_t>(frame.size()));
  b.bytes(frame);
  b.pad4();
  for (const auto& c : comments) option(b, 1, text_bytes(c));
  if (!comments.empty()) option(b, 0, {});
  block(w, 6, b.out);
}

}  // namespace tcplab::capture::test
