// The TCP endpoint of one stack address: demultiplexes segments by 4-tuple to connections,
// owns listeners (SYN queue + accept queue, SYN cookies when the SYN queue is full), answers
// closed ports with RST (RFC 9293 §3.10.7.1) and drives every connection's timers. Sans-IO:
// segments and `now` in, packets into the Outbox, events to the Tracer.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/outbox.hpp"
#include "stack/tcp/config.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/tcp/tcb_snapshot.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::tcp {

struct TcpStats {
  uint64_t segments_received = 0;
  uint64_t segments_sent = 0;
  uint64_t retransmissions = 0;
  uint64_t passive_opens = 0;  // SYN accepted by a listener
  uint64_t active_opens = 0;
  uint64_t handshakes_completed = 0;  // reached ESTABLISHED
  uint64_t resets_sent = 0;
  uint64_t resets_received = 0;
  uint64_t challenge_acks_sent = 0;
  uint64_t connections_current = 0;  // TCBs not in TIME-WAIT/CLOSED
  uint64_t connections_time_wait = 0;
  uint64_t timeouts = 0;  // connections aborted after exhausting retransmissions
  // FIN-WAIT-2 connections dropped silently after --fin-timeout.
  uint64_t fin_timeouts = 0;
  // RFC 4987 §3.6: SYN-ACKs sent with a cookie instead of a SYN-queue entry; final ACKs
  // whose cookie proved good (a connection was made from it) or did not.
  uint64_t syn_cookies_sent = 0;
  uint64_t syn_cookies_validated = 0;
  uint64_t syn_cookies_rejected = 0;
};

class TcpHost {
 public:
  TcpHost(const TcpConfig& config, wire::Ipv4Address local_address, trace::Tracer& tracer, Outbox& outbox,
          DropCounters& drops);
  ~TcpHost();
  TcpHost(const TcpHost&) = delete;
  TcpHost& operator=(const TcpHost&) = delete;

  // A verified IPv4 packet whose protocol is TCP and whose destination is ours.
  void packet_arrives(const wire::Ipv4Packet& packet, Instant now);
  // Fires every timer due at `now` and remembers `now` for calls the application makes.
  void advance(Instant now);
  // The earliest timer deadline of any connection, for the event loop's poll timeout.
  std::optional<Instant> next_deadline() const;

  // Passive open (RFC 9293 §3.10.1). backlog 0 means config.backlog. False if in use.
  bool listen(uint16_t port, AcceptHandler* handler, size_t backlog = 0);
  // The oldest established connection waiting on `port`, or null.
  Socket* accept(uint16_t port);
  // Active open (RFC 9293 §3.10.1); local_port 0 picks an ephemeral port.
  Socket* connect(wire::Ipv4Address remote, uint16_t remote_port, SocketHandler* handler,
                  uint16_t local_port = 0);

  std::vector<ConnectionInfo> connections() const;
  // The TCB of the connection with this 4-tuple (step mode), or nothing if there is none.
  std::optional<TcbSnapshot> snapshot(const FourTuple& tuple) const;
  const TcpStats& stats() const;
  const TcpConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcplab::tcp
