// The doctor's checks (see checks.hpp). Each says what it saw in numbers a user can verify
// (modes, uids, sysctl values, the offending rule) and a command that fixes it.
#include "stack/doctor/checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "stack/doctor/text_lines.hpp"
#include "stack/trace/json_sink.hpp"

namespace tcplab::doctor {

namespace {

constexpr int kCapNetAdmin = 12;  // linux/capability.h

Check ok(std::string name, std::string detail) {
  return {std::move(name), Status::Ok, std::move(detail), ""};
}
Check info(std::string name, std::string detail, std::string fix = "") {
  return {std::move(name), Status::Info, std::move(detail), std::move(fix)};
}
Check fail(std::string name, std::string detail, std::string fix) {
  return {std::move(name), Status::Fail, std::move(detail), std::move(fix)};
}

std::string octal(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

const char* rp_name(int v) { return v == 0 ? "off" : v == 1 ? "strict" : v == 2 ? "loose" : "unknown"; }

}  // namespace

bool Identity::net_admin() const { return root() || (cap_effective >> kCapNetAdmin) & 1; }

bool Identity::in_group(int64_t group) const {
  if (group < 0) return false;
  if (static_cast<uint32_t>(group) == gid) return true;
  for (auto g : groups)
    if (g == static_cast<uint32_t>(group)) return true;
  return false;
}

std::optional<uint64_t> parse_cap_effective(std::string_view proc_status) {
  for (auto line : lines(proc_status)) {
    if (line.substr(0, 7) != "CapEff:") continue;
    auto hex = trim(line.substr(7));
    if (hex.empty() || hex.size() > 16) return std::nullopt;
    uint64_t v = 0;
    for (char c : hex) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v << 4 | static_cast<uint64_t>(d);
    }
    return v;
  }
  return std::nullopt;
}

namespace {

// The user as an admin should type it in a command run for them: the login name, else the uid
// (`ip tuntap add user` takes either).
std::string admin_user_text(const Identity& me) { return me.name.empty() ? std::to_string(me.uid) : me.name; }

}  // namespace

Check check_tun_device(const TunNode& node, const Identity& me) {
  const char* name = "tun-device";
  // The node's device numbers are the driver's (Documentation/admin-guide/devices.txt: 10,200).
  const std::string make_node =
      "sudo mkdir -p /dev/net && sudo mknod /dev/net/tun c 10 200 && sudo chmod 0666 /dev/net/tun";
  if (!node.exists && node.driver_loaded)
    return fail(name, "/dev/net/tun does not exist, though the TUN driver is loaded (/proc/misc lists it)",
                "create the node: " + make_node +
                    " (in a container, pass the device in: docker run --device /dev/net/tun --cap-add "
                    "NET_ADMIN ...)");
  if (!node.exists)
    return fail(name, "/dev/net/tun does not exist",
                "load the driver: sudo modprobe tun (if the node is still missing: " + make_node +
                    "; in a container, pass the device in: docker run --device /dev/net/tun --cap-add "
                    "NET_ADMIN ...)");
  if (!node.char_device || node.major != 10 || node.minor != 200)
    return fail(name, "/dev/net/tun is not the TUN character device (10,200)",
                "recreate it: sudo rm /dev/net/tun && sudo mknod /dev/net/tun c 10 200 && "
                "sudo chmod 0666 /dev/net/tun");
  std::string what = "/dev/net/tun (10,200) mode " + octal(node.mode) + " owner " +
                     std::to_string(node.owner_uid) + ":" + std::to_string(node.owner_gid);
  if (node.open_errno == 0) {
    std::string detail = what + " opens read-write as uid " + std::to_string(me.uid);
    // Root passes any mode; a teacher preparing the machine wants to know about the others.
    if (me.root() && (node.mode & 0006) != 0006) detail += " (root only: other users cannot open it)";
    return ok(name, detail);
  }
  std::string why =
      what + "; open() as uid " + std::to_string(me.uid) + " fails: " + std::strerror(node.open_errno);
  // The name is written out, as the privilege check writes it: the admin types this in a shell
  // of their own, where $USER (or a placeholder left as is) would not be this user.
  if (node.open_errno == EACCES || node.open_errno == EPERM)
    return fail(name, why + " (the node's mode is checked before any TUN's owner)",
                "run as root (sudo build/tcplab serve), or an admin makes the node usable: "
                "sudo chmod 0666 /dev/net/tun (or a group: sudo chgrp GROUP /dev/net/tun && "
                "sudo chmod 0660 /dev/net/tun; or an ACL: sudo setfacl -m u:" + admin_user_text(me) +
                    ":rw /dev/net/tun), then optionally a persistent TUN (README: Without root)");
  if ((node.open_errno == ENODEV || node.open_errno == ENXIO || node.open_errno == ENOENT) &&
      !node.driver_loaded)
    return fail(name, why, "load the driver: sudo modprobe tun");
  return fail(name, why, "check dmesg; the TUN driver refuses to open");
}

Check check_privilege(const Identity& me, const std::string& tun, const Interface& device) {
  const char* name = "privilege";
  if (me.root()) return ok(name, "running as root");
  if (me.net_admin()) return ok(name, "uid " + std::to_string(me.uid) + " has CAP_NET_ADMIN");
  bool mine = device.exists && device.is_tun_driver && !device.tap() && device.persistent() &&
              (device.owner == me.uid || me.in_group(device.group));
  if (mine)
    return ok(name, "not root and no CAP_NET_ADMIN, but " + tun + " is a persistent TUN that uid " +
                        std::to_string(me.uid) + " may use: tcplab attaches to it");
  std::string detail =
      "uid " + std::to_string(me.uid) + " is not root, has no CAP_NET_ADMIN, and " +
      (device.exists ? tun + " is not a persistent TUN it owns" : "there is no persistent TUN " + tun);
  // The name is written out, not $USER: in the admin's sudo shell $USER is the admin.
  const std::string user = admin_user_text(me);
  // A persistent TUN of someone else's must go first, or `ip tuntap add` fails with "busy"
  // (the same advice as the device-name check). Anything else on that name is not ours to touch.
  const bool someone_elses_tun =
      device.exists && device.is_tun_driver && !device.tap() && device.persistent();
  if (device.exists && !someone_elses_tun)
    return fail(name, detail,
                "run as root (sudo build/tcplab serve), or see device-name: " + tun +
                    " is taken, and an admin prepares a persistent TUN under another name (--tun NAME)");
  std::string prepare = "sudo ip tuntap add mode tun user " + user + " name " + tun;
  if (someone_elses_tun) prepare = "sudo ip tuntap del mode tun name " + tun + " && " + prepare;
  return fail(
      name, detail,
      "run as root (sudo build/tcplab serve), or an admin prepares a persistent TUN once: " + prepare +
          " && sudo ip addr add 192.0.2.1/24 dev " + tun + " && sudo ip link set " + tun + " up");
}

Check check_addresses(const ip::AddressRequest& request, const ip::AddressDecision& decision,
                      const std::optional<ip::AddressRefusal>& unreachable) {
  const char* name = "addresses";
  if (!decision.ok()) return fail(name, decision.error, decision.fix);
  if (unreachable) return fail(name, unreachable->error, unreachable->fix);
  std::string chosen = (decision.host ? "host " + decision.host->to_string() + ", " : std::string()) +
                       "stack " + decision.ip.to_string();
  std::string how = request.host_choice == ip::HostChoice::Auto ? "free, chosen automatically"
                                                                : "free: clash with no address or route";
  std::string detail = chosen + ": " + how;
  if (!decision.note.empty()) detail += " (" + decision.note + ")";
  return ok(name, detail);
}

Check check_rp_filter(const RpFilter& rp, const std::string& tun, const std::optional<StackRoute>& stack) {
  const char* name = "rp_filter";
  if (!rp.all) return info(name, "cannot read /proc/sys/net/ipv4/conf/all/rp_filter");
  // The kernel uses max(conf/all, conf/DEVICE); a new device starts with conf/default
  // (Documentation/networking/ip-sysctl.rst, rp_filter).
  const bool device_exists = rp.device.has_value();
  int device = device_exists ? *rp.device : rp.default_value.value_or(0);
  int effective = *rp.all > device ? *rp.all : device;
  std::string detail = "net.ipv4.conf.all.rp_filter = " + std::to_string(*rp.all);
  if (rp.default_value) detail += ", default = " + std::to_string(*rp.default_value);
  if (rp.device) detail += ", " + tun + " = " + std::to_string(*rp.device);
  detail += std::string(": ") + rp_name(effective) + " reverse-path filtering for " + tun;
  if (effective != 1) return ok(name, detail);
  // Strict mode (RFC 3704 §2.2) drops a packet from the TUN only when the route back to its
  // source leaves through another interface. The stack's packets come from its own address, so
  // while that address is routed via the TUN they pass.
  if (stack && stack->via_tun)
    return ok(name, detail + ", which passes the stack's packets: " + stack->ip.to_string() +
                        " is routed via " + tun);
  // Only the settings that are 1 make it strict; since the kernel takes the larger, raising
  // just those to 2 makes it loose, and every other interface keeps its setting.
  std::string settings;
  if (*rp.all == 1) settings += " net.ipv4.conf.all.rp_filter=2";
  if (device == 1)
    settings += device_exists ? " net.ipv4.conf." + tun + ".rp_filter=2"
                              : " net.ipv4.conf.default.rp_filter=2";  // what the new TUN will start with
  std::string where = stack ? "the stack's address " + stack->ip.to_string() + ", which is not routed via "
                            : "any stack address not routed via ";
  return fail(name,
              detail +
                  " (RFC 3704): the kernel silently drops a packet from the TUN unless its reply would "
                  "leave through the TUN too, which breaks " + where + tun,
              "sudo sysctl -w" + settings + " (2 = loose, 0 = off)");
}

Check check_firewall(const Firewall& fw, const std::string& tun) {
  LabTraffic lab;
  lab.tun = tun;
  return check_firewall(fw, lab);
}

Check check_firewall(const Firewall& fw, const LabTraffic& lab) {
  const char* name = "firewall";
  const std::string& tun = lab.tun;
  if (!fw.nft && !fw.iptables) return ok(name, "neither nft nor iptables is installed: no rules to check");
  if (!fw.could_read) return info(name, "listing firewall rules needs root", "sudo build/tcplab doctor");
  std::vector<std::string> problems, notes;
  if (fw.iptables) {
    bool accepts_in = false, accepts_out = false;
    std::vector<std::string> policies;
    for (auto raw : lines(*fw.iptables)) {
      auto l = trim(raw);
      bool names_tun = contains(l, "-i " + tun) || contains(l, "-o " + tun);
      bool drops = contains(l, "-j DROP") || contains(l, "-j REJECT");
      if (contains(l, "-A INPUT") && contains(l, "-i " + tun) && contains(l, "-j ACCEPT")) accepts_in = true;
      if (contains(l, "-A OUTPUT") && contains(l, "-o " + tun) && contains(l, "-j ACCEPT"))
        accepts_out = true;
      if (l == "-P INPUT DROP" || l == "-P OUTPUT DROP") policies.emplace_back(l);
      if (l == "-P FORWARD DROP")
        notes.push_back("iptables FORWARD policy DROP (does not affect local traffic)");
      if (names_tun && drops) problems.push_back("iptables rule `" + std::string(l) + "`");
    }
    for (const auto& p : policies) {
      bool input = contains(p, "INPUT");
      if ((input && !accepts_in) || (!input && !accepts_out))
        problems.push_back("iptables `" + p + "` with no ACCEPT rule for " + tun);
    }
  }
  const bool iptables_problem = !problems.empty();
  // Each nft drop names the table and base chain it was found in, so the advice inserts the
  // accept rule where it takes effect: at the top of that chain, before every rule (a ruleset's
  // tables are named by whoever wrote it).
  std::vector<std::string> nft_fixes, maybes;
  auto fix_for = [&](const NftDrop& d) {
    const char* match = d.direction == Direction::FromStack ? "iifname" : "oifname";
    std::string fix = "sudo nft insert rule " + d.table + " " + d.chain + " " + match + " " + tun + " accept";
    if (std::find(nft_fixes.begin(), nft_fixes.end(), fix) == nft_fixes.end()) nft_fixes.push_back(fix);
  };
  if (fw.nft) {
    const NftVerdicts verdicts = walk_nft_ruleset(*fw.nft, lab);
    for (const NftDrop& d : verdicts.drops) {
      problems.push_back(d.what);
      fix_for(d);
    }
    for (const NftDrop& d : verdicts.maybe_drops) {
      maybes.push_back(d.what + " (in " + d.table + " " + d.chain + ")");
      fix_for(d);
    }
    for (auto raw : lines(*fw.nft)) {
      auto l = trim(raw);
      if (contains(l, "type filter hook forward") && contains(l, "policy drop"))
        notes.push_back("nft forward policy drop (does not affect local traffic)");
    }
  }
  std::string tools = fw.nft && fw.iptables ? "nft and iptables" : fw.nft ? "nft" : "iptables";
  std::string advice = "let the lab's interface through: ";
  if (iptables_problem || nft_fixes.empty())
    advice +=
        "sudo iptables -I INPUT -i " + tun + " -j ACCEPT && sudo iptables -I OUTPUT -o " + tun + " -j ACCEPT";
  if (!nft_fixes.empty()) {
    std::string nft;
    for (const auto& fix : nft_fixes) nft += (nft.empty() ? "" : " && ") + fix;
    advice += iptables_problem ? " (nft: " + nft + ")" : nft;
  }
  std::string may;
  for (const auto& m : maybes) may += (may.empty() ? "" : "; ") + m;
  if (problems.empty() && !maybes.empty()) {
    // A match doctor cannot decide (a mark, a rate, a connection state that holds for some
    // packets) is not reported ok: the rule is named, so the user can judge it.
    return info(name,
                "no " + tools + " rule surely drops traffic on " + tun + ", but these may: " + may,
                "if the lab's traffic does not get through, " + advice);
  }
  if (problems.empty()) {
    std::string detail = "no " + tools + " rule drops traffic on " + tun;
    for (const auto& n : notes) detail += "; " + n;
    return ok(name, detail);
  }
  std::string detail;
  for (const auto& p : problems) detail += (detail.empty() ? "" : "; ") + p;
  if (!maybes.empty()) detail += "; and may: " + may;
  return fail(name, detail, advice);
}

Check check_device_name(const Interface& device, const std::string& tun, const Identity& me,
                        ip::HostChoice host_choice) {
  const char* name = "device-name";
  if (!device.exists && host_choice == ip::HostChoice::None)
    return fail(name,
                "no interface named " + tun +
                    ": with --host-ip none tcplab addresses nothing, so no TUN it created could be reached",
                "an admin prepares a persistent TUN " + tun +
                    " with an address (the addresses check gives the commands), or leave --host-ip out");
  if (!device.exists) return ok(name, "no interface named " + tun + " yet: tcplab creates it");
  // Never advise deleting it: an interface that is not a TUN is the machine's network (eth0,
  // lo) or a VM's TAP, and tcplab has no claim to the name.
  const std::string other = "pick another name with --tun NAME (tcplab uses only TUN devices)";
  if (!device.is_tun_driver) return fail(name, tun + " exists and is not a TUN device", other);
  if (device.tap()) return fail(name, tun + " exists and is a TAP device (tcplab needs TUN)", other);
  if (!device.persistent() || device.carrier) {
    // The name advised must not be the busy one itself.
    const std::string free_name = tun == "tcplab1" ? "tcplab2" : "tcplab1";
    return fail(name, tun + " is a TUN that another process holds open (is tcplab already running?)",
                "stop that process, or use another name: --tun " + free_name);
  }
  bool usable = me.net_admin() || device.owner == me.uid || me.in_group(device.group);
  std::string owner = device.owner < 0 ? "no owner" : "owner uid " + std::to_string(device.owner);
  if (device.group >= 0) owner += ", group " + std::to_string(device.group);
  if (!usable)
    return fail(
        name,
        tun + " is a persistent TUN (" + owner + ") that uid " + std::to_string(me.uid) + " may not use",
        "an admin gives it to you: sudo ip tuntap del mode tun name " + tun +
            " && sudo ip tuntap add mode tun user " + admin_user_text(me) + " name " + tun);
  return ok(name, tun + " is a persistent TUN (" + owner + "), not in use: tcplab attaches to it");
}

Check check_tun_settings(const Interface& device, const std::string& tun, uint16_t mtu, bool offload,
                         const std::optional<std::string>& ethtool_k) {
  const char* name = "tun-settings";
  if (!device.exists)
    return info(name, tun + " does not exist: tcplab creates it with MTU " + std::to_string(mtu) +
                          (offload ? " and offloads (IFF_VNET_HDR: 64 KiB GSO/TSO segments both ways, TCP "
                                     "checksums left to the kernel)"
                                   : " and no offloads (the kernel segments and checksums before the TUN)"));
  // Not a TUN (lo, eth0): tcplab will not use it (device-name says so), so its MTU says nothing.
  if (!device.is_tun_driver || device.tap())
    return info(name, tun + " is not a TUN that tcplab can use (see device-name): no settings to show");
  std::string detail = tun + " MTU " + std::to_string(device.mtu);
  if (device.mtu != mtu)
    detail += " (tcplab keeps an existing TUN's MTU; --mtu asks for " + std::to_string(mtu) + ")";
  if (!ethtool_k) return info(name, detail + "; offloads not shown (ethtool is not installed)");
  const std::pair<const char*, const char*> features[] = {{"tx-checksumming:", "tx-checksum"},
                                                          {"scatter-gather:", "sg"},
                                                          {"tcp-segmentation-offload:", "tso"},
                                                          {"generic-segmentation-offload:", "gso"},
                                                          {"generic-receive-offload:", "gro"}};
  std::string shown;
  for (auto l : lines(*ethtool_k)) {
    for (const auto& [key, label] : features) {
      if (l.substr(0, std::strlen(key)) != key) continue;
      auto value = trim(l.substr(std::strlen(key)));
      shown += (shown.empty() ? "" : ", ") + std::string(label) + " " +
               std::string(value.substr(0, value.find(' ')));
    }
  }
  return info(name, detail + "; offloads: " + (shown.empty() ? "none reported" : shown));
}

Check check_netem(const Netem& netem) {
  const char* name = "netem";
  const char* own = "; tcplab's own fault flags (tcplab serve --help) do not need it";
  if (netem.loaded) return info(name, std::string("sch_netem is loaded: tc qdisc ... netem works") + own);
  if (netem.built_in) return info(name, std::string("sch_netem is built into the kernel") + own);
  if (netem.module_file)
    return info(name, std::string("sch_netem is installed as a module (loaded on first use)") + own);
  return info(name, std::string("sch_netem is not available: tc qdisc ... netem would fail") + own,
              "optional: sudo apt-get install linux-modules-extra-$(uname -r) (Debian/Ubuntu)");
}

std::string format_text(const std::vector<Check>& checks) {
  std::string out;
  for (const auto& c : checks) {
    const char* status = c.status == Status::Ok ? "ok  " : c.status == Status::Fail ? "FAIL" : "info";
    char head[64];
    std::snprintf(head, sizeof head, "%s  %-14s", status, c.name.c_str());
    out += head + c.detail;
    if (!c.fix.empty()) out += (c.status == Status::Fail ? "; fix: " : "; ") + c.fix;
    out += "\n";
  }
  return out;
}

std::string format_json(const std::vector<Check>& checks) {
  std::string out = "[";
  for (size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    out += i ? ",\n " : "";
    out += "{\"check\":";
    trace::append_json_string(out, c.name);
    // "ok" is false only for a failure; "status" tells a pass from a piece of information.
    out += c.status == Status::Fail ? ",\"ok\":false" : ",\"ok\":true";
    out += c.status == Status::Ok     ? ",\"status\":\"ok\""
           : c.status == Status::Fail ? ",\"status\":\"fail\""
                                      : ",\"status\":\"info\"";
    out += ",\"detail\":";
    trace::append_json_string(out, c.detail);
    out += ",\"fix\":";
    trace::append_json_string(out, c.fix);
    out += "}";
  }
  return out + "]\n";
}

bool all_ok(const std::vector<Check>& checks) {
  for (const auto& c : checks)
    if (c.status == Status::Fail) return false;
  return true;
}

}  // namespace tcplab::doctor
