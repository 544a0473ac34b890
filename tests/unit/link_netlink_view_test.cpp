// Tests for stack/link/netlink_view: against the running kernel (reading needs no privilege
// and changes nothing, and every namespace has a loopback interface to look for), and its
// message parsers on hand-built rtnetlink payloads.
#include <doctest/doctest.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

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

namespace {

// A hand-built rtnetlink payload: the family header, then attributes (4-byte aligned).
struct MessageBuilder {
  std::vector<uint8_t> bytes;
  template <class T>
  void header(const T& h) {
    bytes.resize(NLMSG_ALIGN(sizeof h));
    std::memcpy(bytes.data(), &h, sizeof h);
  }
  void attribute(unsigned short type, const void* data, size_t size) {
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    a.rta_type = type;
    size_t at = bytes.size();
    bytes.resize(at + RTA_SPACE(size), 0);
    std::memcpy(bytes.data() + at, &a, sizeof a);
    std::memcpy(bytes.data() + at + RTA_LENGTH(0), data, size);
  }
  void ipv4(unsigned short type, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t address[4] = {a, b, c, d};
    attribute(type, address, sizeof address);
  }
  void u32(unsigned short type, uint32_t v) { attribute(type, &v, sizeof v); }
};

std::string name_of(uint32_t index) { return "if" + std::to_string(index); }

}  // namespace

TEST_CASE("netlink view: an address message, plain and point-to-point") {
  ip::NetworkView view;
  MessageBuilder m;
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 24;
  ifa.ifa_index = 2;
  m.header(ifa);
  m.ipv4(IFA_ADDRESS, 192, 0, 2, 2);
  m.ipv4(IFA_LOCAL, 192, 0, 2, 2);
  link::add_address_message(m.bytes, view, name_of);
  REQUIRE(view.addresses.size() == 1);
  CHECK(view.addresses[0].interface == "if2");
  CHECK(view.addresses[0].address.to_string() == "192.0.2.2/24");

  // Point-to-point: our address alone, and the peer's prefix.
  MessageBuilder p;
  ifa.ifa_prefixlen = 32;
  ifa.ifa_index = 7;
  p.header(ifa);
  p.ipv4(IFA_ADDRESS, 10, 8, 0, 1);
  p.ipv4(IFA_LOCAL, 10, 8, 0, 2);
  link::add_address_message(p.bytes, view, name_of);
  REQUIRE(view.addresses.size() == 3);
  CHECK(view.addresses[1].address.to_string() == "10.8.0.2/32");
  CHECK(view.addresses[2].address.to_string() == "10.8.0.1/32");

  // Another family, or a header cut short, adds nothing.
  ifa.ifa_family = AF_INET6;
  MessageBuilder v6;
  v6.header(ifa);
  link::add_address_message(v6.bytes, view, name_of);
  link::add_address_message(std::span(m.bytes).first(3), view, name_of);
  CHECK(view.addresses.size() == 3);
}

TEST_CASE("netlink view: route messages: table above 255, gateway, multipath, blackhole") {
  ip::NetworkView view;
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  rtm.rtm_dst_len = 24;
  rtm.rtm_table = RT_TABLE_COMPAT;  // the real number is in RTA_TABLE
  rtm.rtm_type = RTN_UNICAST;
  MessageBuilder m;
  m.header(rtm);
  m.ipv4(RTA_DST, 203, 0, 113, 0);
  m.u32(RTA_TABLE, 1000);
  m.ipv4(RTA_GATEWAY, 192, 0, 2, 1);
  m.u32(RTA_OIF, 3);
  link::add_route_message(m.bytes, view, name_of);
  REQUIRE(view.routes.size() == 1);
  CHECK(ip::describe(view.routes[0]) == "route 203.0.113.0/24 via 192.0.2.1 dev if3 table 1000");

  // Multipath default route: one Route per next hop, each with its own gateway.
  MessageBuilder mp;
  rtm.rtm_dst_len = 0;
  rtm.rtm_table = RT_TABLE_MAIN;
  mp.header(rtm);
  std::vector<uint8_t> hops;
  for (auto [index, last] : {std::pair{4, 1}, std::pair{5, 2}}) {
    MessageBuilder hop_attrs;
    hop_attrs.ipv4(RTA_GATEWAY, 100, 64, 0, static_cast<uint8_t>(last));
    rtnexthop nh{};
    nh.rtnh_len = static_cast<unsigned short>(RTNH_LENGTH(hop_attrs.bytes.size()));
    nh.rtnh_ifindex = index;
    size_t at = hops.size();
    hops.resize(at + RTNH_ALIGN(nh.rtnh_len), 0);
    std::memcpy(hops.data() + at, &nh, sizeof nh);
    std::memcpy(hops.data() + at + RTNH_LENGTH(0), hop_attrs.bytes.data(), hop_attrs.bytes.size());
  }
  mp.attribute(RTA_MULTIPATH, hops.data(), hops.size());
  link::add_route_message(mp.bytes, view, name_of);
  REQUIRE(view.routes.size() == 3);
  CHECK(ip::describe(view.routes[1]) == "default route via 100.64.0.1 dev if4");
  CHECK(ip::describe(view.routes[2]) == "default route via 100.64.0.2 dev if5");

  MessageBuilder bh;
  rtm.rtm_dst_len = 25;
  rtm.rtm_type = RTN_BLACKHOLE;
  bh.header(rtm);
  bh.ipv4(RTA_DST, 192, 0, 2, 0);
  link::add_route_message(bh.bytes, view, name_of);
  REQUIRE(view.routes.size() == 4);
  CHECK(ip::describe(view.routes[3]) == "blackhole route 192.0.2.0/25");

  // An attribute claiming more bytes than there are: the parse stops, nothing is misread.
  MessageBuilder bad;
  rtm.rtm_type = RTN_UNICAST;
  bad.header(rtm);
  bad.ipv4(RTA_DST, 198, 51, 100, 0);
  rtattr lying{};
  lying.rta_len = 200;
  lying.rta_type = RTA_GATEWAY;
  size_t at = bad.bytes.size();
  bad.bytes.resize(at + sizeof lying + 4, 0);
  std::memcpy(bad.bytes.data() + at, &lying, sizeof lying);
  link::add_route_message(bad.bytes, view, name_of);
  REQUIRE(view.routes.size() == 5);
  CHECK(ip::describe(view.routes[4]) == "route 198.51.100.0/25");
}

TEST_CASE("netlink view: link messages name the TUN devices, not TAPs or other kinds") {
  // IFLA_IFNAME and a nested IFLA_LINKINFO { IFLA_INFO_KIND }, as `ip -d link` reads them.
  auto link_message = [](const char* name, unsigned short arp_type, const char* kind) {
    MessageBuilder m;
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_type = arp_type;
    m.header(ifi);
    m.attribute(IFLA_IFNAME, name, std::strlen(name) + 1);
    if (kind) {
      MessageBuilder info;
      info.attribute(IFLA_INFO_KIND, kind, std::strlen(kind) + 1);
      m.attribute(IFLA_LINKINFO, info.bytes.data(), info.bytes.size());
    }
    return m.bytes;
  };
  ip::NetworkView view;
  link::add_link_message(link_message("tcplab0", ARPHRD_NONE, "tun"), view);
  link::add_link_message(link_message("tap0", ARPHRD_ETHER, "tun"), view);
  link::add_link_message(link_message("eth0", ARPHRD_ETHER, "veth"), view);
  link::add_link_message(link_message("lo", ARPHRD_LOOPBACK, nullptr), view);
  link::add_link_message(link_message("wg0", ARPHRD_NONE, "wireguard"), view);
  CHECK(view.tun_interfaces == std::vector<std::string>{"tcplab0"});
  CHECK(view.is_tun("tcplab0"));
  CHECK_FALSE(view.is_tun("eth0"));
}

TEST_CASE("netlink view: a link's tx_dropped comes from IFLA_STATS64, for its index only") {
  // On a TUN, tx_dropped counts the packets the kernel dropped because tcplab had not read
  // the queue in time; the exit summary reports them.
  auto stats_message = [](int index, uint64_t tx_dropped, size_t stats_size) {
    MessageBuilder m;
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    m.header(ifi);
    m.attribute(IFLA_IFNAME, "tcplab0", 8);
    rtnl_link_stats64 stats{};
    stats.tx_packets = 2412;
    stats.tx_dropped = tx_dropped;
    m.attribute(IFLA_STATS64, &stats, stats_size);
    return m.bytes;
  };
  CHECK(link::link_tx_dropped(stats_message(7, 534, sizeof(rtnl_link_stats64)), 7) == 534u);
  CHECK_FALSE(link::link_tx_dropped(stats_message(7, 534, sizeof(rtnl_link_stats64)), 8));
  // Cut before tx_dropped: nothing, not a misread.
  CHECK_FALSE(link::link_tx_dropped(stats_message(7, 534, offsetof(rtnl_link_stats64, tx_dropped)), 7));
  // The running kernel: loopback drops nothing it sends.
  CHECK(link::read_tx_dropped("lo").has_value());
  CHECK_FALSE(link::read_tx_dropped("no-such-if0").has_value());
}
