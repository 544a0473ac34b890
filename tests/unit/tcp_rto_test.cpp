// Tests for stack/tcp/rto.*: RFC 6298 §2 formulas, bounds and back-off.
#include <doctest/doctest.h>

#include "stack/tcp/rto.hpp"

using namespace tcplab;
using tcplab::tcp::RtoEstimator;

TEST_CASE("rto: 1 s before any sample (RFC 6298 §2.1)") {
  RtoEstimator e(seconds(1), milliseconds(200), seconds(60));
  CHECK(e.rto() == seconds(1));
  CHECK_FALSE(e.has_sample());
}

TEST_CASE("rto: first sample sets SRTT = R, RTTVAR = R/2 (§2.2)") {
  RtoEstimator e(seconds(1), milliseconds(1), seconds(60));
  e.sample(milliseconds(100));
  CHECK(e.srtt() == milliseconds(100));
  CHECK(e.rttvar() == milliseconds(50));
  CHECK(e.rto() == milliseconds(300));  // 100 + 4*50
}

TEST_CASE("rto: later samples use alpha 1/8, beta 1/4 (§2.3)") {
  RtoEstimator e(seconds(1), milliseconds(1), seconds(60));
  e.sample(milliseconds(100));
  e.sample(milliseconds(200));
  // RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5
  CHECK(e.rttvar() == microseconds(62500));
  CHECK(e.srtt() == microseconds(112500));
  CHECK(e.rto() == microseconds(112500 + 250000));
}

TEST_CASE("rto: minimum and maximum bound it (§2.4, §2.5)") {
  RtoEstimator e(seconds(1), milliseconds(200), seconds(60));
  e.sample(microseconds(50));
  CHECK(e.rto() == milliseconds(200));
  RtoEstimator big(seconds(1), milliseconds(200), seconds(2));
  big.sample(seconds(5));
  CHECK(big.rto() == seconds(2));
}

TEST_CASE("rto: back-off doubles up to the maximum, a new sample restores (§5.5)") {
  RtoEstimator e(seconds(1), milliseconds(200), seconds(5));
  e.back_off();
  CHECK(e.rto() == seconds(2));
  e.back_off();
  CHECK(e.rto() == seconds(4));
  e.back_off();
  CHECK(e.rto() == seconds(5));
  e.sample(milliseconds(100));
  CHECK(e.rto() == milliseconds(300));
}

TEST_CASE("rto: after a SYN timed out, 3 s when data begins, even after a sample (§5.7)") {
  RtoEstimator backed_off(seconds(1), milliseconds(200), seconds(60));
  backed_off.back_off();
  backed_off.after_syn_timeout();
  CHECK(backed_off.rto() == seconds(3));
  RtoEstimator long_initial(seconds(5), milliseconds(200), seconds(60));  // not "less than 3 seconds"
  long_initial.after_syn_timeout();
  CHECK(long_initial.rto() == seconds(5));
  RtoEstimator sampled(seconds(1), milliseconds(200), seconds(60));
  sampled.sample(milliseconds(100));
  sampled.after_syn_timeout();  // a MUST: a timestamp sample makes no exception
  CHECK(sampled.rto() == seconds(3));
  CHECK(sampled.srtt() == milliseconds(100));  // kept for the next sample (§2.3)
  sampled.sample(milliseconds(100));
  CHECK(sampled.rto() < seconds(3));
  RtoEstimator low_max(seconds(1), milliseconds(200), seconds(2));  // --rto-max below 3 s bounds it
  low_max.after_syn_timeout();
  CHECK(low_max.rto() == seconds(2));
}
