// Tests for stack/link/netlink_view against the running kernel: reading needs no privilege
// and changes nothing, and every namespace has a loopback interface to look for.
#include <doctest/doctest.h>

#include <algorithm>

#include "stack/link/netlink_view.hpp"

using namespace tcplab;

TEST_CASE("netlink view: loopback's address and its local-table route are read") {
  std::string error;
  auto view = link::read_network_view(error);
  REQUIRE_MESSAGE(view.has_value(), error);
  const bool lo_address = std::any_of(view->addresses.begin(), view->addresses.end(), [](const auto& a) {
    return a.interface == "lo" && a.address.to_string() == "127.0.0.1/8";
  });
  // The local table (255), not the main one, holds loopback's routes: proof that the dump
  // covers every table.
  const bool lo_local_route = std::any_of(view->routes.begin(), view->routes.end(), [](const auto& r) {
    return r.interface == "lo" && r.table == 255 && r.type == "local" &&
           r.destination.to_string() == "127.0.0.0/8";
  });
  // Only when loopback is up does it carry these; the test namespace and every VM bring it up.
  CHECK(lo_address);
  CHECK(lo_local_route);
  CHECK(ip::find_clash(*ip::Ipv4Cidr::parse("127.0.0.1/8"), *view, "tcplab0").has_value());
}
