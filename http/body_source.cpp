// Body sources: in-memory text, the deterministic /bytes pattern, and files read in chunks.
#include "http/body_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "http/open_file.hpp"

namespace tcplab::http {

size_t StringBody::read(std::span<char> out) {
  size_t n = std::min(out.size(), text_.size() - offset_);
  std::memcpy(out.data(), text_.data() + offset_, n);
  offset_ += n;
  return n;
}

namespace {

// The pattern laid out once, 16 periods long: read() copies runs of it with memcpy instead of
// computing every byte, since /bytes/N is what bulk transfers and benchmarks send.
constexpr size_t kPeriod = 251;
constexpr size_t kPatternTableLength = kPeriod * 16;

const std::array<char, kPatternTableLength>& pattern_table() {
  static const std::array<char, kPatternTableLength> table = [] {
    std::array<char, kPatternTableLength> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<char>(i % kPeriod);
    return t;
  }();
  return table;
}

}  // namespace

size_t PatternBody::read(std::span<char> out) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), n_ - offset_));
  const auto& table = pattern_table();
  size_t done = 0;
  while (done < n) {
    // Start in the first period at the right phase; the rest of the table follows in order.
    auto phase = static_cast<size_t>((offset_ + done) % kPeriod);
    size_t run = std::min(n - done, table.size() - phase);
    std::memcpy(out.data() + done, table.data() + phase, run);
    done += run;
  }
  offset_ += n;
  return n;
}

std::unique_ptr<FileBody> FileBody::open(const std::string& path) {
  // Never a blocking open(): a FIFO in the file's place would stop the event loop.
  OpenedFile file = open_regular_file(path);
  if (file.failure != OpenFailure::None) return nullptr;
  return std::make_unique<FileBody>(file.fd, static_cast<uint64_t>(file.st.st_size));
}

FileBody::~FileBody() { ::close(fd_); }

size_t FileBody::read(std::span<char> out) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset_));
  if (want == 0) return 0;
  ssize_t n;
  do {
    n = ::pread(fd_, out.data(), want, static_cast<off_t>(offset_));
  } while (n < 0 && errno == EINTR);
  // A file that shrank under us (end of file before size_) or a read error: the body ends
  // here, short of length(). Zeros in its place would reach the client as a whole, valid
  // response; the session closes the connection instead (RFC 9112 §8).
  if (n <= 0) return 0;
  offset_ += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

}  // namespace tcplab::http
