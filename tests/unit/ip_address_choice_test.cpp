// Tests for stack/ip/address_choice: overlap decisions, the automatic range and the refusal
// of explicit choices that clash, over hand-made snapshots of a machine's network.
#include <doctest/doctest.h>

#include "stack/ip/address_choice.hpp"
#include "stack/ip/ipv4_input.hpp"

using namespace tcplab;
using namespace tcplab::ip;

namespace {

Ipv4Cidr cidr(const char* text) {
  auto c = Ipv4Cidr::parse(text);
  REQUIRE(c);
  return *c;
}
wire::Ipv4Address addr(const char* text) {
  auto a = wire::Ipv4Address::parse(text);
  REQUIRE(a);
  return *a;
}
Route route(const char* dev, const char* dst, const char* via = nullptr, uint32_t table = 254,
            const char* type = "unicast") {
  Route r;
  r.interface = dev;
  r.destination = cidr(dst);
  if (via) r.gateway = addr(via);
  r.table = table;
  r.type = type;
  return r;
}

// The VM from the bug report: eth0 192.0.2.2/24, default via 192.0.2.1, plus loopback.
NetworkView vm_on_test_net_1() {
  NetworkView v;
  v.addresses = {{"lo", cidr("127.0.0.1/8")}, {"eth0", cidr("192.0.2.2/24")}};
  v.routes = {route("eth0", "0.0.0.0/0", "192.0.2.1"), route("eth0", "192.0.2.0/24"),
              route("lo", "127.0.0.0/8", nullptr, 255, "local"),
              route("eth0", "192.0.2.2/32", nullptr, 255, "local"),
              route("eth0", "192.0.2.255/32", nullptr, 255, "broadcast")};
  return v;
}

AddressRequest request(HostChoice choice, const char* host = nullptr, const char* ip = nullptr) {
  AddressRequest r;
  r.host_choice = choice;
  if (host) r.host = cidr(host);
  if (ip) r.ip = addr(ip);
  r.interface = "tcplab0";
  return r;
}

}  // namespace

TEST_CASE("address choice: overlap is symmetric and covers containment both ways") {
  CHECK(overlaps(cidr("192.0.2.0/24"), cidr("192.0.2.2/24")));
  CHECK(overlaps(cidr("192.0.2.0/16"), cidr("192.0.2.77/24")));
  CHECK(overlaps(cidr("192.0.2.77/24"), cidr("192.0.0.0/16")));
  CHECK(overlaps(cidr("192.0.2.9/32"), cidr("192.0.2.0/24")));
  CHECK(overlaps(cidr("10.0.0.0/8"), cidr("0.0.0.0/0")));
  CHECK_FALSE(overlaps(cidr("192.0.2.0/24"), cidr("192.0.3.0/24")));
  CHECK_FALSE(overlaps(cidr("198.51.100.1/24"), cidr("192.0.2.2/24")));
  CHECK_FALSE(overlaps(cidr("192.0.2.1/32"), cidr("192.0.2.2/32")));
}

TEST_CASE("address choice: the VM on 192.0.2.0/24 gets 198.51.100.0/24 and a note saying why") {
  auto d = decide_addresses(request(HostChoice::Auto), vm_on_test_net_1());
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "198.51.100.1/24");
  CHECK(d.ip.to_string() == "198.51.100.2");
  CHECK(d.note ==
        "192.0.2.0/24 is in use here (it overlaps address 192.0.2.2/24 on interface eth0), so "
        "tcplab took 198.51.100.0/24");
}

TEST_CASE("address choice: a clean machine keeps 192.0.2.1/24 and 192.0.2.2 without a note") {
  NetworkView v;
  v.addresses = {{"lo", cidr("127.0.0.1/8")}};
  v.routes = {route("lo", "127.0.0.0/8", nullptr, 255, "local")};
  auto d = decide_addresses(request(HostChoice::Auto), v);
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "192.0.2.1/24");
  CHECK(d.ip.to_string() == "192.0.2.2");
  CHECK(d.note.empty());
}

TEST_CASE("address choice: explicit choices that clash are refused with the clash and a free range") {
  const NetworkView v = vm_on_test_net_1();
  auto d = decide_addresses(request(HostChoice::Given, "192.0.2.1/24"), v);
  CHECK(d.error == "--host-ip 192.0.2.1/24 overlaps address 192.0.2.2/24 on interface eth0");
  CHECK(d.fix ==
        "use a free range instead, e.g. --host-ip 198.51.100.1/24 --ip 198.51.100.2, or leave both out to "
        "have one picked");
  CHECK(d.message() == d.error + "; " + d.fix);
  // A superset of the VM's network.
  d = decide_addresses(request(HostChoice::Given, "192.0.0.1/16"), v);
  CHECK(d.error.find("--host-ip 192.0.0.1/16 overlaps address 192.0.2.2/24 on interface eth0") == 0);
  // --ip alone implies its /24 on the host side.
  d = decide_addresses(request(HostChoice::Auto, nullptr, "192.0.2.50"), v);
  CHECK(d.error.find(
            "--ip 192.0.2.50 needs the host side 192.0.2.1/24, which overlaps address 192.0.2.2/24") == 0);
  CHECK(d.fix.find("--host-ip 198.51.100.1/24 --ip 198.51.100.2") != std::string::npos);
  // With --host-ip none only the stack's own address is checked, on the TUN an admin prepared
  // (with none, the missing TUN is the problem: check_admin_addressed).
  NetworkView prepared = v;
  prepared.tun_interfaces.push_back("tcplab0");
  d = decide_addresses(request(HostChoice::None, nullptr, "192.0.2.50"), prepared);
  CHECK(d.error.find("--ip 192.0.2.50 overlaps address 192.0.2.2/24 on interface eth0") == 0);
  CHECK(decide_addresses(request(HostChoice::None, nullptr, "192.0.2.50"), v).ok());
  d = decide_addresses(request(HostChoice::None, nullptr, "198.51.100.2"), prepared);
  CHECK(d.ok());
  CHECK_FALSE(d.host.has_value());
}

TEST_CASE("address choice: explicit choices that are free are taken as given") {
  auto d = decide_addresses(request(HostChoice::Given, "203.0.113.9/24"), vm_on_test_net_1());
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "203.0.113.9/24");
  CHECK(d.ip.to_string() == "203.0.113.10");  // --ip follows --host-ip
  d = decide_addresses(request(HostChoice::Given, "203.0.113.9/24", "203.0.113.200"), vm_on_test_net_1());
  REQUIRE(d.ok());
  CHECK(d.ip.to_string() == "203.0.113.200");
  d = decide_addresses(request(HostChoice::Auto, nullptr, "198.51.100.1"), vm_on_test_net_1());
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "198.51.100.2/24");
}

TEST_CASE("address choice: a gateway inside the prefix clashes even when no address does") {
  NetworkView v;
  v.routes = {route("veth0", "10.20.30.0/24", "100.64.7.1", 101)};
  auto clash = find_clash(cidr("100.64.7.0/24"), v, "tcplab0");
  REQUIRE(clash);
  CHECK(*clash ==
        "contains 100.64.7.1, the gateway of route 10.20.30.0/24 via 100.64.7.1 dev veth0 table 101");
  // The default route's gateway too, though the default route itself covers everything.
  v.routes = {route("eth0", "0.0.0.0/0", "172.16.5.1")};
  CHECK_FALSE(find_clash(cidr("192.0.2.0/24"), v, "tcplab0"));
  clash = find_clash(cidr("172.16.0.1/16"), v, "tcplab0");
  REQUIRE(clash);
  CHECK(*clash == "contains 172.16.5.1, the gateway of default route via 172.16.5.1 dev eth0");
}

TEST_CASE("address choice: a VPN's 0/1 + 128/1 routes are default routes, not clashes") {
  NetworkView v;
  v.routes = {route("tun9", "0.0.0.0/1", "10.8.0.1"), route("tun9", "128.0.0.0/1", "10.8.0.1")};
  auto d = decide_addresses(request(HostChoice::Auto), v);
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "192.0.2.1/24");
  CHECK(find_clash(cidr("10.8.0.0/24"), v, "tcplab0").has_value());  // its gateway still is
  // Anything longer than /1 is a real route, even when it is big.
  v.routes = {route("tun9", "192.0.0.0/2")};
  CHECK(*find_clash(cidr("192.0.2.0/24"), v, "tcplab0") == "overlaps route 192.0.0.0/2 dev tun9");
}

TEST_CASE("address choice: routes of every table count, also those without an interface") {
  NetworkView v;
  v.routes = {route("veth0", "203.0.113.0/24", nullptr, 100),
              route("", "192.0.2.0/25", nullptr, 254, "blackhole")};
  CHECK(*find_clash(cidr("203.0.113.1/24"), v, "tcplab0") ==
        "overlaps route 203.0.113.0/24 dev veth0 table 100");
  CHECK(*find_clash(cidr("192.0.2.1/24"), v, "tcplab0") == "overlaps blackhole route 192.0.2.0/25");
  auto d = decide_addresses(request(HostChoice::Auto), v);
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "198.51.100.1/24");
}

TEST_CASE("address choice: the target TUN's own addresses and routes never clash") {
  NetworkView v;
  v.tun_interfaces = {"tcplab0"};
  v.addresses = {{"tcplab0", cidr("192.0.2.1/24")}};
  v.routes = {route("tcplab0", "192.0.2.0/24"), route("tcplab0", "192.0.2.1/32", nullptr, 255, "local")};
  auto d = decide_addresses(request(HostChoice::Given, "192.0.2.1/24"), v);
  CHECK(d.ok());
  // Auto adopts what the admin configured.
  v.addresses = {{"tcplab0", cidr("10.9.0.1/24")}};
  v.routes = {route("tcplab0", "10.9.0.0/24")};
  d = decide_addresses(request(HostChoice::Auto), v);
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "10.9.0.1/24");
  CHECK(d.ip.to_string() == "10.9.0.2");
  // The same prefix on another TUN does clash.
  auto other = request(HostChoice::Given, "10.9.0.1/24");
  other.interface = "tcplab1";
  CHECK(decide_addresses(other, v).error.find("overlaps address 10.9.0.1/24 on interface tcplab0") !=
        std::string::npos);
}

TEST_CASE("address choice: a host address other than the ones an admin's TUN carries is refused") {
  NetworkView v;
  v.tun_interfaces = {"tcplab0"};
  v.addresses = {{"tcplab0", cidr("10.9.0.254/24")}};
  v.routes = {route("tcplab0", "10.9.0.0/24")};
  const std::string refused = "the TUN tcplab0 already carries 10.9.0.254/24, not ";
  // --host-ip, --ip alone (whose /24 would be 10.9.0.1/24) and auto past a /32 it cannot pair.
  auto given = decide_addresses(request(HostChoice::Given, "198.51.100.1/24"), v);
  CHECK(given.error.find(refused + "198.51.100.1/24, and tcplab does not replace") != std::string::npos);
  CHECK(given.fix.find("--host-ip none") != std::string::npos);
  CHECK(given.fix.find("sudo ip addr del 10.9.0.254/24 dev tcplab0 && sudo ip addr add 198.51.100.1/24") !=
        std::string::npos);
  auto ip_alone = decide_addresses(request(HostChoice::Auto, nullptr, "10.9.0.5"), v);
  CHECK(ip_alone.error.find(refused + "10.9.0.1/24") != std::string::npos);
  v.addresses = {{"tcplab0", cidr("10.9.0.254/32")}};
  v.routes = {};
  CHECK(decide_addresses(request(HostChoice::Auto), v).error.find("already carries 10.9.0.254/32") !=
        std::string::npos);
  // One of its own addresses is taken; a TUN without any gets the one asked for.
  v.addresses = {{"tcplab0", cidr("10.9.0.254/24")}, {"tcplab0", cidr("192.0.2.1/24")}};
  CHECK(decide_addresses(request(HostChoice::Given, "192.0.2.1/24"), v).ok());
  v.addresses = {};
  CHECK(decide_addresses(request(HostChoice::Given, "198.51.100.1/24"), v).ok());
}

TEST_CASE("address choice: an interface that is not a TUN is never taken for a prepared one") {
  // `--tun eth0` on a VM whose eth0 is 10.20.30.1/24: its address is the machine's, not an
  // admin's preparation, so auto does not take it and an explicit choice of it clashes.
  NetworkView v;
  v.addresses = {{"lo", cidr("127.0.0.1/8")}, {"eth0", cidr("10.20.30.1/24")}};
  v.routes = {route("eth0", "10.20.30.0/24")};
  auto eth0 = request(HostChoice::Auto);
  eth0.interface = "eth0";
  auto d = decide_addresses(eth0, v);
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "192.0.2.1/24");
  eth0.host_choice = HostChoice::Given;
  eth0.host = cidr("10.20.30.1/24");
  CHECK(decide_addresses(eth0, v).error ==
        "--host-ip 10.20.30.1/24 overlaps address 10.20.30.1/24 on interface eth0");
  auto lo = request(HostChoice::Auto);
  lo.interface = "lo";
  CHECK(decide_addresses(lo, v).host->to_string() == "192.0.2.1/24");
  // The same address on a TUN of that name is the admin's, and taken.
  v.tun_interfaces = {"eth0"};
  eth0.host_choice = HostChoice::Auto;
  CHECK(decide_addresses(eth0, v).host->to_string() == "10.20.30.1/24");
}

TEST_CASE("address choice: --host-ip none needs a TUN that an admin addressed, with --ip inside it") {
  auto none = request(HostChoice::None);
  none.default_ip = addr("192.0.2.2");
  none.user = "student";  // the admin's command names the user, not the admin's own $USER
  NetworkView v;
  auto refusal = check_admin_addressed(none, v);
  REQUIRE(refusal);
  CHECK(refusal->error.find("no TUN tcplab0 was prepared: the one tcplab creates carries no IPv4 address") !=
        std::string::npos);
  CHECK(refusal->fix.find("sudo ip tuntap add mode tun user student name tcplab0") != std::string::npos);
  v.tun_interfaces = {"tcplab0"};
  refusal = check_admin_addressed(none, v);
  REQUIRE(refusal);
  CHECK(refusal->error ==
        "--host-ip none leaves the TUN's addresses to its admin, but the TUN tcplab0 carries no IPv4 "
        "address, so nothing could reach the stack");
  CHECK(refusal->fix.find("sudo ip addr add 192.0.2.1/24 dev tcplab0") != std::string::npos);
  v.addresses = {{"tcplab0", cidr("198.51.100.1/24")}};
  refusal = check_admin_addressed(none, v);
  REQUIRE(refusal);
  CHECK(refusal->error ==
        "--ip 192.0.2.2 is not routed through the TUN tcplab0 (it carries 198.51.100.1/24)");
  none.ip = addr("198.51.100.2");
  CHECK_FALSE(check_admin_addressed(none, v));
  // A route through the TUN counts as well as its prefix; other choices are not checked.
  none.ip = addr("10.1.2.3");
  v.routes = {route("tcplab0", "10.1.0.0/16")};
  CHECK_FALSE(check_admin_addressed(none, v));
  CHECK_FALSE(check_admin_addressed(request(HostChoice::Auto), NetworkView{}));
}

TEST_CASE("address choice: a host address is neither its prefix's network nor its broadcast address") {
  auto cidr = [](const char* text) { return *Ipv4Cidr::parse(text); };
  CHECK(unusable_host_address(cidr("10.0.0.0/24"))->find("network address") != std::string::npos);
  CHECK(unusable_host_address(cidr("10.0.0.255/24"))->find("broadcast address") != std::string::npos);
  CHECK(unusable_host_address(cidr("10.0.3.255/22"))->find("broadcast address") != std::string::npos);
  CHECK(unusable_host_address(cidr("224.0.0.5/24"))->find("multicast") != std::string::npos);
  // RFC 3021: a /31 has two hosts and no network or broadcast address; a /32 is one host.
  for (const char* fine : {"10.0.0.1/24", "10.0.0.254/24", "10.0.0.0/31", "10.0.0.1/31", "10.0.0.0/32"})
    CHECK_FALSE(unusable_host_address(cidr(fine)));
}

TEST_CASE("address choice: addresses that cannot be an end of a link") {
  CHECK(*unusable_link_address(addr("224.0.0.5")) ==
        "is a multicast address (224.0.0.0/4, RFC 5771), not one host's");
  CHECK(unusable_link_address(addr("239.255.255.250")));
  CHECK(unusable_link_address(addr("255.255.255.255"))->find("limited broadcast") != std::string::npos);
  CHECK(unusable_link_address(addr("0.0.0.1"))->find("0.0.0.0/8") != std::string::npos);
  CHECK(unusable_link_address(addr("0.0.0.0")));
  CHECK(unusable_link_address(addr("127.0.0.2"))->find("loopback") != std::string::npos);
  CHECK(unusable_link_address(addr("240.0.0.1"))->find("240.0.0.0/4") != std::string::npos);
  for (const char* fine :
       {"192.0.2.2", "10.0.0.1", "100.64.0.1", "1.0.0.1", "223.255.255.254", "126.255.255.254"})
    CHECK_FALSE(unusable_link_address(addr(fine)));
  // Exactly the sources the stack's own input drops: a refused address could never talk to it.
  for (uint32_t first = 0; first < 256; ++first) {
    for (uint32_t low : {0u, 1u, 0xFFFFFFu}) {
      const wire::Ipv4Address a{first << 24 | low};
      CHECK(unusable_link_address(a).has_value() == is_invalid_source(a));
    }
  }
}

TEST_CASE("address choice: a note explains every range skipped before the one taken") {
  NetworkView v;
  v.addresses = {{"eth0", cidr("192.0.2.2/24")}};
  v.routes = {route("wg0", "198.51.100.0/24")};
  auto d = decide_addresses(request(HostChoice::Auto), v);
  REQUIRE(d.ok());
  CHECK(d.note ==
        "192.0.2.0/24 (it overlaps address 192.0.2.2/24 on interface eth0) and 198.51.100.0/24 (it overlaps "
        "route 198.51.100.0/24 dev wg0) are in use here, so tcplab took 203.0.113.0/24");
}

TEST_CASE("address choice: when every candidate is taken, auto refuses and says what to do") {
  NetworkView v;
  v.routes = {route("eth0", "192.0.2.0/24"), route("eth0", "198.51.100.0/24"),
              route("eth0", "203.0.113.0/24"), route("eth0", "100.64.0.0/10")};
  auto d = decide_addresses(request(HostChoice::Auto), v);
  CHECK(d.error ==
        "every automatic range is in use here: 192.0.2.0/24 (it overlaps route 192.0.2.0/24 dev eth0), "
        "198.51.100.0/24 (it overlaps route 198.51.100.0/24 dev eth0), 203.0.113.0/24 (it overlaps route "
        "203.0.113.0/24 dev eth0) and 100.64.0.0/24 to 100.64.255.0/24 (each overlaps route 100.64.0.0/10 "
        "dev eth0)");
  CHECK(d.fix.find("pass a private range that no interface or route here uses") == 0);
  // 256 different reasons are counted, not listed.
  v.routes.pop_back();
  for (int x = 0; x < 256; ++x) {
    v.addresses.push_back({"eth1", cidr(("100.64." + std::to_string(x) + ".9/24").c_str())});
  }
  d = decide_addresses(request(HostChoice::Auto), v);
  CHECK(d.error.find("100.64.1.0/24 (it overlaps address 100.64.1.9/24 on interface eth1) and 254 more "
                     "from 100.64.2.0/24 on (each clashes with an address or route here)") !=
        std::string::npos);
  v.addresses.clear();
  v.routes.push_back(route("eth0", "100.64.0.0/10"));
  // One /24 left in 100.64.0.0/10 is found.
  v.routes.back() = route("eth0", "100.64.0.0/17");
  d = decide_addresses(request(HostChoice::Auto), v);
  REQUIRE(d.ok());
  CHECK(d.host->to_string() == "100.64.128.1/24");
  CHECK(candidate_host_ranges().size() == 3 + 256);
}

TEST_CASE("address choice: the stack's address next to the host's") {
  CHECK(stack_address_next_to(cidr("192.0.2.1/24"))->to_string() == "192.0.2.2");
  CHECK(stack_address_next_to(cidr("192.0.2.254/24"))->to_string() == "192.0.2.253");
  CHECK(stack_address_next_to(cidr("10.0.0.1/30"))->to_string() == "10.0.0.2");
  CHECK(stack_address_next_to(cidr("10.0.0.2/30"))->to_string() == "10.0.0.1");
  CHECK(stack_address_next_to(cidr("10.0.0.1/31"))->to_string() == "10.0.0.0");
  CHECK_FALSE(stack_address_next_to(cidr("10.0.0.1/32")).has_value());
  CHECK(host_range_around(addr("192.0.2.50")).to_string() == "192.0.2.1/24");
  CHECK(host_range_around(addr("192.0.2.1")).to_string() == "192.0.2.2/24");
}

TEST_CASE("address choice: routes described as ip route prints them") {
  CHECK(describe(route("eth0", "0.0.0.0/0", "192.0.2.1")) == "default route via 192.0.2.1 dev eth0");
  CHECK(describe(route("eth0", "192.0.2.2/32", nullptr, 255, "local")) ==
        "local route 192.0.2.2/32 dev eth0 table local");
  CHECK(describe(route("veth0", "203.0.113.7/24", nullptr, 100)) ==
        "route 203.0.113.0/24 dev veth0 table 100");
  CHECK(table_name(253) == "default");
}
