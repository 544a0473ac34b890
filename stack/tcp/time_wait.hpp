// TIME-WAIT without a connection: once both FINs are exchanged, RFC 9293 §3.10.7.4 asks a
// TCB only to acknowledge a retransmitted FIN (restarting 2 MSL), to answer or drop what else
// arrives, and to be deleted after 2 MSL. Those rules read a handful of numbers, so the host
// keeps a compact TimeWaitRecord instead of a whole Connection (buffers, timers, congestion
// and SACK state), and a TimeWaitTable that finds a record by 4-tuple and expires the oldest
// first. Sans-IO like the rest of stack/tcp: segments and `now` in, packets and events out.
//
// The same record holds a FIN-WAIT-2 connection whose application has let go of it
// (Socket::release): our FIN is acknowledged, nothing is left to send and nobody will read,
// so what can still happen is the peer's data (acknowledged and discarded), its FIN (the
// record moves on to TIME-WAIT, as the connection would have), a RST, or the --fin-timeout.
#pragma once
#include <cstdint>
#include <list>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "stack/four_tuple.hpp"
#include "stack/seq.hpp"
#include "stack/tcp/host_context.hpp"
#include "stack/tcp/invalid_ack_limit.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/tcp/state.hpp"
#include "stack/tcp/tcb_snapshot.hpp"
#include "stack/tcp/timestamps.hpp"
#include "stack/time.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::tcp {

// What TIME-WAIT (or a released FIN-WAIT-2) still needs of a connection
// (Connection::time_wait_record and fin_wait_2_record fill it).
struct TimeWaitRecord {
  FourTuple tuple;
  State state = State::TimeWait;  // or FinWait2, until the peer's FIN or the --fin-timeout
  // RFC 9293 §3.3.1 variables. Our FIN is acknowledged, so SND.UNA = SND.NXT. ISS and IRS
  // print relative sequence numbers, as the connection's own trace lines did.
  Seq iss, irs;
  Seq snd_nxt;
  Seq rcv_nxt;
  Seq rcv_adv;  // right edge of the window we advertised: RCV.WND = rcv_adv - RCV.NXT
  Seq rcv_wup;  // RCV.NXT in our last ACK (RFC 7323's Last.ACK.sent)
  Seq snd_wl1, snd_wl2;
  uint32_t snd_wnd = 0;      // bytes, after scaling
  uint32_t max_snd_wnd = 0;  // RFC 5961 §5.2: ACKs below SND.UNA - MAX.SND.WND are refused
  uint16_t mss = 0;          // receiver SWS avoidance moves the right edge by min(buffer/2, MSS)
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool sack_ok = false;  // RFC 2018, RFC 2883: D-SACKs both ways; other blocks traced as ignored
  // FIN-WAIT-2 released with linger_on_data (Socket::release): the first bytes start
  // `lingering` until linger_until, when the record sends RST unless the peer's FIN came.
  bool linger_on_data = false;
  bool lingering = false;
  // RFC 9293 §3.10.7.4 ACKs to unacceptable segments are limited per connection
  // (invalid_ack_limit.hpp): when the last one went, if one did.
  InvalidAckClock invalid_ack_clock;
  InvalidAckClock challenge_ack_clock;  // the same for challenge ACKs (RFC 5961 §7)
  Timestamps timestamps;  // RFC 7323: TS.Recent for PAWS and TSecr; our TSval clock
  Instant expiry{};       // 2 MSL after the last restart; in FIN-WAIT-2, the --fin-timeout
  Duration linger{};      // with linger_on_data: from the first bytes to the RST
  Instant linger_until{};  // while lingering
  // For /tcp and the step mode's TCB view, the connection's last figures (no congestion
  // state: nothing is left to send). Microseconds: an RTO is at most 60 s.
  uint32_t srtt_us = 0, rto_us = 0;
  uint64_t bytes_received = 0, bytes_sent = 0;
  uint32_t retransmissions = 0;
  uint16_t send_mss = 0;
};

// Data after the application let go (Socket::release), in FIN-WAIT-1 or FIN-WAIT-2: the trace
// lines the connection and the record both write, so the two stay word for word the same.
inline constexpr std::string_view kReleasedTextNote =
    "data after the application let go: acknowledged and discarded (nobody will read it)";
inline constexpr std::string_view kReleasedOutOfOrderDrop =
    "data beyond a hole after the application let go: not kept (nobody will read it)";
// Segment text the RFC says to ignore while the rest of the segment (its ACK) is processed:
// counted as tcp-text-ignored with these details by the connection and the record alike.
inline constexpr std::string_view kTextAfterFinDrop =
    "text after the peer's FIN: ignored (RFC 9293 §3.10.7.4 seventh)";
inline constexpr std::string_view kZeroWindowTextDrop =
    "text into a zero window: not taken, its ACK is (RFC 9293 §3.10.7.4 first)";
inline constexpr std::string_view kZeroWindowFinDrop =
    "FIN into a zero window: not taken, its ACK is (RFC 9293 §3.10.7.4 first)";
// The rule a connection's ABORT (Connection::abort) and a record's both name in the trace.
inline constexpr std::string_view kAbortRule = "RFC 9293 §3.10.5 (ABORT)";
// A FIN beyond a hole (deviation fin-beyond-hole): the segment is acceptable but the FIN waits
// for the bytes before it, so it is not taken; like out-of-order data it is answered with an
// immediate duplicate ACK (RFC 5681 §4.2, RFC 9293 §3.10.7.4 first: "held for later").
inline constexpr std::string_view kFinBeyondHoleDrop =
    "FIN beyond a hole: not taken until the bytes before it arrive, duplicate ACK (RFC 5681 §4.2)";
// Data on a SYN (deviation syn-data-not-queued): the SYN is taken, its data is not; the
// SYN,ACK or ACK acknowledges the SYN alone, so the peer sends the data again.
inline constexpr std::string_view kSynDataDrop =
    "data on a SYN: not queued, only the SYN is acknowledged and the peer resends it";
// A FIN at RCV.NXT after the peer's FIN was taken (deviation fin-after-fin): the peer's
// sequence space ended at its first FIN, so nothing can follow it; taking this one would
// acknowledge a byte the peer never sent, and its ACK of our FIN would then be refused.
inline constexpr std::string_view kFinAfterFinDrop =
    "FIN after the peer's FIN: not taken, its sequence space ended there (RFC 9293 §3.10.7.4 eighth)";
// The peer's FIN again in TIME-WAIT: it lies before RCV.NXT, so it is not acceptable and is
// answered with an ACK and dropped (RFC 9293 §3.10.7.4 first), and TIME-WAIT's rule restarts
// the 2 MSL timeout (eighth). The drop's detail says all of that, for the connection and the
// record alike: "outside the receive window" alone reads as if the FIN had been ignored.
inline constexpr std::string_view kRetransmittedFinDrop =
    "retransmitted FIN, already received: ACKed again, 2 MSL restarted (RFC 9293 §3.10.7.4)";
// A new SYN reopens the 4-tuple (RFC 9293 §3.6.1, MAY-2): the rule of the TIME-WAIT -> CLOSED
// change, for the connection and the record alike.
inline constexpr std::string_view kReopenRule = "RFC 9293 §3.6.1 (new SYN reopens a TIME-WAIT connection)";
// The fin-timeout deviation's rule, as Connection::fin_wait_2_timeout traces it.
inline constexpr std::string_view kFinTimeoutRule =
    "Deviation: fin-timeout (FIN-WAIT-2: no FIN from the peer within --fin-timeout, "
    "dropped without RST like Linux's tcp_fin_timeout)";

// The records, by 4-tuple, and in order of expiry. 2 MSL is the same for every record, so a
// record that starts or restarts its 2 MSL belongs at the back of a FIFO: expiry and restart
// cost O(1) each, however many records there are; only /tcp's listing walks the table. The
// --fin-timeout is the same for every FIN-WAIT-2 record too: a second FIFO, and a record
// that goes on to TIME-WAIT moves from the back of one list to the back of the other. A
// lingering record (data after a release with linger_on_data) moves to a third, ordered by
// the earlier of its --fin-timeout and its linger deadline: --linger is one server's constant,
// so a record that starts lingering almost always belongs at the back as well.
class TimeWaitTable {
 public:
  explicit TimeWaitTable(HostContext& ctx) : ctx_(ctx) {}
  ~TimeWaitTable();
  TimeWaitTable(const TimeWaitTable&) = delete;
  TimeWaitTable& operator=(const TimeWaitTable&) = delete;

  // Takes over a connection in TIME-WAIT or FIN-WAIT-2 (record.state), whose Connection is
  // gone; nothing is traced.
  void add(const TimeWaitRecord& record);
  TimeWaitRecord* find(const FourTuple& tuple);
  bool contains(const FourTuple& tuple) const { return index_.find(tuple) != index_.end(); }
  size_t size() const { return index_.size(); }
  size_t fin_wait_2_size() const { return fin_wait_2_.size() + lingering_.size(); }

  // RFC 9293 §3.10.7.4 for one segment to a record, as the connection would have answered.
  void segment_arrives(TimeWaitRecord& record, const wire::TcpSegment& segment);
  // RFC 5961 §4.2: SYN+FIN in a synchronized state gets a challenge ACK and nothing else.
  void illegal_syn_fin_arrives(TimeWaitRecord& record, const wire::TcpSegment& segment);
  // RFC 5927 §4.1: an ICMP error (`what`: "fragmentation needed", ...) can only be about data
  // in flight, and a record has none: it is dropped.
  void icmp_error_arrives(TimeWaitRecord& record, std::string_view what);
  // RFC 9293 §3.6.1 (MAY-2): a new SYN reopens the 4-tuple; the record goes, nothing is sent.
  void discard(TimeWaitRecord& record);
  // RFC 9293 §3.10.5 ABORT in TIME-WAIT: "delete the TCB, enter CLOSED state"; nothing is sent.
  void abort(TimeWaitRecord& record);
  // RFC 9293 §3.10.8: "If the time-wait timeout expires on a connection, delete the TCB";
  // and FIN-WAIT-2 records whose --fin-timeout ran out. Every record due at ctx.now, oldest
  // first.
  void expire();
  // The earliest expiry, for the event loop's poll timeout.
  std::optional<Instant> next_expiry() const;

  void append_info(std::vector<ConnectionInfo>& out) const;
  static ConnectionInfo info(const TimeWaitRecord& record);
  static TcbSnapshot snapshot(const TimeWaitRecord& record);

 private:
  using Fifo = std::list<TimeWaitRecord>;
  Fifo& fifo_of(const TimeWaitRecord& r) {
    if (r.state != State::FinWait2) return fifo_;
    return r.lingering ? lingering_ : fin_wait_2_;
  }
  // When the record must next be visited: its expiry, or its linger deadline if earlier.
  static Instant due(const TimeWaitRecord& r) {
    return r.lingering && r.linger_until < r.expiry ? r.linger_until : r.expiry;
  }
  void insert_ordered(Fifo& fifo, Fifo::iterator node);
  void start_linger(TimeWaitRecord& r);
  void linger_over(TimeWaitRecord& r);
  void count(const TimeWaitRecord& r, int delta);
  void restart(TimeWaitRecord& record);
  void close(TimeWaitRecord& record, std::string_view rule, bool timer_fired);
  void remove(const FourTuple& tuple);
  void make_room();
  // FIN-WAIT-2 (connection_fin_wait_2.cpp's rules for a released connection).
  void take_text(TimeWaitRecord& r, const wire::TcpSegment& seg);
  void enter_time_wait(TimeWaitRecord& r);

  // The steps of §3.10.7.4 that can still do something in TIME-WAIT (time_wait.cpp).
  bool check_paws(TimeWaitRecord& r, const wire::TcpSegment& seg);
  bool check_sequence(TimeWaitRecord& r, wire::TcpSegment& seg);
  bool check_ack(TimeWaitRecord& r, const wire::TcpSegment& seg);
  void send_invalid_ack(TimeWaitRecord& r, const wire::TcpSegment& seg, std::string_view note);
  void send_challenge_ack(TimeWaitRecord& r);
  void send_ack(TimeWaitRecord& r, std::string_view note);
  void note_duplicate(const TimeWaitRecord& r, Seq seq, size_t length);
  void take_sack_blocks(const TimeWaitRecord& r, const wire::TcpSegment& seg);
  void trace_segment(const TimeWaitRecord& r, trace::Direction dir, const wire::TcpSegment& seg,
                     std::string_view note);

  // The index holds only the FIFO's iterators (16 bytes a node) and finds them by the
  // record's 4-tuple; a FourTuple can be looked up directly (C++20 transparent lookup).
  struct ByTupleHash {
    using is_transparent = void;
    size_t operator()(const FourTuple& t) const noexcept { return FourTupleHash{}(t); }
    size_t operator()(std::list<TimeWaitRecord>::const_iterator r) const noexcept {
      return (*this)(r->tuple);
    }
  };
  struct ByTupleEqual {
    using is_transparent = void;
    using It = std::list<TimeWaitRecord>::const_iterator;
    bool operator()(It a, It b) const { return a->tuple == b->tuple; }
    bool operator()(const FourTuple& t, It r) const { return t == r->tuple; }
    bool operator()(It r, const FourTuple& t) const { return t == r->tuple; }
  };

  HostContext& ctx_;
  Fifo fifo_;        // TIME-WAIT, earliest expiry first
  Fifo fin_wait_2_;  // released FIN-WAIT-2, earliest --fin-timeout first
  Fifo lingering_;   // released FIN-WAIT-2 with data after a lingering release, earliest due() first
  std::unordered_set<Fifo::iterator, ByTupleHash, ByTupleEqual> index_;
  bool ack_owed_ = false;  // one segment's answer is still owed (Connection's ack_.now)
  std::string_view zero_window_drop_;  // as Connection's: counted once the ACK check passed
  // RFC 2883 §4: the duplicate this segment brought, reported first in its ACK (as
  // Connection's dsack_); only for the segment being processed.
  std::optional<wire::SackBlock> dsack_;
};

}  // namespace tcplab::tcp
