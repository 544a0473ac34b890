// conn_load: many HTTP connections at once, for the benchmark's scale rows.
//   --mode latency: COUNT connects one after another; prints connect-time percentiles (µs).
//   --mode burst:   COUNT connects started at the same moment (or BATCH at a time with
//                   --batch, each batch driven to the end before the next), then one GET on
//                   each; counts how many were established, served, failed (refused: a RST),
//                   or timed out.
//   --mode hold:    opens COUNT keep-alive connections, at most BATCH opening at a time (a
//                   new one starts as soon as one is served), one GET on each so each is an
//                   idle HTTP keep-alive connection, prints "ready ... served=N ... seconds=S"
//                   (S: the time the opening took), then holds them for SECONDS (or until
//                   killed) and prints how many are still open.
//   --mode serial:  one GET on a new connection at a time, each given --request-timeout-ms,
//                   until COUNT requests or SECONDS have passed; prints how many failed (an
//                   error or no whole response in time) and the slowest request (ms).
// --from A,B,... binds the connections round-robin to these local addresses, so more than
// one address's worth of ports can be used. The port is left to connect()
// (IP_BIND_ADDRESS_NO_PORT): bind() with port 0 must find a port no other socket on that
// address holds, a search that grows with every port taken and took over 100 s per process
// when 100,000 connections shared five addresses.
#include <algorithm>
#include <sstream>
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: conn_load --host IP --port N --mode latency|burst|hold|serial --count N [--batch 500]\n"
    "                 [--seconds 10] [--timeout 30] [--request-timeout-ms 2000] [--from ADDR,ADDR,...]\n"
    "                 [--path /] [--spin 1]";

struct Conn {
  int fd = -1;
  std::string in;
  bool connected = false, served = false, failed = false, refused = false;
};

std::vector<sockaddr_in> parse_sources(const std::string& list) {
  std::vector<sockaddr_in> out;
  std::stringstream s(list);
  std::string a;
  while (std::getline(s, a, ',')) {
    if (!a.empty()) out.push_back(make_address(a, 0));
  }
  return out;
}

int open_from(const std::vector<sockaddr_in>& sources, size_t i) {
  int fd = make_socket(0);
  if (!sources.empty()) {
    const sockaddr_in& from = sources[i % sources.size()];
    int on = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on) < 0)
      fail_errno("IP_BIND_ADDRESS_NO_PORT");
    if (bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) < 0) fail_errno("bind");
  }
  return fd;
}

// One poll() event on a connection: a finished connect sends the request; readable bytes
// are gathered until a whole response has arrived (served) or the connection ends (failed).
void on_ready(Conn& c, const std::string& request) {
  if (!c.connected) {
    if (int rc = connect_result(c.fd); rc != 0) {
      c.failed = true;
      c.refused = rc == ECONNREFUSED || rc == ECONNRESET;
      return;
    }
    c.connected = true;
    if (send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      c.failed = true;
    return;
  }
  char buf[4096];
  ssize_t got = recv(c.fd, buf, sizeof buf, 0);
  if (got <= 0) {
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    c.failed = true;
    c.refused = got < 0 && errno == ECONNRESET;
    return;
  }
  c.in.append(buf, static_cast<size_t>(got));
  // The benchmark's responses carry Content-Length; a whole response has arrived when
  // the body after the blank line is that long.
  size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) return;
  size_t cl = c.in.find("Content-Length: ");
  if (cl == std::string::npos) cl = c.in.find("content-length: ");
  size_t length = cl == std::string::npos ? 0 : std::strtoul(c.in.c_str() + cl + 16, nullptr, 10);
  if (c.in.size() >= end + 4 + length) {
    c.served = true;
    c.in.clear();
    c.in.shrink_to_fit();  // 100,000 held connections keep no response bytes
  }
}

void start(Conn& c, const sockaddr_in& to) {
  int rc = start_connect(c.fd, to);
  if (rc != 0 && rc != EINPROGRESS) c.failed = true;
}

// Polls the connections of `conns` named by `live` (those neither served nor failed) once,
// at most until the deadline and 200 ms.
void poll_once(std::vector<Conn>& conns, const std::vector<size_t>& live, const std::string& request,
               Clock::time_point deadline) {
  std::vector<pollfd> fds;
  fds.reserve(live.size());
  for (size_t i : live)
    fds.push_back(pollfd{conns[i].fd, static_cast<short>(conns[i].connected ? POLLIN : POLLOUT), 0});
  int n = poll(fds.data(), fds.size(), std::min(ms_left(deadline), 200));
  if (n < 0 && errno != EINTR) fail_errno("poll");
  for (size_t k = 0; k < fds.size(); ++k) {
    if (fds[k].revents != 0) on_ready(conns[live[k]], request);
  }
}

bool finished(const Conn& c) { return c.failed || c.served; }

// Drives connects and one request/response on each connection in `conns` until every one is
// served or failed, or the deadline passes.
void drive(std::vector<Conn>& conns, const sockaddr_in& to, const std::string& request,
           Clock::time_point deadline) {
  for (auto& c : conns) start(c, to);
  std::vector<size_t> live;
  while (Clock::now() < deadline) {
    live.clear();
    for (size_t i = 0; i < conns.size(); ++i) {
      if (!finished(conns[i])) live.push_back(i);
    }
    if (live.empty()) return;
    poll_once(conns, live, request, deadline);
  }
}

// hold: keeps at most `window` connections opening (connecting or awaiting their response)
// and starts the next one as soon as one is served or has failed. Unlike batches driven to
// the end, one connection whose SYN was lost (the kernel resends it after 1 s, 3 s, 7 s, ...)
// does not stall the others, and a steady window never overflows a queue on the way.
void open_windowed(std::vector<Conn>& conns, size_t window, const std::vector<sockaddr_in>& sources,
                   const sockaddr_in& to, const std::string& request, Clock::time_point deadline) {
  std::vector<size_t> live;
  size_t next = 0;
  while (Clock::now() < deadline) {
    std::erase_if(live, [&](size_t i) { return finished(conns[i]); });
    while (live.size() < window && next < conns.size()) {
      conns[next].fd = open_from(sources, next);
      start(conns[next], to);
      if (!finished(conns[next])) live.push_back(next);
      ++next;
    }
    if (live.empty()) return;
    poll_once(conns, live, request, deadline);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  const std::string host = args.str("host", "");
  const auto port = static_cast<uint16_t>(args.num("port", 80));
  const std::string mode = args.str("mode", "");
  const size_t count = args.num("count", 100);
  // hold: 500 at a time unless told; burst: all at once unless told.
  const size_t batch_arg = args.num("batch", 0);
  const uint64_t hold_seconds = args.num("seconds", 10);
  const uint64_t timeout = args.num("timeout", 30);
  const auto sources = parse_sources(args.str("from", ""));
  const std::string path = args.str("path", "/");
  const uint64_t request_timeout_ms = args.num("request-timeout-ms", 2000);
  // latency: wait for the handshake with zero-timeout polls instead of sleeping in poll(), so
  // the figure leaves out the client's own wake-up (on a VM, waking an idle virtual CPU).
  const bool spin = args.flag("spin");
  args.done();
  if (host.empty() || (mode != "latency" && mode != "burst" && mode != "hold" && mode != "serial")) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const sockaddr_in to = make_address(host, port);
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  const auto deadline = Clock::now() + std::chrono::seconds(timeout);

  if (mode == "latency") {
    std::vector<double> micros;
    for (size_t i = 0; i < count && Clock::now() < deadline; ++i) {
      int fd = open_from(sources, i);
      const auto t0 = Clock::now();
      int rc = start_connect(fd, to);
      if (rc == EINPROGRESS) {
        if (spin) {
          spin_for(fd, POLLOUT, deadline, "connect");
        } else {
          wait_for(fd, POLLOUT, deadline, "connect");
        }
        rc = connect_result(fd);
      }
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (rc != 0) fail(std::string("connect: ") + std::strerror(rc));
      micros.push_back(us);
      close(fd);
    }
    std::sort(micros.begin(), micros.end());
    auto pct = [&](double p) {
      return micros[std::min(micros.size() - 1, static_cast<size_t>(p * micros.size()))];
    };
    if (micros.empty()) fail("no connection made");
    std::printf("connects=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f\n", micros.size(), pct(0.50), pct(0.99),
                micros.back());
    return 0;
  }

  if (mode == "serial") {
    // Bounded by COUNT and by SECONDS (the hold time), whichever ends first.
    const auto until = std::min(deadline, Clock::now() + std::chrono::seconds(hold_seconds));
    size_t requests = 0, failures = 0;
    double worst_ms = 0;
    for (size_t i = 0; i < count && Clock::now() < until; ++i) {
      std::vector<Conn> one(1);
      one[0].fd = open_from(sources, i);
      const auto t0 = Clock::now();
      drive(one, to, request, t0 + std::chrono::milliseconds(request_timeout_ms));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      close(one[0].fd);
      ++requests;
      if (!one[0].served) ++failures;
      worst_ms = std::max(worst_ms, ms);
    }
    std::printf("serial requests=%zu failures=%zu max_ms=%.1f\n", requests, failures, worst_ms);
    return 0;
  }

  std::vector<Conn> conns(count);
  const auto opening = Clock::now();
  const size_t batch = batch_arg > 0 ? batch_arg : (mode == "burst" ? count : 500);
  if (mode == "hold") {
    open_windowed(conns, batch, sources, to, request, deadline);
  } else {
    for (size_t i = 0; i < count; ++i) conns[i].fd = open_from(sources, i);
    for (size_t first = 0; first < count; first += batch) {
      std::vector<Conn> slice(conns.begin() + static_cast<long>(first),
                              conns.begin() + static_cast<long>(std::min(count, first + batch)));
      drive(slice, to, request, deadline);
      std::copy(slice.begin(), slice.end(), conns.begin() + static_cast<long>(first));
    }
  }
  size_t established = 0, served = 0, failed = 0, refused = 0;
  for (const auto& c : conns) {
    established += c.connected;
    served += c.served;
    failed += c.failed;
    refused += c.refused;
  }
  const size_t timed_out = count - served - failed;
  std::printf("%s count=%zu established=%zu served=%zu failed=%zu refused=%zu timed_out=%zu seconds=%.3f\n",
              mode == "hold" ? "ready" : "burst", count, established, served, failed, refused, timed_out,
              seconds_since(opening));
  std::fflush(stdout);
  if (mode == "hold") {
    const auto until = Clock::now() + std::chrono::seconds(hold_seconds);
    while (Clock::now() < until) usleep(100000);
    size_t open = 0;
    for (const auto& c : conns) {
      if (!c.served) continue;
      char b;
      ssize_t n = recv(c.fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
      if (n < 0 && errno == EAGAIN) ++open;  // still open and idle
    }
    std::printf("held open=%zu\n", open);
  }
  return 0;
}
