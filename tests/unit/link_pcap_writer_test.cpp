// Tests for the pcap tap (stack/link/pcap_writer.*) in classic pcap format: the global header
// and records byte by byte, timestamps from the clock mapping, truncation at the snap length,
// flushing, errors. The pcapng format and its comments: link_pcapng_test.cpp.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "stack/link/pcap_writer.hpp"

using namespace tcplab;
using tcplab::link::PcapWriter;

namespace {

// A unique path under $TMPDIR (or /tmp), removed when the test ends.
class TempPath {
 public:
  TempPath() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/tcplab-pcap-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    REQUIRE(fd >= 0);
    close(fd);
    path_ = buf.data();
  }
  ~TempPath() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}
uint16_t le16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}

std::vector<std::byte> bytes(size_t n, uint8_t first) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(first + i));
  return v;
}

const Instant t0 = Instant{} + seconds(10);
const auto wall0 = std::chrono::system_clock::time_point{} + seconds(1700000000);

}  // namespace

TEST_CASE("pcap: the global header says pcap 2.4, microseconds, raw IPv4") {
  TempPath tmp;
  PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
  REQUIRE(w.ok());
  CHECK(w.error().empty());
  // Written at construction and flushed: an empty capture is already a valid file.
  auto b = read_all(tmp.path());
  REQUIRE(b.size() == 24);
  CHECK(std::vector<uint8_t>(b.begin(), b.begin() + 4) == std::vector<uint8_t>{0xd4, 0xc3, 0xb2, 0xa1});
  CHECK(le16(b, 4) == 2);
  CHECK(le16(b, 6) == 4);
  CHECK(le32(b, 8) == 0);
  CHECK(le32(b, 12) == 0);
  CHECK(le32(b, 16) == 65535);
  CHECK(le32(b, 20) == 101);  // LINKTYPE_RAW
}

TEST_CASE("pcap: records carry wall-clock timestamps, lengths and the bytes") {
  TempPath tmp;
  {
    PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
    REQUIRE(w.ok());
    w.set_origin(t0, wall0);
    auto p1 = bytes(40, 0x45);
    auto p2 = bytes(60, 0x10);
    w.packet(t0 + microseconds(1500000), trace::Direction::In, p1);
    w.packet(t0 + microseconds(2999999), trace::Direction::Out, p2);
    CHECK(w.packets_written() == 2);
  }
  auto b = read_all(tmp.path());
  REQUIRE(b.size() == 24 + 16 + 40 + 16 + 60);
  size_t r = 24;
  CHECK(le32(b, r) == 1700000001u);
  CHECK(le32(b, r + 4) == 500000u);
  CHECK(le32(b, r + 8) == 40u);
  CHECK(le32(b, r + 12) == 40u);
  CHECK(b[r + 16] == 0x45);
  CHECK(b[r + 16 + 39] == static_cast<uint8_t>(0x45 + 39));
  r += 16 + 40;
  CHECK(le32(b, r) == 1700000002u);
  CHECK(le32(b, r + 4) == 999999u);
  CHECK(le32(b, r + 8) == 60u);
  CHECK(le32(b, r + 12) == 60u);
  CHECK(b[r + 16] == 0x10);
  CHECK(b.back() == static_cast<uint8_t>(0x10 + 59));
}

TEST_CASE("pcap: packets beyond the snap length are cut, their length kept") {
  TempPath tmp;
  {
    PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
    w.set_origin(t0, wall0);
    auto big = bytes(70000, 0);
    w.packet(t0, trace::Direction::In, big);
  }
  auto b = read_all(tmp.path());
  REQUIRE(b.size() == 24 + 16 + 65535);
  CHECK(le32(b, 24 + 8) == 65535u);
  CHECK(le32(b, 24 + 12) == 70000u);
}

TEST_CASE("pcap: the file can be read while running, within the flush interval") {
  TempPath tmp;
  PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
  w.set_origin(t0, wall0);
  auto p = bytes(40, 0x45);
  // The first packet after a quiet spell is on disk at once.
  w.packet(t0, trace::Direction::In, p);
  CHECK(read_all(tmp.path()).size() == 24 + 56);
  CHECK_FALSE(w.next_flush_deadline().has_value());
  // A burst collects in the buffer: no write per packet...
  w.packet(t0 + milliseconds(10), trace::Direction::Out, p);
  w.packet(t0 + milliseconds(20), trace::Direction::In, p);
  CHECK(read_all(tmp.path()).size() == 24 + 56);
  REQUIRE(w.next_flush_deadline().has_value());
  CHECK(*w.next_flush_deadline() == t0 + link::kPcapFlushInterval);
  CHECK(w.next_deadline() == w.next_flush_deadline());  // the event loop's view
  w.flush_due(t0 + link::kPcapFlushInterval - microseconds(1));
  CHECK(read_all(tmp.path()).size() == 24 + 56);
  // ...and is on disk once the interval has passed.
  w.advance(t0 + link::kPcapFlushInterval);
  CHECK(read_all(tmp.path()).size() == 24 + 3 * 56);
  CHECK_FALSE(w.next_flush_deadline().has_value());
}

TEST_CASE("pcap: an unwritable path is a clear error, not a crash") {
  PcapWriter w("/nonexistent-dir-for-tcplab/capture.pcap", link::PcapFormat::Pcap);
  CHECK_FALSE(w.ok());
  CHECK(w.error().find("/nonexistent-dir-for-tcplab/capture.pcap") != std::string::npos);
  CHECK(w.error().find("No such file") != std::string::npos);
  auto p = bytes(40, 0x45);
  w.packet(t0, trace::Direction::In, p);  // ignored
  w.flush();
  CHECK(w.packets_written() == 0);
}
