// Overlap decisions and the automatic choice of a free documentation range for the TUN.
#include "stack/ip/address_choice.hpp"

#include <algorithm>

namespace tcplab::ip {
namespace {

constexpr uint32_t kMainTable = 254;
constexpr uint32_t kLocalTable = 255;
constexpr uint32_t kDefaultTable = 253;

Ipv4Cidr network_of(const Ipv4Cidr& c) { return Ipv4Cidr{c.network(), c.prefix_length}; }

// What to do when no candidate is free: the user picks a range, and doctor can check it. The
// example is one of a few private ranges (RFC 1918) that nothing here uses, so pasting it works.
std::string pick_your_own(const NetworkView& view, std::string_view own_interface) {
  const std::string how =
      "(`ip -4 route show table all` lists what is taken; `tcplab doctor --host-ip CIDR` checks a choice)";
  for (const char* example : {"10.123.45.1/24", "172.31.254.1/24", "192.168.254.1/24", "10.234.56.1/24"}) {
    const Ipv4Cidr host = *Ipv4Cidr::parse(example);
    if (find_clash(network_of(host), view, own_interface)) continue;
    return "pass a private range that no interface or route here uses, e.g. --host-ip " + host.to_string() +
           " --ip " + stack_address_next_to(host)->to_string() + " " + how;
  }
  return "pass a private range that no interface or route here uses " + how;
}

// "use a free range instead: --host-ip 198.51.100.1/24 --ip 198.51.100.2, or leave both out ...".
std::string free_alternative(const NetworkView& view, std::string_view own_interface) {
  auto free = first_free_host_range(view, own_interface);
  if (!free) return "no automatic range is free here either; " + pick_your_own(view, own_interface);
  auto stack = stack_address_next_to(*free);
  return "use a free range instead, e.g. --host-ip " + free->to_string() + " --ip " + stack->to_string() +
         ", or leave both out to have one picked";
}

// Each of the first `count` candidates with why it was skipped: "192.0.2.0/24 (it overlaps
// ...)". Neighbours skipped for the same reason (one route covering 100.64.0.0/10 skips all
// 256 of its /24s) are one group, "100.64.0.0/24 to 100.64.255.0/24 (each overlaps ...)";
// past kMaxGroups the rest are only counted, so the line stays readable.
std::vector<std::string> skipped_ranges(const NetworkView& view, std::string_view own, size_t count) {
  constexpr size_t kMaxGroups = 6;
  const std::vector<Ipv4Cidr> candidates = candidate_host_ranges();
  std::vector<std::string> groups;
  size_t i = 0;
  while (i < count && i < candidates.size()) {
    const std::string why = find_clash(candidates[i], view, own).value_or("is free");
    size_t end = i + 1;
    while (end < count && end < candidates.size() && find_clash(candidates[end], view, own) == why) ++end;
    if (groups.size() == kMaxGroups - 1 && end < count) {
      groups.push_back(std::to_string(count - i) + " more from " + network_of(candidates[i]).to_string() +
                       " on (each clashes with an address or route here)");
      break;
    }
    const std::string first = network_of(candidates[i]).to_string();
    groups.push_back(end - i == 1 ? first + " (it " + why + ")"
                                  : first + " to " + network_of(candidates[end - 1]).to_string() + " (each " +
                                        why + ")");
    i = end;
  }
  return groups;
}

// "a", "a and b", "a, b and c".
std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// Does the prefix of an address on `tun`, or a unicast route through it, hold `ip`? Then the
// kernel sends the stack's traffic into the TUN.
bool routed_through(wire::Ipv4Address ip, const NetworkView& view, std::string_view tun) {
  for (const InterfaceAddress& a : view.addresses)
    if (a.interface == tun && a.address.contains(ip)) return true;
  for (const Route& r : view.routes)
    if (r.interface == tun && r.destination.contains(ip) && r.type == "unicast") return true;
  return false;
}

}  // namespace

bool NetworkView::is_tun(std::string_view name) const {
  return std::find(tun_interfaces.begin(), tun_interfaces.end(), name) != tun_interfaces.end();
}

std::optional<std::string> unusable_link_address(wire::Ipv4Address address) {
  const uint32_t a = address.value;
  if ((a >> 24) == 0) return "is in 0.0.0.0/8, \"this network\" (RFC 1122 §3.2.1.3), never a host's address";
  if ((a >> 24) == 127)
    return "is a loopback address (127.0.0.0/8, RFC 1122 §3.2.1.3): it never leaves the machine's lo";
  if ((a >> 28) == 0xE) return "is a multicast address (224.0.0.0/4, RFC 5771), not one host's";
  if (a == 0xFFFFFFFFu) return "is the limited broadcast address (RFC 919), not one host's";
  if ((a >> 28) == 0xF)
    return "is in 240.0.0.0/4, reserved for future use (RFC 1112 §4, RFC 6890), not a host's address";
  return std::nullopt;
}

std::optional<std::string> unusable_host_address(const Ipv4Cidr& host) {
  if (auto why = unusable_link_address(host.address)) return why;
  if (host.prefix_length >= 31) return std::nullopt;
  const uint32_t mask = host.netmask().value;
  const uint32_t host_part = host.address.value & ~mask;
  const std::string prefix = "/" + std::to_string(host.prefix_length);
  if (host_part == 0)
    return "is the network address of its own prefix (all zeros after the " + prefix +
           ", RFC 1122 §3.2.1.3), not a host's";
  if (host_part == ~mask)
    return "is the broadcast address of its own prefix (all ones after the " + prefix +
           ", RFC 1122 §3.2.1.3), not a host's";
  return std::nullopt;
}

bool overlaps(const Ipv4Cidr& a, const Ipv4Cidr& b) {
  // Two prefixes overlap exactly when the shorter one contains the longer one's network.
  const Ipv4Cidr& shorter = a.prefix_length <= b.prefix_length ? a : b;
  const Ipv4Cidr& longer = a.prefix_length <= b.prefix_length ? b : a;
  return shorter.contains(longer.address);
}

bool is_default_like(const Route& route) { return route.destination.prefix_length <= 1; }

std::string table_name(uint32_t table) {
  switch (table) {
    case kMainTable:
      return "main";
    case kLocalTable:
      return "local";
    case kDefaultTable:
      return "default";
    default:
      return std::to_string(table);
  }
}

std::string describe(const Route& route) {
  std::string text;
  if (route.type != "unicast") text += route.type + " ";
  if (route.destination.prefix_length == 0) {
    text += "default route";
  } else {
    text += "route " + network_of(route.destination).to_string();
  }
  if (route.gateway) text += " via " + route.gateway->to_string();
  if (!route.interface.empty()) text += " dev " + route.interface;
  if (route.table != kMainTable) text += " table " + table_name(route.table);
  return text;
}

std::optional<std::string> find_clash(const Ipv4Cidr& prefix, const NetworkView& view,
                                      std::string_view own_interface) {
  for (const InterfaceAddress& a : view.addresses) {
    if (a.interface == own_interface) continue;
    if (overlaps(prefix, a.address)) {
      return "overlaps address " + a.address.to_string() + " on interface " + a.interface;
    }
  }
  for (const Route& r : view.routes) {
    if (!r.interface.empty() && r.interface == own_interface) continue;
    // A gateway inside our prefix would become "on link" through the TUN: the machine's
    // traffic for it (often all of it, through the default route) would come to us instead.
    if (r.gateway && prefix.contains(*r.gateway)) {
      return "contains " + r.gateway->to_string() + ", the gateway of " + describe(r);
    }
    if (!is_default_like(r) && overlaps(prefix, r.destination)) return "overlaps " + describe(r);
  }
  return std::nullopt;
}

std::vector<Ipv4Cidr> candidate_host_ranges() {
  std::vector<Ipv4Cidr> ranges = {
      Ipv4Cidr{wire::Ipv4Address{0xC0000201}, 24},  // 192.0.2.1/24    TEST-NET-1
      Ipv4Cidr{wire::Ipv4Address{0xC6336401}, 24},  // 198.51.100.1/24 TEST-NET-2
      Ipv4Cidr{wire::Ipv4Address{0xCB007101}, 24},  // 203.0.113.1/24  TEST-NET-3
  };
  for (uint32_t x = 0; x < 256; ++x) {
    ranges.push_back(Ipv4Cidr{wire::Ipv4Address{0x64400001 | (x << 8)}, 24});  // 100.64.x.1/24
  }
  return ranges;
}

std::optional<Ipv4Cidr> first_free_host_range(const NetworkView& view, std::string_view own_interface) {
  for (const Ipv4Cidr& candidate : candidate_host_ranges()) {
    if (!find_clash(candidate, view, own_interface)) return candidate;
  }
  return std::nullopt;
}

std::optional<wire::Ipv4Address> stack_address_next_to(const Ipv4Cidr& host) {
  if (host.prefix_length >= 32) return std::nullopt;
  // Network and broadcast addresses exist only up to /30; a /31 has two plain hosts (RFC 3021).
  const bool has_broadcast = host.prefix_length <= 30;
  auto usable = [&](uint32_t v) {
    wire::Ipv4Address a{v};
    if (!host.contains(a) || a == host.address) return false;
    return !has_broadcast || (a != host.network() && a != host.broadcast());
  };
  if (host.address.value != 0xFFFFFFFFu && usable(host.address.value + 1)) {
    return wire::Ipv4Address{host.address.value + 1};
  }
  if (host.address.value != 0 && usable(host.address.value - 1))
    return wire::Ipv4Address{host.address.value - 1};
  return std::nullopt;
}

Ipv4Cidr host_range_around(wire::Ipv4Address stack) {
  const uint32_t network = stack.value & 0xFFFFFF00u;
  const uint32_t host = stack.value == network + 1 ? network + 2 : network + 1;
  return Ipv4Cidr{wire::Ipv4Address{host}, 24};
}

std::optional<AddressRefusal> check_admin_addressed(const AddressRequest& request, const NetworkView& view) {
  if (request.host_choice != HostChoice::None) return std::nullopt;
  const std::string& tun = request.interface;
  const wire::Ipv4Address ip = request.ip.value_or(request.default_ip);
  // Without an address on the TUN the kernel has no route to the stack: every ping or curl
  // would fail with "Network is unreachable". The address to add is the /24 around the stack's,
  // so that the --ip the user gave (or the default) is the one routed.
  const std::string prepare = "sudo ip addr add " + host_range_around(ip).to_string() + " dev " + tun +
                              " && sudo ip link set " + tun + " up (then --ip " + ip.to_string() + ")";
  if (!view.is_tun(tun)) {
    return AddressRefusal{"--host-ip none leaves the TUN's addresses to its admin, but no TUN " + tun +
                              " was prepared: the one tcplab creates carries no IPv4 address, so nothing "
                              "could reach the stack",
                          "leave --host-ip out to have tcplab address the TUN, or have an admin prepare a "
                          "persistent one: sudo ip tuntap add mode tun user " + request.user + " name " +
                              tun + " && " + prepare};
  }
  std::vector<std::string> carried;
  std::optional<wire::Ipv4Address> example;  // the stack's address next to the first prefix
  for (const InterfaceAddress& a : view.addresses) {
    if (a.interface != tun) continue;
    carried.push_back(a.address.to_string());
    if (!example) example = stack_address_next_to(a.address);
  }
  if (carried.empty()) {
    return AddressRefusal{
        "--host-ip none leaves the TUN's addresses to its admin, but the TUN " + tun +
            " carries no IPv4 address, so nothing could reach the stack",
        "leave --host-ip out to have tcplab address the TUN, or have an admin add one: " + prepare};
  }
  if (!routed_through(ip, view, tun)) {
    return AddressRefusal{"--ip " + ip.to_string() + " is not routed through the TUN " + tun +
                              " (it carries " + join_list(carried) + ")",
                          "pick an --ip inside " + join_list(carried) +
                              (example ? " (e.g. --ip " + example->to_string() + ")" : std::string()) +
                              ", or leave --host-ip out"};
  }
  return std::nullopt;
}

namespace {

AddressDecision choose_addresses(const AddressRequest& request, const NetworkView& view) {
  AddressDecision d;
  // Only a TUN's own addresses are exempt from the clash checks: an interface of another kind
  // with the same name (eth0, lo) is the machine's network, which serve will refuse to touch.
  const std::string_view own = view.is_tun(request.interface) ? std::string_view(request.interface) : "";
  switch (request.host_choice) {
    case HostChoice::None: {
      // An admin configured the TUN; the stack's own address must still not belong elsewhere.
      // With no such TUN at all that is the problem, and check_admin_addressed names it: a
      // clash of --ip with another interface would only hide it.
      d.ip = request.ip.value_or(request.default_ip);
      if (own.empty()) return d;
      if (auto clash = find_clash(Ipv4Cidr{d.ip, 32}, view, own)) {
        d.error = "--ip " + d.ip.to_string() + " " + *clash;
        d.fix = "pick an --ip that the TUN " + request.interface + " routes";
      }
      return d;
    }
    case HostChoice::Given: {
      d.host = *request.host;
      d.ip = request.ip ? *request.ip : stack_address_next_to(*d.host).value_or(d.host->address);
      if (auto clash = find_clash(network_of(*d.host), view, own)) {
        d.error = "--host-ip " + d.host->to_string() + " " + *clash;
        d.fix = free_alternative(view, own);
      }
      return d;
    }
    case HostChoice::Auto:
      break;
  }
  if (request.ip) {
    // --ip alone: the host side follows it, so the clash check covers the /24 it implies.
    d.ip = *request.ip;
    d.host = host_range_around(d.ip);
    if (auto clash = find_clash(network_of(*d.host), view, own)) {
      d.error =
          "--ip " + d.ip.to_string() + " needs the host side " + d.host->to_string() + ", which " + *clash;
      d.fix = free_alternative(view, own);
    }
    return d;
  }
  // A persistent TUN an admin already addressed keeps its address.
  auto prepared = std::find_if(view.addresses.begin(), view.addresses.end(), [&](const InterfaceAddress& a) {
    return !own.empty() && a.interface == own && a.address.prefix_length <= 30;
  });
  if (prepared != view.addresses.end()) {
    d.host = prepared->address;
    d.ip = *stack_address_next_to(*d.host);  // exists for every prefix up to /30
    if (auto clash = find_clash(network_of(*d.host), view, own)) {
      d.error =
          "the TUN " + request.interface + " already carries " + d.host->to_string() + ", which " + *clash;
      d.fix = "ask its admin to change it, or pick another --tun";
    }
    return d;
  }
  const std::vector<Ipv4Cidr> candidates = candidate_host_ranges();
  auto free = first_free_host_range(view, own);
  if (!free) {
    d.error =
        "every automatic range is in use here: " + join_list(skipped_ranges(view, own, candidates.size()));
    d.fix = pick_your_own(view, own);
    return d;
  }
  d.host = *free;
  d.ip = *stack_address_next_to(*free);
  const size_t skipped =
      static_cast<size_t>(std::find_if(candidates.begin(), candidates.end(),
                                       [&](const Ipv4Cidr& c) { return c.address == free->address; }) -
                          candidates.begin());
  if (skipped == 1) {
    d.note = network_of(candidates.front()).to_string() + " is in use here (it " +
             *find_clash(candidates.front(), view, own) + "), so tcplab took " +
             network_of(*free).to_string();
  } else if (skipped > 1) {
    d.note = join_list(skipped_ranges(view, own, skipped)) + " are in use here, so tcplab took " +
             network_of(*free).to_string();
  }
  return d;
}

}  // namespace

AddressDecision decide_addresses(const AddressRequest& request, const NetworkView& view) {
  AddressDecision d = choose_addresses(request, view);
  if (!d.ok() || !d.host || !view.is_tun(request.interface)) return d;
  // An existing TUN that carries IPv4 addresses is its admin's: giving it another would replace
  // the first of them (SIOCSIFADDR), for good. Whether the host address came from --host-ip,
  // from --ip alone or from auto (which skips a /31 or /32 it cannot pair with --ip), it must be
  // one the TUN already has.
  std::optional<Ipv4Cidr> admins;
  for (const InterfaceAddress& a : view.addresses) {
    if (a.interface != request.interface) continue;
    if (a.address.address == d.host->address) return d;
    if (!admins) admins = a.address;
  }
  if (!admins) return d;
  const std::string wanted = d.host->to_string(), tun = request.interface;
  d.error = "the TUN " + tun + " already carries " + admins->to_string() + ", not " + wanted +
            ", and tcplab does not replace an address an admin gave it";
  d.fix = "use it as it is with --host-ip none (and an --ip it routes), or ask its admin to change it: " +
          std::string("sudo ip addr del ") + admins->to_string() + " dev " + tun + " && sudo ip addr add " +
          wanted + " dev " + tun;
  return d;
}

}  // namespace tcplab::ip
