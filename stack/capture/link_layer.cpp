// Unwrapping link-layer frames to the IPv4 packet inside (tcpdump.org/linktypes.html).
#include <string>

#include "stack/capture/byte_reader.hpp"
#include "stack/capture/capture.hpp"

namespace tcplab::capture {

namespace {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeVlan = 0x8100;  // IEEE 802.1Q tag: 4 more bytes
constexpr uint16_t kEthertypeQinQ = 0x88a8;  // IEEE 802.1ad outer tag
constexpr size_t kSllHeader = 16;            // Linux "cooked" v1: protocol type in bytes 14-15
constexpr size_t kSll2Header = 20;           // v2: protocol type in bytes 0-1

// Raw IP link types carry IPv4 or IPv6; the version nibble says which.
std::optional<ConstBytes> if_ipv4(ConstBytes packet) {
  if (packet.empty() || (static_cast<unsigned>(packet[0]) >> 4) != 4) return std::nullopt;
  return packet;
}

// Link types a capture of another machine or interface often has, named so that the user
// recognises their capture (tcpdump.org/linktypes.html).
std::string linktype_name(uint32_t linktype) {
  switch (linktype) {
    case 0:
      return "BSD loopback";
    case 9:
      return "PPP";
    case 105:
      return "IEEE 802.11";
    case 108:
      return "OpenBSD loopback";
    case 127:
      return "IEEE 802.11 with radiotap";
  }
  if (linktype >= 147 && linktype <= 162) return "user-defined, DLT_USER" + std::to_string(linktype - 147);
  return "";
}

}  // namespace

bool linktype_supported(uint32_t linktype) {
  switch (linktype) {
    case kLinktypeRaw:
    case kDltRawBsd:
    case kDltRawOpenBsd:
    case kLinktypeIpv4:
    case kLinktypeEthernet:
    case kLinktypeLinuxSll:
    case kLinktypeLinuxSll2:
      return true;
  }
  return false;
}

std::string unsupported_linktype_text(uint32_t linktype) {
  std::string name = linktype_name(linktype);
  return "link type " + std::to_string(linktype) + (name.empty() ? "" : " (" + name + ")") +
         " is not supported; tcplab reads raw IP (101, 12, 14, 228), Ethernet (1) and Linux cooked capture "
         "(113, 276)";
}

std::optional<ConstBytes> ipv4_in_frame(uint32_t linktype, ConstBytes frame) {
  ByteReader r(frame, true);  // link headers are in network byte order
  switch (linktype) {
    case kLinktypeRaw:
    case kDltRawBsd:
    case kDltRawOpenBsd:
    case kLinktypeIpv4:
      return if_ipv4(frame);
    case kLinktypeEthernet: {
      size_t at = 12;
      while (r.has(at, 2) && (r.u16(at) == kEthertypeVlan || r.u16(at) == kEthertypeQinQ)) at += 4;
      if (!r.has(at, 2) || r.u16(at) != kEthertypeIpv4) return std::nullopt;
      return if_ipv4(frame.subspan(at + 2));
    }
    case kLinktypeLinuxSll:
      if (!r.has(0, kSllHeader) || r.u16(14) != kEthertypeIpv4) return std::nullopt;
      return if_ipv4(frame.subspan(kSllHeader));
    case kLinktypeLinuxSll2:
      if (!r.has(0, kSll2Header) || r.u16(0) != kEthertypeIpv4) return std::nullopt;
      return if_ipv4(frame.subspan(kSll2Header));
    default:
      return std::nullopt;
  }
}

}  // namespace tcplab::capture
