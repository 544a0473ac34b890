// The whole sans-IO stack behind one address: IPv4 input and output, ICMP, and TCP.
// The event loop hands it raw IPv4 packets with the time; it leaves packets in outbox().
#pragma once
#include <optional>
#include <span>
#include <string_view>

#include "stack/drop_reason.hpp"
#include "stack/ip/cidr.hpp"
#include "stack/ip/icmp_rate_limit.hpp"
#include "stack/ip/ipv4_output.hpp"
#include "stack/ip/reassembly.hpp"
#include "stack/outbox.hpp"
#include "stack/tcp/config.hpp"
#include "stack/tcp/host.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/icmp_quote.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab {

struct StackConfig {
  wire::Ipv4Address address{0xC0000202};  // 192.0.2.2 (TEST-NET-1, RFC 5737)
  // The link's prefix (the host side's --host-ip), when known: its network and broadcast
  // addresses are refused as sources (RFC 1122 §3.2.1.3). Nothing with --host-ip none.
  std::optional<ip::Ipv4Cidr> link_prefix;
  uint16_t mtu = 1500;
  uint8_t ttl = wire::kDefaultTtl;
  tcp::TcpConfig tcp;
  ip::ReassemblyLimits reassembly;
  ip::IcmpRateLimit icmp_errors;
};

struct IpStats {
  uint64_t packets_received = 0;  // every packet handed to receive(), good or bad
  uint64_t packets_sent = 0;      // packets the IP layer made itself (ICMP); TCP counts its own
  uint64_t echo_replies = 0;
  uint64_t unreachables_sent = 0;
  uint64_t time_exceeded_sent = 0;     // ICMP 11/1: a datagram timed out in reassembly
  uint64_t fragments_received = 0;     // fragments handed to reassembly, kept or not
  uint64_t datagrams_reassembled = 0;  // complete datagrams made of them
  uint64_t fragments_sent = 0;         // packets of our replies cut to fit the MTU
};

// Whether TCP verifies a received segment's checksum. Trusted: the link vouches for it - a
// virtio-net NEEDS_CSUM packet (--offload) was made by a socket on this host and never crossed
// a wire, which is what the checksum guards against (RFC 9293 §3.1), so summing its bytes
// again would only repeat work (Linux trusts such packets the same way).
enum class TcpChecksum : uint8_t { Verify, Trusted };

class Stack {
 public:
  Stack(const StackConfig& config, trace::Tracer& tracer);
  // One IPv4 packet from the link. Replies go to outbox().
  void receive(std::span<const std::byte> packet, Instant now,
               TcpChecksum tcp_checksum = TcpChecksum::Verify);
  // Timers due at `now` (TCP's, and the reassembly timeout); also sets the time used for
  // application calls.
  void advance(Instant now);
  // Call when the application's turn is over, before taking the outbox (tcp::TcpHost::finish_turn).
  void finish_turn() { tcp_.finish_turn(); }
  std::optional<Instant> next_deadline() const;

  // Whether TCP segments leave with only the pseudo-header sum in their checksum field, for a
  // link that finishes each one (a virtio-net NEEDS_CSUM write, --offload) or whose receiver
  // trusts it: no payload byte is summed on the way out. Change it only while the outbox is
  // empty, so every packet in it was built one way (EventLoop::flush_outbox relies on that).
  // Off by default: a capture, a trace or a test must see checksums as a wire carries them.
  void leave_tcp_checksums_to_link(bool on);
  bool tcp_checksums_left_to_link() const;

  Outbox& outbox() { return outbox_; }
  tcp::TcpHost& tcp() { return tcp_; }
  const DropCounters& drops() const { return drops_; }
  // Packets dropped before they reached the stack or the link (the fault injector's, counted
  // as fault-injected), so that the drop counters and /stats account for every lost packet.
  void count_link_drops(DropReason reason, uint64_t n) { drops_.count(reason, n); }
  const IpStats& ip_stats() const { return ip_stats_; }
  const StackConfig& config() const { return config_; }

 private:
  StackConfig config_;
  trace::Tracer& tracer_;
  Outbox outbox_;
  DropCounters drops_;
  IpStats ip_stats_;
  tcp::TcpHost tcp_;
  ip::Ipv4Output ip_output_;
  ip::Reassembler reassembler_;
  ip::IcmpErrorLimiter icmp_error_limiter_;

  void drop(DropReason reason, std::span<const std::byte> packet, Instant now, std::string_view detail = {},
            uint64_t count = 1);
  void fragment_arrives(const wire::Ipv4Packet& fragment, std::span<const std::byte> raw, Instant now);
  void datagram_arrives(const wire::Ipv4Packet& packet, std::span<const std::byte> raw, Instant now,
                        TcpChecksum tcp_checksum = TcpChecksum::Verify);
  void count_sent(size_t packets);
  void reassembly_timed_out(const ip::Reassembler::Expired& expired, Instant now);
  void icmp_arrives(const wire::Ipv4Packet& packet, std::span<const std::byte> raw, Instant now);
  void fragmentation_needed_arrives(const wire::IcmpMessage& message, std::span<const std::byte> raw,
                                    Instant now);
  void icmp_error_arrives(const wire::IcmpMessage& message, wire::Ipv4Address from,
                          std::span<const std::byte> raw, Instant now);
  std::optional<wire::IcmpQuote> quote_of_our_tcp(const wire::IcmpMessage& message, std::string_view what,
                                                  std::span<const std::byte> raw, Instant now);
  void send_unreachable(wire::UnreachableCode code, const wire::Ipv4Packet& packet,
                        std::span<const std::byte> raw, Instant now);
};

}  // namespace tcplab
