// tun_http_floor: the least a server on a TUN must do per keep-alive HTTP request, to put the
// small-request rows of the benchmark next to a floor. It attaches to an existing TUN (made by
// the bench script in its own namespace) and answers as --ip on port 80 with no stack at all:
// a SYN gets a SYN-ACK, each segment with data gets one pre-built response of --bytes bytes of
// body (seq and ack filled in, checksums patched; with our FIN on it when the request does not
// ask for keep-alive, as tcplab sends it), a FIN gets a FIN-ACK, and everything else (ACKs,
// RSTs, options, windows, loss) is ignored. That is one read() of the request and one
// write() of the response per request, as for tcplab, but with no buffers, timers, parsing or
// state machine: what is left is the kernel's share of each packet (the TUN, and the client's
// whole TCP receive inside our write()), which no stack on this TUN can avoid.
// It is not a TCP: it assumes a loss-free link, one whole request per segment and a client
// that never fills its window (ab and wrk on a namespace's TUN, 1 KiB responses).
// Runs until SIGINT/SIGTERM or --seconds, then prints "requests=N connections=N".
#include <fcntl.h>
#include <signal.h>

#include <array>
#include <vector>

#include "tests/clients/packet_bytes.hpp"
#include "tests/clients/tcp_client.hpp"
#include "tests/clients/tun_attach.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tun_http_floor --dev NAME --ip ADDR [--bytes 1024] [--seconds 120] [--busy-poll-us 50]\n"
    "  answers every HTTP request on ADDR:80 of the persistent TUN NAME with the same response";

constexpr size_t kIpHeader = 20;
constexpr size_t kTcpHeader = 20;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

volatile sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }

struct Flow {
  uint32_t rcv_nxt = 0;  // the client's next sequence number
  uint32_t snd_nxt = 0;  // ours
  bool fin_sent = false;
};

bool contains(std::string_view text, std::string_view what) { return text.find(what) != text.npos; }

// HTTP/1.1 keeps the connection unless it says close; HTTP/1.0 only if it asks (ab -k does).
bool wants_keep_alive(std::string_view request) {
  if (contains(request, "close")) return false;
  return contains(request, "HTTP/1.1") || contains(request, "eep-Alive") || contains(request, "eep-alive");
}

class Floor {
 public:
  Floor(int fd, uint32_t ip, size_t body) : fd_(fd), ip_(ip), flows_(65536) {
    std::string content;
    for (size_t i = 0; i < body; ++i) content += static_cast<char>('a' + i % 26);
    for (const bool keep : {true, false}) {
      Response& r = keep ? kept_ : closing_;
      r.bytes = "HTTP/1.1 200 OK\r\nDate: Mon, 30 Nov 2026 00:00:00 GMT\r\nServer: tun_http_floor\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: " +
                std::to_string(body) + "\r\nConnection: " + (keep ? "keep-alive" : "close") + "\r\n\r\n" +
                content;
      r.sum = sum16(reinterpret_cast<const uint8_t*>(r.bytes.data()), r.bytes.size());
    }
  }

  void on_packet(const uint8_t* p, size_t n) {
    if (n < kIpHeader || p[0] >> 4 != 4 || p[9] != 6) return;
    const size_t ihl = size_t(p[0] & 0x0f) * 4;
    const size_t total = std::min<size_t>(get16(p + 2), n);
    if (total < ihl + kTcpHeader || get32(p + 16) != ip_) return;
    const uint8_t* tcp = p + ihl;
    if (get16(tcp + 2) != 80) return;
    const size_t offset = size_t(tcp[12] >> 4) * 4;
    if (total < ihl + offset) return;
    const size_t payload = total - ihl - offset;
    const uint8_t flags = tcp[13];
    const uint32_t peer = get32(p + 12);
    const uint16_t port = get16(tcp);
    const uint32_t seq = get32(tcp + 4);
    Flow& flow = flows_[port];
    if (flags & kRst) return;
    if (flags & kSyn) {
      flow = Flow{seq + 1, 1000, false};
      send(peer, port, flow, kSyn | kAck, nullptr);
      ++flow.snd_nxt;
      ++connections_;
      return;
    }
    if (payload > 0) {
      flow.rcv_nxt = seq + static_cast<uint32_t>(payload) + ((flags & kFin) ? 1 : 0);
      const std::string_view request(reinterpret_cast<const char*>(tcp + offset), payload);
      const bool keep = wants_keep_alive(request) && !(flags & kFin);
      const Response& r = keep ? kept_ : closing_;
      send(peer, port, flow, static_cast<uint8_t>(kAck | kPsh | (keep ? 0 : kFin)), &r);
      flow.snd_nxt += static_cast<uint32_t>(r.bytes.size()) + (keep ? 0 : 1);
      flow.fin_sent = !keep;
      ++requests_;
    } else if (flags & kFin) {
      flow.rcv_nxt = seq + 1;
      send(peer, port, flow, static_cast<uint8_t>(kAck | (flow.fin_sent ? 0 : kFin)), nullptr);
      if (!flow.fin_sent) ++flow.snd_nxt;
      flow.fin_sent = true;
    }
  }

  uint64_t requests() const { return requests_; }
  uint64_t connections() const { return connections_; }

 private:
  struct Response {
    std::string bytes;
    uint32_t sum = 0;  // of `bytes`, summed once
  };

  void send(uint32_t peer, uint16_t port, const Flow& flow, uint8_t flags, const Response* response) {
    const size_t body = response ? response->bytes.size() : 0;
    const size_t options = (flags & kSyn) ? 4 : 0;
    const size_t total = kIpHeader + kTcpHeader + options + body;
    uint8_t* p = out_.data();
    std::memset(p, 0, kIpHeader + kTcpHeader + options);
    p[0] = 0x45;
    put16(p + 2, static_cast<uint16_t>(total));
    p[8] = 64;
    p[9] = 6;
    put32(p + 12, ip_);
    put32(p + 16, peer);
    put16(p + 10, fold(sum16(p, kIpHeader)));
    uint8_t* tcp = p + kIpHeader;
    put16(tcp, 80);
    put16(tcp + 2, port);
    put32(tcp + 4, flow.snd_nxt);
    put32(tcp + 8, flow.rcv_nxt);
    tcp[12] = static_cast<uint8_t>((kTcpHeader + options) / 4 << 4);
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (options) {
      tcp[20] = 2;  // MSS
      tcp[21] = 4;
      put16(tcp + 22, 1460);
    }
    if (response) std::memcpy(tcp + kTcpHeader + options, response->bytes.data(), body);
    // RFC 9293 §3.1: the pseudo-header, the header, then the body's sum computed once.
    const size_t tcp_length = kTcpHeader + options + body;
    uint32_t sum = (ip_ >> 16) + (ip_ & 0xffff) + (peer >> 16) + (peer & 0xffff) + 6 + uint32_t(tcp_length);
    sum = sum16(tcp, kTcpHeader + options, sum) + (response ? response->sum : 0);
    put16(tcp + 16, fold(sum));
    if (::write(fd_, p, total) < 0 && errno != EAGAIN) fail_errno("write to the TUN");
  }

  int fd_;
  uint32_t ip_;
  std::vector<Flow> flows_;  // by the client's port: one client address (the namespace's own)
  Response kept_, closing_;
  std::array<uint8_t, 4096> out_{};
  uint64_t requests_ = 0, connections_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  const std::string dev = args.str("dev", "");
  const std::string ip_text = args.str("ip", "");
  const size_t body = args.num("bytes", 1024);
  const double seconds = static_cast<double>(args.num("seconds", 120));
  const auto spin = std::chrono::microseconds(args.num("busy-poll-us", 50));
  args.done();
  in_addr ip{};
  if (dev.empty() || inet_pton(AF_INET, ip_text.c_str(), &ip) != 1) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  if (body > 2048) fail("--bytes: at most 2048 (one segment)");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const int fd = attach_tun(dev, 0, O_NONBLOCK);
  Floor floor(fd, ntohl(ip.s_addr), body);
  std::array<uint8_t, 65536> in{};
  const auto end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto last_packet = Clock::now();
  std::printf("ready\n");
  std::fflush(stdout);
  while (!stop && Clock::now() < end) {
    // As tcplab's loop does (--busy-poll): keep checking for a while after traffic, then sleep.
    pollfd p{fd, POLLIN, 0};
    const bool spinning = Clock::now() - last_packet < spin;
    const int ready = ::poll(&p, 1, spinning ? 0 : 100);
    if (ready < 0 && errno != EINTR) fail_errno("poll");
    if (ready <= 0) {
      if (spinning) sched_yield();
      continue;
    }
    for (;;) {
      const ssize_t n = ::read(fd, in.data(), in.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        fail_errno("read from the TUN");
      }
      floor.on_packet(in.data(), static_cast<size_t>(n));
    }
    last_packet = Clock::now();
  }
  std::printf("requests=%llu connections=%llu\n", static_cast<unsigned long long>(floor.requests()),
              static_cast<unsigned long long>(floor.connections()));
  return 0;
}
