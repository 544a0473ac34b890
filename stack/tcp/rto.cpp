// RFC 6298 retransmission timeout, rule by rule.
#include "stack/tcp/rto.hpp"

#include <algorithm>

namespace tcplab::tcp {

RtoEstimator::RtoEstimator(Duration initial, Duration min, Duration max)
    : min_(min), max_(max), rto_(initial) {}  // RFC 6298 §2.1: RTO <- 1 s before any sample

Duration RtoEstimator::clamp(Duration d) const { return std::clamp(d, min_, max_); }

void RtoEstimator::sample(Duration r) {
  if (r < Duration::zero()) r = Duration::zero();
  if (!has_sample_) {
    // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
    srtt_ = r;
    rttvar_ = r / 2;
    has_sample_ = true;
  } else {
    // RFC 6298 §2.3 with alpha = 1/8, beta = 1/4; RTTVAR first, using the old SRTT.
    Duration diff = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (rttvar_ * 3 + diff) / 4;
    srtt_ = (srtt_ * 7 + r) / 8;
  }
  // RFC 6298 §2.2/§2.3: RTO <- SRTT + max(G, K*RTTVAR), K = 4; then §2.4/§2.5 bounds.
  rto_ = clamp(srtt_ + std::max(kGranularity, rttvar_ * 4));
  before_probes_.reset();
}

void RtoEstimator::back_off() { rto_ = std::min(rto_ * 2, max_); }

void RtoEstimator::back_off_probe() {
  if (!before_probes_) before_probes_ = rto_;
  back_off();
}

// RFC 6298 §5.5 doubles the RTO because a timeout may mean the path lost the segment or is
// congested; a probe into a zero window times out because the receiver had no room, which its
// answers said. Once the window opens that back-off measured the receiver, not the path, and
// keeping it would leave the next real loss waiting up to a minute (the persist timer's probes,
// RFC 9293 §3.8.6.1, never touch the RTO at all). Backing off from before the probes is kept.
void RtoEstimator::end_probing() {
  if (!before_probes_) return;
  rto_ = *before_probes_;
  before_probes_.reset();
}

void RtoEstimator::after_syn_timeout() {
  // RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
  // implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to 3
  // seconds when data transmission begins". A MUST without exception: even an RTT sample
  // from timestamps (which Linux lets keep its own RTO) does not change it. SRTT and RTTVAR
  // are kept, and the next sample computes the RTO from them again (§2.3).
  constexpr Duration kFallback = seconds(3);
  if (rto_ < kFallback) rto_ = clamp(kFallback);
}

}  // namespace tcplab::tcp
