// IPv4 header parse and emit (RFC 791), with the checks RFC 1122 §3.2.1 asks of a host.
#include "stack/wire/ipv4.hpp"

#include <algorithm>
#include <cassert>

#include "stack/wire/checksum.hpp"

namespace tcplab::wire {

namespace {
// RFC 791 §3.1 field positions.
constexpr size_t kVersionIhl = 0, kTos = 1, kTotalLength = 2, kIdentification = 4, kFlagsFragment = 6,
                 kTtl = 8, kProtocol = 9, kChecksum = 10, kSource = 12, kDestination = 16;
constexpr uint16_t kFlagDontFragment = 0x4000;
constexpr uint16_t kFlagMoreFragments = 0x2000;
constexpr uint16_t kFragmentOffsetMask = 0x1fff;
// RFC 791 §3.1 option types with no length byte.
constexpr uint8_t kOptionEndOfList = 0, kOptionNoOperation = 1;
}  // namespace

std::optional<std::string_view> find_ipv4_option_fault(ConstBytes options) {
  size_t at = 0;
  while (at < options.size()) {
    uint8_t type = read_u8(options, at);
    // RFC 791 §3.1: "the end of the option list"; what follows is padding.
    if (type == kOptionEndOfList) return std::nullopt;
    if (type == kOptionNoOperation) {
      ++at;
      continue;
    }
    if (at + 1 >= options.size()) return "option type without its length byte at the end of the header";
    uint8_t length = read_u8(options, at + 1);
    if (length < 2) return "option length below 2 (it counts the type and length bytes)";
    if (at + length > options.size()) return "option runs past the end of the header";
    at += length;
  }
  return std::nullopt;
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view dotted) {
  // Strict dotted quad: exactly four decimal parts 0..255. Leading zeros are refused because
  // inet_aton() reads "010" as octal 8; refusing is clearer than guessing.
  uint32_t value = 0;
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= dotted.size() || dotted[pos] != '.') return std::nullopt;
      ++pos;
    }
    size_t start = pos;
    unsigned n = 0;
    while (pos < dotted.size() && dotted[pos] >= '0' && dotted[pos] <= '9' && pos - start < 3) {
      n = n * 10 + static_cast<unsigned>(dotted[pos] - '0');
      ++pos;
    }
    size_t digits = pos - start;
    if (digits == 0 || n > 255) return std::nullopt;
    if (digits > 1 && dotted[start] == '0') return std::nullopt;
    value = (value << 8) | n;
  }
  if (pos != dotted.size()) return std::nullopt;
  return Ipv4Address{value};
}

std::string Ipv4Address::to_string() const {
  std::string s;
  s.reserve(15);
  for (int shift = 24; shift >= 0; shift -= 8) {
    s += std::to_string((value >> shift) & 0xff);
    if (shift > 0) s += '.';
  }
  return s;
}

namespace {

Parsed<Ipv4Packet> parse(ConstBytes bytes, bool may_be_cut) {
  // The checks run in the order the fields must be trusted: each one only relies on fields
  // an earlier check has already validated.
  if (bytes.size() < kIpv4MinHeaderLength) return DropReason::Ipv4Truncated;
  uint8_t version_ihl = read_u8(bytes, kVersionIhl);
  // RFC 1122 §3.2.1.1: a datagram whose version number is not 4 MUST be silently discarded.
  if ((version_ihl >> 4) != 4) return DropReason::Ipv4BadVersion;
  size_t header_length = size_t{version_ihl & 0x0fu} * 4;
  // RFC 791 §3.1: IHL is in 32-bit words; 5 is the minimum for a well-formed header.
  if (header_length < kIpv4MinHeaderLength || header_length > bytes.size())
    return DropReason::Ipv4BadHeaderLength;
  uint16_t total_length = read_u16(bytes, kTotalLength);
  // RFC 791 §3.1 (Total Length: the datagram's length, header and data): bytes beyond it
  // are not ours (link layers pad).
  if ((total_length > bytes.size() && !may_be_cut) || total_length < header_length)
    return DropReason::Ipv4BadTotalLength;
  ConstBytes header_bytes = bytes.first(header_length);
  // RFC 1122 §3.2.1.2: a host MUST verify the header checksum and silently discard on failure.
  // Summing a header that contains its own correct checksum yields 0 (RFC 1071 §1).
  if (internet_checksum(header_bytes) != 0) return DropReason::Ipv4BadChecksum;
  // Parsing is total: a malformed option is refused like a malformed TCP option, not skipped by a
  // length that would walk past the header (or never advance).
  ConstBytes options = header_bytes.subspan(kIpv4MinHeaderLength);
  if (auto fault = find_ipv4_option_fault(options)) return {DropReason::Ipv4BadOption, *fault};
  // Deviation (ip-options-skipped): well-formed options are skipped, none acted on. RFC 1122
  // §3.2.1.8 says they MUST reach the transport, which MUST keep a received source route's
  // return route for its replies (§4.2.3.8); tcplab answers straight to the source instead.
  // Hosts rarely see source routes at all: Linux drops them unless accept_source_route is set,
  // and RFC 7126 §4.3-4.4 advises dropping them.
  uint16_t flags_fragment = read_u16(bytes, kFlagsFragment);
  Ipv4Header h;
  h.header_length = static_cast<uint8_t>(header_length);
  h.tos = read_u8(bytes, kTos);
  h.total_length = total_length;
  h.identification = read_u16(bytes, kIdentification);
  h.dont_fragment = (flags_fragment & kFlagDontFragment) != 0;
  h.more_fragments = (flags_fragment & kFlagMoreFragments) != 0;
  h.fragment_offset = flags_fragment & kFragmentOffsetMask;
  // Fragments parse like any packet (is_fragment() tells them apart); RFC 1122 §3.3.2's
  // reassembly is stack/ip's job, with the checks only a collection of fragments allows.
  h.ttl = read_u8(bytes, kTtl);
  h.protocol = read_u8(bytes, kProtocol);
  h.checksum = read_u16(bytes, kChecksum);
  h.source = Ipv4Address{read_u32(bytes, kSource)};
  h.destination = Ipv4Address{read_u32(bytes, kDestination)};
  Ipv4Packet p;
  p.header = h;
  p.header_bytes = header_bytes;
  // RFC 1122 §3.2.1.8: unknown options must be ignored; we keep them only for display.
  p.options = options;
  p.payload = bytes.subspan(header_length, std::min<size_t>(total_length, bytes.size()) - header_length);
  return p;
}

}  // namespace

Parsed<Ipv4Packet> parse_ipv4(ConstBytes bytes) { return parse(bytes, /*may_be_cut=*/false); }

Parsed<Ipv4Packet> parse_captured_ipv4(ConstBytes bytes) { return parse(bytes, /*may_be_cut=*/true); }

size_t emit_ipv4_header(const Ipv4Header& header, size_t payload_length, MutableBytes out) {
  // Our own invariants, not network input (style: a broken invariant is an assertion).
  assert(out.size() >= kIpv4MinHeaderLength);
  assert(payload_length <= 0xffff - kIpv4MinHeaderLength);
  auto total = static_cast<uint16_t>(kIpv4MinHeaderLength + payload_length);
  write_u8(out, kVersionIhl, 0x45);  // version 4, IHL 5: we never send options
  write_u8(out, kTos, header.tos);
  write_u16(out, kTotalLength, total);
  write_u16(out, kIdentification, header.identification);
  uint16_t flags_fragment = header.fragment_offset & kFragmentOffsetMask;
  if (header.dont_fragment) flags_fragment |= kFlagDontFragment;
  if (header.more_fragments) flags_fragment |= kFlagMoreFragments;
  write_u16(out, kFlagsFragment, flags_fragment);
  write_u8(out, kTtl, header.ttl);
  write_u8(out, kProtocol, header.protocol);
  write_u16(out, kChecksum, 0);  // RFC 791: the checksum field is zero while summing
  write_u32(out, kSource, header.source.value);
  write_u32(out, kDestination, header.destination.value);
  write_u16(out, kChecksum, internet_checksum(out.first(kIpv4MinHeaderLength)));
  return kIpv4MinHeaderLength;
}

}  // namespace tcplab::wire
