// A kernel-socket bulk-transfer client: N bytes through an echo server (both directions
// verified), N bytes from chargen (verified against RFC 864's pattern) or N bytes into
// discard. Reports MB/s. A small SO_RCVBUF and reading pauses force zero windows.
#include <thread>
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tcp_bulk --host IP --port N --mode echo|chargen|discard --bytes N\n"
    "         [--rcvbuf BYTES] [--pause-every BYTES --pause-ms MS] [--timeout SECONDS]\n"
    "  echo     send N bytes of a non-repeating pattern while reading the echo; every byte\n"
    "           is compared; then FIN and wait for the server's FIN\n"
    "  chargen  read until the server's FIN; there must be exactly N bytes, each equal to\n"
    "           RFC 864's pattern (run the server with a chargen byte limit of N)\n"
    "  discard  send N bytes, FIN, wait for the server's FIN (digest printed as 0)\n"
    "  --half-close   (chargen) shutdown(SHUT_WR) right after connecting: the server must\n"
    "                 keep sending after our FIN (RFC 9293 §3.10.4, CLOSE-WAIT may send)\n"
    "  --rcvbuf       SO_RCVBUF before connect (small values shrink our advertised window)\n"
    "  --pause-every  stop reading for --pause-ms after every so many bytes received, so the\n"
    "                 receive buffer fills and the window the server sees drops to zero";

struct Options {
  std::string mode;
  uint64_t bytes = 0;
  uint64_t pause_every = 0;
  uint64_t pause_ms = 0;
  bool half_close = false;
};

// Counts received bytes and sleeps at each --pause-every boundary.
class Pacer {
 public:
  explicit Pacer(const Options& o) : every_(o.pause_every), ms_(o.pause_ms), next_(o.pause_every) {}
  void received(uint64_t total) {
    if (every_ == 0 || total < next_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms_));
    ++pauses_;
    while (next_ <= total) next_ += every_;
  }
  uint64_t pauses() const { return pauses_; }

 private:
  uint64_t every_, ms_, next_;
  uint64_t pauses_ = 0;
};

void report(const Options& o, double seconds, uint64_t digest, uint64_t pauses) {
  double mbps = seconds > 0 ? static_cast<double>(o.bytes) / 1e6 / seconds : 0.0;
  std::printf("mode=%s bytes=%llu seconds=%.3f mbps=%.1f digest=%016llx pauses=%llu\n", o.mode.c_str(),
              static_cast<unsigned long long>(o.bytes), seconds, mbps,
              static_cast<unsigned long long>(digest), static_cast<unsigned long long>(pauses));
}

void echo(int fd, const Options& o, Clock::time_point deadline) {
  Pattern tx(7), rx(7);
  Pacer pacer(o);
  Digest digest;
  std::vector<unsigned char> out(256 * 1024), in(256 * 1024), expect(256 * 1024);
  size_t out_len = 0, out_at = 0;
  uint64_t sent = 0, received = 0;
  bool shut = false;
  auto start = Clock::now();
  while (received < o.bytes) {
    if (out_at == out_len && sent < o.bytes) {
      out_len = static_cast<size_t>(std::min<uint64_t>(out.size(), o.bytes - sent));
      tx.fill(out.data(), out_len);
      out_at = 0;
    }
    bool want_send = out_at < out_len;
    if (!want_send && !shut) {
      if (shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown(SHUT_WR)");
      shut = true;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (want_send ? POLLOUT : 0)), 0};
    int n = poll(&p, 1, ms_left(deadline));
    if (n == 0) fail("timed out: sent " + std::to_string(sent) + ", received " + std::to_string(received));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    if (want_send && (p.revents & POLLOUT)) {
      ssize_t k = send(fd, out.data() + out_at, out_len - out_at, MSG_NOSIGNAL);
      if (k > 0) {
        out_at += static_cast<size_t>(k);
        sent += static_cast<uint64_t>(k);
      } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
        fail_errno("send");
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t k = recv(fd, in.data(), in.size(), 0);
      if (k == 0) fail("server closed after " + std::to_string(received) + " bytes");
      if (k < 0) {
        if (errno != EAGAIN && errno != EINTR) fail_errno("recv");
        continue;
      }
      auto got = static_cast<size_t>(k);
      if (received + got > o.bytes) fail("received more bytes than sent");
      rx.fill(expect.data(), got);
      if (std::memcmp(in.data(), expect.data(), got) != 0) {
        size_t at = 0;
        while (in[at] == expect[at]) ++at;
        fail("echoed byte " + std::to_string(received + at) + " differs");
      }
      digest.add(in.data(), got);
      received += got;
      pacer.received(received);
    }
  }
  if (!shut && shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown(SHUT_WR)");
  expect_eof(fd, deadline);
  report(o, seconds_since(start), digest.value(), pacer.pauses());
}

void chargen(int fd, const Options& o, Clock::time_point deadline) {
  static const ChargenPattern expected;
  if (o.half_close && shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown(SHUT_WR)");
  Pacer pacer(o);
  Digest digest;
  std::vector<unsigned char> in(256 * 1024);
  uint64_t received = 0;
  auto start = Clock::now();
  for (;;) {
    ssize_t k = recv(fd, in.data(), in.size(), 0);
    if (k == 0) break;
    if (k < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        wait_for(fd, POLLIN, deadline, "receive chargen bytes (" + std::to_string(received) + " so far)");
        continue;
      }
      fail_errno("recv");
    }
    auto got = static_cast<size_t>(k);
    if (received + got > o.bytes) fail("chargen sent more than " + std::to_string(o.bytes) + " bytes");
    size_t bad = expected.mismatch(received, in.data(), got);
    if (bad != got) fail("chargen byte " + std::to_string(received + bad) + " is wrong");
    digest.add(in.data(), got);
    received += got;
    pacer.received(received);
  }
  double took = seconds_since(start);
  if (received != o.bytes)
    fail("chargen ended after " + std::to_string(received) + " of " + std::to_string(o.bytes));
  report(o, took, digest.value(), pacer.pauses());
}

void discard(int fd, const Options& o, Clock::time_point deadline) {
  // Nothing comes back to verify, so one chunk of the pattern is sent over and over: the
  // client then costs almost nothing next to the transfer it measures.
  std::vector<unsigned char> out(1 << 20);
  Pattern(9).fill(out.data(), out.size());
  uint64_t sent = 0;
  auto start = Clock::now();
  while (sent < o.bytes) {
    auto n = static_cast<size_t>(std::min<uint64_t>(out.size(), o.bytes - sent));
    send_all(fd, out.data(), n, deadline);
    sent += n;
  }
  if (shutdown(fd, SHUT_WR) < 0) fail_errno("shutdown(SHUT_WR)");
  // The server's FIN comes after it has read our last byte, so this times the whole transfer.
  expect_eof(fd, deadline);
  report(o, seconds_since(start), 0, 0);
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  auto host = args.str("host", "192.0.2.2");
  auto port = static_cast<uint16_t>(args.num("port", 7));
  Options o;
  o.mode = args.str("mode", "echo");
  o.bytes = args.num("bytes", 1 << 20);
  o.pause_every = args.num("pause-every", 0);
  o.pause_ms = args.num("pause-ms", 100);
  o.half_close = args.flag("half-close");
  auto rcvbuf = static_cast<int>(args.num("rcvbuf", 0));
  auto timeout = args.num("timeout", 60);
  args.done();
  auto deadline = Clock::now() + std::chrono::seconds(timeout);
  int fd = connect_to(make_address(host, port), deadline, rcvbuf);
  if (o.mode == "echo") {
    echo(fd, o, deadline);
  } else if (o.mode == "chargen") {
    chargen(fd, o, deadline);
  } else if (o.mode == "discard") {
    discard(fd, o, deadline);
  } else {
    fail("unknown mode " + o.mode);
  }
  close(fd);
  return 0;
}
