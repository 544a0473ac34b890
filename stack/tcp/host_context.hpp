// What every connection shares with its host: configuration, the time of the current entry
// point, where packets and events go, counters and the timer queue.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/four_tuple.hpp"
#include "stack/outbox.hpp"
#include "stack/tcp/config.hpp"
#include "stack/tcp/host.hpp"
#include "stack/tcp/isn.hpp"
#include "stack/tcp/send_buffer.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::tcp {

class Connection;

// The host's side of a connection's life: listener queues and removal.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // A passive connection is about to become ESTABLISHED: is there room in the accept queue?
  virtual bool accept_queue_has_room(const Connection&) const = 0;
  // A passive connection reached ESTABLISHED: move it from the SYN queue to the accept queue.
  virtual void established(Connection&) = 0;
  // The connection is closed and has told its application: destroy it after this entry point.
  virtual void finished(Connection&) = 0;
  // A passive connection got the peer's RST in SYN-RECEIVED and goes back to LISTEN (it is
  // finished too): if its SYN reopened a TIME-WAIT connection, that SYN was an old duplicate.
  virtual void reset_in_syn_received(Connection&) = 0;
  // The application let go of the connection (Socket::release): the host may put a compact
  // record in its place once it is in FIN-WAIT-2 or TIME-WAIT, at its next safe point.
  virtual void released(Connection&) = 0;
};

// Which connection has the earliest timer, in O(log n) rather than a walk over every
// connection per loop turn (thousands may sit in TIME-WAIT). A min-heap of (deadline, 4-tuple);
// an entry may be stale (timer re-armed later, cancelled, connection gone): TcpHost checks
// each head against its connection and re-queues the real deadline (host.cpp).
class TimerQueue {
 public:
  struct Entry {
    Instant deadline;
    FourTuple tuple;
  };
  void push(Instant deadline, const FourTuple& tuple) {
    heap_.push_back(Entry{deadline, tuple});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  const Entry* top() const { return heap_.empty() ? nullptr : &heap_.front(); }
  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  size_t size() const { return heap_.size(); }

 private:
  static bool later(const Entry& a, const Entry& b) { return a.deadline > b.deadline; }
  std::vector<Entry> heap_;  // grows to the peak number of entries, then is reused
};

struct HostContext {
  const TcpConfig& config;
  wire::Ipv4Address local_address;
  trace::Tracer& tracer;
  Outbox& outbox;
  DropCounters& drops;
  TcpStats& stats;
  ConnectionOwner& owner;
  IsnGenerator isn;
  Instant now{};
  uint16_t ip_identification = 0;

  wire::ConstBytes current_packet;  // the IPv4 packet being processed, for drop traces
  TimerQueue timers;                // every connection's earliest timer (see TimerQueue)
  // Connections owing an ACK when the turn ends (TcpHost::finish_turn): a quick ACK, or the
  // one for the full-sized segments the turn read (Connection::schedule_ack).
  std::vector<FourTuple> acks_at_turn_end{};
  // Complete unless the link finishes TCP checksums itself (Stack::leave_tcp_checksums_to_link).
  wire::TcpChecksumFill checksum_fill = wire::TcpChecksumFill::Complete;

  // Counts a refused segment and tells the tracer why.
  void drop(DropReason reason, std::string_view detail = {});
  // RFC 5927 §4.1: drops an ICMP error (`what`: "fragmentation needed", ...) whose quoted
  // SEG.SEQ is not in SND.UNA..SND.NXT, from a connection and from a TIME-WAIT record alike.
  void drop_quote_not_in_flight(std::string_view what);
  // RFC 7323 §2.3: a window scale above 14 "SHOULD log the error but MUST use 14": the note,
  // from the connection and from a SYN cookie alike.
  void note_window_scale_above_14(const FourTuple& tuple, uint8_t shift);
  // Builds IPv4 + TCP for `segment` directly in an outbox buffer. With `data` set, the
  // payload is `length` bytes copied straight from the send buffer at `offset` (one copy).
  // Returns the payload as written, so the caller can trace the segment. DF is set unless
  // `dont_fragment` is false (a connection whose path is below 576 bytes, connection_path_mtu.cpp).
  wire::ConstBytes emit(const FourTuple& tuple, wire::TcpSegment segment, const SendBuffer* data = nullptr,
                        size_t offset = 0, size_t length = 0, bool dont_fragment = true);
};

}  // namespace tcplab::tcp
