// Congestion control for one connection: NewReno, i.e. RFC 5681 (slow start, congestion
// avoidance, fast retransmit / fast recovery, restart after idle) with RFC 6582's handling
// of partial ACKs. Sans-IO and clock-free: the connection reports ACKs, timeouts and sends;
// this class only moves cwnd and ssthresh and tells the connection what to retransmit.
// Every change of cwnd or ssthresh is reported with the rule that made it (for the trace).
// Deviation (newreno-not-cubic): Linux peers use CUBIC (RFC 9438) by default, so a Linux
// sender's window grows along a different curve than ours.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "stack/seq.hpp"
#include "stack/time.hpp"

namespace tcplab::tcp {

// RFC 5681 §3.1: ssthresh starts "arbitrarily high"; this value means "not set yet".
constexpr size_t kSsthreshInfinite = SIZE_MAX;

class NewReno {
 public:
  // Called after every change with the new values and the rule, e.g.
  // "RFC 5681 §3.1 (slow start)". Empty: nobody listens.
  using Observer = std::function<void(size_t cwnd, size_t ssthresh, std::string_view rule)>;

  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // The handshake is over: SMSS is known. RFC 5681 §3.1 / RFC 6928 §2:
  // IW = min(segments * SMSS, max(2 * SMSS, segments * 1460)), 14600 bytes for 10 segments;
  // RFC 5681 §3.1: if the SYN or SYN,ACK had to be retransmitted, IW is one segment.
  // iss: RFC 6582 §3.2 step 1, "recover" starts at the initial send sequence number.
  void start(size_t smss, uint32_t initial_window_segments, bool syn_retransmitted, Seq iss);
  // The path MTU shrank (RFC 1191): later increases count in the new SMSS. cwnd keeps its
  // bytes: RFC 1191 §6.4, "a retransmission caused by a Datagram Too Big message should not
  // change the congestion window".
  void set_smss(size_t smss) { smss_ = smss > 0 ? smss : 1; }

  // What the connection must do after an ACK.
  struct Response {
    bool retransmit_first = false;  // resend the segment at SND.UNA (fast or partial-ACK rtx)
    bool restart_timer = false;     // re-arm the retransmission timer (RFC 6582 §3.2 step 3)
    bool limited_transmit = false;  // RFC 3042: one new segment may go beyond cwnd
  };

  // An ACK acknowledged `acked` new bytes; snd_una is the new SND.UNA, flight_size what is
  // still outstanding after it.
  Response on_new_ack(size_t acked, Seq snd_una, size_t flight_size);
  // A duplicate ACK as RFC 5681 §2 defines it. flight_size before the ACK; snd_nxt the next
  // sequence number to send (recover = SND.NXT - 1, the highest transmitted).
  // sack: the peer reports SACK blocks, so a recovery started now follows RFC 6675 (cwnd =
  // ssthresh, no inflation or deflation: the connection's pipe does that job);
  // lost_by_sack: the scoreboard already says SND.UNA is lost (RFC 6675 §5 IsLost trigger).
  // may_release: the ACK may release new data by Limited Transmit (RFC 3042 §2: with SACK
  // only if it carries new SACK information).
  Response on_duplicate_ack(Seq ack, size_t flight_size, Seq snd_nxt, bool sack = false,
                            bool lost_by_sack = false, bool may_release = true);
  // RFC 3042 §2: how far beyond cwnd the amount outstanding may go now (0, 1 or 2 SMSS:
  // one segment for each of the first two duplicate ACKs). Non-zero also says a Limited
  // Transmit episode is on, which with SACK follows RFC 6675's pipe instead (§5 step 3).
  size_t limited_transmit_allowance() const { return limited_transmit_segments_ * smss_; }
  // `bytes` of new data went out beyond cwnd under that allowance; RFC 5681 §3.2 step 2
  // leaves them out of the FlightSize that ssthresh is computed from.
  void limited_transmit_sent(size_t bytes) { limited_transmit_bytes_ += bytes; }
  // The retransmission timer expired (RFC 5681 §3.1: ssthresh by eq. 4, held by its
  // implementation note, and cwnd = LW = 1 segment;
  // RFC 6582 §3.2 step 4). first_timeout: this data had not timed out before.
  void on_retransmission_timeout(size_t flight_size, Seq snd_nxt, bool first_timeout);
  // New data is about to be sent with nothing in flight: RFC 5681 §4.1, restart after idle.
  void before_sending_after_idle(Instant now, Duration rto);
  // New data went out at `now` (for the idle test above).
  void data_sent(Instant now) {
    last_send_ = now;
    sent_any_ = true;
  }

  size_t cwnd() const { return cwnd_; }
  size_t ssthresh() const { return ssthresh_; }
  bool in_recovery() const { return in_recovery_; }
  int duplicate_acks() const { return dup_acks_; }
  // The initial window for this connection ("IW", RFC 5681 §3.1; §4.1 restarts from it).
  size_t initial_window() const { return initial_window_; }

 private:
  void set(size_t cwnd, size_t ssthresh, std::string_view rule);
  size_t half_flight(size_t flight_size) const;
  // A new ACK, a recovery or a timeout ends the Limited Transmit episode (RFC 3042 §2).
  void end_limited_transmit() {
    limited_transmit_segments_ = 0;
    limited_transmit_bytes_ = 0;
  }

  size_t smss_ = 536;
  size_t cwnd_ = 0;
  size_t ssthresh_ = kSsthreshInfinite;
  size_t initial_window_ = 0;
  int dup_acks_ = 0;
  bool in_recovery_ = false;
  bool sack_recovery_ = false;            // this recovery follows RFC 6675
  bool partial_ack_seen_ = false;         // RFC 6582 §3.2 step 3: timer reset on the first one only
  size_t limited_transmit_segments_ = 0;  // RFC 3042: duplicate ACKs that released a segment
  size_t limited_transmit_bytes_ = 0;     // sent beyond cwnd under RFC 3042 since the last new ACK
  Seq recover_;                           // RFC 6582 §3.2: highest sequence number transmitted
  Instant last_send_{};
  bool sent_any_ = false;
  Observer observer_;
};

}  // namespace tcplab::tcp
