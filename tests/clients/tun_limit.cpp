// tun_limit: how many packets a TUN device moves per second with no protocol work at all, the
// ceiling any userspace stack on it can reach. Attaches to an existing TUN (made by the bench
// script in its own namespace) and either
//   --mode write: writes one pre-built MTU-sized IPv4 packet over and over; its header checksum
//                 is wrong on purpose, so the kernel drops it at the first check (cheaply);
//   --mode read:  a thread sends MTU-sized UDP datagrams to --to (routed through the TUN) as
//                 fast as the kernel takes them, and the main thread reads them off the TUN.
// With --offload the TUN carries a virtio-net header (IFF_VNET_HDR), as tcplab --offload's does:
//   write: each write is a 64 KiB GSO super-packet (GSO TCPV4, gso_size MTU - 40) whose IPv4
//          header checksum is wrong, so the kernel drops the whole of it at the first check;
//   read:  the TUN is opened with TUN_F_CSUM | TUN_F_USO4/6 (Linux 6.2+), so the kernel hands
//          the sender's UDP GSO sends over unsegmented: one read per super-packet.
// Prints "packets=N seconds=S pps=P mbps=M" (packets: read()s or write()s; M: megabytes/s of
// IP payload beyond 40 header bytes per MTU-sized packet, counting a super-packet as the
// MTU-sized packets it stands for: comparable with a TCP transfer's payload rate).
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
#include "tests/clients/tun_attach.hpp"

using namespace tcpclient;

namespace {

const char* kUsage =
    "usage: tun_limit --dev NAME --mode write|read [--mtu 1500] [--seconds 2] [--to 198.18.0.99]\n"
    "                 [--offload 0|1]\n"
    "  attaches to the persistent TUN NAME and measures its raw packet rate one way";

// Linux 6.2 uapi; older headers lack them. The kernel takes UDP segmentation offload only as
// the pair (both or neither).
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

constexpr size_t kVnetHeader = 10;  // struct virtio_net_hdr
constexpr size_t kMaxDatagram = 65535;

int attach(const std::string& name, bool offload) {
  int fd = attach_tun(name, offload ? IFF_VNET_HDR : 0);
  if (offload) {
    int size = kVnetHeader;
    if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) fail_errno("TUNSETVNETHDRSZ");
    const unsigned long offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_USO4 | TUN_F_USO6;
    if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0) fail_errno("TUNSETOFFLOAD");
  }
  return fd;
}

void put_le16(unsigned char* p, size_t v) {
  p[0] = static_cast<unsigned char>(v & 0xff);
  p[1] = static_cast<unsigned char>(v >> 8);
}

// A virtio-net header + a 64 KiB IPv4/TCP super-packet of MTU - 40 byte segments, the IPv4
// header checksum wrong on purpose. Returns it and sets `segments` to how many it stands for.
std::vector<unsigned char> doomed_super_packet(size_t mtu, size_t& segments) {
  const size_t segment = mtu - 40;
  segments = (kMaxDatagram - 40) / segment;
  const size_t total = 40 + segments * segment;
  std::vector<unsigned char> p(kVnetHeader + total, 0);
  p[0] = 1;                // VIRTIO_NET_HDR_F_NEEDS_CSUM
  p[1] = 1;                // VIRTIO_NET_HDR_GSO_TCPV4
  put_le16(&p[2], 40);     // hdr_len
  put_le16(&p[4], segment);
  put_le16(&p[6], 20);     // csum_start: the TCP header
  put_le16(&p[8], 16);     // csum_offset: its checksum field
  unsigned char* ip = &p[kVnetHeader];
  ip[0] = 0x45;
  ip[2] = static_cast<unsigned char>(total >> 8);
  ip[3] = static_cast<unsigned char>(total);
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 6;
  ip[10] = 0xde;  // not the checksum of this header
  ip[11] = 0xad;
  const unsigned char src[] = {198, 18, 0, 2}, dst[] = {198, 18, 0, 1};
  std::memcpy(&ip[12], src, 4);
  std::memcpy(&ip[16], dst, 4);
  unsigned char* tcp = ip + 20;
  tcp[1] = 9;             // ports 0 -> 9 (nothing reads them)
  tcp[12] = 5 << 4;       // data offset: 20 bytes
  tcp[13] = 0x10;         // ACK
  return p;
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
  const bool offload = args.num("offload", 0) != 0;
  args.done();
  if (dev.empty() || (mode != "write" && mode != "read") || mtu < 576 || mtu > 65535) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  const int fd = attach(dev, offload);
  uint64_t packets = 0;
  uint64_t segments = 0;  // MTU-sized packets moved (a super-packet counts as what it carries)
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  if (mode == "write") {
    size_t per_write = 1;
    const auto packet = offload ? doomed_super_packet(mtu, per_write) : doomed_packet(mtu);
    while (Clock::now() < end) {
      // Check the clock every 256 writes: the loop is what is measured.
      for (int i = 0; i < 256; ++i) {
        if (write(fd, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size())) ++packets;
      }
    }
    segments = packets * per_write;
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
    std::vector<unsigned char> buf(kVnetHeader + kMaxDatagram + 1);
    pollfd p{fd, POLLIN, 0};
    while (Clock::now() < end) {
      for (int i = 0; i < 256; ++i) {
        const ssize_t n = read(fd, buf.data(), buf.size());
        if (n <= 0) {
          poll(&p, 1, 100);
          break;
        }
        ++packets;
        // A UDP GSO super-packet: its payload beyond the IP and UDP headers in datagrams of
        // mtu - 28 bytes (the sender's UDP_SEGMENT).
        const size_t udp_payload = mtu - 28;
        const size_t datagram = offload ? static_cast<size_t>(n) - kVnetHeader : static_cast<size_t>(n);
        segments += offload ? std::max<size_t>(1, (datagram - 28 + udp_payload - 1) / udp_payload) : 1;
      }
    }
    stop = true;
    sender.join();
  }
  const double took = seconds_since(start);
  const double payload_bytes = static_cast<double>(segments) * static_cast<double>(mtu - 40);
  std::printf("packets=%llu seconds=%.3f pps=%.0f mbps=%.1f\n", static_cast<unsigned long long>(packets),
              took, static_cast<double>(packets) / took, payload_bytes / took / 1e6);
  return packets > 0 ? 0 : 1;
}
