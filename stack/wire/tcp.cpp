// TCP segment parse and emit (RFC 9293 §3.1) with the options we understand
// (MSS RFC 9293 §3.7.1, window scale and timestamps RFC 7323, SACK RFC 2018).
#include "stack/wire/tcp.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <optional>
#include <string_view>

#include "stack/wire/checksum.hpp"
#include "stack/wire/pseudo_header.hpp"

namespace tcplab::wire {

namespace {
// RFC 9293 §3.1 field positions.
constexpr size_t kSourcePort = 0, kDestinationPort = 2, kSeq = 4, kAck = 8, kDataOffset = 12, kFlags = 13,
                 kWindow = 14, kChecksum = 16, kUrgentPointer = 18;

// Option kinds (IANA "TCP Option Kind Numbers") and their fixed lengths.
constexpr uint8_t kOptEnd = 0, kOptNop = 1, kOptMss = 2, kOptWindowScale = 3, kOptSackPermitted = 4,
                  kOptSack = 5, kOptTimestamps = 8;
constexpr uint8_t kLenMss = 4, kLenWindowScale = 3, kLenSackPermitted = 2, kLenTimestamps = 10;
constexpr size_t kSackBlockLength = 8;  // RFC 2018 §3: left edge + right edge, 32 bits each

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAckBit = 0x10, kUrg = 0x20,
                  kEce = 0x40, kCwr = 0x80;

// Fills `out`; if the option list is malformed, returns the rule it broke (for the trace's
// tcp-bad-option line) and `out` is not to be used.
std::optional<std::string_view> parse_options(ConstBytes opts, TcpOptions& out) {
  size_t i = 0;
  while (i < opts.size()) {
    uint8_t kind = read_u8(opts, i);
    if (kind == kOptEnd) break;  // RFC 9293 §3.2: end of option list; the rest is padding
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    // RFC 9293 §3.1 (MUST-68): every other option carries a length byte counting kind and
    // length; an illegal length (e.g., zero) is handled by dropping the segment (MUST-7).
    if (i + 1 >= opts.size()) return "option kind without its length byte at the end of the header";
    uint8_t len = read_u8(opts, i + 1);
    if (len < 2) return "option length below 2 (it counts the kind and length bytes)";
    if (i + len > opts.size()) return "option runs past the end of the header";
    ConstBytes opt = opts.subspan(i, len);
    switch (kind) {
      case kOptMss:
        if (len != kLenMss) return "MSS option length is not 4";
        out.mss = read_u16(opt, 2);
        break;
      case kOptWindowScale: {
        if (len != kLenWindowScale) return "window scale option length is not 3";
        // Kept as on the wire, so a trace shows what the peer sent: RFC 7323 §2.3's "use 14
        // instead" of a larger shift is the connection's to apply (take_syn_options), and to log.
        out.window_scale = read_u8(opt, 2);
        break;
      }
      case kOptSackPermitted:
        if (len != kLenSackPermitted) return "SACK-permitted option length is not 2";
        out.sack_permitted = true;
        break;
      case kOptSack: {
        // RFC 2018 §3: length is 8n + 2 for n blocks; a SACK option without blocks says nothing.
        size_t body = len - 2u;
        if (body == 0) return "SACK option without blocks";
        if (body % kSackBlockLength != 0) return "SACK option length is not 2 + 8n";
        for (size_t b = 0; b < body / kSackBlockLength; ++b) {
          if (out.sack_blocks < kMaxSackBlocks) {
            size_t at = 2 + b * kSackBlockLength;
            out.sack[out.sack_blocks] = SackBlock{Seq(read_u32(opt, at)), Seq(read_u32(opt, at + 4))};
          }
          if (out.sack_blocks < 255) ++out.sack_blocks;
        }
        break;
      }
      case kOptTimestamps:
        if (len != kLenTimestamps) return "timestamps option length is not 10";
        out.timestamps = TcpTimestamps{read_u32(opt, 2), read_u32(opt, 6)};
        break;
      default:
        // RFC 9293 §3.1 (MUST-6; was RFC 1122 §4.2.2.5): unknown options are ignored without
        // error, skipped by their length.
        break;
    }
    i += len;
  }
  return std::nullopt;
}
}  // namespace

uint8_t TcpFlags::to_byte() const {
  return static_cast<uint8_t>((fin ? kFin : 0) | (syn ? kSyn : 0) | (rst ? kRst : 0) | (psh ? kPsh : 0) |
                              (ack ? kAckBit : 0) | (urg ? kUrg : 0) | (ece ? kEce : 0) | (cwr ? kCwr : 0));
}

TcpFlags TcpFlags::from_byte(uint8_t bits) {
  TcpFlags f;
  f.fin = bits & kFin;
  f.syn = bits & kSyn;
  f.rst = bits & kRst;
  f.psh = bits & kPsh;
  f.ack = bits & kAckBit;
  f.urg = bits & kUrg;
  f.ece = bits & kEce;
  f.cwr = bits & kCwr;
  return f;
}

std::string TcpFlags::to_string() const {
  // tcpdump's order and letters (print-tcp.c tcp_flag_values), which packetdrill shares.
  std::string s;
  if (fin) s += 'F';
  if (syn) s += 'S';
  if (rst) s += 'R';
  if (psh) s += 'P';
  if (ack) s += '.';
  if (urg) s += 'U';
  if (ece) s += 'E';
  if (cwr) s += 'W';
  if (s.empty()) s = "none";  // tcpdump prints [none] for a segment with no flags
  return s;
}

namespace {
constexpr size_t kMaxOptionBytes = kTcpMaxHeaderLength - kTcpMinHeaderLength;
}

size_t TcpOptions::emitted_sack_blocks() const {
  TcpOptions others = *this;
  others.sack_blocks = 0;
  size_t used = others.emitted_length();
  size_t room = used < kMaxOptionBytes ? kMaxOptionBytes - used : 0;
  if (room < 4 + kSackBlockLength) return 0;
  return std::min<size_t>({sack_blocks, kMaxSackBlocks, (room - 4) / kSackBlockLength});
}

size_t TcpOptions::emitted_length() const {
  // The layout emit_tcp writes (Linux's tcp_options_write), already 32-bit aligned.
  size_t n = 0;
  if (mss) n += kLenMss;
  if (timestamps)
    n += 12;  // sackOK+TS, or nop,nop,TS
  else if (sack_permitted)
    n += 4;                                    // nop,nop,sackOK
  if (window_scale) n += 1 + kLenWindowScale;  // nop,wscale
  size_t blocks = sack_blocks ? emitted_sack_blocks() : 0;
  if (blocks > 0) n += 2 + 2 + kSackBlockLength * blocks;  // nop,nop,sack
  return (n + 3) / 4 * 4;
}

std::string TcpOptions::to_string(Seq sack_base) const {
  // Lists what emit_tcp puts on the wire, in wire order, including the alignment NOPs,
  // so it reads like tcpdump/packetdrill: "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>".
  std::string s;
  auto item = [&s](const std::string& text) {
    s += s.empty() ? "<" : ",";
    s += text;
  };
  if (mss) item("mss " + std::to_string(*mss));
  if (timestamps) {
    if (sack_permitted)
      item("sackOK");
    else {
      item("nop");
      item("nop");
    }
    item("TS val " + std::to_string(timestamps->value) + " ecr " + std::to_string(timestamps->echo_reply));
  } else if (sack_permitted) {
    item("nop");
    item("nop");
    item("sackOK");
  }
  if (window_scale) {
    item("nop");
    item("wscale " + std::to_string(*window_scale));
  }
  if (sack_blocks) {
    item("nop");
    item("nop");
    std::string text = "sack";
    for (size_t b = 0; b < std::min<size_t>(sack_blocks, kMaxSackBlocks); ++b) {
      text += ' ' + std::to_string(seq_distance(sack_base, sack[b].left)) + ':' +
              std::to_string(seq_distance(sack_base, sack[b].right));
    }
    // Blocks beyond the fourth (several SACK options in one header) are counted, not kept.
    if (sack_blocks > kMaxSackBlocks) text += " +" + std::to_string(sack_blocks - kMaxSackBlocks);
    item(text);
  }
  if (!s.empty()) s += '>';
  return s;
}

Parsed<TcpSegment> parse_tcp(ConstBytes bytes, Ipv4Address source, Ipv4Address destination,
                             bool verify_checksum, FlagCheck flag_check) {
  if (bytes.size() < kTcpMinHeaderLength) return DropReason::TcpTruncated;
  // RFC 9293 §3.1: Data Offset counts 32-bit words; 5 is the bare header.
  size_t header_length = static_cast<size_t>(read_u8(bytes, kDataOffset) >> 4) * 4;
  if (header_length < kTcpMinHeaderLength || header_length > bytes.size())
    return DropReason::TcpBadDataOffset;
  if (verify_checksum) {
    // RFC 9293 §3.1 (MUST-3; was RFC 1122 §4.2.2.7): "the receiver MUST check it"; a segment
    // with a bad checksum is discarded.
    ChecksumAccumulator acc;
    add_pseudo_header(acc, source, destination, IpProtocol::Tcp, bytes.size());
    acc.add(bytes);
    if (acc.finish() != 0) return DropReason::TcpBadChecksum;
  }
  TcpSegment s;
  auto options = bytes.subspan(kTcpMinHeaderLength, header_length - kTcpMinHeaderLength);
  if (auto fault = parse_options(options, s.options)) return {DropReason::TcpBadOption, *fault};
  s.flags = TcpFlags::from_byte(read_u8(bytes, kFlags));
  // A segment cannot both open and close (SYN+FIN), open and abort (SYN+RST) or abort and
  // close (RST+FIN); rejecting these here means a strict reader never meets them. The TCP
  // host (FlagCheck::Host) takes all three: RFC 5961 §4 wants a challenge ACK for any SYN in
  // a synchronized state, so SYN+FIN needs the connection first, and RFC 9293 §3.10.7.3-4
  // act on a RST before they ever look at a SYN or a FIN.
  bool strict = flag_check == FlagCheck::Strict;
  int opposed = (s.flags.syn ? 1 : 0) + (s.flags.fin ? 1 : 0) + (s.flags.rst ? 1 : 0);
  if (strict && opposed > 1) return DropReason::TcpBadFlags;
  s.source_port = read_u16(bytes, kSourcePort);
  s.destination_port = read_u16(bytes, kDestinationPort);
  s.seq = Seq(read_u32(bytes, kSeq));
  s.ack = Seq(read_u32(bytes, kAck));
  s.window = read_u16(bytes, kWindow);
  s.urgent_pointer = read_u16(bytes, kUrgentPointer);
  s.payload = bytes.subspan(header_length);
  return s;
}

namespace {
size_t emit_options(const TcpOptions& o, MutableBytes out) {
  // Linux's order (tcp_options_write): MSS, then SACK-permitted tucked in front of the
  // timestamps (or two NOPs), then NOP + window scale. Every group is 4-byte aligned.
  size_t i = 0;
  auto put = [&](uint8_t b) { write_u8(out, i++, b); };
  if (o.mss) {
    put(kOptMss);
    put(kLenMss);
    write_u16(out, i, *o.mss);
    i += 2;
  }
  if (o.timestamps) {
    if (o.sack_permitted) {
      put(kOptSackPermitted);
      put(kLenSackPermitted);
    } else {
      put(kOptNop);
      put(kOptNop);
    }
    put(kOptTimestamps);
    put(kLenTimestamps);
    write_u32(out, i, o.timestamps->value);
    write_u32(out, i + 4, o.timestamps->echo_reply);
    i += 8;
  } else if (o.sack_permitted) {
    put(kOptNop);
    put(kOptNop);
    put(kOptSackPermitted);
    put(kLenSackPermitted);
  }
  if (o.window_scale) {
    put(kOptNop);
    put(kOptWindowScale);
    put(kLenWindowScale);
    put(*o.window_scale);
  }
  size_t blocks = o.emitted_sack_blocks();
  if (blocks > 0) {
    // RFC 2018 §3 with Linux's two leading NOPs, so the blocks are 32-bit aligned.
    put(kOptNop);
    put(kOptNop);
    put(kOptSack);
    put(static_cast<uint8_t>(2 + kSackBlockLength * blocks));
    for (size_t b = 0; b < blocks; ++b) {
      write_u32(out, i, o.sack[b].left.raw());
      write_u32(out, i + 4, o.sack[b].right.raw());
      i += kSackBlockLength;
    }
  }
  // RFC 9293 §3.1: the header ends on a 32-bit boundary; pad with end-of-option-list.
  while (i % 4 != 0) put(kOptEnd);
  return i;
}
}  // namespace

size_t emit_tcp(const TcpSegment& segment, Ipv4Address source, Ipv4Address destination, MutableBytes out,
                TcpChecksumFill fill) {
  // The caller's buffer, not network input: too small is our bug (tcp.hpp: 60 + payload).
  assert(out.size() >= kTcpMinHeaderLength + segment.options.emitted_length() + segment.payload.size());
  size_t options_length = emit_options(segment.options, out.subspan(kTcpMinHeaderLength));
  size_t header_length = kTcpMinHeaderLength + options_length;
  write_u16(out, kSourcePort, segment.source_port);
  write_u16(out, kDestinationPort, segment.destination_port);
  write_u32(out, kSeq, segment.seq.raw());
  write_u32(out, kAck, segment.ack.raw());
  write_u8(out, kDataOffset, static_cast<uint8_t>((header_length / 4) << 4));
  write_u8(out, kFlags, segment.flags.to_byte());
  write_u16(out, kWindow, segment.window);
  write_u16(out, kChecksum, 0);
  write_u16(out, kUrgentPointer, segment.urgent_pointer);
  if (!segment.payload.empty())
    std::memmove(out.data() + header_length, segment.payload.data(), segment.payload.size());
  size_t length = header_length + segment.payload.size();
  ChecksumAccumulator acc;
  add_pseudo_header(acc, source, destination, IpProtocol::Tcp, length);
  if (fill == TcpChecksumFill::LeftToLink) {
    // The link adds the sum of the segment itself and complements the total (virtio NEEDS_CSUM
    // semantics): the field holds the folded sum, which is ~finish().
    write_u16(out, kChecksum, static_cast<uint16_t>(~acc.finish()));
    return length;
  }
  acc.add(out.first(length));
  write_u16(out, kChecksum, acc.finish());
  return length;
}

}  // namespace tcplab::wire
