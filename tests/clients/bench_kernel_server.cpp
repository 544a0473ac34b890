// The baseline for `make bench`: the same chargen (RFC 864 pattern, N bytes then close) and
// discard services as tcplab's, but on the Linux kernel's own TCP over loopback, so the
// benchmark can print tcplab's throughput as a ratio of the kernel's on the same machine.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: bench_kernel_server --host IP --chargen-port N --discard-port N --bytes N --seconds S\n"
    "  serves one client at a time on each port for at most S seconds, then exits";

int listen_on(const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto addr = make_address(host, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::perror("bench_kernel_server: bind/listen");
    std::exit(1);
  }
  return fd;
}

void serve_chargen(int fd, uint64_t bytes) {
  constexpr size_t kPeriod = 74 * 95;  // the pattern repeats after 95 lines of 74 bytes
  static std::vector<unsigned char> pattern;
  if (pattern.empty()) {
    pattern.resize(kPeriod * 32);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = chargen_byte(i);
  }
  uint64_t sent = 0;
  while (sent < bytes) {
    size_t at = sent % kPeriod;
    size_t n = static_cast<size_t>(std::min<uint64_t>(bytes - sent, pattern.size() - at));
    ssize_t w = ::send(fd, pattern.data() + at, n, MSG_NOSIGNAL);
    if (w <= 0) break;
    sent += static_cast<uint64_t>(w);
  }
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  while (::recv(fd, sink, sizeof sink, 0) > 0) {
  }
}

void serve_discard(int fd) {
  std::vector<char> sink(1 << 16);
  while (::recv(fd, sink.data(), sink.size(), 0) > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  std::string host = args.str("host", "127.0.0.1");
  auto chargen_port = static_cast<uint16_t>(args.num("chargen-port", 1919));
  auto discard_port = static_cast<uint16_t>(args.num("discard-port", 1909));
  uint64_t bytes = args.num("bytes", 64ull << 20);
  int seconds = static_cast<int>(args.num("seconds", 60));
  args.done();
  ::signal(SIGCHLD, SIG_IGN);  // children are reaped by the kernel
  int chargen = listen_on(host, chargen_port);
  int discard = listen_on(host, discard_port);
  std::printf("bench_kernel_server: ready\n");
  std::fflush(stdout);
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  pollfd fds[2] = {{chargen, POLLIN, 0}, {discard, POLLIN, 0}};
  while (ms_left(deadline) > 0) {
    if (::poll(fds, 2, ms_left(deadline)) <= 0) continue;
    for (auto& p : fds) {
      if (!(p.revents & POLLIN)) continue;
      int c = ::accept(p.fd, nullptr, nullptr);
      if (c < 0) continue;
      if (::fork() == 0) {
        ::alarm(static_cast<unsigned>(seconds));  // a child never outlives the benchmark
        if (p.fd == chargen)
          serve_chargen(c, bytes);
        else
          serve_discard(c);
        ::_exit(0);
      }
      ::close(c);
    }
  }
  return 0;
}
