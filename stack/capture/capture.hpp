// Capture files as value types: classic pcap (both byte orders, µs and ns timestamps) and
// pcapng (sections, interfaces with if_tsresol, enhanced/simple packets with opt_comment),
// parsed from bytes already in memory. Parsing is total: a cut or corrupt file is an error
// text with the byte offset, never undefined behaviour. Reading the file is the caller's job.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tcplab::capture {

using ConstBytes = std::span<const std::byte>;

// Link types (tcpdump.org/linktypes.html) whose frames we can unwrap to IPv4.
constexpr uint32_t kLinktypeEthernet = 1;
constexpr uint32_t kDltRawBsd = 12;  // DLT_RAW as some systems write it into files
constexpr uint32_t kDltRawOpenBsd = 14;
constexpr uint32_t kLinktypeRaw = 101;
constexpr uint32_t kLinktypeLinuxSll = 113;
constexpr uint32_t kLinktypeIpv4 = 228;
constexpr uint32_t kLinktypeLinuxSll2 = 276;

enum class Format { Pcap, Pcapng };

struct CapturedPacket {
  int64_t time_ns = 0;  // since the Unix epoch
  uint32_t linktype = 0;
  uint32_t original_length = 0;       // on the wire; data may be shorter (snap length)
  std::vector<std::byte> data;        // the frame as captured, link-layer header included
  std::vector<std::string> comments;  // pcapng opt_comment options, in order
};

struct Capture {
  Format format = Format::Pcap;
  bool big_endian = false;  // byte order of the file (pcap) or first section (pcapng)
  bool nanosecond = false;  // pcap magic a1b23c4d; pcapng: any interface finer than 1 µs
  std::vector<CapturedPacket> packets;
};

struct CaptureResult {
  std::optional<Capture> capture;
  std::string error;  // "truncated packet record at byte 40 (file cut short?)" when !capture
};

// True when the first bytes are a pcap or pcapng magic number.
bool looks_like_pcap(ConstBytes file);
bool looks_like_pcapng(ConstBytes file);

CaptureResult parse_pcap(ConstBytes file);
CaptureResult parse_pcapng(ConstBytes file);
// Either of the two, chosen by the magic number.
CaptureResult parse_capture(ConstBytes file);

// Whether ipv4_in_frame knows `linktype` at all (its frames may still hold no IPv4).
bool linktype_supported(uint32_t linktype);
// "link type 105 (IEEE 802.11) is not supported; tcplab reads raw IP (101, 12, 14, 228),
// Ethernet (1) and Linux cooked capture (113, 276)": one line for a user to act on.
std::string unsupported_linktype_text(uint32_t linktype);

// The IPv4 packet inside a frame of `linktype`, or nothing (another protocol such as IPv6 or
// ARP, an unknown link type, or a frame too short for its link header).
std::optional<ConstBytes> ipv4_in_frame(uint32_t linktype, ConstBytes frame);

}  // namespace tcplab::capture
