// `tcplab doctor`: checks what users of a TUN-based stack get stuck on and prints a fix for
// each failure. The facts come from doctor_probe.cpp, the judgement from stack/doctor/.
#include <cstdio>

#include "stack/doctor/checks.hpp"
#include "stack/link/netlink_view.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/doctor_probe.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/stack_flags.hpp"

namespace tcplab::cli {

namespace {
// The same decision serve makes before it creates anything (stack/ip/address_choice.hpp).
doctor::Check address_check(const LinkOptions& link) {
  std::string error;
  auto view = link::read_network_view(error);
  if (!view)
    return doctor::Check{"addresses", doctor::Status::Fail, "cannot read addresses and routes: " + error, ""};
  const ip::AddressRequest request = address_request(link);
  return doctor::check_addresses(request, ip::decide_addresses(request, *view),
                                 ip::check_admin_addressed(request, *view));
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
        "  rp_filter     strict reverse-path filtering (net.ipv4.conf.*.rp_filter = 1)\n"
        "  firewall      nft/iptables rules or policies that drop the TUN's traffic (needs root)\n"
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
  std::vector<doctor::Check> checks = {
      doctor::check_tun_device(probe_tun_node(), me),
      doctor::check_privilege(me, tun, device),
      address_check(link),
      doctor::check_rp_filter(probe_rp_filter(tun), tun),
      doctor::check_firewall(probe_firewall(me), tun),
      doctor::check_device_name(device, tun, me),
      doctor::check_tun_settings(device, tun, link.tun.mtu, link.tun.offload,
                                 device.exists ? probe_ethtool(tun) : std::nullopt),
      doctor::check_netem(probe_netem()),
  };
  std::fputs((json ? doctor::format_json(checks) : doctor::format_text(checks)).c_str(), stdout);
  return doctor::all_ok(checks) ? kExitOk : kExitRuntime;
}

}  // namespace tcplab::cli
