// raw_inject: puts hand-made IPv4 packets straight onto a TUN interface through an AF_PACKET
// socket, so tcplab receives bytes the kernel's own IP stack would never send (integration
// tests of every drop reason). Optionally waits for the ICMP answer the stack should give.
//
//   raw_inject [--dev tcplab0] [--src 192.0.2.1] [--dst 192.0.2.2] [--count N]
//              [--expect-icmp TYPE/CODE] [--timeout-ms MS] CASE | --hex HEX
//   raw_inject --list
//
// --expect-icmp opens a raw ICMP socket before sending and succeeds only when an ICMP message
// of that type/code arrives from --dst quoting the packet we sent (RFC 792).
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

uint16_t checksum(const uint8_t* data, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (n % 2) sum += uint32_t{data[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void fix_ip_checksum(Bytes& p, size_t header_length) {
  put16(p, 10, 0);
  put16(p, 10, checksum(p.data(), std::min(header_length, p.size())));
}

struct Addresses {
  uint32_t src = 0xC0000201, dst = 0xC0000202;  // host order
};

// A valid ICMP echo request (id 0x7a6c, seq 1, 16 bytes of data): every case starts here.
Bytes echo_request(const Addresses& a, uint8_t protocol = 1) {
  Bytes icmp = {8, 0, 0, 0, 0x7a, 0x6c, 0, 1};
  for (int i = 0; i < 16; ++i) icmp.push_back(static_cast<uint8_t>('a' + i));
  put16(icmp, 2, checksum(icmp.data(), icmp.size()));
  Bytes p(20);
  p[0] = 0x45;
  put16(p, 2, static_cast<uint16_t>(20 + icmp.size()));
  put16(p, 4, 0x4242);
  put16(p, 6, 0x4000);  // DF
  p[8] = 64;
  p[9] = protocol;
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = static_cast<uint8_t>(a.src >> (24 - 8 * i));
    p[16 + i] = static_cast<uint8_t>(a.dst >> (24 - 8 * i));
  }
  p.insert(p.end(), icmp.begin(), icmp.end());
  fix_ip_checksum(p, 20);
  return p;
}

struct Case {
  const char* name;
  const char* reason;  // the drop reason tcplab should trace, or what it should answer
  bool (*make)(const Addresses&, Bytes&);
  void (*then)(const Addresses&, Bytes&) = nullptr;  // a second packet, sent after the first
};

// A fragment of echo_request's datagram: its ICMP bytes [begin, end), at offset `begin`.
Bytes echo_fragment(const Addresses& a, size_t begin, size_t end, bool more) {
  Bytes whole = echo_request(a);
  Bytes p(whole.begin(), whole.begin() + 20);
  p.insert(p.end(), whole.begin() + 20 + static_cast<long>(begin),
           whole.begin() + 20 + static_cast<long>(end));
  put16(p, 2, static_cast<uint16_t>(p.size()));
  put16(p, 6, static_cast<uint16_t>((more ? 0x2000 : 0) | (begin / 8)));
  fix_ip_checksum(p, 20);
  return p;
}

const Case kCases[] = {
    {"good", "echo reply",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       return true;
     }},
    {"bad-checksum", "ipv4-bad-checksum",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p[10] ^= 0x55;
       return true;
     }},
    {"bad-version", "ipv4-bad-version",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p[0] = 0x55;
       fix_ip_checksum(p, 20);
       return true;
     }},
    {"ihl-lt-5", "ipv4-bad-header-length",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p[0] = 0x44;
       fix_ip_checksum(p, 16);
       return true;
     }},
    {"ihl-past-packet", "ipv4-bad-header-length",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p.resize(24);
       p[0] = 0x4f;
       put16(p, 2, 24);
       return true;
     }},
    {"total-length-gt-packet", "ipv4-bad-total-length",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       put16(p, 2, static_cast<uint16_t>(p.size() + 20));
       fix_ip_checksum(p, 20);
       return true;
     }},
    {"truncated-header", "ipv4-truncated",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p.resize(12);
       return true;
     }},
    // Fragments tcplab refuses (whole fragmented datagrams it reassembles: ping -s 4000).
    {"fragment-bad-length", "fragment-bad-length",  // 20 bytes, yet more fragments follow
     [](const Addresses& a, Bytes& p) {
       p = echo_fragment(a, 0, 20, true);
       return true;
     }},
    {"fragment-too-big", "fragment-too-big",  // offset 65,528 + 24 bytes: past 65,535
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       put16(p, 6, 0x1fff);
       fix_ip_checksum(p, 20);
       return true;
     }},
    {"fragment-overlap", "fragment-overlap",  // [0, 16) then [8, 24): both dropped
     [](const Addresses& a, Bytes& p) {
       p = echo_fragment(a, 0, 16, true);
       return true;
     },
     [](const Addresses& a, Bytes& p) { p = echo_fragment(a, 8, 24, false); }},
    {"wrong-destination", "ipv4-not-for-us",
     [](const Addresses& a, Bytes& p) {
       p = echo_request({a.src, a.dst + 1});
       return true;
     }},
    {"bad-source", "ipv4-bad-source",
     [](const Addresses& a, Bytes& p) {
       p = echo_request({0xE0000001, a.dst});
       return true;
     }},
    {"icmp-bad-checksum", "icmp-bad-checksum",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p[22] ^= 0x55;
       return true;
     }},
    {"icmp-truncated", "icmp-truncated",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p.resize(24);
       put16(p, 2, 24);
       fix_ip_checksum(p, 20);
       return true;
     }},
    {"icmp-unhandled-type", "icmp-unhandled-type",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a);
       p[20] = 13;  // timestamp request
       put16(p, 22, 0);
       put16(p, 22, checksum(p.data() + 20, p.size() - 20));
       return true;
     }},
    {"unknown-protocol", "protocol unreachable",
     [](const Addresses& a, Bytes& p) {
       p = echo_request(a, 253);
       return true;
     }},
};

bool parse_hex(const std::string& text, Bytes& out) {
  std::string digits;
  for (char c : text) {
    if (c == ' ' || c == ':' || c == '\n') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    digits += c;
  }
  if (digits.size() % 2) return false;
  for (size_t i = 0; i < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return true;
}

int usage() {
  std::fprintf(stderr,
               "usage: raw_inject [--dev NAME] [--src A] [--dst A] [--count N] [--expect-icmp T/C] "
               "[--timeout-ms MS] CASE | --hex HEX\n       raw_inject --list\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dev = "tcplab0", case_name, hex;
  Addresses addrs;
  int count = 1, expect_type = -1, expect_code = -1, timeout_ms = 2000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    auto addr = [&](uint32_t& out) {
      in_addr in{};
      if (inet_pton(AF_INET, next().c_str(), &in) != 1) return false;
      out = ntohl(in.s_addr);
      return true;
    };
    if (a == "--list") {
      for (const auto& c : kCases) std::printf("%-24s %s\n", c.name, c.reason);
      return 0;
    } else if (a == "--dev")
      dev = next();
    else if (a == "--src") {
      if (!addr(addrs.src)) return usage();
    } else if (a == "--dst") {
      if (!addr(addrs.dst)) return usage();
    } else if (a == "--count")
      count = std::atoi(next().c_str());
    else if (a == "--timeout-ms")
      timeout_ms = std::atoi(next().c_str());
    else if (a == "--hex")
      hex = next();
    else if (a == "--expect-icmp") {
      if (std::sscanf(next().c_str(), "%d/%d", &expect_type, &expect_code) != 2) return usage();
    } else if (!a.empty() && a[0] != '-' && case_name.empty())
      case_name = a;
    else
      return usage();
  }
  if (count < 1 || count > 100000) return usage();  // bounded, always

  Bytes packet, then;
  if (!hex.empty()) {
    if (!parse_hex(hex, packet) || packet.empty()) {
      std::fprintf(stderr, "raw_inject: bad hex\n");
      return 2;
    }
  } else {
    const Case* found = nullptr;
    for (const auto& c : kCases) {
      if (case_name == c.name) found = &c;
    }
    if (!found) {
      std::fprintf(stderr, "raw_inject: unknown case '%s' (see --list)\n", case_name.c_str());
      return 2;
    }
    found->make(addrs, packet);
    if (found->then) found->then(addrs, then);
  }

  unsigned ifindex = if_nametoindex(dev.c_str());
  if (ifindex == 0) {
    std::fprintf(stderr, "raw_inject: no interface %s\n", dev.c_str());
    return 1;
  }
  // The listener goes first so an answer cannot arrive before we listen.
  int icmp = -1;
  if (expect_type >= 0) {
    icmp = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (icmp < 0) {
      std::fprintf(stderr, "raw_inject: raw ICMP socket: %s\n", std::strerror(errno));
      return 1;
    }
  }
  // SOCK_DGRAM on a TUN (no link header): the bytes we give are the whole packet.
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
  if (fd < 0) {
    std::fprintf(stderr, "raw_inject: AF_PACKET socket: %s (needs root)\n", std::strerror(errno));
    return 1;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = static_cast<int>(ifindex);
  for (int i = 0; i < count; ++i) {
    if (sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      std::fprintf(stderr, "raw_inject: sendto: %s\n", std::strerror(errno));
      return 1;
    }
    if (!then.empty() &&
        sendto(fd, then.data(), then.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      std::fprintf(stderr, "raw_inject: sendto: %s\n", std::strerror(errno));
      return 1;
    }
  }
  std::printf("raw_inject: sent %d x %zu bytes (%s) on %s\n", count, packet.size(),
              hex.empty() ? case_name.c_str() : "hex", dev.c_str());
  close(fd);
  if (icmp < 0) return 0;

  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) break;
    pollfd p{icmp, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    uint8_t buf[2048];
    ssize_t n = recv(icmp, buf, sizeof buf, 0);
    if (n < 28) continue;
    size_t ihl = (buf[0] & 0x0f) * 4u;
    uint32_t from =
        (uint32_t{buf[12]} << 24) | (uint32_t{buf[13]} << 16) | (uint32_t{buf[14]} << 8) | buf[15];
    if (from != addrs.dst || static_cast<size_t>(n) < ihl + 8) continue;
    const uint8_t* m = buf + ihl;
    if (m[0] != expect_type || m[1] != expect_code) continue;
    size_t body = static_cast<size_t>(n) - ihl - 8;
    size_t sent_ihl = (packet[0] & 0x0fu) * 4u;
    bool quote_ok;
    if (expect_type == 0) {
      // An echo reply carries the request's identifier, sequence and data (RFC 792).
      size_t want = packet.size() - sent_ihl - 4;
      quote_ok = body + 4 == want && std::memcmp(m + 4, packet.data() + sent_ihl + 4, want) == 0;
    } else {
      // An error quotes the offending header and the first 8 bytes of its data (RFC 792).
      size_t want = std::min(packet.size(), sent_ihl + 8);
      quote_ok = body >= want && std::memcmp(m + 8, packet.data(), want) == 0;
    }
    bool sum_ok = checksum(m, static_cast<size_t>(n) - ihl) == 0;
    std::printf("raw_inject: got ICMP %d/%d from the stack, quote %s, checksum %s\n", m[0], m[1],
                quote_ok ? "matches" : "WRONG", sum_ok ? "ok" : "WRONG");
    return quote_ok && sum_ok ? 0 : 1;
  }
  std::printf("raw_inject: no ICMP %d/%d within %d ms\n", expect_type, expect_code, timeout_ms);
  return 1;
}
