// Fuzz target for parse_ipv4 (and dump_packet): never crashes, and whatever parse accepts
// emits and re-parses to the same fields.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/wire/checksum.hpp"
#include "stack/wire/dump.hpp"
#include "stack/wire/ipv4.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab::wire;

namespace {
void check(ConstBytes input) {
  // The verbose trace dumps packets that were refused, so the dump must survive any bytes.
  std::string dump = dump_packet(input);
  FUZZ_CHECK(dump.rfind("IPv4 datagram, ", 0) == 0 && dump.back() == '\n');
  auto r = parse_ipv4(input);
  if (!r.ok()) return;
  const Ipv4Packet& p = *r;
  const Ipv4Header& h = p.header;
  // Structural properties of an accepted packet.
  FUZZ_CHECK(h.header_length >= 20 && h.header_length % 4 == 0);
  FUZZ_CHECK(h.total_length <= input.size());
  FUZZ_CHECK(p.header_bytes.size() == h.header_length);
  FUZZ_CHECK(p.options.size() == h.header_length - 20u);
  FUZZ_CHECK(p.payload.size() == size_t{h.total_length} - h.header_length);
  FUZZ_CHECK(p.payload.data() == input.data() + h.header_length);
  FUZZ_CHECK(h.is_fragment() == (h.more_fragments || h.fragment_offset != 0));

  // Round trip: emit (without options) + the same payload, parse again.
  std::vector<std::byte> out(20 + p.payload.size());
  FUZZ_CHECK(emit_ipv4_header(h, p.payload.size(), out) == 20);
  std::copy(p.payload.begin(), p.payload.end(), out.begin() + 20);
  auto again = parse_ipv4(out);
  FUZZ_CHECK(again.ok());
  const Ipv4Header& g = again->header;
  FUZZ_CHECK(g.header_length == 20);
  FUZZ_CHECK(g.total_length == 20 + p.payload.size());
  FUZZ_CHECK(g.tos == h.tos);
  FUZZ_CHECK(g.identification == h.identification);
  FUZZ_CHECK(g.dont_fragment == h.dont_fragment);
  FUZZ_CHECK(g.more_fragments == h.more_fragments);
  FUZZ_CHECK(g.fragment_offset == h.fragment_offset);
  FUZZ_CHECK(g.ttl == h.ttl);
  FUZZ_CHECK(g.protocol == h.protocol);
  FUZZ_CHECK(g.source == h.source);
  FUZZ_CHECK(g.destination == h.destination);
  FUZZ_CHECK(std::equal(again->payload.begin(), again->payload.end(), p.payload.begin(), p.payload.end()));
  // A header without options emits back byte for byte, except the reserved flag bit (not
  // kept) and the checksum, where 0x0000 and 0xffff are the same one's-complement value.
  if (h.header_length == 20) {
    for (size_t i = 0; i < 20; ++i) {
      if (i == 10 || i == 11) continue;
      auto mask = std::byte{i == 6 ? uint8_t{0x7f} : uint8_t{0xff}};
      FUZZ_CHECK((out[i] & mask) == (input[i] & mask));
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ConstBytes input(reinterpret_cast<const std::byte*>(data), size);
  check(input);
  // Random bytes almost never carry a valid checksum, so also try the input with its header
  // checksum repaired: that lets the fuzzer reach the checks after it.
  if (size >= 20) {
    std::vector<std::byte> fixed(input.begin(), input.end());
    size_t ihl = (static_cast<uint8_t>(fixed[0]) & 0x0f) * 4u;
    if (ihl >= 20 && ihl <= size) {
      fixed[10] = fixed[11] = std::byte{0};
      uint16_t c = internet_checksum(std::span(fixed).first(ihl));
      fixed[10] = std::byte(c >> 8);
      fixed[11] = std::byte(c & 0xff);
      check(fixed);
    }
  }
  return 0;
}
