// Tests for stack/tcp/receive_window.hpp: the window field we advertise opens only past the
// SWS avoidance threshold (RFC 9293 §3.8.6.2.2), and with window scaling keeps the right edge
// by rounding up to the unit (RFC 7323 §2.4) as long as the buffer can hold what it promises.
#include <doctest/doctest.h>

#include "stack/tcp/receive_buffer.hpp"
#include "stack/tcp/receive_window.hpp"

using tcplab::tcp::receive_window_field;
using tcplab::tcp::ReceiveBuffer;
using tcplab::tcp::scaling_headroom;

namespace {
tcplab::wire::ConstBytes bytes(size_t n) {
  static const std::byte zeros[4096] = {};
  return {zeros, n};
}
}  // namespace

TEST_CASE("receive window: unscaled, the field is the window itself") {
  // Opened to the free space once it grows by the threshold, kept otherwise.
  CHECK(receive_window_field({0, 1500, 1500, 1460, 0}) == 1500);
  CHECK(receive_window_field({0, 100, 100, 1460, 0}) == 0);
  CHECK(receive_window_field({1176, 2000, 2000, 1460, 0}) == 1176);
}

TEST_CASE("receive window: scaled, a window of partial units is rounded up, never down") {
  // 1048348 bytes is 32760.9 units of 32: 32760 would move the right edge 28 bytes left.
  CHECK(receive_window_field({1048348, 1048376, 1048376 + 31, 1460, 5}) == 32761);
  // An opening is rounded down: 1048476 free bytes give 32764 units, within the buffer.
  CHECK(receive_window_field({65435, 1048476, 1048476 + 31, 1460, 5}) == 32764);
  // Whole units need no rounding.
  CHECK(receive_window_field({1024, 1024, 1024 + 31, 1460, 5}) == 32);
}

TEST_CASE("receive window: rounded down only when the buffer cannot hold the rounding") {
  // 40 bytes of window, 60 of room: rounded up to 64 would promise 4 bytes the buffer lacks.
  CHECK(receive_window_field({40, 29, 60, 1460, 5}) == 1);
  CHECK(receive_window_field({40, 29, 64, 1460, 5}) == 2);
}

TEST_CASE("receive window: the buffer's headroom holds a rounded-up window but is never advertised") {
  ReceiveBuffer r(100, 100, scaling_headroom(5));
  CHECK(r.capacity() == 100);
  CHECK(r.free() == 100);
  CHECK(r.room() == 131);
  // A window of 100 bytes rounded up to 128 promises 28 bytes of headroom; they fit.
  auto res = r.insert(0, bytes(128));
  CHECK(res.stored == ReceiveBuffer::Stored::InOrder);
  CHECK(res.advanced == 128);
  CHECK(r.free() == 0);
  CHECK(r.room() == 3);
}
