// TCP header and options (RFC 9293 §3.1, RFC 7323, RFC 2018) as a value type.
// Parse verifies the checksum over the pseudo-header; emit computes it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "stack/seq.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/result.hpp"

namespace tcplab::wire {

constexpr size_t kTcpMinHeaderLength = 20;
constexpr size_t kTcpMaxHeaderLength = 60;

struct TcpFlags {
  bool fin = false, syn = false, rst = false, psh = false;
  bool ack = false, urg = false, ece = false, cwr = false;

  uint8_t to_byte() const;
  static TcpFlags from_byte(uint8_t bits);
  // packetdrill/tcpdump letters: "S", "S.", "P.", "F.", "R", "R." ('.' is ACK).
  std::string to_string() const;
  bool operator==(const TcpFlags&) const = default;
};

struct TcpTimestamps {
  uint32_t value = 0;
  uint32_t echo_reply = 0;
  bool operator==(const TcpTimestamps&) const = default;
};

// RFC 2018 §3: one SACK block, [left, right) of data the receiver holds.
struct SackBlock {
  Seq left;
  Seq right;
  bool operator==(const SackBlock&) const = default;
};

// RFC 2018 §3: 40 option bytes hold at most 4 blocks (3 beside timestamps).
constexpr size_t kMaxSackBlocks = 4;

struct TcpOptions {
  std::optional<uint16_t> mss;              // kind 2, SYN only (RFC 9293 §3.7.1)
  std::optional<uint8_t> window_scale;      // kind 3, SYN only (RFC 7323 §2), as on the wire: may be > 14
  bool sack_permitted = false;              // kind 4 (RFC 2018)
  std::optional<TcpTimestamps> timestamps;  // kind 8 (RFC 7323 §3)
  // kind 5 (RFC 2018 §3): the number of blocks, and the first kMaxSackBlocks of them. emit_tcp
  // writes min(sack_blocks, kMaxSackBlocks) blocks after the other options.
  uint8_t sack_blocks = 0;
  std::array<SackBlock, kMaxSackBlocks> sack{};
  bool operator==(const TcpOptions&) const = default;
  // Bytes these options take when emitted, padded to a multiple of 4.
  size_t emitted_length() const;
  // SACK blocks emit_tcp writes: as many of the kept ones as fit in the 40 option bytes
  // beside the other options (RFC 2018 §3: 4 alone, 3 beside timestamps).
  size_t emitted_sack_blocks() const;
  // packetdrill style: "<mss 1460,sackOK,nop,wscale 7>"; empty string if no options. SACK
  // blocks are shown minus sack_base ("sack 1001:2001"), so a trace can print them relative
  // to the ISN they refer to, as it does the ACK.
  std::string to_string(Seq sack_base = Seq(0)) const;
};

struct TcpSegment {
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  Seq seq;
  Seq ack;
  TcpFlags flags;
  uint16_t window = 0;  // as on the wire, before scaling
  uint16_t urgent_pointer = 0;
  TcpOptions options;
  ConstBytes payload;  // points into the packet (parse) or the send buffer (emit)

  // SEG.LEN (RFC 9293 §3.4): payload plus one for SYN and one for FIN.
  uint32_t length() const {
    return static_cast<uint32_t>(payload.size()) + (flags.syn ? 1u : 0u) + (flags.fin ? 1u : 0u);
  }
};

// Which flag combinations parse_tcp refuses. Strict: SYN+FIN, SYN+RST and RST+FIN are all
// tcp-bad-flags. Host: all three are parsed, for the TCP host's own rules - RFC 5961 §4
// gives a SYN+FIN in a synchronized state a challenge ACK (and the host refuses it itself
// anywhere else), and RFC 9293 §3.10.7.3-4 check the RST bit (second) before the SYN
// (fourth) and the FIN (eighth), so SYN+RST and RST+FIN are RSTs.
enum class FlagCheck { Strict, Host };

// Verifies header length, data offset, option lengths, flags that make no sense (see
// FlagCheck) and, when verify_checksum, the checksum over the RFC 9293 §3.1 pseudo-header.
Parsed<TcpSegment> parse_tcp(ConstBytes bytes, Ipv4Address source, Ipv4Address destination,
                             bool verify_checksum = true, FlagCheck flag_check = FlagCheck::Strict);

// What emit_tcp puts in the checksum field. Complete: the RFC 9293 §3.1 checksum over the
// pseudo-header, header and payload. LeftToLink: only the folded pseudo-header sum, for a link
// that finishes it (a virtio-net NEEDS_CSUM write, --offload): no payload byte is summed.
enum class TcpChecksumFill : uint8_t { Complete, LeftToLink };

// Writes header, options and payload, the checksum as `fill` says; returns the bytes written.
// out must hold 60 + payload bytes.
size_t emit_tcp(const TcpSegment& segment, Ipv4Address source, Ipv4Address destination, MutableBytes out,
                TcpChecksumFill fill = TcpChecksumFill::Complete);

}  // namespace tcplab::wire
