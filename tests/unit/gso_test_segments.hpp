// Test segments for the GSO tests (wire_virtio_gso_test.cpp, loop_vnet_test.cpp): complete
// IPv4/TCP packets as the stack emits them, and trains of MSS-sized ones that follow on.
#pragma once
#include <algorithm>
#include <vector>

#include "stack/seq.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::wire::test {

inline const Ipv4Address kUs{0xC0000202};
inline const Ipv4Address kPeer{0xC0000201};

struct SegmentSpec {
  uint32_t seq = 1000;
  size_t payload = 1448;
  bool push = false;
  bool fin = false;
  uint16_t id = 1;
  uint16_t window = 500;
  uint32_t ts_value = 77;
  uint32_t ack = 5000;
  TcpChecksumFill checksum = TcpChecksumFill::Complete;
};

// A complete IPv4/TCP packet as the stack emits it: timestamps option, payload bytes that
// depend on their sequence number, correct checksums (or the TCP one left to the link).
inline std::vector<std::byte> segment(const SegmentSpec& s) {
  std::vector<std::byte> payload(s.payload);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = std::byte((s.seq + i) * 7 & 0xff);
  TcpSegment seg;
  seg.source_port = 80;
  seg.destination_port = 40000;
  seg.seq = Seq(s.seq);
  seg.ack = Seq(s.ack);
  seg.flags.ack = true;
  seg.flags.psh = s.push;
  seg.flags.fin = s.fin;
  seg.window = s.window;
  seg.options.timestamps = TcpTimestamps{s.ts_value, 9};
  seg.payload = payload;
  std::vector<std::byte> tcp(60 + payload.size());
  tcp.resize(emit_tcp(seg, kUs, kPeer, tcp, s.checksum));
  Ipv4Header ip;
  ip.identification = s.id;
  ip.protocol = 6;
  ip.source = kUs;
  ip.destination = kPeer;
  std::vector<std::byte> packet(20 + tcp.size());
  emit_ipv4_header(ip, tcp.size(), packet);
  std::copy(tcp.begin(), tcp.end(), packet.begin() + 20);
  return packet;
}

// MSS-sized segments that follow on from `seq`, ids counting up, PSH on the last.
inline std::vector<std::vector<std::byte>> train(size_t count, size_t last_payload = 1448) {
  std::vector<std::vector<std::byte>> out;
  uint32_t seq = 1000;
  for (size_t i = 0; i < count; ++i) {
    SegmentSpec s;
    s.seq = seq;
    s.id = static_cast<uint16_t>(i + 1);
    s.payload = i + 1 == count ? last_payload : 1448;
    s.push = i + 1 == count;
    out.push_back(segment(s));
    seq += static_cast<uint32_t>(s.payload);
  }
  return out;
}

}  // namespace tcplab::wire::test
