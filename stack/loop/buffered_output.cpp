// The non-blocking body output: the write() side of backpressure from stdout to TCP.
#include "stack/loop/buffered_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "stack/link/open_output.hpp"

namespace tcplab::loop {
namespace {

// Sets O_NONBLOCK; the flags before, or -1 if they cannot be read or set.
int make_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
  return flags;
}

// A regular file or a disk: a write never waits for a reader, and O_NONBLOCK means nothing.
bool is_storage(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}

}  // namespace

std::unique_ptr<BufferedOutput> BufferedOutput::open(const std::string& path, std::string& error,
                                                     const std::function<void()>& waiting_for_reader) {
  return open_file(path, error, waiting_for_reader, link::ExistingContents::Truncated);
}

std::unique_ptr<BufferedOutput> BufferedOutput::open_kept_until_written(
    const std::string& path, std::string& error, const std::function<void()>& waiting_for_reader) {
  return open_file(path, error, waiting_for_reader, link::ExistingContents::Kept);
}

std::unique_ptr<BufferedOutput> BufferedOutput::open_file(const std::string& path, std::string& error,
                                                          const std::function<void()>& waiting_for_reader,
                                                          link::ExistingContents existing) {
  const int fd = link::open_output(path, waiting_for_reader, existing);
  if (fd < 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  // Opened here, so the flag is ours alone: a FIFO or a slow device no longer blocks writes.
  if (!is_storage(fd)) make_nonblocking(fd);
  auto output = std::unique_ptr<BufferedOutput>(new BufferedOutput(fd, true, -1));
  // Only a regular file has contents to keep until its new ones begin.
  struct stat st {};
  output->truncate_pending_ =
      existing == link::ExistingContents::Kept && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  return output;
}

std::unique_ptr<BufferedOutput> BufferedOutput::adopt(int fd, std::string& error) {
  if (is_storage(fd)) return std::unique_ptr<BufferedOutput>(new BufferedOutput(fd, false, -1));
  // A new open file description for the same pipe or terminal: O_NONBLOCK on it is ours alone.
  // O_NONBLOCK at open, so a pipe whose reader has gone fails here (ENXIO) instead of waiting.
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  const int own = ::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (own >= 0) return std::unique_ptr<BufferedOutput>(new BufferedOutput(own, true, -1));
  const int flags = make_nonblocking(fd);
  if (flags < 0) {
    error = std::string("cannot make the output non-blocking: ") + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<BufferedOutput>(new BufferedOutput(fd, false, flags));
}

BufferedOutput::~BufferedOutput() { close(); }

void BufferedOutput::start() {
  if (!truncate_pending_ || failed() || fd_ < 0) return;
  truncate_pending_ = false;
  if (::ftruncate(fd_, 0) != 0) fail(errno);
}

void BufferedOutput::write(std::string_view bytes) {
  if (failed() || fd_ < 0) return;
  if (truncate_pending_) {
    start();
    if (failed()) return;
  }
  if (buffered() == 0) {
    // Nothing waits ahead of these bytes: straight to the descriptor, as far as it takes them.
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) return fail(n < 0 ? errno : EIO);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    buffer_.clear();
    head_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  if (buffered() >= kOutputHighWater) full_ = true;
}

void BufferedOutput::on_ready(short revents) {
  (void)revents;  // POLLERR (a pipe's reader gone) shows as the write's EPIPE
  flush_some();
}

void BufferedOutput::flush_some() {
  while (buffered() > 0 && !failed()) {
    const ssize_t n = ::write(fd_, buffer_.data() + head_, buffered());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return fail(n < 0 ? errno : EIO);
    head_ += static_cast<size_t>(n);
  }
  if (buffered() <= kOutputLowWater) full_ = false;
  // Written bytes are dropped from the front once they are half the buffer, so the copy
  // costs at most as much as the writes did.
  if (head_ > 0 && head_ * 2 >= buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void BufferedOutput::fail(int error_number) {
  error_ = std::strerror(error_number);
  buffer_.clear();
  head_ = 0;
  full_ = false;
}

bool BufferedOutput::close() {
  if (fd_ < 0) return error_.empty();
  if (restore_flags_ >= 0) ::fcntl(fd_, F_SETFL, restore_flags_);
  bool ok = true;
  if (owned_ && ::close(fd_) != 0 && error_.empty()) {
    error_ = std::strerror(errno);
    ok = false;
  }
  fd_ = -1;
  return ok;
}

}  // namespace tcplab::loop
