// IPv4 header (RFC 791) as a value type: parse verifies, emit writes with a correct checksum.
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stack/wire/bytes.hpp"
#include "stack/wire/result.hpp"

namespace tcplab::wire {

struct Ipv4Address {
  uint32_t value = 0;  // host byte order: 192.0.2.2 is 0xC0000202

  static std::optional<Ipv4Address> parse(std::string_view dotted);
  std::string to_string() const;
  auto operator<=>(const Ipv4Address&) const = default;
};

enum class IpProtocol : uint8_t { Icmp = 1, Tcp = 6, Udp = 17 };

constexpr size_t kIpv4MinHeaderLength = 20;
constexpr uint8_t kDefaultTtl = 64;  // RFC 1700 / Linux default

struct Ipv4Header {
  uint8_t header_length = 20;  // bytes (IHL * 4)
  uint8_t tos = 0;             // DSCP + ECN
  uint16_t total_length = 0;   // header + payload, bytes
  uint16_t identification = 0;
  bool dont_fragment = true;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // in 8-byte units
  uint8_t ttl = kDefaultTtl;
  uint8_t protocol = 0;
  uint16_t checksum = 0;  // as read; emit computes it
  Ipv4Address source;
  Ipv4Address destination;

  // RFC 791 §3.2: a piece of a larger datagram (more follow, or not the first).
  bool is_fragment() const { return more_fragments || fragment_offset != 0; }
};

struct Ipv4Packet {
  Ipv4Header header;
  ConstBytes header_bytes;  // the whole header including options (for ICMP quoting)
  ConstBytes options;       // well-formed (find_ipv4_option_fault), skipped, kept for display
  ConstBytes payload;       // exactly total_length - header_length bytes
};

// Why the options part of a header (the bytes after the first 20) is malformed, or nothing
// if it is well-formed (RFC 791 §3.1): end-of-list ends it, no-operation is one byte, and
// every other option has a length byte that counts its type and length bytes, so it is at
// least 2 and the option ends within the header. What an option says is not checked: we
// act on none of them (RFC 1122 §3.2.1.8 lets a host ignore the ones it does not implement).
std::optional<std::string_view> find_ipv4_option_fault(ConstBytes options);

// Checks version, IHL, total length (trailing bytes beyond it are ignored), checksum and
// that the options are well-formed (find_ipv4_option_fault, else ipv4-bad-option with the
// fault as the result's detail()).
// Fragments are parsed too: reassembling them (and checking their lengths and offsets) is
// stack/ip's job, as is the destination.
Parsed<Ipv4Packet> parse_ipv4(ConstBytes bytes);

// For a packet in a capture file that the snap length cut short: the same checks, except that
// total_length may exceed the bytes at hand (the header itself must be whole, and its
// checksum right). `payload` is then only the captured part of the payload; total_length
// still says how long it really was.
Parsed<Ipv4Packet> parse_captured_ipv4(ConstBytes bytes);

// Writes a 20-byte header (no options) for `payload_length` bytes of payload into out[0..20)
// with a correct checksum; returns 20. `header.total_length` and `header_length` are ignored.
size_t emit_ipv4_header(const Ipv4Header& header, size_t payload_length, MutableBytes out);

}  // namespace tcplab::wire
