// Tests for stack/tcp/send_buffer.hpp and byte_ring.hpp: bounded queueing, acknowledgement,
// copies across the ring's wrap.
#include <doctest/doctest.h>

#include <string>

#include "stack/tcp/send_buffer.hpp"

using tcplab::tcp::ByteRing;
using tcplab::tcp::SendBuffer;

namespace {
tcplab::wire::ConstBytes b(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string copy(const SendBuffer& buf, size_t offset, size_t n) {
  std::string out(n, '\0');
  buf.copy_out(offset, {reinterpret_cast<std::byte*>(out.data()), n});
  return out;
}
}  // namespace

TEST_CASE("send buffer: takes only what fits (backpressure)") {
  SendBuffer buf(8);
  CHECK(buf.push(b("hello")) == 5);
  CHECK(buf.push(b("world")) == 3);
  CHECK(buf.size() == 8);
  CHECK(buf.free() == 0);
  CHECK(buf.push(b("x")) == 0);
  CHECK(copy(buf, 0, 8) == "hellowor");
}

TEST_CASE("send buffer: acknowledge frees the front, copies wrap around") {
  SendBuffer buf(8);
  buf.push(b("abcdef"));
  buf.acknowledge(4);
  CHECK(buf.size() == 2);
  CHECK(buf.push(b("ghijkl")) == 6);  // wraps
  CHECK(copy(buf, 0, 8) == "efghijkl");
  CHECK(copy(buf, 3, 4) == "hijk");
  buf.acknowledge(8);
  CHECK(buf.size() == 0);
  CHECK(buf.push(b("12345678")) == 8);  // rewound: contiguous again
  CHECK(copy(buf, 0, 8) == "12345678");
}

TEST_CASE("byte ring: write past the end then grow") {
  ByteRing ring(6);
  ring.push(b("ab"));
  ring.write_after_end(2, b("ef"));
  ring.write_after_end(0, b("cd"));
  ring.grow(4);
  std::string out(6, '\0');
  ring.copy_out(0, {reinterpret_cast<std::byte*>(out.data()), 6});
  CHECK(out == "abcdef");
}
