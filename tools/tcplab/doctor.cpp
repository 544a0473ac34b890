// `tcplab doctor`: checks what users of a TUN-based stack get stuck on and prints a fix for
// each failure. The facts come from doctor_probe.cpp, the judgement from stack/doctor/.
#include <cstdio>

#include "http/server.hpp"
#include "stack/doctor/checks.hpp"
#include "stack/link/netlink_view.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/doctor_probe.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/stack_flags.hpp"

namespace tcplab::cli {

namespace {
// The same decision serve makes before it creates anything (stack/ip/address_choice.hpp),
// made once for the checks that read it.
struct AddressPlan {
  ip::AddressRequest request;
  ip::AddressDecision decision;
  std::optional<ip::AddressRefusal> unreachable;  // --host-ip none: why nothing reaches the stack
};

std::optional<AddressPlan> address_plan(const LinkOptions& link, const std::optional<ip::NetworkView>& view) {
  if (!view) return std::nullopt;
  AddressPlan plan{address_request(link), {}, {}};
  plan.decision = ip::decide_addresses(plan.request, *view);
  plan.unreachable = ip::check_admin_addressed(plan.request, *view);
  return plan;
}

doctor::Check address_check(const std::optional<AddressPlan>& plan, const std::string& view_error) {
  if (!plan)
    return doctor::Check{"addresses", doctor::Status::Fail, "cannot read addresses and routes: " + view_error,
                         ""};
  return doctor::check_addresses(plan->request, plan->decision, plan->unreachable);
}

// Where the stack's address would be routed, for the rp_filter check. tcplab gives the TUN a host
// address whose prefix holds the stack's; with --host-ip none that is the admin's job, and
// check_admin_addressed says whether it was done.
std::optional<doctor::StackRoute> stack_route(const std::optional<AddressPlan>& plan) {
  if (!plan) return std::nullopt;
  const ip::AddressDecision& decision = plan->decision;
  if (plan->request.host_choice == ip::HostChoice::None)
    return doctor::StackRoute{decision.ip, !plan->unreachable};
  const bool host_prefix_holds_stack = decision.ok() && decision.host && decision.host->contains(decision.ip);
  return doctor::StackRoute{decision.ip, host_prefix_holds_stack};
}

// The traffic the firewall check walks the rules with: the addresses serve would use and the
// HTTP server's default port (doctor has no --http-port). With --host-ip none the host side is
// the admin's address on the TUN whose prefix holds the stack's, if there is one.
doctor::LabTraffic lab_traffic(const LinkOptions& link, const std::optional<ip::NetworkView>& view,
                               const std::optional<AddressPlan>& plan) {
  doctor::LabTraffic lab;
  lab.tun = link.tun.name;
  lab.served_ports = {http::ServerConfig{}.port};
  if (!plan) return lab;  // serve's defaults
  const ip::AddressDecision& decision = plan->decision;
  lab.stack = decision.ip;
  lab.host = decision.host ? std::optional(decision.host->address) : std::nullopt;
  if (plan->request.host_choice == ip::HostChoice::None) {
    for (const ip::InterfaceAddress& a : view->addresses)
      if (a.interface == link.tun.name && a.address.contains(decision.ip)) lab.host = a.address.address;
  }
  return lab;
}
}  // namespace

int doctor_main(int argc, char** argv, int first) {
  LinkOptions link;
  bool json = false;
  FlagTable flags;
  add_link_flags(flags, link);
  add_flag(flags, "--json", "", "off",
           "print a JSON array of {check, ok, status, detail, fix} instead of lines (ok: not failed; status: "
           "ok, fail "
           "or info)",
           switch_into(json, true));
  ParsedArgs args;
  if (auto error = parse_flags(flags, argc, argv, first, args)) {
    std::fprintf(stderr, "tcplab doctor: %s (see tcplab doctor --help)\n", error->c_str());
    return kExitUsage;
  }
  if (args.help_requested) {
    std::printf(
        "usage: tcplab doctor [flags]\n\n"
        "Checks, in order, what stops tcplab from running here and prints a fix for each failure:\n"
        "  tun-device    /dev/net/tun exists and this user can open it\n"
        "  privilege     root or CAP_NET_ADMIN, or a persistent TUN this user owns\n"
        "  addresses     --host-ip and --ip are not on another interface or routed elsewhere (with\n"
        "                --host-ip none: the TUN exists and carries an address whose prefix holds --ip,\n"
        "                or a route to it)\n"
        "  rp_filter     strict reverse-path filtering (net.ipv4.conf.*.rp_filter = 1) when the stack's\n"
        "                address is not routed via the TUN\n"
        "  firewall      nft/iptables rules or policies that drop the TUN's traffic (needs root);\n"
        "                nft chains are read in order, as the kernel does, with the lab's addresses\n"
        "                and port 80: a rule that only may drop it is named (info)\n"
        "  device-name   an interface already called --tun (another tcplab, a non-TUN device)\n"
        "  tun-settings  the existing TUN's MTU and offloads (information)\n"
        "  netem         whether tc's netem is available (information)\n"
        "One line per check: ok, FAIL or info. Exit status 0 when nothing failed, 1 otherwise.\n"
        "Pass the same link flags as to tcplab serve to check those instead of the defaults.\n\n");
    std::fputs(describe_flags(flags).c_str(), stdout);
    return kExitOk;
  }
  if (auto error = check_link(link)) {
    std::fprintf(stderr, "tcplab doctor: %s (see tcplab doctor --help)\n", error->c_str());
    return kExitUsage;
  }
  const std::string& tun = link.tun.name;
  auto me = probe_identity();
  auto device = probe_interface(tun);
  std::string view_error;
  const auto view = link::read_network_view(view_error);
  const auto plan = address_plan(link, view);
  std::vector<doctor::Check> checks = {
      doctor::check_tun_device(probe_tun_node(), me),
      doctor::check_privilege(me, tun, device),
      address_check(plan, view_error),
      doctor::check_rp_filter(probe_rp_filter(tun), tun, stack_route(plan)),
      doctor::check_firewall(probe_firewall(me), lab_traffic(link, view, plan)),
      doctor::check_device_name(device, tun, me, link.host_choice),
      doctor::check_tun_settings(device, tun, link.tun.mtu, link.tun.offload,
                                 device.exists ? probe_ethtool(tun) : std::nullopt),
      doctor::check_netem(probe_netem()),
  };
  std::fputs((json ? doctor::format_json(checks) : doctor::format_text(checks)).c_str(), stdout);
  return doctor::all_ok(checks) ? kExitOk : kExitRuntime;
}

}  // namespace tcplab::cli
