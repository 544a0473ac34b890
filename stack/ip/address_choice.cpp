// Overlap decisions and the automatic choice of a free documentation range for the TUN.
#include "stack/ip/address_choice.hpp"

#include <algorithm>

namespace tcplab::ip {
namespace {

constexpr uint32_t kMainTable = 254;
constexpr uint32_t kLocalTable = 255;
constexpr uint32_t kDefaultTable = 253;

Ipv4Cidr network_of(const Ipv4Cidr& c) { return Ipv4Cidr{c.network(), c.prefix_length}; }

// "a free range instead: --host-ip 198.51.100.1/24 --ip 198.51.100.2, or leave both out ...".
std::string free_alternative(const NetworkView& view, std::string_view own_interface) {
  auto free = first_free_host_range(view, own_interface);
  if (!free) {
    return "no documentation range (RFC 5737, RFC 6598 100.64.x.0/24) is free here either; pick an unused "
           "prefix with --host-ip CIDR";
  }
  auto stack = stack_address_next_to(*free);
  return "use a free range instead, e.g. --host-ip " + free->to_string() + " --ip " + stack->to_string() +
         ", or leave both out to have one picked";
}

}  // namespace

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

AddressDecision decide_addresses(const AddressRequest& request, const NetworkView& view) {
  AddressDecision d;
  const std::string_view own = request.interface;
  switch (request.host_choice) {
    case HostChoice::None: {
      // An admin configured the TUN; the stack's own address must still not belong elsewhere.
      d.ip = request.ip.value_or(request.default_ip);
      if (auto clash = find_clash(Ipv4Cidr{d.ip, 32}, view, own)) {
        d.error = "--ip " + d.ip.to_string() + " " + *clash + "; pick an --ip that the TUN " +
                  request.interface + " routes";
      }
      return d;
    }
    case HostChoice::Given: {
      d.host = *request.host;
      d.ip = request.ip ? *request.ip : stack_address_next_to(*d.host).value_or(d.host->address);
      if (auto clash = find_clash(network_of(*d.host), view, own)) {
        d.error = "--host-ip " + d.host->to_string() + " " + *clash + "; " + free_alternative(view, own);
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
      d.error = "--ip " + d.ip.to_string() + " needs the host side " + d.host->to_string() + ", which " +
                *clash + "; " + free_alternative(view, own);
    }
    return d;
  }
  // A persistent TUN an admin already addressed keeps its address.
  auto prepared = std::find_if(view.addresses.begin(), view.addresses.end(), [&](const InterfaceAddress& a) {
    return a.interface == own && a.address.prefix_length <= 30;
  });
  if (prepared != view.addresses.end()) {
    d.host = prepared->address;
    d.ip = *stack_address_next_to(*d.host);  // exists for every prefix up to /30
    if (auto clash = find_clash(network_of(*d.host), view, own)) {
      d.error = "the TUN " + request.interface + " already carries " + d.host->to_string() + ", which " +
                *clash + "; ask its admin to change it, or pick another --tun";
    }
    return d;
  }
  auto free = first_free_host_range(view, own);
  if (!free) {
    d.error =
        "every automatic range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 100.64.0-255.0/24) "
        "is in use here; pick an unused prefix with --host-ip CIDR";
    return d;
  }
  d.host = *free;
  d.ip = *stack_address_next_to(*free);
  const Ipv4Cidr first = candidate_host_ranges().front();
  if (free->address != first.address) {
    d.note = network_of(first).to_string() + " is in use here (it " + *find_clash(first, view, own) +
             "), so tcplab took " + network_of(*free).to_string();
  }
  return d;
}

}  // namespace tcplab::ip
