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
#include "stack/tcp/provider.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/tcp/tcb_snapshot.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/icmp_quote.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::tcp {

class TcpHost final : public SocketProvider {
 public:
  TcpHost(const TcpConfig& config, wire::Ipv4Address local_address, trace::Tracer& tracer, Outbox& outbox,
          DropCounters& drops);
  ~TcpHost() override;
  TcpHost(const TcpHost&) = delete;
  TcpHost& operator=(const TcpHost&) = delete;

  // A verified IPv4 packet whose protocol is TCP and whose destination is ours; the TCP
  // checksum is checked unless the link vouched for it (Stack::receive, TcpChecksum).
  void packet_arrives(const wire::Ipv4Packet& packet, Instant now, bool verify_checksum = true);
  // RFC 1191 / RFC 5927: ICMP fragmentation needed quoting one of our TCP segments; `packet`
  // is the ICMP packet (for drop traces). next_hop_mtu 0: an old router (RFC 1191 §5).
  void fragmentation_needed(const wire::IcmpQuote& quote, uint16_t next_hop_mtu, wire::ConstBytes packet,
                            Instant now);
  // RFC 1122 §4.2.3.9: any other ICMP destination unreachable, time exceeded or parameter
  // problem (`type`, `code`, sent by `from`) quoting one of our TCP segments: a hard error aborts
  // a connection in SYN-SENT, the rest are soft errors, kept for the application.
  void icmp_error(const wire::IcmpQuote& quote, uint8_t type, uint8_t code, wire::Ipv4Address from,
                  wire::ConstBytes packet, Instant now);
  // Fires every timer due at `now` and remembers `now` for calls the application makes.
  void advance(Instant now);
  // The application's turn is over (its callbacks, and what its loop did after them): quick
  // ACKs that no data carried in the meantime leave now (connection_output.cpp).
  void finish_turn();
  // The earliest timer deadline of any connection, for the event loop's poll timeout.
  std::optional<Instant> next_deadline() const;

  // Passive open (RFC 9293 §3.10.1) with config.backlog. False if in use.
  bool listen(uint16_t port, AcceptHandler* handler) override { return listen(port, handler, 0); }
  // The same with an accept-queue limit; backlog 0 means config.backlog.
  bool listen(uint16_t port, AcceptHandler* handler, size_t backlog);
  // RFC 9293 §3.10.4 CLOSE in LISTEN: "Delete TCB, enter CLOSED state": later SYNs to `port`
  // get RST (§3.10.7.1) and the port can be listened on again. Connections queued for accept
  // and half-open ones from this listener are reset (ABORT, §3.10.5), as Linux does: nobody
  // can accept them any more. False if nothing listens on `port`.
  bool stop_listening(uint16_t port, Instant now);
  // The oldest established connection waiting on `port`, or null.
  Socket* accept(uint16_t port) override;
  // Active open (RFC 9293 §3.10.1); local_port 0 picks an ephemeral port.
  Socket* connect(wire::Ipv4Address remote, uint16_t remote_port, SocketHandler* handler,
                  uint16_t local_port = 0);

  // The process is exiting with connections still open: every one gets a RST (RFC 9293
  // §3.10.5 ABORT), also those a kernel would keep closing on its own (FIN-WAIT-2, an idle
  // CLOSE-WAIT), since nothing will be left to answer them; the peer learns at once instead of
  // waiting on a connection nobody answers. Returns how many RSTs that sent.
  uint64_t abort_all(Instant now);
  // RFC 9293 §3.10.5 ABORT in TIME-WAIT ("delete the TCB, enter CLOSED state"; no RST) for a
  // socket whose on_closed already came: both FINs were exchanged, so the application no
  // longer holds the Socket, and the connection may have become a compact record. Deletes
  // the connection or record on `tuple` if it is in TIME-WAIT; true if there was one.
  bool abort_time_wait(const FourTuple& tuple, Instant now);

  std::vector<ConnectionInfo> connections() const override;
  // The TCB of the connection with this 4-tuple (step mode), or nothing if there is none.
  std::optional<TcbSnapshot> snapshot(const FourTuple& tuple) const;
  const TcpStats& stats() const override;
  // The drop counters this host counts into (the stack's, shared with IP).
  const DropCounters& drops() const override;
  const TcpConfig& config() const;
  // What every segment built from now on carries in its checksum field (Stack::
  // leave_tcp_checksums_to_link says when a link may finish it).
  void set_checksum_fill(wire::TcpChecksumFill fill);
  wire::TcpChecksumFill checksum_fill() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcplab::tcp
