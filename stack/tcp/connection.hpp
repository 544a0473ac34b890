// One TCP connection: the TCB and its buffers, and the RFC 9293 §3.10 event processing split
// by job - segment arrival (connection_input.cpp), what to send (connection_output.cpp),
// timeouts (connection_timers.cpp) and the application's calls (connection_user.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/four_tuple.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/host_context.hpp"
#include "stack/tcp/invalid_ack_limit.hpp"
#include "stack/tcp/receive_buffer.hpp"
#include "stack/tcp/receive_window.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/tcp/sack_scoreboard.hpp"
#include "stack/tcp/send_buffer.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/tcp/tcb.hpp"
#include "stack/tcp/tcb_snapshot.hpp"
#include "stack/tcp/time_wait.hpp"
#include "stack/tcp/timestamps.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::tcp {

struct SynCookieContents;  // syn_cookie.hpp

// A deadline stored in the connection (style: "timers are data").
struct Timer {
  std::string_view name;
  std::optional<Instant> deadline;
  bool armed() const { return deadline.has_value(); }
  bool due(Instant now) const { return deadline && *deadline <= now; }
};

class Connection final : public Socket {
 public:
  enum class Origin { Passive, Active };

  Connection(HostContext& ctx, const FourTuple& tuple, Origin origin);
  ~Connection() override;

  // --- Host entry points --------------------------------------------------------------
  // RFC 9293 §3.10.7.2: LISTEN got a SYN; we become SYN-RECEIVED and answer SYN-ACK.
  // iss_above: SND.NXT of the TIME-WAIT incarnation this SYN reopens, which the ISS must pass.
  void open_passive(const wire::TcpSegment& syn, std::optional<Seq> iss_above = std::nullopt);
  // RFC 4987 §3.6: the final ACK of a handshake answered with a SYN cookie (iss) that
  // remembered `cookie` (MSS, and window scale, SACK and timestamps if they rode in our
  // TSval); we become SYN-RECEIVED as if the SYN had been queued, then take the ACK
  // (connection_cookie.cpp).
  void open_from_cookie(const wire::TcpSegment& ack, Seq iss, const SynCookieContents& cookie);
  // RFC 7323 §2.3: the window shift we offer for a receive buffer of this size (the host's
  // cookie SYN-ACK offers the same one the connection will use).
  static uint8_t window_shift_for(size_t receive_buffer);
  // RFC 9293 §3.10.1 OPEN (active): send SYN, enter SYN-SENT.
  void open_active();
  // RFC 9293 §3.10.7: one segment for this 4-tuple.
  void segment_arrives(const wire::TcpSegment& segment);
  // RFC 5961 §4.2: SYN+FIN in a synchronized state gets a challenge ACK and nothing else
  // (connection_illegal_flags.cpp).
  void illegal_syn_fin_arrives(const wire::TcpSegment& segment);
  // RFC 1191 / RFC 5927 §4.1: ICMP fragmentation needed quoting our segment at `quoted_seq`
  // (connection_path_mtu.cpp). quoted_length: the quoted datagram's total length.
  void fragmentation_needed(Seq quoted_seq, uint16_t next_hop_mtu, uint16_t quoted_length);
  // RFC 1122 §4.2.3.9: any other ICMP destination unreachable (`code`, from `from`) quoting our
  // segment at `quoted_seq` (connection_unreachable.cpp).
  void icmp_error(Seq quoted_seq, uint8_t type, uint8_t code, wire::Ipv4Address from);
  // Fires whatever timers are due at ctx.now.
  void on_timers();
  // At the end of the turn, the ACK queued for it if nothing carried it: a quick ACK after a
  // read, or the one for the full-sized segments the turn read (schedule_ack).
  void send_turn_end_ack();
  std::optional<Instant> next_deadline() const;
  // The deadline of this connection's entry in the host's TimerQueue, if it has one; the
  // entry is never later than next_deadline() (arm() adds an earlier one when needed).
  std::optional<Instant> queued_deadline() const { return queued_deadline_; }
  void timer_entry_removed() { queued_deadline_.reset(); }
  // Adds next_deadline() to the host's queue unless an entry at or before it is there.
  void queue_timers();
  // Removed without a word on the wire (a half-open connection forgotten, SYN-queue eviction,
  // TIME-WAIT reuse); `rule` names why, as in every state change.
  void discard(std::string_view rule);
  // Closed, callbacks done: the host may destroy it at the end of its entry point.
  bool finished() const { return finished_; }
  // The application still holds the socket and has not been told it is closed.
  bool held_by_application() const { return handler_ != nullptr && !events_.closed_delivered; }
  Origin origin() const { return origin_; }
  const Tcb& tcb() const { return tcb_; }
  const Timestamps& timestamps() const { return timestamps_; }  // RFC 7323 TS.Recent, for RFC 6191
  // A copy of the TCB, RTO, cwnd and armed timers for inspectors (tcb_snapshot.cpp).
  TcbSnapshot snapshot() const;
  // In TIME-WAIT with the application done, only the 2 MSL timer armed and no bytes held:
  // the compact record that can stand in for this connection (connection_time_wait.cpp).
  std::optional<TimeWaitRecord> time_wait_record() const;
  // In TIME-WAIT with its 2 MSL timer armed, whatever else it holds: the record of it that a
  // reopening SYN leaves behind, in case that SYN was an old duplicate (RFC 9293 §3.6.1).
  std::optional<TimeWaitRecord> time_wait_for_reopen() const;
  // In FIN-WAIT-2 after the application let go (release), only the --fin-timeout armed and
  // no bytes held: the compact record that can stand in for it (connection_fin_wait_2.cpp).
  std::optional<TimeWaitRecord> fin_wait_2_record() const;

  // --- Socket (connection_user.cpp) ---------------------------------------------------
  void set_handler(SocketHandler* handler) override;
  size_t send(std::span<const std::byte> data) override;
  void push() override;
  size_t send_space() const override;
  size_t send_queued() const override { return send_.size(); }
  std::optional<Instant> last_acknowledged() const override { return last_acknowledged_; }
  std::optional<bool> peer_window_shut() const override { return tcb_.snd_wnd == 0; }
  size_t receive(std::span<std::byte> out) override;
  size_t readable() const override;
  bool peer_closed() const override;
  void close() override;
  void abort() override;
  bool release(std::optional<Duration> linger_on_data = std::nullopt) override;  // connection_fin_wait_2.cpp
  const FourTuple& tuple() const override { return tuple_; }
  State state() const override { return tcb_.state; }
  ConnectionInfo info() const override;

 private:
  // --- connection_input.cpp: RFC 9293 §3.10.7 in the RFC's order -----------------------
  void syn_sent_arrives(const wire::TcpSegment& seg);
  bool check_sequence(wire::TcpSegment& seg);
  bool answer_duplicate_syn(const wire::TcpSegment& seg);
  void strip_repeated_syn(wire::TcpSegment& seg);
  uint32_t window_in_bytes(const wire::TcpSegment& seg) const;
  uint32_t advertised_window() const;
  bool late_bare_ack(const wire::TcpSegment& seg) const;
  bool zero_window_allowance(const wire::TcpSegment& seg) const;
  void reject_unacceptable(const wire::TcpSegment& seg);
  void trim_to_window(wire::TcpSegment& seg);
  bool check_rst(const wire::TcpSegment& seg);
  bool check_syn(const wire::TcpSegment& seg);
  bool check_ack(const wire::TcpSegment& seg);
  bool ack_in_syn_received(const wire::TcpSegment& seg);
  // SYN-RECEIVED, or FIN-WAIT-1 entered from it before our SYN was acknowledged.
  bool syn_unacknowledged() const;
  bool ack_advances(const wire::TcpSegment& seg);
  void update_send_window(const wire::TcpSegment& seg);
  // The window opened after it shut below data we had sent: resend that (connection_window_reopen.cpp).
  void window_reopened(Seq old_edge, uint32_t old_window);
  void count_duplicate_ack(const wire::TcpSegment& seg, bool new_sack_info);
  void process_text(const wire::TcpSegment& seg);
  void take_released_text(const wire::TcpSegment& seg);  // connection_fin_wait_2.cpp
  // RFC 5927 §4.1: does an ICMP error's quoted SEG.SEQ lie in SND.UNA..SND.NXT? If not, drops
  // it as forged or stale, naming `what` (connection_path_mtu.cpp).
  bool quote_in_flight(Seq quoted_seq, std::string_view what);
  void discard_readable();                               // connection_fin_wait_2.cpp
  // The application read (or let go of) bytes: send or owe the window update (connection_user.cpp).
  void window_opened();
  void start_linger();                                   // connection_fin_wait_2.cpp
  void linger_timeout();                                 // connection_fin_wait_2.cpp
  void check_fin(const wire::TcpSegment& seg);
  bool ack_rides_on_reply() const;
  void take_syn_options(const wire::TcpSegment& syn);
  uint8_t our_window_shift() const;
  void send_challenge_ack();

  // The ACK to an unacceptable segment, within the per-connection limit (invalid_ack_limit).
  void send_invalid_ack(const wire::TcpSegment& seg, std::string_view note) {
    if (invalid_ack_allowed(ctx_, tuple_, seg, note, invalid_ack_clock_)) send_ack(note);
  }

  // --- connection_output.cpp ----------------------------------------------------------
  // Sends what may be sent now; after_read: the application just freed receive space.
  void output(bool after_read = false);
  // output() now, or when the callback being delivered returns (see connection_user.cpp).
  void output_or_defer();
  bool send_one_data_segment();
  void send_syn(bool with_ack, std::string_view note);
  void send_ack(std::string_view note = {});
  void send_rst(Seq seq);
  // The sequence number of an ACK or a RST we start (ABORT, giving up): SND.NXT, or the peer's
  // window edge if that is below it.
  Seq acceptable_seq() const;
  void send_data(Seq seq, size_t length, bool fin, std::string_view note);
  void transmit(wire::TcpSegment& seg, const SendBuffer* data, size_t offset, size_t length,
                std::string_view note);
  uint16_t window_to_advertise(bool syn);
  size_t sws_threshold() const;
  bool window_update_worthwhile() const;
  // After in-order data: `arrived` bytes of it just now, `immediately` when RFC 5681 §4.2 asks
  // for the ACK at once (a hole filled).
  void schedule_ack(bool immediately, size_t arrived);
  void note_segment_size(size_t length);
  bool quick_ack_due() const;
  size_t flight_size() const { return seq_distance(tcb_.snd_una, tcb_.snd_nxt); }
  Seq send_base() const;
  size_t sent_data_bytes() const;
  size_t unsent_bytes() const { return send_.size() - sent_data_bytes(); }
  // RFC 6691 §2 / RFC 7323: the MSS counts data and options, so with timestamps on every
  // segment 12 bytes fewer data fit (SMSS for RFC 5681 too).
  size_t send_mss() const { return effective_mss() - (timestamps_.enabled() ? 12u : 0u); }
  // RFC 1191 §3: the MSS the path allows, once an ICMP fragmentation needed lowered it.
  uint16_t effective_mss() const { return path_mss_ && *path_mss_ < tcb_.mss ? *path_mss_ : tcb_.mss; }
  void trace_segment(trace::Direction dir, const wire::TcpSegment& seg, std::string_view note);

  // --- connection_timers.cpp ----------------------------------------------------------
  void arm(Timer& timer, Instant deadline);
  void cancel(Timer& timer);
  void cancel_all_timers();
  // Every timer of the connection, in the order their cancellations appear in a trace.
  template <typename Self>
  static auto timers_of(Self& self) {
    return std::array{&self.retransmission_timer_, &self.persist_timer_, &self.delayed_ack_timer_,
                      &self.time_wait_timer_,      &self.fin_wait_2_timer_, &self.linger_timer_,
                      &self.keepalive_timer_};
  }
  std::array<Timer*, 7> timers() { return timers_of(*this); }
  std::array<const Timer*, 7> timers() const { return timers_of(*this); }
  void restart_retransmission_timer();
  void retransmission_timeout();
  uint32_t retransmit_first(std::string_view note);
  void resend_syn(std::string_view note);
  void persist_timeout();
  void enter_time_wait(std::string_view rule);
  void enter_fin_wait_2(std::string_view rule);
  void arm_fin_wait_2_timer();
  void fin_wait_2_timeout();
  void release_idle_buffers();
  void on_new_ack(size_t acked_bytes);
  void start_congestion_control();
  void act_on(NewReno::Response response, std::string_view note);

  // --- connection_recovery.cpp: which lost segments to resend, and when ----------------
  uint32_t retransmit_at(Seq seq, size_t limit, std::string_view note);
  void start_timeout_recovery(uint32_t first_length);
  // Go-back-N: resends from..end in order as cwnd allows, traced as `note` (why: connection_recovery.cpp).
  void start_go_back_n(Seq from, Seq end, const char* note);
  void start_sack_recovery(uint32_t first_length);
  void recovery_ack();
  enum class RecoverySend { Sent, Blocked, Nothing };
  RecoverySend send_recovery_segment();
  RecoverySend send_rescue_segment();
  Seq skip_sacked(Seq seq, Seq limit) const;
  size_t recovery_room(size_t wanted) const;
  size_t window_room_at(Seq seq) const;
  bool new_data_sendable() const;
  size_t pipe() const;

  // --- connection_sack.cpp: RFC 2018 both ways ------------------------------------------
  size_t take_sack_blocks(const wire::TcpSegment& seg);
  void detect_reneging(Seq ack);
  void remember_out_of_order(Seq seq);
  void note_duplicate(Seq seq, size_t length);
  void add_sack_blocks(wire::TcpOptions& options, size_t payload) const;

  // --- connection_keepalive.cpp: RFC 1122 §4.2.3.6 -----------------------------------
  void start_keepalive();
  void keepalive_timeout();

  // --- connection_timestamps.cpp: RFC 7323 ---------------------------------------------
  bool check_paws(const wire::TcpSegment& seg);
  bool record_timestamp(const wire::TcpSegment& original);
  bool timestamp_rtt_sample(const wire::TcpSegment& seg);
  void add_timestamps(wire::TcpOptions& options) const;

  // --- connection_time_wait.cpp: the compact record's common part ----------------------
  bool holds_only(const Timer& kept, const Timer* also = nullptr) const;
  TimeWaitRecord compact_record(const Timer& kept) const;

  // --- state and application events ---------------------------------------------------
  void set_state(State next, std::string_view rule);
  void close_connection(CloseReason reason, std::string_view rule);
  void deliver_events();

  HostContext& ctx_;
  FourTuple tuple_;
  Origin origin_;
  Tcb tcb_;
  SendBuffer send_;
  ReceiveBuffer receive_;
  RtoEstimator rto_;

  Timer retransmission_timer_{"retransmission", {}};
  Timer persist_timer_{"persist", {}};
  Timer delayed_ack_timer_{"delayed-ack", {}};
  Timer time_wait_timer_{"time-wait", {}};
  // --fin-timeout: how long FIN-WAIT-2 may last (a deviation, see config.hpp).
  Timer fin_wait_2_timer_{"fin-wait-2", {}};
  Timer keepalive_timer_{"keep-alive", {}};
  // A released connection's lingering close (release(linger_on_data)): RST when it fires.
  Timer linger_timer_{"linger", {}};
  Instant last_heard_{};                    // last segment from the peer (RFC 1122 §4.2.3.6 idle time)
  int keepalive_probes_ = 0;                // probes sent since the peer was last heard
  std::optional<Instant> queued_deadline_;  // see queued_deadline()
  // Our SYN has been acknowledged. Kept, not derived from SND.UNA = ISS: sequence numbers wrap
  // (RFC 9293 §3.4), so after 2^32 bytes SND.UNA equals ISS again, long after the SYN.
  bool syn_acked_ = false;
  int retries_ = 0;  // timeouts of the same data that count toward R2 (RFC 9293 §3.8.3)
  // The data at SND.UNA went again by the timer: RFC 5681 §3.1 then holds ssthresh constant.
  bool resent_by_timer_ = false;
  // An acceptable ACK came since the last retransmission timeout: with the peer's window shut,
  // that answers the retransmission as a zero-window probe (RFC 1122 §4.2.2.17), so the next
  // timeout neither counts toward R2 nor is a loss. Not persist_.unanswered == 0: for a released
  // connection answers do not reset that count, yet an answer still says the path lost nothing.
  bool answered_since_timeout_ = false;
  // What the persist timer decides for the sender: zero-window probes (RFC 9293 §3.8.6.1)
  // and the SWS override timeout (§3.8.6.2.1).
  struct PersistState {
    Duration interval{};        // backs off per probe (RFC 9293 §3.8.6.1)
    bool probing = false;       // a zero-window probe byte is outstanding
    bool override_sws = false;  // the SWS override timeout fired: send what fits
    int unanswered = 0;         // probes sent since the peer last acknowledged anything
  };
  PersistState persist_;
  std::optional<Seq> push_end_;  // the application's last PUSH (RFC 9293 §3.9.1): send up to here now

  // RTT measurement of one segment at a time; Karn's rule (RFC 6298 §3) voids it on
  // retransmission.
  std::optional<Seq> timed_seq_;
  Instant timed_at_{};

  // Congestion control: NewReno (RFC 5681, RFC 6582), stack/tcp/congestion.hpp.
  NewReno congestion_;
  // Loss recovery (connection_recovery.cpp). Timeout: RFC 5681 §3.1, everything sent before
  // the timeout is presumed lost and resent in slow start, from rtx_next_ to rtx_end_ (SND.NXT
  // at the timeout). Sack: RFC 6675, holes the scoreboard says are lost, up to rtx_end_ (the
  // RecoveryPoint); rtx_next_ plays HighRxt.
  enum class Recovery { None, Timeout, Sack };
  Recovery recovery_ = Recovery::None;
  Seq rtx_next_;  // next sequence number to retransmit
  Seq rtx_end_;   // end of the data presumed lost / RecoveryPoint
  // What a go-back-N resend (Recovery::Timeout) is called in the trace: after the timer, or
  // after an ICMP said the path's MTU is smaller (RFC 1191 §6.4), where no timer fired.
  const char* go_back_note_ = "retransmission (after timeout)";
  // Set while a counted retransmission is being sent, so that its trace event says so.
  bool resending_ = false;
  // Our SYN or SYN,ACK was resent because the retransmission timer expired: RFC 6298 §5.7's
  // 3 s RTO and RFC 5681 §3.1's one-segment initial window. A SYN,ACK resent for a duplicate
  // SYN is counted as a retransmission but does not set it (the SYN may have been duplicated,
  // nothing lost; Linux too cuts the window only after more than one SYN,ACK retransmission).
  bool syn_timed_out_ = false;
  // RFC 6675 RescueRxt, as the sequence number after it (like rtx_next_ for HighRxt).
  std::optional<Seq> rescue_rxt_;
  // RFC 2018: both SYNs carried SACK-permitted (sack_ok_); the scoreboard of what the peer
  // holds; the starts of the out-of-order segments we received most recently (RFC 2018 §4).
  bool sack_ok_ = false;
  bool peer_sends_sack_blocks_ = false;  // an ACK of the peer's carried a usable SACK block
  SackScoreboard scoreboard_;
  std::array<Seq, wire::kMaxSackBlocks> sack_recent_{};
  size_t sack_recent_count_ = 0;
  // RFC 2883: duplicate data the segment being processed brought, for our next ACK's first
  // SACK block (a D-SACK); cleared once sent and at the end of the segment's processing.
  std::optional<wire::SackBlock> dsack_;
  // RFC 7323: negotiated if both SYNs carried the option; RTT sampled once per flight.
  Timestamps timestamps_;
  Seq ts_sampled_until_;
  // What the peer's SYN offered (RFC 2018, RFC 7323 §2-3): a SYN,ACK of ours may carry an
  // option only if the peer's SYN did.
  struct PeerSynOptions {
    bool sack = false;
    bool timestamps = false;
    bool window_scale = false;
  };
  PeerSynOptions peer_syn_;
  uint32_t max_snd_wnd_ = 0;  // largest window the peer offered (§3.8.6.2.1, RFC 5961 §5)

  // FIN bookkeeping (RFC 9293 §3.10.4 CLOSE, §3.10.7.4 eighth).
  struct FinState {
    bool close_requested = false;  // the application called close()
    std::optional<Seq> sent_seq;   // our FIN's sequence number once sent
    bool acked = false;            // the peer acknowledged our FIN
    bool peer_fin = false;         // the peer's FIN arrived in order
  };
  FinState fin_;

  // Receive side: what we advertised and how much we owe the peer an ACK for.
  Seq rcv_adv_;  // right edge of the window we advertised
  Seq rcv_wup_;  // RCV.NXT when we last sent an ACK
  // What we owe the peer (RFC 9293 §3.8.6.3 delayed ACKs, §3.8.6.2.2 window updates).
  struct AckState {
    bool now = false;          // the next output() sends an ACK even without data
    size_t unacked_bytes = 0;  // in-order bytes received since our last ACK
    // The application read inside a callback: the window update waits until the callback
    // returns, so data it sends from there carries the new window (see receive()).
    bool window_update_owed = false;
    // The largest segment the peer has sent us, as Linux estimates it (rcv_mss): from 536
    // bytes up, at most the MSS we offered. A segment shorter than that ends a write of the
    // peer's, whose Nagle may hold its next one until our ACK (see quick_ack_due()).
    size_t peer_segment_size = 536;
    bool last_segment_short = false;
    // In HostContext::acks_at_turn_end: the turn's end sends a quick ACK, or the ACK two
    // full-sized segments call for (schedule_ack), if nothing sent in the turn carried it.
    bool queued_for_turn_end = false;
  };
  AckState ack_;

  // Application events, delivered when the state is consistent again.
  SocketHandler* handler_ = nullptr;
  struct ApplicationEvents {
    // Owed to the handler, each delivered once by deliver_events().
    bool connected = false;
    bool readable = false;
    bool peer_fin = false;
    bool writable = false;
    std::optional<CloseReason> closed;
    // Delivery bookkeeping: inside deliver_events() now; on_closed already called.
    bool delivering = false;
    bool output_owed = false;  // the application sent or closed inside a callback
    bool closed_delivered = false;
    // TIME-WAIT came while the application still had bytes to read: on_closed waits until it
    // has read them (receive) or 2 MSL end.
    bool closed_once_read = false;
  };
  ApplicationEvents events_;
  mutable bool want_writable_ = false;  // set by send_space() too, which is const to callers
  std::optional<Instant> last_acknowledged_;  // when SND.UNA last advanced
  bool finished_ = false;               // see finished()
  // The application let go after CLOSE (release()): no one reads, no callback is owed.
  bool released_ = false;
  // release(linger_on_data): how long to linger once data arrives after the release.
  std::optional<Duration> linger_on_data_;

  // MTU - 40 of the path as ICMP fragmentation needed reported it (RFC 1191), if it did.
  std::optional<uint16_t> path_mss_;
  // A report below 576 bytes came: our segments leave without DF (connection_path_mtu.cpp).
  bool path_below_floor_ = false;
  // When we last answered an unacceptable segment with an ACK (invalid_ack_limit.hpp).
  InvalidAckClock invalid_ack_clock_;
  // When we last sent a challenge ACK (RFC 5961 §7, invalid_ack_limit.hpp).
  InvalidAckClock challenge_ack_clock_;
  // Set by check_sequence when a zero window refused the segment's text or FIN; counted as
  // tcp-text-ignored only if the rest of the segment (its ACK) is accepted.
  std::string_view zero_window_drop_;
  // Set by strip_repeated_syn: the segment was a SYN,ACK, so its window is not scaled.
  bool window_came_with_syn_ = false;
  std::optional<IcmpSoftError> soft_error_;  // the last one (RFC 1122 §4.2.3.9), for info()

  uint64_t bytes_received_ = 0, bytes_sent_ = 0;
  uint32_t retransmissions_ = 0;
};

}  // namespace tcplab::tcp
