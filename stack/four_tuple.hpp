// A TCP connection's identity: (local address, local port, remote address, remote port).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "stack/wire/ipv4.hpp"

namespace tcplab {

struct FourTuple {
  wire::Ipv4Address local_ip;
  uint16_t local_port = 0;
  wire::Ipv4Address remote_ip;
  uint16_t remote_port = 0;

  bool operator==(const FourTuple&) const = default;
  // "192.0.2.1:40000 > 192.0.2.2:80" as seen from the remote side, like tcpdump prints an
  // incoming segment; to_string(false) prints local first.
  std::string to_string(bool remote_first = true) const {
    auto remote = remote_ip.to_string() + ":" + std::to_string(remote_port);
    auto local = local_ip.to_string() + ":" + std::to_string(local_port);
    return remote_first ? remote + " > " + local : local + " > " + remote;
  }
};

struct FourTupleHash {
  size_t operator()(const FourTuple& t) const noexcept {
    uint64_t a = (uint64_t{t.local_ip.value} << 32) | t.remote_ip.value;
    uint64_t b = (uint64_t{t.local_port} << 16) | t.remote_port;
    // A multiplicative mix keeps demultiplexing O(1) on average, however many connections there are.
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

}  // namespace tcplab
