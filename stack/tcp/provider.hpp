// What an application needs from whatever TCP is underneath it: passive open, accept, and
// read-only counters and a connection table for /stats and /tcp. tcplab's own TcpHost is one
// provider; kernel sockets (stack/loop/kernel_tcp.hpp) are another, so the HTTP server and the
// services run unchanged on either (architecture rule 7: the application sees only sockets).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/tcp/socket.hpp"

namespace tcplab::tcp {

struct TcpStats {
  uint64_t segments_received = 0;
  uint64_t segments_sent = 0;
  uint64_t retransmissions = 0;
  // Payload bytes resent (SYN/FIN not counted): what SACK saves shows here (RFC 2018 §1).
  uint64_t retransmitted_bytes = 0;
  uint64_t passive_opens = 0;  // SYN accepted by a listener
  uint64_t active_opens = 0;
  uint64_t handshakes_completed = 0;  // reached ESTABLISHED
  uint64_t resets_sent = 0;
  uint64_t resets_received = 0;
  uint64_t challenge_acks_sent = 0;
  // Challenge ACKs not sent because of config.challenge_ack_interval (RFC 5961 §7).
  uint64_t challenge_acks_suppressed = 0;
  // ACKs to unacceptable segments not sent because of config.invalid_ack_interval.
  uint64_t invalid_acks_suppressed = 0;
  // Connections whose MSS an ICMP fragmentation needed lowered (RFC 1191).
  uint64_t path_mtu_reductions = 0;
  uint64_t connections_current = 0;  // TCBs not in TIME-WAIT/CLOSED
  uint64_t connections_time_wait = 0;
  // Of those, held as a compact record (stack/tcp/time_wait.hpp) rather than a full TCB.
  uint64_t time_wait_records = 0;
  // Connections in FIN-WAIT-2 whose application let go (Socket::release), held as the same
  // compact record until the peer's FIN or the --fin-timeout (counted in connections_current).
  uint64_t fin_wait_2_records = 0;
  // Full TCBs (Connection objects, with buffers and timers) alive, in any state.
  uint64_t full_tcbs = 0;
  uint64_t timeouts = 0;  // connections aborted after exhausting retransmissions or zero-window probes
  // FIN-WAIT-2 connections dropped silently after --fin-timeout.
  uint64_t fin_timeouts = 0;
  // TIME-WAIT records ended early because --max-time-wait records were held.
  uint64_t time_wait_evicted = 0;
  // Released connections lingering (Socket::release with linger_on_data): data arrived after
  // the release, and of those, the ones reset because the peer did not close in time.
  uint64_t lingering_closes = 0;
  uint64_t lingering_resets = 0;
  // RFC 4987 §3.6: SYN-ACKs sent with a cookie instead of a SYN-queue entry; final ACKs
  // whose cookie proved good (a connection was made from it) or did not.
  uint64_t syn_cookies_sent = 0;
  uint64_t syn_cookies_validated = 0;
  uint64_t syn_cookies_rejected = 0;
};

class SocketProvider {
 public:
  virtual ~SocketProvider() = default;
  // Passive open (RFC 9293 §3.10.1) on `port`; `handler` hears when connections wait.
  // False if the port is taken.
  virtual bool listen(uint16_t port, AcceptHandler* handler) = 0;
  // The oldest established connection waiting on `port`, or null.
  virtual Socket* accept(uint16_t port) = 0;

  // Read-only views for /stats and /tcp.
  virtual std::vector<ConnectionInfo> connections() const = 0;
  virtual const TcpStats& stats() const = 0;
  virtual const DropCounters& drops() const = 0;
  // False when the TCP underneath keeps no segment-level counters of its own (the kernel's):
  // then stats() holds only what the provider counts itself and drops() is all zeros.
  virtual bool tcp_internals_available() const { return true; }
  // True when what Socket::send() takes leaves only once the event loop's turn ends (tcplab's
  // TCP: the outbox is written once per turn), false when it leaves at once (kernel sockets).
  // The HTTP server lets a long response yield between turns only in the first case.
  virtual bool sends_leave_at_turn_end() const { return true; }
  // "tcplab" or "kernel": which TCP carries the connections, for /stats.
  virtual std::string_view tcp_name() const { return "tcplab"; }
};

}  // namespace tcplab::tcp
