// Choosing the TUN's addresses so that they cannot clash with the machine's own network.
// Pure decisions over a snapshot of the addresses and routes already present (read by
// stack/link/netlink_view over rtnetlink): does a prefix overlap something on another
// interface, which documentation range is free, and what --host-ip/--ip finally are.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/ip/cidr.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

// An IPv4 address configured on an interface, with its prefix ("192.0.2.2/24 on eth0").
struct InterfaceAddress {
  std::string interface;
  Ipv4Cidr address;
};

// One route of any routing table. `interface` is empty for routes without one
// (blackhole, unreachable, prohibit, throw).
struct Route {
  std::string interface;
  Ipv4Cidr destination;  // 0.0.0.0/0 for a default route
  std::optional<wire::Ipv4Address> gateway;
  uint32_t table = 254;          // 254 main, 255 local, 253 default, anything else a policy table
  std::string type = "unicast";  // as `ip route` names it: unicast, local, broadcast, blackhole, ...
};

// What the machine already uses, as one snapshot.
struct NetworkView {
  std::vector<InterfaceAddress> addresses;
  std::vector<Route> routes;
  // The interfaces that are TUN devices (not TAP): only such an interface can be the one
  // tcplab attaches to, so only its addresses count as an admin's preparation of it.
  std::vector<std::string> tun_interfaces;
  bool is_tun(std::string_view name) const;
};

// Why `address` cannot be an end of the TUN's link ("is a multicast address (224.0.0.0/4)"),
// or nothing for an ordinary unicast address: the same set that ip::is_invalid_source drops
// (RFC 1122 §3.2.1.3). The kernel refuses some of these outright (SIOCSIFADDR with a
// multicast address) and accepts others that nothing can reach, so --host-ip and --ip are
// checked against the list when they are parsed.
std::optional<std::string> unusable_link_address(wire::Ipv4Address address);
// The same for a host address with its prefix, which also rules out the prefix's own network
// and broadcast addresses (RFC 1122 §3.2.1.3: all zeros or all ones in the host part), except
// on /31 and /32, which have no such addresses (RFC 3021).
std::optional<std::string> unusable_host_address(const Ipv4Cidr& host);

// Do the two prefixes share at least one address? (One contains the other's network.)
bool overlaps(const Ipv4Cidr& a, const Ipv4Cidr& b);

// A default route (0.0.0.0/0), or one half of a VPN's 0.0.0.0/1 + 128.0.0.0/1 pair: it
// covers everything, so its destination says nothing about a clash; only its gateway does.
bool is_default_like(const Route& route);

// "main", "local", "default" or the number, as `ip route show table all` prints it.
std::string table_name(uint32_t table);

// "route 203.0.113.0/24 dev veth0 table 100", "default route via 192.0.2.1 dev eth0".
std::string describe(const Route& route);

// The first thing on an interface other than `own_interface` that `prefix` would collide
// with: an address in an overlapping prefix, a route to an overlapping destination (any
// table; default routes excepted), or a gateway inside `prefix`. Nothing when it is free.
// The target TUN's own addresses and routes never clash: they are what an admin prepared.
std::optional<std::string> find_clash(const Ipv4Cidr& prefix, const NetworkView& view,
                                      std::string_view own_interface);

// The ranges tried in order, as the host side's address: 192.0.2.1/24, 198.51.100.1/24,
// 203.0.113.1/24 (RFC 5737 documentation ranges), then 100.64.0.1/24 .. 100.64.255.1/24
// (RFC 6598 shared address space, which sits behind a carrier's NAT and never on a LAN).
std::vector<Ipv4Cidr> candidate_host_ranges();

// The first candidate that clashes with nothing, or nothing if every one does.
std::optional<Ipv4Cidr> first_free_host_range(const NetworkView& view, std::string_view own_interface);

// The stack's address next to the host's: host + 1 ("192.0.2.1/24" -> 192.0.2.2), or host - 1
// when host + 1 is the broadcast address or outside the prefix. Nothing for a /32.
std::optional<wire::Ipv4Address> stack_address_next_to(const Ipv4Cidr& host);

// The host side for a stack address given alone: its /24, with .1 (or .2 if the stack is .1).
Ipv4Cidr host_range_around(wire::Ipv4Address stack);

enum class HostChoice { Auto, Given, None };

// What the user asked for on the command line.
struct AddressRequest {
  HostChoice host_choice = HostChoice::Auto;
  std::optional<Ipv4Cidr> host;              // with HostChoice::Given
  std::optional<wire::Ipv4Address> ip;       // --ip, if given
  wire::Ipv4Address default_ip{0xC0000202};  // 192.0.2.2: the stack's address with --host-ip none
  std::string interface;                     // the TUN that will carry the host address
  std::string user = "$USER";                // who an admin's `ip tuntap add ... user` names
};

// The outcome: either the addresses to use or what clashes and what to do instead.
struct AddressDecision {
  std::optional<Ipv4Cidr> host;  // nothing with --host-ip none
  wire::Ipv4Address ip;
  std::string error;  // non-empty: refuse, touch nothing. What is wrong
  std::string fix;    // with an error: what to do instead
  std::string note;   // why auto skipped the ranges before the one it took, for the banner; may be empty
  bool ok() const { return error.empty(); }
  // The error and its fix as one line, as serve prints it.
  std::string message() const { return fix.empty() ? error : error + "; " + fix; }
};

// Decides --host-ip and --ip. Auto takes the address an admin already gave the TUN (only an
// existing TUN device: any other interface with that name is never taken over), else the
// first free candidate (or, with --ip alone, the /24 around --ip). An explicit choice that
// clashes is refused, never adjusted, and so is any host address other than those an existing
// TUN already carries (an admin's). None checks only that --ip belongs nowhere else. The
// request is assumed to have passed the usage checks (--ip inside --host-ip, not the network
// or broadcast address, unusable_link_address).
AddressDecision decide_addresses(const AddressRequest& request, const NetworkView& view);

// Why the stack could not be reached, and what to do instead.
struct AddressRefusal {
  std::string error;
  std::string fix;
  std::string message() const { return error + "; " + fix; }
};

// --host-ip none touches no address, so the TUN must already be reachable: an existing TUN
// that carries an IPv4 address whose prefix (or a route through the TUN) holds --ip. Nothing
// for any other choice. Serve reports it once the TUN is open (after the errors of opening
// it, such as a TUN of another user), doctor at once; both over the view read before start.
std::optional<AddressRefusal> check_admin_addressed(const AddressRequest& request, const NetworkView& view);

}  // namespace tcplab::ip
