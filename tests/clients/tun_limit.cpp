// tun_limit: how many packets a TUN device moves per second with no protocol work at all, the
// ceiling any userspace stack on it can reach. Attaches to an existing TUN (made by the bench
// script in its own namespace) and either
//   --mode write: writes one pre-built MTU-sized IPv4 packet over and over; its header checksum
//                 is wrong on purpose, so the kernel drops it at the first check (cheaply);
//   --mode read:  a thread sends MTU-sized UDP datagrams to --to (routed through the TUN) as
//                 fast as the kernel takes them, and the main thread reads them off the TUN.
// Prints "packets=N seconds=S pps=P mbps=M" (M: megabytes/s of IP payload beyond 40 header
// bytes, comparable with a TCP transfer's payload rate).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "tests/clients/tcp_client.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tun_limit --dev NAME --mode write|read [--mtu 1500] [--seconds 2] [--to 198.18.0.99]\n"
    "  attaches to the persistent TUN NAME and measures its raw packet rate one way";

int attach(const std::string& name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) fail_errno("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) fail_errno("TUNSETIFF " + name);
  return fd;
}

// 20-byte IPv4 header + UDP header + zeros, total `mtu` bytes, with a wrong header checksum.
std::vector<unsigned char> doomed_packet(size_t mtu) {
  std::vector<unsigned char> p(mtu, 0);
  p[0] = 0x45;
  p[2] = static_cast<unsigned char>(mtu >> 8);
  p[3] = static_cast<unsigned char>(mtu);
  p[8] = 64;
  p[9] = 17;
  p[10] = 0xde;  // not the checksum of this header
  p[11] = 0xad;
  const unsigned char src[] = {198, 18, 0, 2}, dst[] = {198, 18, 0, 1};
  std::memcpy(&p[12], src, 4);
  std::memcpy(&p[16], dst, 4);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argc, argv, kUsage);
  const std::string dev = args.str("dev", "");
  const std::string mode = args.str("mode", "");
  const size_t mtu = args.num("mtu", 1500);
  const double seconds = static_cast<double>(args.num("seconds", 2));
  const std::string to = args.str("to", "198.18.0.99");
  args.done();
  if (dev.empty() || (mode != "write" && mode != "read") || mtu < 576 || mtu > 65535) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const int fd = attach(dev);
  uint64_t packets = 0;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  if (mode == "write") {
    const auto packet = doomed_packet(mtu);
    while (Clock::now() < end) {
      // Check the clock every 256 writes: the loop is what is measured.
      for (int i = 0; i < 256; ++i) {
        if (write(fd, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size())) ++packets;
      }
    }
  } else {
    std::atomic<bool> stop{false};
    std::thread sender([&] {
      int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (s < 0) fail_errno("socket");
      sockaddr_in a = make_address(to, 9);
      if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail_errno("connect (udp)");
      // UDP GSO (Linux 4.18+): one send of up to 64 datagrams that the kernel splits, so the
      // sender's system calls are not what is measured. Plain sends if the kernel lacks it.
      const int segment = static_cast<int>(mtu - 28);
      const bool gso = setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &segment, sizeof segment) == 0;
      // A GSO send carries at most 64 KiB of payload (and 64 segments).
      const size_t per_send = gso ? std::max<size_t>(1, std::min<size_t>(64, 65000 / segment)) : 1;
      std::vector<char> payload(static_cast<size_t>(segment) * per_send, 'x');
      while (!stop.load(std::memory_order_relaxed)) (void)!send(s, payload.data(), payload.size(), 0);
      close(s);
    });
    // Read until the queue is empty, then wait: a busy reader makes one read() per packet,
    // as the stack does.
    set_nonblocking(fd);
    std::vector<unsigned char> buf(65536);
    pollfd p{fd, POLLIN, 0};
    while (Clock::now() < end) {
      for (int i = 0; i < 256; ++i) {
        if (read(fd, buf.data(), buf.size()) <= 0) {
          poll(&p, 1, 100);
          break;
        }
        ++packets;
      }
    }
    stop = true;
    sender.join();
  }
  const double took = seconds_since(start);
  const double payload_bytes = static_cast<double>(packets) * static_cast<double>(mtu - 40);
  std::printf("packets=%llu seconds=%.3f pps=%.0f mbps=%.1f\n", static_cast<unsigned long long>(packets),
              took, static_cast<double>(packets) / took, payload_bytes / took / 1e6);
  return packets > 0 ? 0 : 1;
}
