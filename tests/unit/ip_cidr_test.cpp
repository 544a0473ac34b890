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
  CHECK(check_addresses(h, wire::Ipv4Address{0xC0000203u})->reason == DropReason::Ipv4NotForUs);
  h.source = h.destination;
  auto own = check_addresses(h, wire::Ipv4Address{0xC0000202u});
  REQUIRE(own.has_value());
  CHECK(own->reason == DropReason::Ipv4BadSource);
  CHECK(own->detail == "source is our own address");
}

TEST_CASE("ipv4 input: the link prefix's directed broadcast and network address are no source") {
  // RFC 1122 §3.2.1.3: {<Network-number>, -1} "MUST NOT be used as an IP source address".
  const wire::Ipv4Address ours{0xC0000202u};  // 192.0.2.2
  wire::Ipv4Header h;
  h.destination = ours;
  auto refusal = [&](uint32_t source, std::optional<Ipv4Cidr> prefix) {
    h.source = wire::Ipv4Address{source};
    return check_addresses(h, ours, prefix);
  };
  const Ipv4Cidr slash24{wire::Ipv4Address{0xC0000201u}, 24};  // 192.0.2.1/24, --host-ip's default
  for (uint32_t bad : {0xC00002FFu, 0xC0000200u}) {            // 192.0.2.255, 192.0.2.0
    CAPTURE(bad);
    auto r = refusal(bad, slash24);
    REQUIRE(r.has_value());
    CHECK(r->reason == DropReason::Ipv4BadSource);
    CHECK(r->detail.find("of the link's prefix") != std::string_view::npos);
    // Without the prefix there is no telling them from hosts of some other network.
    CHECK_FALSE(refusal(bad, std::nullopt).has_value());
  }
  // The neighbours of those addresses are ordinary hosts.
  CHECK_FALSE(refusal(0xC0000201u, slash24).has_value());
  CHECK_FALSE(refusal(0xC00002FEu, slash24).has_value());
  // Another prefix's broadcast is not ours to judge (a host behind a router may be x.x.x.255).
  CHECK_FALSE(refusal(0xC63364FFu, slash24).has_value());  // 198.51.100.255
  // /16: the broadcast is 192.0.255.255, and 192.0.2.255 is a host.
  const Ipv4Cidr slash16{wire::Ipv4Address{0xC0000201u}, 16};
  CHECK(refusal(0xC000FFFFu, slash16)->reason == DropReason::Ipv4BadSource);
  CHECK_FALSE(refusal(0xC00002FFu, slash16).has_value());
  // RFC 3021: /31 and /32 have no network or broadcast address; both ends are hosts.
  const Ipv4Cidr slash31{wire::Ipv4Address{0xC0000203u}, 31};  // 192.0.2.2 and 192.0.2.3
  CHECK_FALSE(refusal(0xC0000203u, slash31).has_value());
  const Ipv4Cidr slash32{wire::Ipv4Address{0xC0000201u}, 32};
  CHECK_FALSE(refusal(0xC0000201u, slash32).has_value());
}
