// A kernel-socket client that opens and closes N connections one after the other and
// reports connections per second: the cost of a handshake and a teardown, and a check that
// the server forgets each connection (nothing left behind but bounded TIME-WAIT).
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tcp_cycles --host IP --port N --count N [--close client|server]\n"
    "         [--payload BYTES] [--timeout SECONDS]\n"
    "  each cycle: connect; with --payload send that many bytes and read them back (echo);\n"
    "  --close client (default): we FIN first, then wait for the server's FIN (the client\n"
    "                 holds TIME-WAIT)\n"
    "  --close server: read until the server's FIN (chargen with a byte limit, or a server\n"
    "                 that closes), then close (the server holds TIME-WAIT)\n"
    "  --timeout bounds the whole run";

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  auto host = args.str("host", "192.0.2.2");
  auto port = static_cast<uint16_t>(args.num("port", 7));
  auto count = args.num("count", 100);
  auto payload = static_cast<size_t>(args.num("payload", 0));
  auto who_closes = args.str("close", "client");
  auto timeout = args.num("timeout", 60);
  args.done();
  if (who_closes != "client" && who_closes != "server") fail("--close must be client or server");
  auto to = make_address(host, port);
  auto deadline = Clock::now() + std::chrono::seconds(timeout);
  std::vector<unsigned char> out(payload), in(payload);
  std::vector<unsigned char> drain(65536);
  Pattern pattern(11);
  uint64_t drained = 0;
  auto start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    int fd = connect_to(to, deadline);
    if (payload > 0) {
      pattern.fill(out.data(), payload);
      send_all(fd, out.data(), payload, deadline);
      recv_exact(fd, in.data(), payload, deadline);
      if (in != out) fail("cycle " + std::to_string(i) + ": echoed bytes differ");
    }
    if (who_closes == "client") {
      if (shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown");
      expect_eof(fd, deadline);
    } else {
      for (;;) {
        ssize_t k = recv(fd, drain.data(), drain.size(), 0);
        if (k == 0) break;
        if (k > 0) {
          drained += static_cast<uint64_t>(k);
        } else if (errno == EAGAIN || errno == EINTR) {
          wait_for(fd, POLLIN, deadline, "see the server's FIN in cycle " + std::to_string(i));
        } else {
          fail_errno("recv in cycle " + std::to_string(i));
        }
      }
    }
    close(fd);
  }
  double took = seconds_since(start);
  std::printf("count=%llu seconds=%.3f conn_per_s=%.1f drained=%llu\n",
              static_cast<unsigned long long>(count), took,
              took > 0 ? static_cast<double>(count) / took : 0.0, static_cast<unsigned long long>(drained));
  return 0;
}
