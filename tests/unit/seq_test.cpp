// Tests for stack/seq.hpp: modular comparisons across the 2^32 wrap (RFC 9293 §3.4).
#include "stack/seq.hpp"

#include <doctest/doctest.h>

using tcplab::Seq;

TEST_CASE("seq: comparisons are modular across the wrap") {
  Seq before(0xFFFFFFF0u), after(0x10u);
  CHECK(before < after);
  CHECK(before <= after);
  CHECK(after > before);
  CHECK(after >= before);
  CHECK_FALSE(after < before);
  CHECK_FALSE(before == after);
  CHECK(Seq(5) == Seq(5));
  CHECK(Seq(5) <= Seq(5));
  CHECK(Seq(5) >= Seq(5));
  CHECK_FALSE(Seq(5) < Seq(5));
}

TEST_CASE("seq: signed distance and seq_distance") {
  CHECK(Seq(0x10u) - Seq(0xFFFFFFF0u) == 0x20);
  CHECK(Seq(0xFFFFFFF0u) - Seq(0x10u) == -0x20);
  CHECK(tcplab::seq_distance(Seq(0xFFFFFFFFu), Seq(0x4u)) == 5u);
  CHECK(tcplab::seq_distance(Seq(100), Seq(100)) == 0u);
}

TEST_CASE("seq: += and + wrap at 2^32") {
  Seq s(0xFFFFFFFEu);
  s += 3;
  CHECK(s.raw() == 1u);
  CHECK((Seq(0xFFFFFFFFu) + 1).raw() == 0u);
  CHECK((Seq(0) - 1).raw() == 0xFFFFFFFFu);
  CHECK(Seq(0xFFFFFFFFu) + 1 > Seq(0xFFFFFFFFu));
}

TEST_CASE("seq: window checks straddling the wrap") {
  Seq low(0xFFFFFF00u);
  Seq high = low + 0x200;  // 0x100 after the wrap
  CHECK(tcplab::seq_in_half_open(low, Seq(0x50), high));
  CHECK(tcplab::seq_in_half_open(low, low, high));
  CHECK_FALSE(tcplab::seq_in_half_open(low, high, high));
  CHECK(tcplab::seq_in_closed(low, high, high));
  CHECK_FALSE(tcplab::seq_in_closed(low, low - 1, high));
  CHECK_FALSE(tcplab::seq_in_half_open(low, Seq(0x80000000u), high));
}

TEST_CASE("seq: half the space away flips the order") {
  // 2^31 - 1 ahead is "after"; 2^31 + 1 ahead is "before" (the comparison's horizon).
  Seq a(1000);
  CHECK(a + 0x7FFFFFFFu > a);
  CHECK(a + 0x80000001u < a);
}
