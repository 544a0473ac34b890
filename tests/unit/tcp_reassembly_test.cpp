// Tests for stack/tcp/reassembly.* and receive_buffer.*: out-of-order segments kept, holes
// filled, duplicates and overlaps trimmed, bounds enforced.
#include <doctest/doctest.h>

#include <string>

#include "stack/tcp/reassembly.hpp"
#include "stack/tcp/receive_buffer.hpp"

using tcplab::tcp::Reassembly;
using tcplab::tcp::ReceiveBuffer;

namespace {
tcplab::wire::ConstBytes b(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string read_all(ReceiveBuffer& r) {
  std::string out(r.readable(), '\0');
  r.read({reinterpret_cast<std::byte*>(out.data()), out.size()});
  return out;
}
}  // namespace

TEST_CASE("reassembly: ranges merge, overlaps collapse") {
  Reassembly r;
  CHECK(r.add(10, 20));
  CHECK(r.add(30, 40));
  CHECK(r.range_count() == 2);
  CHECK(r.add(15, 35));  // bridges both
  CHECK(r.range_count() == 1);
  CHECK(r.bytes() == 30);
  CHECK(r.add(40, 45));  // touching merges
  CHECK(r.range_count() == 1);
  CHECK(r.bytes() == 35);
}

TEST_CASE("reassembly: advance consumes what became contiguous and shifts the rest") {
  Reassembly r;
  r.add(5, 10);
  r.add(20, 25);
  CHECK(r.advance(3) == 0);  // still a hole at [3,5) relative to the old point
  CHECK(r.advance(2) == 5);  // [0,5) now contiguous
  CHECK(r.range_count() == 1);
  CHECK(r.bytes() == 5);
  CHECK(r.advance(10) == 5);  // the last range started exactly at the new point
  CHECK(r.empty());
}

TEST_CASE("reassembly: bounded number of holes") {
  Reassembly r;
  for (size_t i = 0; i < Reassembly::kMaxRanges; ++i) CHECK(r.add(10 * i + 1, 10 * i + 2));
  CHECK_FALSE(r.add(1000, 1001));
  CHECK(r.add(1, 2));  // a duplicate still fits
}

TEST_CASE("reassembly: holds no memory without a hole, and gives it back when the holes fill") {
  Reassembly r;
  CHECK(r.ranges().capacity() == 0);  // a new (or idle) connection's
  CHECK(r.advance(1000) == 0);        // in-order data alone takes nothing
  CHECK(r.ranges().capacity() == 0);
  REQUIRE(r.add(100, 200));
  REQUIRE(r.add(300, 400));
  CHECK(r.ranges().capacity() >= Reassembly::kMaxRanges);  // once for the whole episode
  CHECK(r.advance(100) == 100);                            // fills the first hole
  CHECK(r.range_count() == 1);
  CHECK(r.ranges().capacity() >= Reassembly::kMaxRanges);  // a hole is left: kept
  CHECK(r.advance(100) == 100);                            // and the last
  CHECK(r.empty());
  CHECK(r.ranges().capacity() == 0);
}

TEST_CASE("receive buffer: out-of-order data is delivered when the hole fills") {
  ReceiveBuffer r(64, 64);
  auto res = r.insert(5, b("fghij"));
  CHECK(res.stored == ReceiveBuffer::Stored::OutOfOrder);
  CHECK(r.readable() == 0);
  res = r.insert(0, b("abc"));
  CHECK(res.advanced == 3);
  CHECK(r.out_of_order_bytes() == 5);
  res = r.insert(0, b("de"));  // offsets are relative to the new in-order point
  CHECK(res.advanced == 2 + 5);
  CHECK(read_all(r) == "abcdefghij");
}

TEST_CASE("receive buffer: duplicates and overlaps do not duplicate bytes") {
  ReceiveBuffer r(64, 64);
  r.insert(2, b("cdef"));
  r.insert(4, b("efgh"));  // overlaps the parked range
  CHECK(r.out_of_order_bytes() == 6);
  auto res = r.insert(0, b("abcd"));  // overlaps the front of it
  CHECK(res.advanced == 8);
  CHECK(read_all(r) == "abcdefgh");
}

TEST_CASE("receive buffer: out-of-order bound refuses more") {
  ReceiveBuffer r(64, 4);
  CHECK(r.insert(10, b("abcd")).stored == ReceiveBuffer::Stored::OutOfOrder);
  CHECK(r.insert(20, b("x")).stored == ReceiveBuffer::Stored::Refused);
  CHECK(r.insert(0, b("y")).stored == ReceiveBuffer::Stored::InOrder);
}

TEST_CASE("receive buffer: window is the free space, reading frees it") {
  ReceiveBuffer r(16, 16);
  r.insert(0, b("0123456789"));
  CHECK(r.free() == 6);
  std::string out(4, '\0');
  r.read({reinterpret_cast<std::byte*>(out.data()), 4});
  CHECK(out == "0123");
  CHECK(r.free() == 10);
  r.insert(0, b("abcdefghij"));  // wraps
  CHECK(read_all(r) == "456789abcdefghij");
}
