// Tests for stack/tcp/congestion.*: NewReno (RFC 5681, RFC 6582) with exact numbers, SMSS 1000
// so the arithmetic can be checked by hand.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/tcp/congestion.hpp"

using namespace tcplab;
using tcplab::tcp::kSsthreshInfinite;
using tcplab::tcp::NewReno;

namespace {

constexpr size_t kSmss = 1000;
const Seq kIss(1000000);

struct Recorder {
  std::vector<std::string> rules;
  std::vector<size_t> cwnds, ssthreshes;
  void attach(NewReno& cc) {
    cc.set_observer([this](size_t cwnd, size_t ssthresh, std::string_view rule) {
      cwnds.push_back(cwnd);
      ssthreshes.push_back(ssthresh);
      rules.emplace_back(rule);
    });
  }
};

NewReno started(uint32_t iw = 10) {
  NewReno cc;
  cc.start(kSmss, iw, false, kIss);
  return cc;
}

}  // namespace

TEST_CASE("congestion: initial window is 10 segments, ssthresh unset (RFC 6928 §2, RFC 5681 §3.1)") {
  NewReno cc;
  Recorder r;
  r.attach(cc);
  cc.start(kSmss, 10, false, kIss);
  CHECK(cc.cwnd() == 10000);
  CHECK(cc.ssthresh() == kSsthreshInfinite);
  REQUIRE(r.rules.size() == 1);
  CHECK(r.rules[0] == "RFC 6928 §2 (initial window)");
}

TEST_CASE("congestion: the initial window is min(10*MSS, max(2*MSS, 14600)) (RFC 6928 §2)") {
  struct Case {
    size_t smss;
    size_t iw;
  };
  for (Case c :
       {Case{1460, 14600}, Case{8960, 17920}, Case{536, 5360}, Case{1448, 14480}, Case{4000, 14600}}) {
    CAPTURE(c.smss);
    NewReno cc;
    cc.start(c.smss, 10, false, kIss);
    CHECK(cc.cwnd() == c.iw);
    CHECK(cc.initial_window() == c.iw);
  }
  // The byte cap counts in the configured segments: 16 segments of 1000 bytes fit 16 * 1460.
  NewReno sixteen;
  sixteen.start(1000, 16, false, kIss);
  CHECK(sixteen.cwnd() == 16000);
}

TEST_CASE("congestion: a retransmitted SYN leaves an initial window of one segment (RFC 5681 §3.1)") {
  NewReno cc;
  cc.start(kSmss, 10, true, kIss);
  CHECK(cc.cwnd() == 1000);
  CHECK(cc.initial_window() == 1000);
}

TEST_CASE("congestion: slow start adds min(N, SMSS) per ACK (RFC 5681 §3.1 eq. 2)") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  cc.on_new_ack(2000, kIss + 2001, 8000);  // a delayed ACK of two segments: + 1 SMSS only
  CHECK(cc.cwnd() == 11000);
  cc.on_new_ack(500, kIss + 2501, 7500);  // a short segment: + 500
  CHECK(cc.cwnd() == 11500);
  CHECK(r.rules.back() == "RFC 5681 §3.1 (slow start)");
}

TEST_CASE("congestion: fast retransmit on the third duplicate ACK (RFC 5681 §3.2, eq. 4)") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  Seq una = kIss + 1, nxt = kIss + 10001;  // ten segments in flight
  CHECK_FALSE(cc.on_duplicate_ack(una, 10000, nxt).retransmit_first);
  CHECK_FALSE(cc.on_duplicate_ack(una, 10000, nxt).retransmit_first);
  CHECK(r.rules.empty());
  auto resp = cc.on_duplicate_ack(una, 10000, nxt);
  CHECK(resp.retransmit_first);
  CHECK(resp.restart_timer);
  CHECK(cc.in_recovery());
  CHECK(cc.ssthresh() == 5000);  // max(10000 / 2, 2 * 1000)
  CHECK(cc.cwnd() == 8000);      // ssthresh + 3 * SMSS
  // §3.2 step 4: each further duplicate inflates by one SMSS.
  CHECK_FALSE(cc.on_duplicate_ack(una, 10000, nxt).retransmit_first);
  CHECK(cc.cwnd() == 9000);
  CHECK(r.rules.back() == "RFC 5681 §3.2 step 4 (fast recovery: inflate)");
}

TEST_CASE("congestion: Limited Transmit - one segment beyond cwnd per early duplicate (RFC 3042 §2)") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  Seq una = kIss + 1, nxt = kIss + 10001;
  CHECK(cc.limited_transmit_allowance() == 0);
  auto first = cc.on_duplicate_ack(una, 10000, nxt);
  CHECK(first.limited_transmit);
  CHECK(cc.limited_transmit_allowance() == 1000);
  cc.limited_transmit_sent(1000);
  auto second = cc.on_duplicate_ack(una, 11000, nxt + 1000);
  CHECK(second.limited_transmit);
  CHECK(cc.limited_transmit_allowance() == 2000);
  cc.limited_transmit_sent(1000);
  CHECK(r.rules.empty());  // "the congestion window (cwnd) MUST NOT be changed"
  CHECK(cc.cwnd() == 10000);
  // The third: no more Limited Transmit; RFC 5681 §3.2 step 2 leaves its 2000 bytes out of
  // FlightSize: ssthresh = (12000 - 2000) / 2.
  auto third = cc.on_duplicate_ack(una, 12000, nxt + 2000);
  CHECK_FALSE(third.limited_transmit);
  CHECK(third.retransmit_first);
  CHECK(cc.ssthresh() == 5000);
  CHECK(cc.cwnd() == 8000);
  CHECK(cc.limited_transmit_allowance() == 0);
}

TEST_CASE("congestion: Limited Transmit needs new SACK information with SACK; a new ACK ends it") {
  NewReno cc = started();
  Seq una = kIss + 1, nxt = kIss + 10001;
  // may_release = false: a duplicate that brought no new SACK information (RFC 3042 §2).
  CHECK_FALSE(cc.on_duplicate_ack(una, 10000, nxt, true, false, false).limited_transmit);
  CHECK(cc.limited_transmit_allowance() == 0);
  CHECK(cc.on_duplicate_ack(una, 10000, nxt, true, false, true).limited_transmit);
  CHECK(cc.limited_transmit_allowance() == 1000);
  cc.on_new_ack(1000, una + 1000, 9000);
  CHECK(cc.limited_transmit_allowance() == 0);
  // A recovery that starts on IsLost (RFC 6675 §5) at the second duplicate sends no
  // Limited Transmit segment on it.
  cc.on_duplicate_ack(una + 1000, 9000, nxt, true, false, true);
  auto lost = cc.on_duplicate_ack(una + 1000, 9000, nxt, true, true, true);
  CHECK(lost.retransmit_first);
  CHECK_FALSE(lost.limited_transmit);
  CHECK(cc.limited_transmit_allowance() == 0);
}

TEST_CASE("congestion: ssthresh is at least two segments (RFC 5681 §3.1 eq. 4)") {
  NewReno cc = started();
  Seq una = kIss + 1, nxt = kIss + 3001;
  for (int i = 0; i < 3; ++i) cc.on_duplicate_ack(una, 3000, nxt);
  CHECK(cc.ssthresh() == 2000);
  CHECK(cc.cwnd() == 5000);
}

TEST_CASE("congestion: partial ACK retransmits and deflates; full ACK ends recovery (RFC 6582 §3.2)") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  Seq una = kIss + 1, nxt = kIss + 10001;
  for (int i = 0; i < 3; ++i) cc.on_duplicate_ack(una, 10000, nxt);
  cc.on_duplicate_ack(una, 10000, nxt);  // cwnd 9000
  // Segments 1 and 3 were lost: the retransmission of 1 brings an ACK up to segment 3.
  auto partial = cc.on_new_ack(2000, kIss + 2001, 8000);
  CHECK(partial.retransmit_first);
  CHECK(partial.restart_timer);  // the first partial ACK resets the timer
  CHECK(cc.cwnd() == 8000);      // 9000 - 2000 acknowledged + 1000 (at least one SMSS acked)
  CHECK(cc.in_recovery());
  auto second = cc.on_new_ack(500, kIss + 2501, 7500);
  CHECK(second.retransmit_first);
  CHECK_FALSE(second.restart_timer);  // only the first one does
  CHECK(cc.cwnd() == 7500);           // less than one SMSS acknowledged: nothing added back
  CHECK(r.rules.back() == "RFC 6582 §3.2 step 3 (partial ACK: deflate)");
  // A full ACK (everything up to recover = SND.NXT - 1 when recovery began).
  auto full = cc.on_new_ack(7500, kIss + 10001, 3000);
  CHECK_FALSE(full.retransmit_first);
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.cwnd() == 4000);  // min(ssthresh 5000, max(FlightSize 3000, SMSS) + SMSS)
  CHECK(r.rules.back() == "RFC 6582 §3.2 step 3 (full ACK: leave fast recovery)");
  // Now cwnd < ssthresh: slow start again.
  cc.on_new_ack(1000, kIss + 11001, 2000);
  CHECK(cc.cwnd() == 5000);
  // cwnd == ssthresh: congestion avoidance, SMSS*SMSS/cwnd = 200 bytes per ACK.
  cc.on_new_ack(1000, kIss + 12001, 1000);
  CHECK(cc.cwnd() == 5200);
  CHECK(r.rules.back() == "RFC 5681 §3.1 (congestion avoidance)");
}

TEST_CASE(
    "congestion: duplicates that do not cover recover start no second recovery (RFC 6582 §3.2 step 2)") {
  NewReno cc = started();
  Seq nxt = kIss + 10001;
  cc.on_retransmission_timeout(10000, nxt, true);  // recover = SND.NXT - 1
  size_t cwnd = cc.cwnd();
  // Duplicates for data sent before the timeout: ACK <= recover.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(cc.on_duplicate_ack(kIss + 5001, 8000, nxt).retransmit_first);
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.cwnd() == cwnd);
}

TEST_CASE("congestion: a timeout collapses cwnd to one segment (RFC 5681 §3.1, LW)") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  cc.on_retransmission_timeout(8000, kIss + 8001, true);
  CHECK(cc.cwnd() == 1000);
  CHECK(cc.ssthresh() == 4000);
  CHECK(r.rules.back() == "RFC 5681 §3.1 (timeout: ssthresh by eq. 4, cwnd = LW = 1 segment)");
  // The same segment times out again: ssthresh is held (the implementation note of §3.1).
  cc.on_retransmission_timeout(8000, kIss + 8001, false);
  CHECK(cc.ssthresh() == 4000);
  CHECK(cc.cwnd() == 1000);
  // Slow start from one segment: 1000 -> 2000 -> 3000.
  cc.on_new_ack(1000, kIss + 1001, 7000);
  cc.on_new_ack(1000, kIss + 2001, 6000);
  CHECK(cc.cwnd() == 3000);
}

TEST_CASE("congestion: a timeout during fast recovery leaves it (RFC 6582 §3.2 step 4)") {
  NewReno cc = started();
  Seq una = kIss + 1, nxt = kIss + 10001;
  for (int i = 0; i < 3; ++i) cc.on_duplicate_ack(una, 10000, nxt);
  REQUIRE(cc.in_recovery());
  cc.on_retransmission_timeout(10000, nxt, true);
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.cwnd() == 1000);
  CHECK(cc.ssthresh() == 5000);
}

TEST_CASE("congestion: restart after an idle period longer than the RTO (RFC 5681 §4.1)") {
  NewReno cc = started(4);  // IW 4000
  for (int i = 0; i < 6; ++i) cc.on_new_ack(1000, kIss + 1001 + static_cast<uint32_t>(i) * 1000, 0);
  CHECK(cc.cwnd() == 10000);
  Instant t0{};
  cc.data_sent(t0);
  cc.before_sending_after_idle(t0 + milliseconds(300), milliseconds(300));  // not longer: kept
  CHECK(cc.cwnd() == 10000);
  cc.before_sending_after_idle(t0 + milliseconds(301), milliseconds(300));
  CHECK(cc.cwnd() == 4000);  // RW = min(IW, cwnd)
  // A connection that never sent keeps its initial window.
  NewReno fresh = started(4);
  fresh.before_sending_after_idle(t0 + seconds(10), milliseconds(300));
  CHECK(fresh.cwnd() == 4000);
}

TEST_CASE("congestion: no observer call when nothing changes") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  cc.on_duplicate_ack(kIss + 1, 5000, kIss + 5001);  // first duplicate: nothing to do
  cc.before_sending_after_idle(Instant{}, seconds(1));
  CHECK(r.rules.empty());
}

TEST_CASE("congestion: fast retransmit still works after 2^31 bytes with no loss (recover wraps)") {
  // RFC 6582 §3.2 step 2 compares the ACK with recover (ISS at the start). Sequence arithmetic
  // holds within 2^31 only (RFC 9293 §3.4), so recover must not be left behind at ISS.
  NewReno cc = started();
  Seq una = kIss + 1;
  const uint32_t step = 1u << 28;  // a large but possible amount between two ACKs
  for (int i = 0; i < 10; ++i) {   // 2.5 GiB in all, no loss
    una += step;
    cc.on_new_ack(step, una, 10 * kSmss);
  }
  REQUIRE(!(una > kIss));  // past the half-way point: ISS now compares as ahead of SND.UNA
  const Seq snd_nxt = una + 10 * kSmss;
  CHECK_FALSE(cc.on_duplicate_ack(una, 10 * kSmss, snd_nxt).retransmit_first);
  CHECK_FALSE(cc.on_duplicate_ack(una, 10 * kSmss, snd_nxt).retransmit_first);
  CHECK(cc.on_duplicate_ack(una, 10 * kSmss, snd_nxt).retransmit_first);
  CHECK(cc.in_recovery());
}

TEST_CASE("congestion: the end of a SACK recovery is traced as RFC 6675's, cwnd limited as NewReno's") {
  NewReno cc = started();
  Recorder r;
  r.attach(cc);
  Seq una = kIss + 1, nxt = kIss + 10001;
  for (int i = 0; i < 3; ++i) cc.on_duplicate_ack(una, 10000, nxt, /*sack=*/true);
  REQUIRE(cc.in_recovery());
  CHECK(r.rules.back() == "RFC 6675 §5 (SACK loss recovery: cwnd = ssthresh)");
  CHECK(cc.cwnd() == 5000);
  // The cumulative ACK passes RecoveryPoint with 1000 bytes still in flight: deviation
  // sack-exit-burst-limit, cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
  cc.on_new_ack(9000, kIss + 10001, 1000);
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.cwnd() == 2000);
  CHECK(r.rules.back() ==
        "RFC 6675 §5 (RecoveryPoint reached: leave SACK recovery; cwnd as RFC 6582 §3.2 step 3)");
}
