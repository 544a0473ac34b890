// Body sources: in-memory text, the deterministic /bytes pattern, and files read in chunks.
#include "http/body_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tcplab::http {

size_t StringBody::read(std::span<char> out) {
  size_t n = std::min(out.size(), text_.size() - offset_);
  std::memcpy(out.data(), text_.data() + offset_, n);
  offset_ += n;
  return n;
}

size_t PatternBody::read(std::span<char> out) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), n_ - offset_));
  // Fill by runs of the 251-byte period instead of a modulo per byte.
  size_t done = 0;
  while (done < n) {
    auto phase = static_cast<size_t>((offset_ + done) % 251);
    size_t run = std::min(n - done, size_t{251} - phase);
    for (size_t k = 0; k < run; ++k) out[done + k] = static_cast<char>(phase + k);
    done += run;
  }
  offset_ += n;
  return n;
}

std::unique_ptr<FileBody> FileBody::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<FileBody>(fd, static_cast<uint64_t>(st.st_size));
}

FileBody::~FileBody() { ::close(fd_); }

size_t FileBody::read(std::span<char> out) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset_));
  if (want == 0) return 0;
  ssize_t n;
  do {
    n = ::pread(fd_, out.data(), want, static_cast<off_t>(offset_));
  } while (n < 0 && errno == EINTR);
  // A file that shrank under us: pad with zeros so the promised Content-Length holds.
  if (n <= 0) {
    std::memset(out.data(), 0, want);
    n = static_cast<ssize_t>(want);
  }
  offset_ += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

}  // namespace tcplab::http
