// A body output that never blocks the event loop (`tcplab get -o`): bytes go to the
// descriptor as far as it takes them at once, the rest waits in a buffer that the loop
// writes out when poll() says POLLOUT. While the buffer is over its mark, the application
// stops taking bytes from its socket (full()), so TCP's receive window closes and the
// sender sees a zero window instead of a receiver that has gone silent.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stack/link/open_output.hpp"
#include "stack/loop/watched_fd.hpp"

namespace tcplab::loop {

// Past this many buffered bytes the output is full: the reader has fallen behind by far more
// than a pipe holds (64 KiB on Linux), and nothing is gained by taking more from TCP.
constexpr size_t kOutputHighWater = 256 * 1024;
// A full output takes bytes again once its reader has brought it down to this: reading then
// resumes in runs, not in turns of one socket read each.
constexpr size_t kOutputLowWater = 64 * 1024;

class BufferedOutput final : public WatchedFd {
 public:
  // Creates or truncates `path`, as fopen(path, "wb") does; a FIFO with no reader yet calls
  // `waiting_for_reader`, then waits for one here (link::open_output). Null, with `error`
  // set, if it cannot.
  static std::unique_ptr<BufferedOutput> open(const std::string& path, std::string& error,
                                              const std::function<void()>& waiting_for_reader = {});
  // The same, but a regular file keeps what it holds until start() or the first write empties
  // it: an output whose bytes never come (a download that fails before its body) loses nothing.
  static std::unique_ptr<BufferedOutput> open_kept_until_written(
      const std::string& path, std::string& error, const std::function<void()>& waiting_for_reader = {});
  // Writes to `fd` (stdout's kept copy), which stays the caller's to close. A pipe or a
  // terminal is opened again through /proc/self/fd, so that making it non-blocking does not
  // change the descriptor the shell or our stderr may share; where that fails (a socket) the
  // flag is set on `fd` itself and put back by close().
  static std::unique_ptr<BufferedOutput> adopt(int fd, std::string& error);
  ~BufferedOutput() override;
  BufferedOutput(const BufferedOutput&) = delete;
  BufferedOutput& operator=(const BufferedOutput&) = delete;

  // Takes all of `bytes`: writes what the descriptor takes now, buffers the rest.
  void write(std::string_view bytes);
  // Empties a file opened by open_kept_until_written, once: its new contents begin (even if
  // they are empty). Does nothing to any other output.
  void start();
  // From reaching kOutputHighWater buffered bytes until the reader brings them down to
  // kOutputLowWater.
  bool full() const { return full_; }
  size_t buffered() const { return buffer_.size() - head_; }
  // A write failed (a reader that went away: EPIPE); error() says why. Nothing more is written.
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Puts the descriptor back as found and closes what this object opened. False if that
  // close failed (error() says why).
  bool close();

  int fd() const override { return fd_; }
  short wanted_events() const override { return buffered() > 0 && !failed() && fd_ >= 0 ? POLLOUT : 0; }
  void on_ready(short revents) override;

 private:
  BufferedOutput(int fd, bool owned, int restore_flags)
      : fd_(fd), owned_(owned), restore_flags_(restore_flags) {}
  static std::unique_ptr<BufferedOutput> open_file(const std::string& path, std::string& error,
                                                   const std::function<void()>& waiting_for_reader,
                                                   link::ExistingContents existing);
  // Writes buffered bytes until the descriptor would block.
  void flush_some();
  void fail(int error_number);  // error_ from errno; the buffer is dropped

  int fd_;
  bool owned_;         // opened here: closed by close()
  int restore_flags_;  // the file status flags to put back on a shared descriptor; -1: none
  std::vector<char> buffer_;
  size_t head_ = 0;  // bytes of buffer_ already written
  bool full_ = false;
  bool truncate_pending_ = false;  // open_kept_until_written: emptied at start()
  std::string error_;
};

}  // namespace tcplab::loop
