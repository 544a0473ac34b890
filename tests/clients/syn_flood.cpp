// syn_flood: a bounded SYN flood for the SYN-cookie benchmark and integration test. It puts
// COUNT hand-made TCP SYNs onto a TUN interface through an AF_PACKET socket (as raw_inject
// does), each from a random source address in 198.18.0.0/15 (RFC 2544's benchmarking range,
// never routed outside) with a random port and ISN, at most RATE per second and for at most
// SECONDS. The stack's SYN-ACKs to those addresses go back into the TUN, where the kernel of
// the namespace has no route for them and drops them. Prints "sent N".
//
//   syn_flood --dst 192.0.2.2 --port 80 --count 100000 [--dev tcplab0] [--rate 50000]
//             [--seconds 30] [--seed N]
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "tests/clients/packet_bytes.hpp"
#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: syn_flood --dst IP --port N --count N [--dev tcplab0] [--rate 50000] [--seconds 30] [--seed N]";

constexpr uint32_t kFloodNet = 0xC6120000;   // 198.18.0.0
constexpr uint32_t kFloodMask = 0x0001ffff;  // /15: the low 17 bits vary
constexpr size_t kLength = 20 + 24;          // IPv4 + TCP with the MSS option

// One SYN with MSS 1460 from `src`:`sport` to `dst`:`dport`, checksums filled in.
void make_syn(std::array<uint8_t, kLength>& p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
              uint32_t isn, uint16_t id) {
  p.fill(0);
  uint8_t* ip = p.data();
  ip[0] = 0x45;
  put16(ip + 2, kLength);
  put16(ip + 4, id);
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  put32(ip + 12, src);
  put32(ip + 16, dst);
  put16(ip + 10, fold(sum16(ip, 20)));
  uint8_t* tcp = ip + 20;
  put16(tcp, sport);
  put16(tcp + 2, dport);
  put32(tcp + 4, isn);
  tcp[12] = 6 << 4;  // data offset: 24 bytes
  tcp[13] = 0x02;    // SYN
  put16(tcp + 14, 64240);
  tcp[20] = 2;  // MSS option, length 4, 1460
  tcp[21] = 4;
  put16(tcp + 22, 1460);
  // RFC 9293 §3.1: the checksum covers the pseudo-header (addresses, protocol, TCP length).
  uint32_t pseudo = sum16(ip + 12, 8) + 6 + (kLength - 20);
  put16(tcp + 16, fold(sum16(tcp, kLength - 20, pseudo)));
}

}  // namespace

int main(int argc, char** argv) {
  tcpclient::Args args(argc, argv, kUsage);
  const std::string dev = args.str("dev", "tcplab0");
  const std::string dst_text = args.str("dst", "");
  const auto port = static_cast<uint16_t>(args.num("port", 80));
  const uint64_t count = args.num("count", 0);
  const uint64_t rate = args.num("rate", 50000);
  const uint64_t seconds = args.num("seconds", 30);
  const uint64_t seed = args.num("seed", std::random_device{}());
  args.done();
  in_addr dst_addr{};
  if (dst_text.empty() || inet_pton(AF_INET, dst_text.c_str(), &dst_addr) != 1 || count == 0 || rate == 0 ||
      count > 10000000 || seconds == 0 || seconds > 600) {
    std::fprintf(stderr, "%s\n(count 1..10000000, rate > 0, seconds 1..600)\n", kUsage);
    return 2;
  }
  const uint32_t dst = ntohl(dst_addr.s_addr);
  unsigned ifindex = if_nametoindex(dev.c_str());
  if (ifindex == 0) {
    std::fprintf(stderr, "syn_flood: no interface %s\n", dev.c_str());
    return 1;
  }
  // SOCK_DGRAM on a TUN (no link header): the bytes we give are the whole packet.
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
  if (fd < 0) {
    std::fprintf(stderr, "syn_flood: AF_PACKET socket: %s (needs root)\n", std::strerror(errno));
    return 1;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = static_cast<int>(ifindex);

  std::mt19937_64 rng(seed);
  std::array<uint8_t, kLength> packet{};
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(seconds);
  uint64_t sent = 0, errors = 0;
  for (uint64_t i = 0; i < count; ++i) {
    // Pace: packet i may leave at start + i / rate.
    const auto due = start + std::chrono::nanoseconds(i * 1000000000ull / rate);
    auto now = Clock::now();
    if (now >= deadline) break;
    if (due > now) std::this_thread::sleep_for(due - now);
    uint64_t r = rng();
    uint32_t src = kFloodNet | (static_cast<uint32_t>(r) & kFloodMask);
    auto sport = static_cast<uint16_t>(1024 + (r >> 20) % 64000);
    make_syn(packet, src, dst, sport, port, static_cast<uint32_t>(r >> 32), static_cast<uint16_t>(i));
    if (sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      // ENOBUFS: the TUN's queue is full (the stack reads slower than we write); count it.
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
        std::fprintf(stderr, "syn_flood: sendto: %s\n", std::strerror(errno));
        return 1;
      }
      ++errors;
      continue;
    }
    ++sent;
  }
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("sent %llu (send errors %llu) in %.2f s\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(errors), took);
  close(fd);
  return 0;
}
