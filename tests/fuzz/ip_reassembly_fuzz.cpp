// Fuzz target for ip::Reassembler: the input is a list of 6-byte fragment commands (datagram
// id 0-3, offset in 8-byte units, length, MF, "let 10 s pass"). Every fragment carries the
// bytes a datagram holds at its offsets (byte i is i % 251), so any datagram that comes out
// must hold exactly those bytes. Memory must stay within the limits, whatever arrives.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/ip/reassembly.hpp"
#include "stack/wire/ipv4.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ip::ReassemblyLimits limits;
  limits.max_datagrams = 3;
  limits.max_fragments_per_datagram = 12;
  limits.max_bytes_held = 16 * 1024;
  limits.timeout = seconds(30);
  ip::Reassembler reassembler(limits);
  Instant now{};
  std::vector<std::byte> payload;
  for (size_t at = 0; at + 6 <= size; at += 6) {
    const uint8_t* c = data + at;
    wire::Ipv4Packet fragment;
    wire::Ipv4Header& h = fragment.header;
    h.identification = c[0] & 3;
    h.protocol = 253;
    h.source = wire::Ipv4Address{0xC0000201};
    h.destination = wire::Ipv4Address{0xC0000202};
    h.fragment_offset = static_cast<uint16_t>(((c[1] << 8) | c[2]) & 0x1fff);
    h.more_fragments = (c[5] & 1) != 0;
    h.dont_fragment = false;
    size_t length = static_cast<size_t>((c[3] << 8) | c[4]) % 4096;
    size_t begin = size_t{h.fragment_offset} * 8;
    payload.resize(length);
    for (size_t i = 0; i < length; ++i) payload[i] = std::byte(static_cast<uint8_t>((begin + i) % 251));
    fragment.payload = payload;
    if (c[5] & 2) now += seconds(10);
    reassembler.expire(now);
    auto outcome = reassembler.add(fragment, now);
    if (outcome.kind == ip::Reassembler::Outcome::Kind::Complete) {
      auto whole = wire::parse_ipv4(outcome.datagram);
      FUZZ_CHECK(whole.ok());
      FUZZ_CHECK(!whole->header.is_fragment());
      FUZZ_CHECK(whole->header.identification == h.identification);
      FUZZ_CHECK(whole->payload.size() <= ip::kMaxReassembledPayload);
      for (size_t i = 0; i < whole->payload.size(); ++i)
        FUZZ_CHECK(whole->payload[i] == std::byte(static_cast<uint8_t>(i % 251)));
    }
    if (outcome.kind == ip::Reassembler::Outcome::Kind::Refused) FUZZ_CHECK(outcome.fragments_dropped >= 1);
    FUZZ_CHECK(reassembler.bytes_held() <= limits.max_bytes_held);
    FUZZ_CHECK(reassembler.datagrams_held() <= limits.max_datagrams);
    auto deadline = reassembler.next_deadline();
    FUZZ_CHECK(deadline.has_value() == (reassembler.datagrams_held() > 0));
    if (deadline) FUZZ_CHECK(*deadline > now);
  }
  return 0;
}
