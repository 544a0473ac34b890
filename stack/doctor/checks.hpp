// `tcplab doctor`'s checks as pure functions: each takes facts about the machine as values
// (gathered by tools/tcplab/doctor_probe.cpp) and says ok, FAIL or info, with the detail and
// the fix a user needs. Keeping them pure lets the unit tests cover every broken setup.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/doctor/nft_ruleset.hpp"
#include "stack/ip/address_choice.hpp"
#include "stack/ip/cidr.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::doctor {

enum class Status { Ok, Fail, Info };

struct Check {
  std::string name;  // "tun-device", "privilege", ...
  Status status = Status::Ok;
  std::string detail;
  std::string fix;  // empty unless something can be done
};

// The user running doctor.
struct Identity {
  uint32_t uid = 0;  // effective
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary
  uint64_t cap_effective = 0;    // /proc/self/status CapEff
  std::string name;              // the user's login name, for commands an admin runs for them
  bool root() const { return uid == 0; }
  bool net_admin() const;  // root or CAP_NET_ADMIN
  bool in_group(int64_t group) const;
};

// CapEff from the text of /proc/self/status; nothing if the line is missing or malformed.
std::optional<uint64_t> parse_cap_effective(std::string_view proc_status);

// /dev/net/tun as stat() and open(O_RDWR) saw it.
struct TunNode {
  bool exists = false;
  bool char_device = false;
  unsigned major = 0, minor = 0;
  uint32_t mode = 0;  // permission bits, e.g. 0666
  uint32_t owner_uid = 0, owner_gid = 0;
  int open_errno = 0;  // 0: it opened read-write
  // /proc/misc lists "200 tun": the driver is loaded, so a missing node needs mknod, not modprobe.
  bool driver_loaded = false;
};

// An interface with the TUN's name, from /sys/class/net/NAME.
struct Interface {
  bool exists = false;
  bool is_tun_driver = false;      // has tun_flags
  uint32_t tun_flags = 0;          // IFF_TUN 0x1, IFF_TAP 0x2, IFF_PERSIST 0x800
  int64_t owner = -1, group = -1;  // -1: none set
  bool carrier = false;            // a TUN has carrier while a process has it open
  uint32_t mtu = 0;
  bool tap() const { return (tun_flags & 0x2) != 0; }
  bool persistent() const { return (tun_flags & 0x800) != 0; }
};

struct RpFilter {
  std::optional<int> all, default_value, device;  // device only if the TUN exists
};

// Where the kernel routes the stack's address, from the same rtnetlink view as the address check.
struct StackRoute {
  wire::Ipv4Address ip;  // --ip, or what auto chose
  // The prefix of an address on the TUN (the host address tcplab gives it, or an admin's with
  // --host-ip none), or a route through it, holds `ip`.
  bool via_tun = false;
};

// What `nft list ruleset` and `iptables -S` printed; nothing when the tool is missing.
struct Firewall {
  std::optional<std::string> nft;
  std::optional<std::string> iptables;
  bool could_read = true;  // false: not root, the rules cannot be listed
};

struct Netem {
  bool loaded = false;       // in /proc/modules
  bool built_in = false;     // in modules.builtin
  bool module_file = false;  // sch_netem.ko* under /lib/modules/$(uname -r)
};

// The checks, in the order doctor runs them. `tun` is the device name (--tun), host/stack
// are --host-ip and --ip.
Check check_tun_device(const TunNode& node, const Identity& me);
Check check_privilege(const Identity& me, const std::string& tun, const Interface& device);
// The addresses serve would use, decided by the same rules (stack/ip/address_choice.hpp) over
// the same rtnetlink view of every routing table: ok with what auto would take (and why it
// skipped a range), FAIL with the clash and a free alternative for an explicit choice, and
// FAIL with --host-ip none when `unreachable` says the TUN would not lead to the stack.
Check check_addresses(const ip::AddressRequest& request, const ip::AddressDecision& decision,
                      const std::optional<ip::AddressRefusal>& unreachable = std::nullopt);
// Strict reverse-path filtering (RFC 3704) only hurts when the stack's address is routed elsewhere
// than the TUN; `stack` is nothing when the routes could not be read.
Check check_rp_filter(const RpFilter& rp, const std::string& tun,
                      const std::optional<StackRoute>& stack = std::nullopt);
// nft rules are walked in order with the lab's traffic (nft_ruleset.hpp): a rule or policy that
// surely drops it fails, one that only might is information naming the rule. The overload with
// only the TUN's name assumes serve's default addresses and port.
Check check_firewall(const Firewall& fw, const LabTraffic& lab);
Check check_firewall(const Firewall& fw, const std::string& tun);
// With --host-ip none (`host_choice`) tcplab cannot create the TUN itself: one it made would carry
// no address.
Check check_device_name(const Interface& device, const std::string& tun, const Identity& me,
                        ip::HostChoice host_choice = ip::HostChoice::Auto);
// `ethtool_k`: what `ethtool -k NAME` printed, if it ran. `offload`: --offload was given.
Check check_tun_settings(const Interface& device, const std::string& tun, uint16_t mtu, bool offload,
                         const std::optional<std::string>& ethtool_k);
Check check_netem(const Netem& netem);

// One line per check: "ok   name  detail", "FAIL name  detail; fix: ...".
std::string format_text(const std::vector<Check>& checks);
// A JSON array of {"check","ok","detail","fix"} objects (info counts as ok).
std::string format_json(const std::vector<Check>& checks);
bool all_ok(const std::vector<Check>& checks);

}  // namespace tcplab::doctor
