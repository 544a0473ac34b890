// Tests for stack/tcp/sack_scoreboard.*: merging, validation against SND.UNA/SND.NXT
// (RFC 2018 §3), forgetting on cumulative ACK and timeout (§8), RFC 6675 IsLost.
#include <doctest/doctest.h>

#include <vector>

#include "stack/tcp/sack_scoreboard.hpp"

using namespace tcplab;
using tcplab::tcp::SackScoreboard;
using tcplab::wire::SackBlock;

namespace {
const Seq kBase(0xFFFFF000);  // close to the wrap, so comparisons must use Seq
SackBlock block(uint32_t l, uint32_t r) { return SackBlock{kBase + l, kBase + r}; }
}  // namespace

TEST_CASE("sack scoreboard: blocks merge, and count new bytes once") {
  SackScoreboard sb;
  std::vector<SackBlock> a{block(1000, 2000)};
  CHECK(sb.add(a, kBase, kBase + 10000).newly_sacked == 1000);
  std::vector<SackBlock> b{block(3000, 4000), block(1500, 2500)};
  auto u = sb.add(b, kBase, kBase + 10000);
  CHECK(u.newly_sacked == 1500);  // 1000 new in 3000-4000, 500 new in 2000-2500
  CHECK(sb.range_count() == 2);
  CHECK(sb.sacked_bytes() == 2500);
  std::vector<SackBlock> c{block(2500, 3000)};  // fills the gap: one range
  sb.add(c, kBase, kBase + 10000);
  CHECK(sb.range_count() == 1);
  CHECK(sb.sacked_range_end(kBase + 1000) == kBase + 4000);
  CHECK_FALSE(sb.sacked_range_end(kBase + 999).has_value());
  CHECK(sb.next_sacked(kBase, kBase + 9000) == kBase + 1000);
  CHECK(sb.next_sacked(kBase + 4000, kBase + 9000) == kBase + 9000);
  CHECK(sb.next_sacked_end(kBase) == kBase + 4000);  // the highest range's right edge
  CHECK(sb.next_sacked_end(kBase + 4000) == kBase + 4000);
}

TEST_CASE("sack scoreboard: blocks outside SND.UNA..SND.NXT are ignored (RFC 2018 §3)") {
  SackScoreboard sb;
  std::vector<SackBlock> bad{
      block(1000, 9000),  // beyond SND.NXT: data never sent
      block(0, 0),        // empty
      block(500, 100),    // reversed
  };
  auto u = sb.add(bad, kBase + 1000 - 1000, kBase + 5000);
  CHECK(u.ignored == 3);
  CHECK(sb.empty());
  // At or below SND.UNA: a D-SACK (RFC 2883) or stale.
  std::vector<SackBlock> below{SackBlock{kBase - 1000, kBase}};
  CHECK(sb.add(below, kBase, kBase + 5000).ignored == 1);
}

TEST_CASE("sack scoreboard: the cumulative ACK forgets what it covers; clear() after a timeout") {
  SackScoreboard sb;
  std::vector<SackBlock> a{block(1000, 2000), block(3000, 4000)};
  sb.add(a, kBase, kBase + 10000);
  sb.acknowledge(kBase + 1500);
  CHECK(sb.sacked_bytes() == 1500);
  CHECK(sb.sacked_in(kBase, kBase + 10000) == 1500);
  sb.acknowledge(kBase + 2000);
  CHECK(sb.range_count() == 1);
  sb.clear();  // RFC 2018 §8
  CHECK(sb.empty());
}

TEST_CASE("sack scoreboard: IsLost by bytes or by three discontiguous ranges (RFC 6675 §4)") {
  constexpr size_t smss = 1000;
  SackScoreboard sb;
  std::vector<SackBlock> a{block(1000, 3000)};  // 2000 bytes: not more than 2 SMSS
  sb.add(a, kBase, kBase + 20000);
  CHECK(sb.lost_boundary(kBase, smss) == kBase);
  std::vector<SackBlock> b{block(3000, 3001)};  // 2001 bytes above 0..1000
  sb.add(b, kBase, kBase + 20000);
  CHECK(sb.lost_boundary(kBase, smss) == kBase + 1000);
  // Three small ranges above a hole: lost by count although only 3 bytes are SACKed.
  SackScoreboard sc;
  std::vector<SackBlock> c{block(5000, 5001), block(6000, 6001), block(7000, 7001)};
  sc.add(c, kBase, kBase + 20000);
  CHECK(sc.lost_boundary(kBase, smss) == kBase + 5000);
  // Only the holes below the third-highest range are lost.
  std::vector<SackBlock> d{block(1000, 1001)};
  sc.add(d, kBase, kBase + 20000);
  CHECK(sc.lost_boundary(kBase, smss) == kBase + 5000);
}

TEST_CASE("sack scoreboard: the number of ranges is bounded") {
  SackScoreboard sb;
  for (uint32_t i = 0; i < SackScoreboard::kMaxRanges + 10; ++i) {
    std::vector<SackBlock> one{block(2 * i * 100 + 100, 2 * i * 100 + 150)};
    sb.add(one, kBase, kBase + 1000000);
  }
  CHECK(sb.range_count() == SackScoreboard::kMaxRanges);
}

TEST_CASE("sack scoreboard: D-SACK - a first block below the ACK or inside the second (RFC 2883 §4)") {
  const Seq ack = kBase + 2000;
  std::vector<SackBlock> below{block(1000, 2000)};  // example: a duplicate below the ACK
  CHECK(SackScoreboard::first_is_dsack(below, ack));
  std::vector<SackBlock> inside{block(4000, 5000), block(3000, 6000)};  // out of order duplicate
  CHECK(SackScoreboard::first_is_dsack(inside, ack));
  std::vector<SackBlock> equal{block(4000, 5000), block(4000, 5000)};  // a whole block repeated
  CHECK(SackScoreboard::first_is_dsack(equal, ack));
  std::vector<SackBlock> plain{block(4000, 5000), block(3000, 3500)};  // ordinary SACK
  CHECK_FALSE(SackScoreboard::first_is_dsack(plain, ack));
  std::vector<SackBlock> above_second{block(4000, 5000), block(4500, 6000)};  // overlaps only
  CHECK_FALSE(SackScoreboard::first_is_dsack(above_second, ack));
  std::vector<SackBlock> straddles{block(1500, 2500)};  // reaches past the ACK: not below it
  CHECK_FALSE(SackScoreboard::first_is_dsack(straddles, ack));
  CHECK_FALSE(SackScoreboard::first_is_dsack({}, ack));
}

TEST_CASE("sack scoreboard: the highest unSACKed run, for the rescue retransmission (RFC 6675 §4)") {
  SackScoreboard sb;
  std::vector<SackBlock> a{block(1000, 2000), block(3000, 4000)};
  sb.add(a, kBase, kBase + 6000);
  // The tail 4000-6000 is unSACKed: it is the highest run.
  auto tail = sb.highest_unsacked(kBase, kBase + 6000);
  REQUIRE(tail.has_value());
  CHECK(tail->first == kBase + 4000);
  CHECK(tail->end == kBase + 6000);
  // With the top SACKed, the run below the highest range.
  std::vector<SackBlock> b{block(4000, 6000)};
  sb.add(b, kBase, kBase + 6000);
  auto hole = sb.highest_unsacked(kBase, kBase + 6000);
  REQUIRE(hole.has_value());
  CHECK(hole->first == kBase + 2000);
  CHECK(hole->end == kBase + 3000);
  // Searching only above the hole: everything there is SACKed.
  CHECK_FALSE(sb.highest_unsacked(kBase + 3000, kBase + 6000).has_value());
  // The lowest run, from `low` up to the first range.
  auto low = sb.highest_unsacked(kBase, kBase + 2000);
  REQUIRE(low.has_value());
  CHECK(low->first == kBase);
  CHECK(low->end == kBase + 1000);
}
