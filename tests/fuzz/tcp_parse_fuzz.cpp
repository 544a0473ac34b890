// Fuzz target for parse_tcp: never crashes, and an accepted segment emits and re-parses
// (checksum verified) to the same ports, numbers, flags, window, options and payload.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/wire/tcp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab;
using namespace tcplab::wire;

namespace {
const Ipv4Address kSource{0xC0000201u};       // 192.0.2.1
const Ipv4Address kDestination{0xC0000202u};  // 192.0.2.2

void check(ConstBytes input, bool verify) {
  auto r = parse_tcp(input, kSource, kDestination, verify);
  if (!r.ok()) return;
  const TcpSegment& s = *r;
  FUZZ_CHECK(s.payload.size() <= input.size() - 20);
  FUZZ_CHECK(s.payload.data() + s.payload.size() == input.data() + input.size());
  FUZZ_CHECK(!(s.flags.syn && s.flags.fin) && !(s.flags.syn && s.flags.rst) && !(s.flags.rst && s.flags.fin));

  std::vector<std::byte> out(kTcpMaxHeaderLength + s.payload.size());
  size_t n = emit_tcp(s, kSource, kDestination, out);
  FUZZ_CHECK(n == 20 + s.options.emitted_length() + s.payload.size());
  FUZZ_CHECK(n <= out.size());
  auto again = parse_tcp(std::span(out).first(n), kSource, kDestination, true);
  FUZZ_CHECK(again.ok());
  const TcpSegment& g = *again;
  FUZZ_CHECK(g.source_port == s.source_port);
  FUZZ_CHECK(g.destination_port == s.destination_port);
  FUZZ_CHECK(g.seq == s.seq);
  FUZZ_CHECK(g.ack == s.ack);
  FUZZ_CHECK(g.flags == s.flags);
  FUZZ_CHECK(g.window == s.window);
  FUZZ_CHECK(g.urgent_pointer == s.urgent_pointer);
  FUZZ_CHECK(g.options.mss == s.options.mss);
  FUZZ_CHECK(g.options.window_scale == s.options.window_scale);
  FUZZ_CHECK(g.options.sack_permitted == s.options.sack_permitted);
  FUZZ_CHECK(g.options.timestamps == s.options.timestamps);
  // SACK blocks are kept and re-emitted as far as they fit beside the other options.
  size_t blocks = s.options.emitted_sack_blocks();
  FUZZ_CHECK(g.options.sack_blocks == blocks);
  for (size_t b = 0; b < blocks; ++b) FUZZ_CHECK(g.options.sack[b] == s.options.sack[b]);
  FUZZ_CHECK(g.length() == s.length());
  FUZZ_CHECK(std::equal(g.payload.begin(), g.payload.end(), s.payload.begin(), s.payload.end()));
  // Display strings must not crash and must agree on both sides.
  FUZZ_CHECK(g.flags.to_string() == s.flags.to_string());
  if (s.options.sack_blocks == blocks) FUZZ_CHECK(g.options.to_string() == s.options.to_string());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ConstBytes input(reinterpret_cast<const std::byte*>(data), size);
  // Unverified, so random bytes reach the option and flag checks; verified, for the checksum.
  check(input, false);
  check(input, true);
  return 0;
}
