// A kernel-socket client that holds N connections to one port open at the same time, each
// doing an echo round trip, to test the listener's SYN and accept queues (--backlog) and
// demultiplexing of many connections. Reports the time for all N.
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tcp_concurrent --host IP --port N --count N [--size BYTES] [--timeout SECONDS]\n"
    "  starts N connects at once, waits until all are established, sends SIZE bytes on each\n"
    "  (different on each connection), reads every echo back and compares, then FIN on all\n"
    "  and waits for the server's FIN on all";

struct Conn {
  int fd = -1;
  std::vector<unsigned char> out, in;
  bool eof = false;
};

// Polls every connection still in `pending` for `events` until `step` says it is done.
template <class Step>
void run_phase(std::vector<Conn>& conns, short events, Clock::time_point deadline, const char* what,
               Step step) {
  std::vector<size_t> pending;
  for (size_t i = 0; i < conns.size(); ++i) pending.push_back(i);
  std::vector<pollfd> fds;
  while (!pending.empty()) {
    fds.clear();
    for (auto i : pending) fds.push_back(pollfd{conns[i].fd, events, 0});
    int n = poll(fds.data(), fds.size(), ms_left(deadline));
    if (n == 0)
      fail(std::string("timed out in ") + what + " with " + std::to_string(pending.size()) + " of " +
           std::to_string(conns.size()) + " connections not done");
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    std::vector<size_t> still;
    for (size_t k = 0; k < pending.size(); ++k) {
      size_t i = pending[k];
      if (fds[k].revents == 0 || !step(i, conns[i])) still.push_back(i);
    }
    pending.swap(still);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  auto host = args.str("host", "192.0.2.2");
  auto port = static_cast<uint16_t>(args.num("port", 7));
  auto count = static_cast<size_t>(args.num("count", 100));
  auto size = static_cast<size_t>(args.num("size", 64));
  auto timeout = args.num("timeout", 30);
  args.done();
  auto to = make_address(host, port);
  auto deadline = Clock::now() + std::chrono::seconds(timeout);
  auto start = Clock::now();

  std::vector<Conn> conns(count);
  for (size_t i = 0; i < count; ++i) {
    conns[i].fd = make_socket(0);
    int rc = start_connect(conns[i].fd, to);
    if (rc != 0 && rc != EINPROGRESS) fail(std::string("connect: ") + std::strerror(rc));
    conns[i].out.resize(size);
    Pattern(100 + i).fill(conns[i].out.data(), size);  // a different stream per connection
  }
  run_phase(conns, POLLOUT, deadline, "connect", [](size_t i, Conn& c) {
    int err = connect_result(c.fd);
    if (err != 0) fail("connection " + std::to_string(i) + ": connect: " + std::strerror(err));
    return true;
  });
  double connected = seconds_since(start);
  // Every connection is established now, and none is closed yet: N at once.
  for (auto& c : conns) send_all(c.fd, c.out.data(), c.out.size(), deadline);
  run_phase(conns, POLLIN, deadline, "echo", [size](size_t i, Conn& c) {
    unsigned char buf[4096];
    ssize_t k = recv(c.fd, buf, sizeof buf, 0);
    if (k == 0) fail("connection " + std::to_string(i) + " closed early");
    if (k < 0) {
      if (errno == EAGAIN || errno == EINTR) return false;
      fail_errno("recv on connection " + std::to_string(i));
    }
    c.in.insert(c.in.end(), buf, buf + k);
    if (c.in.size() > size) fail("connection " + std::to_string(i) + ": too many bytes echoed");
    if (c.in.size() < size) return false;
    if (c.in != c.out)
      fail("connection " + std::to_string(i) + ": echoed bytes differ (crossed connections?)");
    return true;
  });
  for (auto& c : conns) {
    if (shutdown(c.fd, SHUT_WR) < 0) fail_errno("shutdown");
  }
  run_phase(conns, POLLIN, deadline, "close", [](size_t i, Conn& c) {
    char b;
    ssize_t k = recv(c.fd, &b, 1, 0);
    if (k > 0) fail("connection " + std::to_string(i) + ": data after the echo");
    if (k < 0) {
      if (errno == EAGAIN || errno == EINTR) return false;
      fail_errno("recv on connection " + std::to_string(i));
    }
    return true;
  });
  for (auto& c : conns) close(c.fd);
  double took = seconds_since(start);
  std::printf("count=%zu connect_seconds=%.3f seconds=%.3f conn_per_s=%.1f\n", count, connected, took,
              took > 0 ? static_cast<double>(count) / took : 0.0);
  return 0;
}
