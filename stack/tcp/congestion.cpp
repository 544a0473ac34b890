// NewReno congestion control (RFC 5681, RFC 6582), rule by rule; see congestion.hpp.
#include "stack/tcp/congestion.hpp"

#include <algorithm>

namespace tcplab::tcp {
namespace {

// RFC 6928 §2's byte cap, 14600, is 10 segments of this size (an Ethernet MSS).
constexpr size_t kRfc6928Mss = 1460;

}  // namespace

void NewReno::set(size_t cwnd, size_t ssthresh, std::string_view rule) {
  if (cwnd == cwnd_ && ssthresh == ssthresh_) return;
  cwnd_ = cwnd;
  ssthresh_ = ssthresh;
  if (observer_) observer_(cwnd_, ssthresh_, rule);
}

// RFC 5681 §3.1 eq. (4): ssthresh = max (FlightSize / 2, 2*SMSS).
size_t NewReno::half_flight(size_t flight_size) const { return std::max(flight_size / 2, 2 * smss_); }

void NewReno::start(size_t smss, uint32_t initial_window_segments, bool syn_retransmitted, Seq iss) {
  smss_ = std::max<size_t>(smss, 1);
  recover_ = iss;  // RFC 6582 §3.2 step 1: "recover is initialized to the initial send sequence number"
  dup_acks_ = 0;
  in_recovery_ = false;
  end_limited_transmit();
  if (syn_retransmitted) {
    // RFC 5681 §3.1: "if the SYN or SYN/ACK is lost, the initial window used by a sender
    // after a correctly transmitted SYN MUST be one segment consisting of at most SMSS bytes."
    initial_window_ = smss_;
    set(initial_window_, ssthresh_, "RFC 5681 §3.1 (initial window: SYN was retransmitted)");
  } else {
    // RFC 6928 §2: "the upper bound for the initial window will be min (10*MSS, max (2*MSS,
    // 14600))": 10 segments up to an MSS of 1460, then 14600 bytes, but never below 2
    // segments (an MSS of 8960 gets 17920, not 89600; Linux takes 10 segments whatever the
    // MSS). RFC 5681 §3.1 allows up to 4 segments without it. initial_window_segments stands
    // for the 10 in both terms (14600 is 10 segments of 1460).
    size_t segments = std::max<uint32_t>(initial_window_segments, 1);
    initial_window_ = std::min(segments * smss_, std::max(2 * smss_, segments * kRfc6928Mss));
    set(initial_window_, ssthresh_, "RFC 6928 §2 (initial window)");
  }
}

NewReno::Response NewReno::on_new_ack(size_t acked, Seq snd_una, size_t flight_size) {
  Response r;
  dup_acks_ = 0;
  end_limited_transmit();
  // RFC 6582 §3.2 compares ACKs with recover in sequence arithmetic, which holds only within
  // 2^31 (RFC 9293 §3.4): a recover left at ISS would, after 2^31 bytes without a loss, seem
  // ahead of every ACK and forbid fast retransmit for the next 2^31. Outside recovery it
  // follows SND.UNA - 1 once passed, which changes none of the comparisons the RFC makes.
  if (!in_recovery_ && snd_una - 1 > recover_) recover_ = snd_una - 1;
  if (in_recovery_) {
    if (snd_una > recover_) {
      // RFC 6582 §3.2 step 3, full ACK: "Set cwnd to ... (1) min (ssthresh, max(FlightSize,
      // SMSS) + SMSS)" - option (1), which keeps a burst from following recovery.
      // Deviation (sack-exit-burst-limit): the same at the end of a SACK recovery, where RFC
      // 6675 §5 leaves cwnd at ssthresh and the ACK that ends it could release a burst.
      const bool sack = sack_recovery_;
      in_recovery_ = false;
      sack_recovery_ = false;
      partial_ack_seen_ = false;
      set(std::min(ssthresh_, std::max(flight_size, smss_) + smss_), ssthresh_,
          sack ? "RFC 6675 §5 (RecoveryPoint reached: leave SACK recovery; cwnd as RFC 6582 §3.2 step 3)"
               : "RFC 6582 §3.2 step 3 (full ACK: leave fast recovery)");
      return r;
    }
    // RFC 6675 §5: a partial ACK changes neither cwnd nor what to send - the scoreboard
    // and the pipe decide that.
    if (sack_recovery_) return r;
    // RFC 6582 §3.2 step 3, partial ACK: retransmit the first unacknowledged segment,
    // "deflate the congestion window by the amount of new data acknowledged ... If the
    // partial ACK acknowledges at least one SMSS of new data, then add back SMSS bytes".
    r.retransmit_first = true;
    r.restart_timer = !partial_ack_seen_;  // "For the first partial ACK ... reset the retransmit timer"
    partial_ack_seen_ = true;
    size_t deflated = cwnd_ > acked ? cwnd_ - acked : 0;
    if (acked >= smss_) deflated += smss_;
    // Deviation (partial-ack-cwnd-floor): never below one segment, so the retransmission
    // itself is always allowed.
    set(std::max(deflated, smss_), ssthresh_, "RFC 6582 §3.2 step 3 (partial ACK: deflate)");
    return r;
  }
  if (cwnd_ < ssthresh_) {
    // RFC 5681 §3.1 eq. (2): cwnd += min (N, SMSS) per ACK of new data.
    set(cwnd_ + std::min(acked, smss_), ssthresh_, "RFC 5681 §3.1 (slow start)");
  } else {
    // RFC 5681 §3.1 eq. (3): cwnd += SMSS*SMSS/cwnd, rounded up to 1 byte if it is 0.
    set(cwnd_ + std::max<size_t>(1, smss_ * smss_ / std::max<size_t>(cwnd_, 1)), ssthresh_,
        "RFC 5681 §3.1 (congestion avoidance)");
  }
  return r;
}

NewReno::Response NewReno::on_duplicate_ack(Seq ack, size_t flight_size, Seq snd_nxt, bool sack,
                                            bool lost_by_sack, bool may_release) {
  Response r;
  ++dup_acks_;
  if (in_recovery_ && sack_recovery_) return r;  // RFC 6675: the pipe, not cwnd, counts these
  if (in_recovery_) {
    // RFC 5681 §3.2 step 4: "For each additional duplicate ACK received (after the third),
    // cwnd MUST be incremented by SMSS" - a segment has left the network.
    set(cwnd_ + smss_, ssthresh_, "RFC 5681 §3.2 step 4 (fast recovery: inflate)");
    return r;
  }
  // RFC 5681 §3.2: the third duplicate; RFC 6675 §5: or the scoreboard says SND.UNA is lost.
  bool loss_detected = dup_acks_ == 3 || (sack && lost_by_sack && dup_acks_ < 3);
  // RFC 6582 §3.2 step 2: fast retransmit only "if the Cumulative Acknowledgment field
  // covers more than recover"; otherwise these duplicates may answer retransmissions of an
  // earlier loss episode, and a second reduction would be wrong.
  if (loss_detected && !(ack > recover_)) return r;
  if (!loss_detected) {
    // RFC 3042 §2: on each of the first two duplicate ACKs one new segment may go, cwnd
    // unchanged, as long as the amount outstanding stays within cwnd + 2*SMSS. RFC 6675 §5
    // step (3) keeps this before its own recovery starts ("The TCP MAY transmit previously
    // unsent data segments as per Limited Transmit"), sized by its pipe (the connection does
    // that); with SACK, RFC 3042 §2 lets only an ACK carrying new SACK information release
    // data (a receiver could otherwise make up duplicate ACKs to pull data out of us).
    if (dup_acks_ <= 2 && may_release) {
      ++limited_transmit_segments_;
      r.limited_transmit = true;
    }
    return r;
  }
  // RFC 5681 §3.2 steps 2-3: ssthresh by eq. (4), retransmit, cwnd = ssthresh + 3*SMSS;
  // RFC 6582 §3.2 step 2: recover = highest sequence number transmitted.
  recover_ = snd_nxt - 1;
  in_recovery_ = true;
  sack_recovery_ = sack;
  partial_ack_seen_ = false;
  // RFC 5681 §3.2 step 2: "additional data sent in limited transmit MUST NOT be included in
  // this calculation" of FlightSize.
  size_t ssthresh = half_flight(flight_size - std::min(flight_size, limited_transmit_bytes_));
  end_limited_transmit();
  if (sack) {
    // RFC 6675 §5 step 4.2: "ssthresh = cwnd = (FlightSize / 2)" (with RFC 5681's floor).
    set(ssthresh, ssthresh, "RFC 6675 §5 (SACK loss recovery: cwnd = ssthresh)");
  } else {
    set(ssthresh + 3 * smss_, ssthresh, "RFC 5681 §3.2 (fast retransmit: enter fast recovery)");
  }
  r.retransmit_first = true;
  r.restart_timer = true;
  return r;
}

void NewReno::on_retransmission_timeout(size_t flight_size, Seq snd_nxt, bool first_timeout) {
  // RFC 6582 §3.2 step 4: "After a retransmit timeout, record the highest sequence number
  // transmitted in the variable recover, and exit the fast recovery procedure".
  recover_ = snd_nxt - 1;
  in_recovery_ = false;
  sack_recovery_ = false;
  partial_ack_seen_ = false;
  dup_acks_ = 0;
  end_limited_transmit();
  // RFC 5681 §3.1 eq. (4), and its implementation note: when the segment has already been
  // retransmitted by the timer, "the value of ssthresh is held constant". cwnd = LW = 1 SMSS.
  size_t ssthresh = first_timeout ? half_flight(flight_size) : ssthresh_;
  set(smss_, ssthresh, "RFC 5681 §3.1 (timeout: ssthresh by eq. 4, cwnd = LW = 1 segment)");
}

void NewReno::before_sending_after_idle(Instant now, Duration rto) {
  // RFC 5681 §4.1: "if the TCP has not sent data in an interval exceeding the
  // retransmission timeout", cwnd = RW = min(IW, cwnd) before transmitting again.
  if (!sent_any_ || now - last_send_ <= rto) return;
  set(std::min(initial_window_, cwnd_), ssthresh_, "RFC 5681 §4.1 (restart after idle)");
}

}  // namespace tcplab::tcp
