// Tests for stack/tcp/byte_ring: storage that grows with the bytes and is given back when the
// ring empties, without ever losing or moving a byte (also bytes parked past the end).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/tcp/byte_ring.hpp"

using namespace tcplab;
using namespace tcplab::tcp;

namespace {
wire::ConstBytes bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string read_all(const ByteRing& ring, size_t offset, size_t n) {
  std::string out(n, '\0');
  ring.copy_out(offset, {reinterpret_cast<std::byte*>(out.data()), n});
  return out;
}
std::string pattern(size_t n, size_t start = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (start + i) % 26);
  return s;
}
}  // namespace

TEST_CASE("no storage until bytes arrive, a small allocation for a small message") {
  ByteRing ring(1 << 20);
  CHECK(ring.allocated() == 0);
  CHECK(ring.free() == (1u << 20));
  CHECK(ring.push(bytes_of("GET / HTTP/1.1\r\n\r\n")) == 18);
  CHECK(ring.allocated() == ByteRing::kInitialStorage);
  ring.pop(18);
  ring.release_if_empty();
  CHECK(ring.allocated() == 0);
  CHECK(ring.size() == 0);
}

TEST_CASE("growth keeps every byte, also when the data wraps around the old storage") {
  ByteRing ring(64 * 1024);
  // Fill, drain part, refill so the content wraps, then force growth.
  CHECK(ring.push(bytes_of(pattern(4000))) == 4000);
  ring.pop(3000);
  CHECK(ring.push(bytes_of(pattern(3000, 4000))) == 3000);  // wraps inside 4096 bytes
  CHECK(ring.allocated() == 4096);
  CHECK(ring.push(bytes_of(pattern(10000, 7000))) == 10000);  // grows to 16 KiB
  CHECK(ring.allocated() == 16384);
  CHECK(ring.size() == 14000);
  CHECK(read_all(ring, 0, 14000) == pattern(14000, 3000));
}

TEST_CASE("bytes parked past the end survive growth at their offset") {
  ByteRing ring(1 << 16);
  CHECK(ring.push(bytes_of(pattern(100))) == 100);
  ring.write_after_end(5000, bytes_of("parked"));  // forces growth to 8 KiB
  CHECK(ring.allocated() == 8192);
  ring.write_after_end(20000, bytes_of("later"));  // and again, to 32 KiB
  CHECK(ring.allocated() == 32768);
  CHECK(read_all(ring, 100 + 5000, 6) == "parked");
  CHECK(read_all(ring, 100 + 20000, 5) == "later");
  CHECK(read_all(ring, 0, 100) == pattern(100));
}

TEST_CASE("the capacity is the limit, never the storage") {
  ByteRing ring(10000);
  CHECK(ring.push(bytes_of(pattern(20000))) == 10000);
  CHECK(ring.allocated() == 10000);
  CHECK(ring.free() == 0);
  CHECK(read_all(ring, 0, 10000) == pattern(10000));
  ring.pop(10000);
  ring.release_if_empty();
  CHECK(ring.allocated() == 0);
  // A ring that is not empty keeps its storage.
  CHECK(ring.push(bytes_of("x")) == 1);
  ring.release_if_empty();
  CHECK(ring.allocated() == ByteRing::kInitialStorage);
}

TEST_CASE("a first storage given back is reused by the next ring, never read as data") {
  // A bulk receiver empties its ring after every segment: the storage goes to a one-block
  // spare instead of free(), and the next first allocation takes it instead of malloc().
  {
    ByteRing warm(1 << 20);
    warm.push(bytes_of("x"));
    warm.pop(1);
    warm.release_if_empty();  // whatever the earlier tests left, a spare waits now
  }
  REQUIRE(ByteRing::spare_storage_waiting());
  ByteRing a(1 << 20), b(1 << 20);
  CHECK(a.push(bytes_of("secret bytes of a")) == 17);
  CHECK_FALSE(ByteRing::spare_storage_waiting());  // a took it
  a.pop(17);
  a.release_if_empty();
  CHECK(a.allocated() == 0);  // the connection holds nothing...
  CHECK(ByteRing::spare_storage_waiting());  // ...the spare does
  CHECK(b.push(bytes_of("b")) == 1);
  CHECK_FALSE(ByteRing::spare_storage_waiting());
  CHECK(b.size() == 1);
  CHECK(read_all(b, 0, 1) == "b");
  // A larger storage is not kept: only the first size is worth a spare.
  b.push(bytes_of(pattern(10000)));
  CHECK(b.allocated() == 16384);
  b.pop(10001);
  b.release_if_empty();
  CHECK(b.allocated() == 0);
  CHECK_FALSE(ByteRing::spare_storage_waiting());
}
