// Fuzz target for parse_icmp: never crashes, and an accepted message emits and re-parses
// to the same type, code, rest of header and body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/wire/checksum.hpp"
#include "stack/wire/icmp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab::wire;

namespace {
void check(ConstBytes input) {
  auto r = parse_icmp(input);
  if (!r.ok()) return;
  const IcmpMessage& m = *r;
  FUZZ_CHECK(m.body.size() + 8 == input.size());
  FUZZ_CHECK(m.body.data() == input.data() + 8);

  std::vector<std::byte> out(8 + m.body.size());
  FUZZ_CHECK(emit_icmp(m.type, m.code, m.rest, m.body, out) == out.size());
  auto again = parse_icmp(out);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->type == m.type);
  FUZZ_CHECK(again->code == m.code);
  FUZZ_CHECK(again->rest == m.rest);
  FUZZ_CHECK(again->identifier() == m.identifier());
  FUZZ_CHECK(again->sequence() == m.sequence());
  FUZZ_CHECK(std::equal(again->body.begin(), again->body.end(), m.body.begin(), m.body.end()));
  // Checksums may differ only as +0/-0 of one's-complement arithmetic.
  FUZZ_CHECK(again->checksum == m.checksum || (again->checksum == 0x0000 && m.checksum == 0xffff) ||
             (again->checksum == 0xffff && m.checksum == 0x0000));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ConstBytes input(reinterpret_cast<const std::byte*>(data), size);
  check(input);
  // Repair the checksum too, so accepted messages are common enough to test the round trip.
  if (size >= 8) {
    std::vector<std::byte> fixed(input.begin(), input.end());
    fixed[2] = fixed[3] = std::byte{0};
    uint16_t c = internet_checksum(fixed);
    fixed[2] = std::byte(c >> 8);
    fixed[3] = std::byte(c & 0xff);
    check(fixed);
  }
  return 0;
}
