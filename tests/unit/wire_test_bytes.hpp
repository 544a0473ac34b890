// Helpers for the stack/wire unit tests: hex strings to bytes, and an independent, deliberately
// naive Internet checksum to cross-check the real one (so a test never trusts the code it tests).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tcplab::wire::test {

inline std::vector<std::byte> hex(std::string_view text) {
  std::vector<std::byte> out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else if (c == ' ' || c == '\n')
      continue;
    else
      throw std::invalid_argument("bad hex");
    if (high < 0)
      high = v;
    else {
      out.push_back(std::byte(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("odd hex");
  return out;
}

// RFC 1071 written the slow, obvious way: byte i is the high half of a word when i is even.
inline uint16_t naive_checksum(std::span<const std::byte> b) {
  uint32_t sum = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    uint32_t v = static_cast<uint8_t>(b[i]);
    sum += (i % 2 == 0) ? v << 8 : v;
    sum = (sum & 0xffff) + (sum >> 16);  // end-around carry at every step
  }
  return static_cast<uint16_t>(~sum & 0xffff);
}

// The TCP checksum over the RFC 9293 §3.1 pseudo-header, built naively from a full IPv4 packet.
inline uint16_t naive_tcp_checksum(std::span<const std::byte> ip_packet) {
  size_t ihl = (static_cast<uint8_t>(ip_packet[0]) & 0x0f) * 4u;
  size_t total = (static_cast<uint8_t>(ip_packet[2]) << 8) | static_cast<uint8_t>(ip_packet[3]);
  size_t tcp_len = total - ihl;
  std::vector<std::byte> buf(ip_packet.begin() + 12, ip_packet.begin() + 20);
  buf.push_back(std::byte{0});
  buf.push_back(ip_packet[9]);
  buf.push_back(std::byte(tcp_len >> 8));
  buf.push_back(std::byte(tcp_len & 0xff));
  buf.insert(buf.end(), ip_packet.begin() + static_cast<long>(ihl),
             ip_packet.begin() + static_cast<long>(total));
  return naive_checksum(buf);
}

// Real packets captured in a network namespace (tcpdump-style hex of the IP datagram).
// ping -c 1 -p 0102 192.0.2.2 from 192.0.2.1, read off a TUN device.
constexpr std::string_view kPingRequest =
    "4500005498e0400040011dc5c0000201c000020208008a132000000172ce066b00000000b8890800"
    "0000000001020102010201020102010201020102010201020102010201020102010201020102010201020102";
// The reply Linux sent back to a plain ping over a veth pair.
constexpr std::string_view kPingReply =
    "450000544e2700004001a87ec0000202c0000201000037751f0200015cce066b000000007e7b0900"
    "00000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
// curl http://192.0.2.2/ from 192.0.2.1: Linux 6.x SYN read off a TUN device
// (mss 1460, sackOK, TS val 2056514899 ecr 0, nop, wscale 10).
constexpr std::string_view kLinuxSyn =
    "4500003c8442400040063276c0000201c00002028dae00501ffe765300000000a002faf03cd10000"
    "020405b40402080a7a93ed53000000000103030a";
// Linux's ICMP port unreachable (type 3 code 3) for `echo tcplab > /dev/udp/192.0.2.2/9999`,
// quoting the whole offending datagram: RFC 1122 §3.2.2 asks for at least 8 data bytes, Linux
// quotes as much as fits in 576 bytes (RFC 1812 §4.3.2.3).
constexpr std::string_view kPortUnreachable =
    "45c0003f38b900004001bd41c0000202c000020103037cfd0000000045000023482e400040116e98c0000201"
    "c0000202848a270f000f84247463706c61620a";
// Linux's answer from a closed port: RST+ACK, no options.
constexpr std::string_view kLinuxRstAck =
    "45000028000040004006b6ccc0000202c00002010050d91600000000b8e8c6bb50140000d2c10000";

}  // namespace tcplab::wire::test
