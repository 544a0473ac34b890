// Tests for stack/ip/cidr (--host-ip) and stack/ip/ipv4_input (source address rules).
#include <doctest/doctest.h>

#include "stack/ip/cidr.hpp"
#include "stack/ip/ipv4_input.hpp"

using namespace tcplab;
using namespace tcplab::ip;

TEST_CASE("cidr: parse, netmask, contains") {
  auto c = Ipv4Cidr::parse("192.0.2.1/24");
  REQUIRE(c);
  CHECK(c->address.value == 0xC0000201u);
  CHECK(c->prefix_length == 24);
  CHECK(c->netmask().value == 0xFFFFFF00u);
  CHECK(c->contains(wire::Ipv4Address{0xC0000202u}));
  CHECK_FALSE(c->contains(wire::Ipv4Address{0xC0000302u}));
  CHECK(c->network().value == 0xC0000200u);
  CHECK(c->broadcast().value == 0xC00002FFu);
  CHECK(c->to_string() == "192.0.2.1/24");
  CHECK(Ipv4Cidr::parse("10.0.0.1/0")->netmask().value == 0u);
  CHECK(Ipv4Cidr::parse("10.0.0.1/32")->netmask().value == 0xFFFFFFFFu);
  for (const char* bad : {"192.0.2.1", "192.0.2.1/", "192.0.2.1/33", "192.0.2.1/-1", "192.0.2/24", "x/24",
                          "192.0.2.1/2a", "192.0.2.1/244", "/24"}) {
    CAPTURE(bad);
    CHECK_FALSE(Ipv4Cidr::parse(bad).has_value());
  }
}

TEST_CASE("ipv4 input: sources that cannot name one host (RFC 1122 §3.2.1.3)") {
  for (uint32_t bad :
       {0x00000000u, 0x00010203u, 0x7F000001u, 0xE0000001u, 0xEFFFFFFFu, 0xF0000001u, 0xFFFFFFFFu}) {
    CAPTURE(bad);
    CHECK(is_invalid_source(wire::Ipv4Address{bad}));
  }
  for (uint32_t good : {0xC0000201u, 0x0A000001u, 0x01020304u, 0xDFFFFFFFu}) {
    CAPTURE(good);
    CHECK_FALSE(is_invalid_source(wire::Ipv4Address{good}));
  }
  wire::Ipv4Header h;
  h.source = wire::Ipv4Address{0xC0000201u};
  h.destination = wire::Ipv4Address{0xC0000202u};
  CHECK_FALSE(check_addresses(h, wire::Ipv4Address{0xC0000202u}).has_value());
  CHECK(check_addresses(h, wire::Ipv4Address{0xC0000203u}) == DropReason::Ipv4NotForUs);
  h.source = h.destination;
  CHECK(check_addresses(h, wire::Ipv4Address{0xC0000202u}) == DropReason::Ipv4BadSource);
}
