// Tests for stack/wire/ipv4: addresses, parse checks in order with their reasons, emit.
#include <doctest/doctest.h>

#include <array>

#include "stack/wire/checksum.hpp"
#include "stack/wire/ipv4.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;
using namespace tcplab::wire;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_checksum;

namespace {
// Rewrites the header checksum so a test can change one field and isolate one check.
void fix_checksum(std::vector<std::byte>& p) {
  size_t ihl = (static_cast<uint8_t>(p[0]) & 0x0f) * 4u;
  if (ihl > p.size()) ihl = p.size();
  p[10] = p[11] = std::byte{0};
  uint16_t c = naive_checksum(std::span(p).first(ihl));
  p[10] = std::byte(c >> 8);
  p[11] = std::byte(c & 0xff);
}
}  // namespace

TEST_CASE("ipv4 address: parse and print") {
  auto a = Ipv4Address::parse("192.0.2.2");
  REQUIRE(a);
  CHECK(a->value == 0xC0000202u);
  CHECK(a->to_string() == "192.0.2.2");
  CHECK(Ipv4Address::parse("0.0.0.0")->value == 0u);
  CHECK(Ipv4Address::parse("255.255.255.255")->value == 0xFFFFFFFFu);
  CHECK(Ipv4Address{0x7F000001u}.to_string() == "127.0.0.1");
  for (const char* bad : {"1.2.3", "256.1.1.1", "x1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4.5", "1..2.3", "",
                          "1.2.3.", ".1.2.3", "1.2.3.1000", "01.2.3.4", "1.2.3.-4", "1.2.3.4x"}) {
    CAPTURE(bad);
    CHECK_FALSE(Ipv4Address::parse(bad).has_value());
  }
  CHECK(Ipv4Address::parse("10.0.0.1") < Ipv4Address::parse("10.0.0.2"));
}

TEST_CASE("ipv4: golden ping request parses to its exact fields") {
  auto p = hex(test::kPingRequest);
  REQUIRE(naive_checksum(std::span(p).first(20)) == 0);  // the capture really verifies
  auto r = parse_ipv4(p);
  REQUIRE(r.ok());
  const auto& h = r->header;
  CHECK(h.header_length == 20);
  CHECK(h.tos == 0);
  CHECK(h.total_length == 84);
  CHECK(h.identification == 0x98e0);
  CHECK(h.dont_fragment);
  CHECK_FALSE(h.more_fragments);
  CHECK(h.fragment_offset == 0);
  CHECK(h.ttl == 64);
  CHECK(h.protocol == static_cast<uint8_t>(IpProtocol::Icmp));
  CHECK(h.checksum == 0x1dc5);
  CHECK(h.source.to_string() == "192.0.2.1");
  CHECK(h.destination.to_string() == "192.0.2.2");
  CHECK(r->options.empty());
  CHECK(r->header_bytes.size() == 20);
  CHECK(r->payload.size() == 64);
  CHECK(r->payload.data() == p.data() + 20);
}

TEST_CASE("ipv4: emit reproduces the captured header byte for byte") {
  for (auto text : {test::kPingRequest, test::kPingReply, test::kLinuxSyn, test::kLinuxRstAck}) {
    auto p = hex(text);
    auto r = parse_ipv4(p);
    REQUIRE(r.ok());
    std::array<std::byte, 20> out{};
    CHECK(emit_ipv4_header(r->header, r->payload.size(), out) == 20);
    CHECK(std::equal(out.begin(), out.end(), p.begin()));
  }
}

TEST_CASE("ipv4: round trip parse -> emit -> parse keeps every field") {
  Ipv4Header h;
  h.tos = 0xb8;
  h.identification = 0xbeef;
  h.dont_fragment = false;
  h.ttl = 1;
  h.protocol = 6;
  h.source = *Ipv4Address::parse("198.51.100.7");
  h.destination = *Ipv4Address::parse("203.0.113.200");
  std::vector<std::byte> buf(20 + 5);
  for (size_t i = 0; i < 5; ++i) buf[20 + i] = std::byte(i + 1);
  emit_ipv4_header(h, 5, buf);
  CHECK(naive_checksum(std::span(buf).first(20)) == 0);
  auto r = parse_ipv4(buf);
  REQUIRE(r.ok());
  CHECK(r->header.tos == 0xb8);
  CHECK(r->header.identification == 0xbeef);
  CHECK_FALSE(r->header.dont_fragment);
  CHECK(r->header.ttl == 1);
  CHECK(r->header.protocol == 6);
  CHECK(r->header.source == h.source);
  CHECK(r->header.destination == h.destination);
  CHECK(r->header.total_length == 25);
  CHECK(r->payload.size() == 5);
  CHECK(static_cast<int>(r->payload[4]) == 5);
  std::array<std::byte, 20> again{};
  emit_ipv4_header(r->header, r->payload.size(), again);
  CHECK(std::equal(again.begin(), again.end(), buf.begin()));
}

TEST_CASE("ipv4: trailing bytes beyond total length are ignored") {
  auto p = hex(test::kLinuxRstAck);
  p.resize(p.size() + 6, std::byte{0xaa});  // Ethernet-style padding
  auto r = parse_ipv4(p);
  REQUIRE(r.ok());
  CHECK(r->payload.size() == 20);
  CHECK(r->header.total_length == 40);
}

TEST_CASE("ipv4: a captured packet cut by the snap length keeps its total length") {
  auto p = hex(test::kPingRequest);  // total length 84
  p.resize(40);
  CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadTotalLength);  // the stack never sees this
  auto r = parse_captured_ipv4(p);
  REQUIRE(r.ok());
  CHECK(r->header.total_length == 84);
  CHECK(r->payload.size() == 20);  // what was captured
  // The header itself must be whole, and a total length below it stays refused.
  CHECK_FALSE(parse_captured_ipv4(std::span(p).first(19)).ok());
  p[2] = std::byte{0};
  p[3] = std::byte{19};
  fix_checksum(p);
  CHECK(parse_captured_ipv4(p).error() == DropReason::Ipv4BadTotalLength);
}

TEST_CASE("ipv4: options are skipped and exposed") {
  // IHL 6 with one 4-byte option (NOP NOP NOP EOL), 4 bytes payload.
  auto p = hex("460001c00000000040060000c0000201c000020201010100deadbeef");
  p[2] = std::byte{0};
  p[3] = std::byte{28};
  fix_checksum(p);
  auto r = parse_ipv4(p);
  REQUIRE(r.ok());
  CHECK(r->header.header_length == 24);
  CHECK(r->options.size() == 4);
  CHECK(static_cast<int>(r->options[3]) == 0);
  CHECK(r->header_bytes.size() == 24);
  CHECK(r->payload.size() == 4);
  CHECK(static_cast<int>(r->payload[0]) == 0xde);
}

TEST_CASE("ipv4: options are walked; a malformed one is refused (RFC 791 §3.1)") {
  // An echo request header with 8 bytes of options (IHL 7) and no payload.
  auto with_options = [](std::array<uint8_t, 8> options) {
    auto p = hex("4700001c0000000040010000c0000201c0000202");
    for (uint8_t b : options) p.push_back(std::byte{b});
    p[3] = std::byte{28};
    fix_checksum(p);
    return p;
  };
  SUBCASE("well-formed: skipped") {
    // Record route (type 7) with room for one address, then end-of-list.
    CHECK(parse_ipv4(with_options({7, 7, 4, 0, 0, 0, 0, 0})).ok());
    // NOP, then an unknown option of length 2, then NOPs up to the end.
    CHECK(parse_ipv4(with_options({1, 0x99, 2, 1, 1, 1, 1, 1})).ok());
    // Whatever follows end-of-list is padding, not options.
    CHECK(parse_ipv4(with_options({0, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff})).ok());
    // An option that fills the options area exactly.
    CHECK(parse_ipv4(with_options({131, 8, 4, 0, 0, 0, 0, 0})).ok());
  }
  SUBCASE("malformed: ipv4-bad-option, with the rule it broke") {
    struct Case {
      const char* name;
      std::array<uint8_t, 8> options;
      const char* fault;
    };
    for (const Case& c :
         {Case{"record route of length 0", {7, 0, 4, 0, 0, 0, 0, 0}, "below 2"},
          Case{"record route of length 1", {7, 1, 4, 0, 0, 0, 0, 0}, "below 2"},
          Case{"loose source route of length 255", {131, 255, 4, 0, 0, 0, 0, 0}, "past the end"},
          Case{"one byte past the header", {1, 131, 8, 4, 0, 0, 0, 0}, "past the end"},
          Case{"type without its length byte", {1, 1, 1, 1, 1, 1, 1, 7}, "without its length"}}) {
      CAPTURE(c.name);
      auto p = with_options(c.options);
      auto r = parse_ipv4(p);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == DropReason::Ipv4BadOption);
      auto fault = find_ipv4_option_fault(std::span(p).subspan(20, 8));
      REQUIRE(fault.has_value());
      CHECK(fault->find(c.fault) != std::string_view::npos);
      // The parse's one walk of the options hands its fault on, for the trace.
      CHECK(r.detail() == *fault);
    }
  }
}

TEST_CASE("ipv4: every rejection reason, each isolated") {
  auto good = hex(test::kPingRequest);
  REQUIRE(parse_ipv4(good).ok());

  SUBCASE("truncated: fewer than 20 bytes") {
    for (size_t n = 0; n < 20; ++n)
      CHECK(parse_ipv4(std::span(good).first(n)).error() == DropReason::Ipv4Truncated);
  }
  SUBCASE("bad version") {
    auto p = good;
    p[0] = std::byte{0x65};  // version 6
    fix_checksum(p);
    CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadVersion);
  }
  SUBCASE("IHL below 5") {
    for (uint8_t ihl = 0; ihl < 5; ++ihl) {
      auto p = good;
      p[0] = std::byte(0x40 | ihl);
      CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadHeaderLength);
    }
  }
  SUBCASE("IHL beyond the packet") {
    auto p = good;
    p.resize(22);
    p[0] = std::byte{0x46};  // 24-byte header in 22 bytes
    CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadHeaderLength);
  }
  SUBCASE("total length larger than the bytes read") {
    auto p = good;
    p[3] = std::byte{85};
    fix_checksum(p);
    CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadTotalLength);
  }
  SUBCASE("total length smaller than the header") {
    auto p = good;
    p[2] = std::byte{0};
    p[3] = std::byte{19};
    fix_checksum(p);
    CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadTotalLength);
  }
  SUBCASE("bad checksum: any single flipped bit in the header") {
    for (size_t bit = 0; bit < 160; ++bit) {
      if (bit / 8 < 4) continue;  // version/IHL/total length fail earlier checks first
      auto p = good;
      p[bit / 8] ^= std::byte(1u << (bit % 8));
      CAPTURE(bit);
      CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadChecksum);
    }
  }
  SUBCASE("fragment: MF set parses, with its fields (stack/ip reassembles)") {
    auto p = good;
    p[6] = std::byte{0x20};  // MF, offset 0
    fix_checksum(p);
    auto r = parse_ipv4(p);
    REQUIRE(r.ok());
    CHECK(r->header.more_fragments);
    CHECK(r->header.fragment_offset == 0);
    CHECK_FALSE(r->header.dont_fragment);
    CHECK(r->header.is_fragment());
  }
  SUBCASE("fragment: non-zero offset parses, with its fields") {
    auto p = good;
    p[6] = std::byte{0x00};
    p[7] = std::byte{0x01};  // last fragment, offset 8 bytes
    fix_checksum(p);
    auto r = parse_ipv4(p);
    REQUIRE(r.ok());
    CHECK_FALSE(r->header.more_fragments);
    CHECK(r->header.fragment_offset == 1);
    CHECK(r->header.is_fragment());
  }
  SUBCASE("order: version is checked before the checksum") {
    auto p = good;
    p[0] = std::byte{0x55};  // version 5 and checksum now wrong
    CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadVersion);
  }
  SUBCASE("a fragment with a bad checksum is refused for the checksum") {
    auto p = good;
    p[6] = std::byte{0x20};  // MF set, checksum not fixed
    CHECK(parse_ipv4(p).error() == DropReason::Ipv4BadChecksum);
  }
}
