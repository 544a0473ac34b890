// Shared helpers for the kernel-socket test clients (tests/clients/tcp_*.cpp): option
// parsing, connect/send/receive with deadlines, and a byte pattern to verify transfers.
// Every blocking step is bounded by a deadline, so a hung peer fails the test, never hangs it.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace tcpclient {

using Clock = std::chrono::steady_clock;

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] inline void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

// "--name value" pairs; "--flag" alone means "1". Unknown names are a usage error (exit 2).
class Args {
 public:
  Args(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-h" || a == "--help") {
        std::printf("%s\n", usage_.c_str());
        std::exit(0);
      }
      if (a.rfind("--", 0) != 0) usage_error("unexpected argument " + a);
      std::string name = a.substr(2);
      if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
        values_[name] = argv[++i];
      } else {
        values_[name] = "1";
      }
    }
  }
  std::string str(const std::string& name, const std::string& fallback) {
    used_[name] = true;
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  uint64_t num(const std::string& name, uint64_t fallback) {
    auto s = str(name, "");
    if (s.empty()) return fallback;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') usage_error("--" + name + " needs a number, got '" + s + "'");
    return v;
  }
  bool flag(const std::string& name) { return str(name, "") == "1"; }
  // Call after reading every option: rejects names nobody asked for (typos).
  void done() {
    for (auto& [name, value] : values_) {
      if (!used_.count(name)) usage_error("unknown option --" + name);
    }
  }

 private:
  [[noreturn]] void usage_error(const std::string& what) {
    std::fprintf(stderr, "%s\n%s\n", what.c_str(), usage_.c_str());
    std::exit(2);
  }
  std::string usage_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
};

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Milliseconds left until the deadline, at least 0, for poll().
inline int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

inline void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) fail_errno("fcntl O_NONBLOCK");
}

inline sockaddr_in make_address(const std::string& host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) fail("bad IPv4 address " + host);
  return a;
}

// A non-blocking TCP socket, optionally with SO_RCVBUF set before connect (the window scale
// is chosen at SYN time from the buffer size, so it must be set before connecting).
inline int make_socket(int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno("socket");
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
    fail_errno("SO_RCVBUF");
  return fd;
}

// Starts a connect; returns 0 when done, EINPROGRESS when pending, or the errno.
inline int start_connect(int fd, const sockaddr_in& to) {
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) return 0;
  return errno;
}

// The result of a pending connect once the socket is writable.
inline int connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

// Connects with a deadline; fails the program on error or timeout.
inline int connect_to(const sockaddr_in& to, Clock::time_point deadline, int rcvbuf = 0) {
  int fd = make_socket(rcvbuf);
  int rc = start_connect(fd, to);
  if (rc == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, ms_left(deadline));
    if (n == 0) fail("connect timed out");
    if (n < 0) fail_errno("poll (connect)");
    rc = connect_result(fd);
  }
  if (rc != 0) fail(std::string("connect: ") + std::strerror(rc));
  return fd;
}

// Waits until fd is ready for `events`; fails on timeout.
inline void wait_for(int fd, short events, Clock::time_point deadline, const std::string& what) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = poll(&p, 1, ms_left(deadline));
  } while (n < 0 && errno == EINTR);
  if (n == 0) fail("timed out waiting to " + what);
  if (n < 0) fail_errno("poll");
}

// wait_for without sleeping: zero-timeout polls until the event or the deadline, yielding the
// core between them to anything else that is runnable (tcplab's own busy polling does the same).
inline void spin_for(int fd, short events, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, 0);
    if (n > 0) return;
    if (n < 0 && errno != EINTR) fail_errno("poll");
    if (Clock::now() >= deadline) fail("timed out waiting to " + what);
    sched_yield();
  }
}

inline void send_all(int fd, const void* data, size_t size, Clock::time_point deadline) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
    if (n > 0) {
      p += n;
      size -= static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      wait_for(fd, POLLOUT, deadline, "send");
    } else {
      fail_errno("send");
    }
  }
}

// Reads exactly `size` bytes; fails on EOF, error or timeout.
inline void recv_exact(int fd, void* data, size_t size, Clock::time_point deadline) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = recv(fd, p, size, 0);
    if (n > 0) {
      p += n;
      size -= static_cast<size_t>(n);
    } else if (n == 0) {
      fail("connection closed by peer with " + std::to_string(size) + " bytes still expected");
    } else if (errno == EAGAIN || errno == EINTR) {
      wait_for(fd, POLLIN, deadline, "receive");
    } else {
      fail_errno("recv");
    }
  }
}

// Waits for the peer's FIN with nothing before it; fails on data, error or timeout.
inline void expect_eof(int fd, Clock::time_point deadline) {
  char c;
  for (;;) {
    ssize_t n = recv(fd, &c, 1, 0);
    if (n == 0) return;
    if (n > 0) fail("expected end of stream, got more data");
    if (errno == EAGAIN || errno == EINTR) {
      wait_for(fd, POLLIN, deadline, "see the peer's FIN");
    } else {
      fail_errno("recv (waiting for FIN)");
    }
  }
}

// A deterministic, non-repeating byte stream (xorshift64*, one 8-byte word at a time), so a
// byte delivered at the wrong offset is always noticed, unlike a short repeating pattern.
// Generated a word at a time: the clients must outrun the stack they measure.
class Pattern {
 public:
  explicit Pattern(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  void fill(unsigned char* out, size_t n) {
    size_t i = 0;
    while (i < n && left_ > 0) out[i++] = take_byte();
    for (; i + 8 <= n; i += 8) {
      uint64_t w = next_word();
      std::memcpy(out + i, &w, 8);  // host byte order: both ends generate the same way
    }
    while (i < n) {
      if (left_ == 0) {
        word_ = next_word();
        left_ = 8;
      }
      out[i++] = take_byte();
    }
  }

 private:
  uint64_t next_word() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  unsigned char take_byte() {
    --left_;
    auto b = static_cast<unsigned char>(word_ & 0xff);
    word_ >>= 8;
    return b;
  }
  uint64_t state_;
  uint64_t word_ = 0;
  int left_ = 0;
};

// Byte `offset` of RFC 864's example pattern (see ChargenPattern; kept for other clients).
inline unsigned char chargen_byte(uint64_t offset) {
  constexpr uint64_t kLine = 74, kChars = 72, kPrintable = 95;
  uint64_t line = offset / kLine, col = offset % kLine;
  if (col == kChars) return '\r';
  if (col == kChars + 1) return '\n';
  return static_cast<unsigned char>(' ' + (line + col) % kPrintable);
}

// RFC 864's example pattern, written independently of the stack's chargen so the check is
// real: lines of 72 characters from the 95 printable ASCII characters, each line starting one
// character later than the one before, ended by CR LF. It repeats every 95 lines.
class ChargenPattern {
 public:
  static constexpr size_t kLine = 74, kChars = 72, kPrintable = 95, kPeriod = kLine * kPrintable;
  ChargenPattern() {
    // Two periods back to back, so any run of up to one period is one contiguous slice.
    for (size_t at = 0; at < 2 * kPeriod; ++at) bytes_[at] = chargen_byte(at);
  }
  // The offset of the first byte of `data` that differs from the pattern at stream offset
  // `offset`, or n if all match.
  size_t mismatch(uint64_t offset, const unsigned char* data, size_t n) const {
    size_t done = 0;
    while (done < n) {
      size_t at = static_cast<size_t>((offset + done) % kPeriod);
      size_t k = std::min(n - done, kPeriod);
      if (std::memcmp(data + done, bytes_ + at, k) != 0) {
        for (size_t i = 0; i < k; ++i) {
          if (data[done + i] != bytes_[at + i]) return done + i;
        }
      }
      done += k;
    }
    return n;
  }

 private:
  unsigned char bytes_[2 * kPeriod];
};

// A 64-bit digest to print next to a verified transfer (FNV-1a's constants applied to 8-byte
// words, with a final mix); equal digests mean equal streams for all practical purposes.
// The word-wise form keeps it far faster than the links it measures.
class Digest {
 public:
  void add(const unsigned char* p, size_t n) {
    size_t i = 0;
    while (i < n && tail_len_ != 0) add_byte(p[i++]);
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);  // host order, like add_byte's assembly of a word below
      mix(w);
    }
    while (i < n) add_byte(p[i++]);
  }
  uint64_t value() const {
    uint64_t h = (h_ ^ tail_ ^ (uint64_t{tail_len_} << 56)) * 0x100000001b3ull;
    return h ^ (h >> 32);
  }

 private:
  void mix(uint64_t w) {
    h_ = (h_ ^ w) * 0x100000001b3ull;
    h_ ^= h_ >> 29;
  }
  void add_byte(unsigned char b) {
    std::memcpy(reinterpret_cast<unsigned char*>(&tail_) + tail_len_, &b, 1);
    if (++tail_len_ == 8) {
      mix(tail_);
      tail_ = 0;
      tail_len_ = 0;
    }
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
  uint64_t tail_ = 0;
  unsigned tail_len_ = 0;
};

}  // namespace tcpclient
