// A kernel-socket client for an RFC 862 echo server: round trips, half-close (our FIN first,
// the server keeps sending) and abort (SO_LINGER 0, so close() sends RST). Used by
// tests/integration/test-tcp-interop.sh; prints one "key=value" summary line on success.
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tcp_echo_client --host IP --port N [--mode roundtrip|halfclose|abort]\n"
    "         [--count N] [--size BYTES] [--timeout SECONDS]\n"
    "  roundtrip  COUNT times: send SIZE bytes, read them back, compare; then FIN and wait for\n"
    "             the server's FIN\n"
    "  halfclose  send SIZE bytes while reading, shutdown(SHUT_WR) after the last one, keep\n"
    "             reading every byte the server still sends, then expect its FIN\n"
    "  abort      one round trip of SIZE bytes, then close with SO_LINGER 0: RST, not FIN";

void round_trips(int fd, uint64_t count, size_t size, Clock::time_point deadline) {
  std::vector<unsigned char> out(size), in(size);
  Pattern pattern(1);
  auto start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    pattern.fill(out.data(), size);
    send_all(fd, out.data(), size, deadline);
    recv_exact(fd, in.data(), size, deadline);
    if (in != out) fail("round trip " + std::to_string(i) + ": echoed bytes differ");
  }
  double took = seconds_since(start);
  std::printf("mode=roundtrip count=%llu size=%zu seconds=%.3f rtt_us=%.1f\n",
              static_cast<unsigned long long>(count), size, took,
              count ? took / static_cast<double>(count) * 1e6 : 0.0);
}

// Sends `size` bytes and reads the echo at the same time (an echo server that cannot send
// stops reading, so sending everything first would deadlock), then half-closes.
void half_close(int fd, size_t size, Clock::time_point deadline) {
  std::vector<unsigned char> out(size), in;
  in.reserve(size);
  Pattern(2).fill(out.data(), size);
  size_t sent = 0, after_fin = 0;
  bool shut = false;
  unsigned char buf[65536];
  while (in.size() < size) {
    if (!shut && sent == size) {
      // RFC 9293 §3.10.4: our FIN only says we will send nothing more; the server may keep
      // sending (half-close), and its remaining echo must still arrive.
      if (shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown(SHUT_WR)");
      shut = true;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (sent < size ? POLLOUT : 0)), 0};
    int n = poll(&p, 1, ms_left(deadline));
    if (n == 0) fail("timed out: sent " + std::to_string(sent) + ", received " + std::to_string(in.size()));
    if (n < 0 && errno != EINTR) fail_errno("poll");
    if (sent < size && (p.revents & POLLOUT)) {
      ssize_t k = send(fd, out.data() + sent, size - sent, MSG_NOSIGNAL);
      if (k > 0)
        sent += static_cast<size_t>(k);
      else if (k < 0 && errno != EAGAIN && errno != EINTR)
        fail_errno("send");
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t k = recv(fd, buf, sizeof buf, 0);
      if (k == 0)
        fail("server closed after " + std::to_string(in.size()) + " of " + std::to_string(size) + " bytes");
      if (k < 0 && errno != EAGAIN && errno != EINTR) fail_errno("recv");
      if (k > 0) {
        in.insert(in.end(), buf, buf + k);
        if (shut) after_fin += static_cast<size_t>(k);
      }
    }
  }
  if (!shut) {
    if (shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown(SHUT_WR)");
  }
  if (in != out) fail("half-close: echoed bytes differ");
  expect_eof(fd, deadline);
  std::printf("mode=halfclose size=%zu after_fin=%zu\n", size, after_fin);
}

void abort_connection(int fd, size_t size, Clock::time_point deadline) {
  std::vector<unsigned char> out(size), in(size);
  Pattern(3).fill(out.data(), size);
  send_all(fd, out.data(), size, deadline);
  recv_exact(fd, in.data(), size, deadline);
  if (in != out) fail("abort: echoed bytes differ");
  sockaddr_in local{};
  socklen_t len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) fail_errno("getsockname");
  // SO_LINGER with a zero timeout makes close() discard the connection with RST (the
  // sockets API's way to ask for RFC 9293 §3.10.5 ABORT).
  linger l{1, 0};
  if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) fail_errno("SO_LINGER");
  std::printf("mode=abort local_port=%u\n", unsigned{ntohs(local.sin_port)});
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  auto host = args.str("host", "192.0.2.2");
  auto port = static_cast<uint16_t>(args.num("port", 7));
  auto mode = args.str("mode", "roundtrip");
  auto count = args.num("count", 10);
  auto size = static_cast<size_t>(args.num("size", 100));
  auto timeout = args.num("timeout", 10);
  args.done();
  auto deadline = Clock::now() + std::chrono::seconds(timeout);
  int fd = connect_to(make_address(host, port), deadline);
  if (mode == "roundtrip") {
    round_trips(fd, count, size, deadline);
    if (shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown");
    expect_eof(fd, deadline);
  } else if (mode == "halfclose") {
    half_close(fd, size, deadline);
  } else if (mode == "abort") {
    abort_connection(fd, size, deadline);
  } else {
    fail("unknown mode " + mode);
  }
  close(fd);
  return 0;
}
