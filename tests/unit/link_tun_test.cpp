// Tests for the parts of stack/link/tun that need no privilege: interface name checks and
// the address lookup used before creating anything.
#include <doctest/doctest.h>

#include "stack/link/tun.hpp"

using namespace tcplab;

TEST_CASE("tun: interface names the kernel would accept") {
  // The kernel's own rule (dev_valid_name): any byte but '/', ':' and white space, so UTF-8
  // names such as `ip tuntap add name tun_é` makes are fine. Control bytes are refused too:
  // the name is printed, and an escape byte would reach the terminal.
  for (const char* good : {"tcplab0", "a", "tl-1_x.y", "fifteen-chars-x", "tun_\xc3\xa9"}) {
    CAPTURE(good);
    CHECK_FALSE(link::check_interface_name(good).has_value());
  }
  for (const char* bad : {"", "sixteen-chars-xx", ".", "..", "a/b", "a:b", "tun%d", "a b", "tab\tname",
                          "new\nline", "nbsp\xa0x", "cr\rx", "x\x01", "esc\x1b[2J", "del\x7f"}) {
    CAPTURE(bad);
    auto error = link::check_interface_name(bad);
    REQUIRE(error.has_value());
    CHECK(error->find("interface name") != std::string::npos);
  }
}

TEST_CASE("tun: no interface holds an address nobody assigns") {
  // 203.0.113.254 is TEST-NET-3 (RFC 5737): documentation only, never on a machine.
  CHECK_FALSE(link::interface_with_address(wire::Ipv4Address{0xCB0071FE}).has_value());
}
