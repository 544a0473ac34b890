// The retransmission timeout estimator of RFC 6298: SRTT and RTTVAR from RTT samples (§2),
// clamped to [rto_min, rto_max], doubled on each timeout (§5.5). Karn's rule (§3) is the
// caller's job: it only feeds samples from segments that were never retransmitted.
#pragma once
#include <optional>

#include "stack/time.hpp"

namespace tcplab::tcp {

class RtoEstimator {
 public:
  RtoEstimator(Duration initial, Duration min, Duration max);

  // One RTT measurement R (RFC 6298 §2.2 for the first, §2.3 afterwards). Also undoes any
  // back-off: a fresh sample gives a fresh RTO.
  void sample(Duration r);
  // RFC 6298 §5.5: the timer expired, so RTO <- RTO * 2 (bounded by the maximum, §2.5).
  void back_off();
  // The same back-off for a timeout whose segment was a zero-window probe (RFC 9293 §3.8.6.1:
  // the peer's window was shut with our data outstanding), remembering the RTO before the
  // first one. RFC 1122 §4.2.2.17 has probe intervals grow exponentially, which this does.
  void back_off_probe();
  // The window opened: probing is over, and the RTO goes back to what it was before the
  // probes' back-off (a fresh sample since then has replaced it already).
  void end_probing();
  // RFC 6298 §5.7: the handshake completed after our SYN (or SYN,ACK) timed out: an RTO below
  // 3 s becomes 3 s for the data that follows, whatever samples the handshake gave.
  void after_syn_timeout();

  Duration rto() const { return rto_; }
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  bool has_sample() const { return has_sample_; }

  // RFC 6298 §2: "G" - the clock granularity we claim. Our clock is far finer; 1 ms keeps
  // RTTVAR's 4x term from collapsing to nothing on a microsecond TUN link.
  static constexpr Duration kGranularity = milliseconds(1);

 private:
  Duration clamp(Duration d) const;

  Duration min_, max_;
  Duration rto_;
  Duration srtt_{}, rttvar_{};
  bool has_sample_ = false;
  std::optional<Duration> before_probes_;  // the RTO before zero-window probes backed it off
};

}  // namespace tcplab::tcp
