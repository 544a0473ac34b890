// Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header whose magic number gives the
// byte order and the timestamp unit, then records of 16-byte header + frame.
#include <string>

#include "stack/capture/byte_reader.hpp"
#include "stack/capture/capture.hpp"

namespace tcplab::capture {

namespace {

constexpr uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr uint32_t kMagicNano = 0xa1b23c4d;
constexpr size_t kFileHeaderLength = 24;
constexpr size_t kRecordHeaderLength = 16;
// No real frame is this long; a larger length means the file is corrupt, not a big packet.
constexpr uint32_t kMaxRecordLength = 256 * 1024 * 1024;

// Reads the magic as big-endian; returns it when it is one of ours in either byte order.
std::optional<std::pair<uint32_t, bool>> pcap_magic(ConstBytes file) {
  if (file.size() < 4) return std::nullopt;
  ByteReader be(file, true), le(file, false);
  for (uint32_t magic : {kMagicMicro, kMagicNano}) {
    if (be.u32(0) == magic) return std::make_pair(magic, true);
    if (le.u32(0) == magic) return std::make_pair(magic, false);
  }
  return std::nullopt;
}

CaptureResult failure(std::string text) { return CaptureResult{std::nullopt, std::move(text)}; }

}  // namespace

bool looks_like_pcap(ConstBytes file) { return pcap_magic(file).has_value(); }

CaptureResult parse_pcap(ConstBytes file) {
  auto magic = pcap_magic(file);
  if (!magic) return failure("not a pcap file (unknown magic number)");
  ByteReader r(file, magic->second);
  if (!r.has(0, kFileHeaderLength)) return failure("truncated pcap file header (file cut short?)");
  Capture capture;
  capture.format = Format::Pcap;
  capture.big_endian = magic->second;
  capture.nanosecond = magic->first == kMagicNano;
  if (r.u16(4) != 2) return failure("unsupported pcap version " + std::to_string(r.u16(4)));
  // The upper bits of the link-type field carry FCS information; the type is the low 16.
  uint32_t linktype = r.u32(20) & 0xffff;
  const int64_t fraction_limit = capture.nanosecond ? 1'000'000'000 : 1'000'000;
  const int64_t fraction_to_ns = capture.nanosecond ? 1 : 1000;
  for (size_t at = kFileHeaderLength; at < r.size();) {
    if (!r.has(at, kRecordHeaderLength))
      return failure("truncated packet record header at byte " + std::to_string(at) + " (file cut short?)");
    int64_t seconds = r.u32(at), fraction = r.u32(at + 4);
    uint32_t included = r.u32(at + 8), original = r.u32(at + 12);
    if (fraction >= fraction_limit || included > kMaxRecordLength)
      return failure("corrupt packet record at byte " + std::to_string(at));
    if (!r.has(at + kRecordHeaderLength, included))
      return failure("truncated packet record at byte " + std::to_string(at) + " (file cut short?)");
    CapturedPacket p;
    p.time_ns = seconds * 1'000'000'000 + fraction * fraction_to_ns;
    p.linktype = linktype;
    p.original_length = original;
    auto data = r.slice(at + kRecordHeaderLength, included);
    p.data.assign(data.begin(), data.end());
    capture.packets.push_back(std::move(p));
    at += kRecordHeaderLength + included;
  }
  return CaptureResult{std::move(capture), {}};
}

CaptureResult parse_capture(ConstBytes file) {
  if (looks_like_pcapng(file)) return parse_pcapng(file);
  if (looks_like_pcap(file)) return parse_pcap(file);
  return failure("not a pcap or pcapng file (unknown magic number)");
}

}  // namespace tcplab::capture
