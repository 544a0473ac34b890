// pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each "type, total length, body,
// total length". A Section Header Block sets the byte order (its byte-order magic) and resets
// the interface list; Interface Description Blocks give each interface's link type and
// timestamp resolution; Enhanced, Simple and (obsolete) Packet Blocks carry the frames.
// Other blocks (name resolution, statistics, custom) are skipped.
#include <string>

#include "stack/capture/byte_reader.hpp"
#include "stack/capture/capture.hpp"

namespace tcplab::capture {

namespace {

constexpr uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescriptionBlock = 1;
constexpr uint32_t kObsoletePacketBlock = 2;
constexpr uint32_t kSimplePacketBlock = 3;
constexpr uint32_t kEnhancedPacketBlock = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptEndOfOptions = 0;
constexpr uint16_t kOptComment = 1;
constexpr uint16_t kOptIfTsresol = 9;
constexpr uint16_t kOptIfTsoffset = 14;

struct Interface {
  uint32_t linktype = 0;
  uint32_t snap_length = 0;
  uint8_t tsresol = 6;  // default: microseconds (10^-6)
  int64_t offset_seconds = 0;
};

CaptureResult failure(std::string text) { return CaptureResult{std::nullopt, std::move(text)}; }

size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

// Nanoseconds for `units` of an interface's resolution: if_tsresol's high bit picks a power
// of two, otherwise a power of ten.
int64_t to_nanoseconds(uint64_t units, const Interface& i) {
  unsigned __int128 u = units;
  unsigned __int128 ns;
  if (i.tsresol & 0x80) {
    unsigned shift = i.tsresol & 0x7f;
    ns = shift >= 64 ? 0 : (u * 1'000'000'000u) >> shift;
  } else if (i.tsresol <= 9) {
    unsigned __int128 scale = 1;
    for (int k = i.tsresol; k < 9; ++k) scale *= 10;
    ns = u * scale;
  } else {
    unsigned __int128 scale = 1;
    for (int k = 9; k < i.tsresol && k < 40; ++k) scale *= 10;
    ns = u / scale;
  }
  return static_cast<int64_t>(ns) + i.offset_seconds * 1'000'000'000;
}

// Walks the options in block body bytes [at, end). Calls on_option(code, value offset,
// length). Returns false when an option runs past the end.
template <class F>
bool each_option(const ByteReader& r, size_t at, size_t end, F on_option) {
  while (at + 4 <= end) {
    uint16_t code = r.u16(at), length = r.u16(at + 2);
    if (code == kOptEndOfOptions) return true;
    if (padded(length) > end - at - 4) return false;
    on_option(code, at + 4, size_t{length});
    at += 4 + padded(length);
  }
  return true;
}

}  // namespace

bool looks_like_pcapng(ConstBytes file) {
  return file.size() >= 4 && ByteReader(file, true).u32(0) == kSectionHeaderBlock;
}

CaptureResult parse_pcapng(ConstBytes file) {
  if (!looks_like_pcapng(file)) return failure("not a pcapng file (no section header block)");
  Capture capture;
  capture.format = Format::Pcapng;
  std::vector<Interface> interfaces;
  bool big_endian = false;
  bool first_section = true;
  for (size_t at = 0; at < file.size();) {
    auto where = " at byte " + std::to_string(at);
    if (file.size() - at < 12) return failure("truncated block" + where + " (file cut short?)");
    if (ByteReader(file, true).u32(at) == kSectionHeaderBlock) {
      // The byte-order magic follows type and length; it decides how to read the length.
      ByteReader be(file, true);
      if (be.u32(at + 8) == kByteOrderMagic)
        big_endian = true;
      else if (ByteReader(file, false).u32(at + 8) == kByteOrderMagic)
        big_endian = false;
      else
        return failure("corrupt section header block" + where + " (bad byte-order magic)");
      interfaces.clear();
      if (first_section) capture.big_endian = big_endian;
      first_section = false;
    }
    ByteReader r(file, big_endian);
    uint32_t type = r.u32(at), length = r.u32(at + 4);
    if (length < 12 || length % 4 != 0) return failure("corrupt block length" + where);
    if (!r.has(at, length)) return failure("truncated block" + where + " (file cut short?)");
    if (r.u32(at + length - 4) != length) return failure("corrupt block" + where + " (lengths differ)");
    size_t body = at + 8, end = at + length - 4;
    auto packet_from = [&](uint32_t interface_id, uint64_t units, uint32_t captured, uint32_t original,
                           size_t data_at, bool has_time) -> std::optional<std::string> {
      if (interface_id >= interfaces.size())
        return "packet block" + where + " names interface " + std::to_string(interface_id) +
               " that no interface description block declared";
      if (captured > end - data_at) return "corrupt packet block" + where + " (captured length too big)";
      CapturedPacket p;
      const Interface& i = interfaces[interface_id];
      p.time_ns = has_time ? to_nanoseconds(units, i) : 0;
      p.linktype = i.linktype;
      p.original_length = original;
      auto data = r.slice(data_at, captured);
      p.data.assign(data.begin(), data.end());
      size_t options_at = data_at + padded(captured);
      if (options_at < end && !each_option(r, options_at, end, [&](uint16_t code, size_t value, size_t n) {
            if (code != kOptComment) return;
            auto text = r.slice(value, n);
            p.comments.emplace_back(reinterpret_cast<const char*>(text.data()), text.size());
          }))
        return "corrupt packet block options" + where;
      capture.packets.push_back(std::move(p));
      return std::nullopt;
    };
    std::optional<std::string> error;
    switch (type) {
      case kSectionHeaderBlock:
        if (length < 28) return failure("corrupt section header block" + where);
        if (r.u16(body + 4) != 1)
          return failure("unsupported pcapng version " + std::to_string(r.u16(body + 4)));
        break;
      case kInterfaceDescriptionBlock: {
        if (end - body < 8) return failure("corrupt interface description block" + where);
        Interface i;
        i.linktype = r.u16(body);
        i.snap_length = r.u32(body + 4);
        if (!each_option(r, body + 8, end, [&](uint16_t code, size_t value, size_t n) {
              if (code == kOptIfTsresol && n == 1) i.tsresol = static_cast<uint8_t>(r.slice(value, 1)[0]);
              if (code == kOptIfTsoffset && n == 8) i.offset_seconds = static_cast<int64_t>(r.u64(value));
            }))
          return failure("corrupt interface description block options" + where);
        if (i.tsresol != 6 && !(i.tsresol & 0x80) && i.tsresol > 6) capture.nanosecond = true;
        interfaces.push_back(i);
        break;
      }
      case kEnhancedPacketBlock:
        if (end - body < 20) return failure("corrupt enhanced packet block" + where);
        error = packet_from(r.u32(body), uint64_t{r.u32(body + 4)} << 32 | r.u32(body + 8), r.u32(body + 12),
                            r.u32(body + 16), body + 20, true);
        break;
      case kObsoletePacketBlock:
        if (end - body < 20) return failure("corrupt packet block" + where);
        error = packet_from(r.u16(body), uint64_t{r.u32(body + 4)} << 32 | r.u32(body + 8), r.u32(body + 12),
                            r.u32(body + 16), body + 20, true);
        break;
      case kSimplePacketBlock: {
        if (end - body < 4) return failure("corrupt simple packet block" + where);
        // The captured length is what the block holds, at most the interface's snap length.
        uint32_t original = r.u32(body);
        size_t room = end - body - 4;
        size_t captured = original < room ? original : room;
        if (!interfaces.empty() && interfaces[0].snap_length != 0 && captured > interfaces[0].snap_length)
          captured = interfaces[0].snap_length;
        error = packet_from(0, 0, static_cast<uint32_t>(captured), original, body + 4, false);
        break;
      }
      default:
        break;  // name resolution, statistics, custom blocks: nothing for a ladder
    }
    if (error) return failure(*error);
    at += length;
  }
  return CaptureResult{std::move(capture), {}};
}

}  // namespace tcplab::capture
