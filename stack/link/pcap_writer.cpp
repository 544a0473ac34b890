// Classic pcap files (see pcap_writer.hpp). The format: a 24-byte global header, then per
// packet a 16-byte record header and the bytes. We write every field little-endian (magic
// d4 c3 b2 a1), which readers detect from the magic, so files are identical on any host.
#include "stack/link/pcap_writer.hpp"

#include <array>
#include <cerrno>
#include <cstring>

namespace tcplab::link {

namespace {

constexpr uint32_t kPcapMagicMicroseconds = 0xa1b2c3d4;
constexpr uint16_t kPcapVersionMajor = 2;
constexpr uint16_t kPcapVersionMinor = 4;
constexpr size_t kStdioBufferSize = 256 * 1024;  // a burst of full-size packets per write()

void put_le16(std::byte* at, uint16_t v) {
  at[0] = std::byte(v & 0xff);
  at[1] = std::byte(v >> 8);
}
void put_le32(std::byte* at, uint32_t v) {
  put_le16(at, static_cast<uint16_t>(v & 0xffff));
  put_le16(at + 2, static_cast<uint16_t>(v >> 16));
}

}  // namespace

PcapWriter::PcapWriter(const std::string& path)
    : stdio_buffer_(kStdioBufferSize),
      path_(path),
      steady_origin_(std::chrono::steady_clock::now()),
      wall_origin_(std::chrono::system_clock::now()) {
  file_.reset(std::fopen(path.c_str(), "wb"));
  if (!file_) {
    fail("cannot open");
    return;
  }
  std::setvbuf(file_.get(), stdio_buffer_.data(), _IOFBF, stdio_buffer_.size());
  std::array<std::byte, 24> header{};
  put_le32(&header[0], kPcapMagicMicroseconds);
  put_le16(&header[4], kPcapVersionMajor);
  put_le16(&header[6], kPcapVersionMinor);
  put_le32(&header[8], 0);   // thiszone: timestamps are UTC
  put_le32(&header[12], 0);  // sigfigs: always 0
  put_le32(&header[16], kPcapSnapLength);
  put_le32(&header[20], kLinktypeRaw);
  if (std::fwrite(header.data(), 1, header.size(), file_.get()) != header.size()) {
    fail("cannot write");
    return;
  }
  // The header goes to disk at once so even an empty capture is a valid file.
  flush();
}

PcapWriter::~PcapWriter() {
  // fclose writes what is still buffered; stdio_buffer_ is declared first, so it is still
  // alive here and also when file_'s own destructor would run.
  file_.reset();
}

void PcapWriter::fail(const std::string& what) {
  if (error_.empty()) error_ = what + " " + path_ + ": " + std::strerror(errno);
}

void PcapWriter::set_origin(Instant steady, std::chrono::system_clock::time_point wall) {
  steady_origin_ = steady;
  wall_origin_ = wall;
}

void PcapWriter::packet(Instant t, trace::Direction, std::span<const std::byte> ipv4) {
  if (!file_ || !ok()) return;
  auto wall =
      wall_origin_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_origin_);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(wall.time_since_epoch()).count();
  if (us < 0) us = 0;  // a virtual clock far before the origin: clamp rather than wrap
  uint32_t orig_len = static_cast<uint32_t>(ipv4.size());
  uint32_t incl_len = orig_len < kPcapSnapLength ? orig_len : kPcapSnapLength;
  std::array<std::byte, 16> record{};
  put_le32(&record[0], static_cast<uint32_t>(us / 1000000));
  put_le32(&record[4], static_cast<uint32_t>(us % 1000000));
  put_le32(&record[8], incl_len);
  put_le32(&record[12], orig_len);
  if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size() ||
      std::fwrite(ipv4.data(), 1, incl_len, file_.get()) != incl_len) {
    fail("cannot write");
    return;
  }
  ++packets_;
  dirty_ = true;
  // The first packet after a quiet spell goes out at once; a burst collects in the buffer.
  flush_due(t);
}

void PcapWriter::flush() {
  if (!file_ || !ok()) return;
  if (std::fflush(file_.get()) != 0) fail("cannot write");
  dirty_ = false;
}

std::optional<Instant> PcapWriter::next_flush_deadline() const {
  if (!dirty_ || !last_flush_) return std::nullopt;
  return *last_flush_ + kPcapFlushInterval;
}

void PcapWriter::flush_due(Instant now) {
  if (!dirty_) return;
  if (!last_flush_ || now - *last_flush_ >= kPcapFlushInterval) {
    flush();
    last_flush_ = now;
  }
}

}  // namespace tcplab::link
