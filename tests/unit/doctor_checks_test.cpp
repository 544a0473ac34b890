// Tests for `tcplab doctor`'s checks (stack/doctor/checks.*): each check on a good setup and
// on each broken one, given as values, and the text and JSON output.
#include <doctest/doctest.h>

#include <cerrno>

#include "stack/doctor/checks.hpp"

using namespace tcplab;
using namespace tcplab::doctor;

namespace {

Identity root() { return Identity{0, 0, {}, 0x000001ffffffffffULL, "root"}; }
Identity student() { return Identity{1000, 1000, {27, 100}, 0, ""}; }  // a uid without a passwd entry

TunNode good_node() {
  TunNode n;
  n.exists = n.char_device = true;
  n.major = 10;
  n.minor = 200;
  n.mode = 0666;
  return n;
}

Interface persistent_tun(int64_t owner) {
  Interface d;
  d.exists = d.is_tun_driver = true;
  d.tun_flags = 0x1 | 0x1000 | 0x800;  // IFF_TUN | IFF_NO_PI | IFF_PERSIST
  d.owner = owner;
  d.mtu = 1500;
  return d;
}

const wire::Ipv4Address kStack{0xC0000202};
const ip::Ipv4Cidr kHost{wire::Ipv4Address{0xC0000201}, 24};

}  // namespace

TEST_CASE("doctor: /dev/net/tun") {
  CHECK(check_tun_device(good_node(), student()).status == Status::Ok);
  auto private_node = good_node();
  private_node.mode = 0600;
  CHECK(check_tun_device(private_node, root()).detail ==
        "/dev/net/tun (10,200) mode 0600 owner 0:0 opens read-write as uid 0 (root only: other users cannot "
        "open it)");
  auto missing = check_tun_device(TunNode{}, root());
  CHECK(missing.status == Status::Fail);
  CHECK(missing.fix.find("modprobe tun") != std::string::npos);
  // The driver is loaded (/proc/misc): modprobe would do nothing, only mknod helps.
  TunNode no_node;
  no_node.driver_loaded = true;
  auto node_missing = check_tun_device(no_node, root());
  CHECK(node_missing.status == Status::Fail);
  CHECK(node_missing.detail.find("driver is loaded") != std::string::npos);
  CHECK(node_missing.fix.find("modprobe") == std::string::npos);
  CHECK(node_missing.fix.find("sudo mknod /dev/net/tun c 10 200") != std::string::npos);
  auto n = good_node();
  n.mode = 0600;
  n.open_errno = EACCES;
  auto denied = check_tun_device(n, student());
  CHECK(denied.status == Status::Fail);
  CHECK(denied.detail ==
        "/dev/net/tun (10,200) mode 0600 owner 0:0; open() as uid 1000 fails: Permission denied "
        "(the node's mode is checked before any TUN's owner)");
  CHECK(denied.fix.find("run as root") == 0);
  CHECK(denied.fix.find("sudo chmod 0666 /dev/net/tun") != std::string::npos);
  // The ACL names the user as the privilege check does (the uid without a passwd entry), never a
  // placeholder an admin would have to fill in.
  CHECK(denied.fix.find("sudo setfacl -m u:1000:rw /dev/net/tun") != std::string::npos);
  CHECK(denied.fix.find("USER") == std::string::npos);
  Identity alice = student();
  alice.name = "alice";
  CHECK(check_tun_device(n, alice).fix.find("sudo setfacl -m u:alice:rw /dev/net/tun") != std::string::npos);
  n = good_node();
  n.minor = 3;
  CHECK(check_tun_device(n, root()).fix.find("mknod /dev/net/tun c 10 200") != std::string::npos);
}

TEST_CASE("doctor: privilege") {
  CHECK(check_privilege(root(), "tcplab0", {}).status == Status::Ok);
  Identity cap = student();
  cap.cap_effective = uint64_t{1} << 12;
  CHECK(check_privilege(cap, "tcplab0", {}).detail == "uid 1000 has CAP_NET_ADMIN");
  CHECK(check_privilege(student(), "tcplab0", persistent_tun(1000)).status == Status::Ok);
  Interface by_group = persistent_tun(-1);
  by_group.group = 100;
  CHECK(check_privilege(student(), "tcplab0", by_group).status == Status::Ok);
  auto none = check_privilege(student(), "tcplab0", {});
  CHECK(none.status == Status::Fail);
  // The admin runs it in their own shell, where $USER would be the admin: the uid, or the name.
  CHECK(none.fix.find("sudo ip tuntap add mode tun user 1000 name tcplab0") != std::string::npos);
  CHECK(none.fix.find("$USER") == std::string::npos);
  Identity alice = student();
  alice.name = "alice";
  CHECK(check_privilege(alice, "tcplab0", {}).fix.find("user alice name tcplab0") != std::string::npos);
  // Someone else's persistent TUN: `ip tuntap add` alone would fail with "busy", so the advice
  // deletes it first, as the device-name check says.
  auto others = check_privilege(alice, "tcplab0", persistent_tun(0));
  CHECK(others.status == Status::Fail);
  CHECK(
      others.fix.find("sudo ip tuntap del mode tun name tcplab0 && sudo ip tuntap add mode tun user alice") !=
      std::string::npos);
  CHECK(check_device_name(persistent_tun(0), "tcplab0", alice).fix.find("user alice name tcplab0") !=
        std::string::npos);
  CHECK(parse_cap_effective("Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000000001000\n") == 0x1000u);
  CHECK_FALSE(parse_cap_effective("CapEff:\tzz\n"));
  CHECK_FALSE(parse_cap_effective("Name:\tx\n"));
}

TEST_CASE("doctor: addresses, decided as serve decides them") {
  ip::NetworkView vm;  // a VM whose own network is TEST-NET-1, as some clouds have it
  vm.addresses.push_back({"eth0", ip::Ipv4Cidr{wire::Ipv4Address{0xC0000202}, 24}});
  vm.routes.push_back({"eth0", ip::Ipv4Cidr{wire::Ipv4Address{0}, 0}, wire::Ipv4Address{0xC0000201}});
  ip::AddressRequest automatic;
  automatic.interface = "tcplab0";
  auto chosen = check_addresses(automatic, ip::decide_addresses(automatic, vm));
  CHECK(chosen.status == Status::Ok);
  CHECK(chosen.detail.find("host 198.51.100.1/24, stack 198.51.100.2: free, chosen automatically (") == 0);

  ip::AddressRequest explicit_clash = automatic;
  explicit_clash.host_choice = ip::HostChoice::Given;
  explicit_clash.host = kHost;
  explicit_clash.ip = kStack;
  auto refused = check_addresses(explicit_clash, ip::decide_addresses(explicit_clash, vm));
  CHECK(refused.status == Status::Fail);
  CHECK(refused.detail.find("eth0") != std::string::npos);
  CHECK_FALSE(refused.fix.empty());

  auto free = check_addresses(explicit_clash, ip::decide_addresses(explicit_clash, ip::NetworkView{}));
  CHECK(free.status == Status::Ok);
  CHECK(free.detail == "host 192.0.2.1/24, stack 192.0.2.2: free: clash with no address or route");
}

TEST_CASE("doctor: addresses, when every automatic range is taken, says why each was skipped") {
  ip::NetworkView taken;
  for (const char* dst : {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10"}) {
    taken.routes.push_back({"eth0", *ip::Ipv4Cidr::parse(dst), std::nullopt});
  }
  ip::AddressRequest automatic;
  automatic.interface = "tcplab0";
  auto refused = check_addresses(automatic, ip::decide_addresses(automatic, taken));
  CHECK(refused.status == Status::Fail);
  CHECK(refused.detail.find("192.0.2.0/24 (it overlaps route 192.0.2.0/24 dev eth0)") != std::string::npos);
  CHECK(
      refused.detail.find("100.64.0.0/24 to 100.64.255.0/24 (each overlaps route 100.64.0.0/10 dev eth0)") !=
      std::string::npos);
  // Leaving the flags out is what failed: the fix is a range of the user's own.
  CHECK(refused.fix.find("leave") == std::string::npos);
  CHECK(refused.fix.find("--host-ip 10.123.45.1/24 --ip 10.123.45.2") != std::string::npos);
}

TEST_CASE("doctor: addresses, the example range of the fix is one that nothing here uses") {
  ip::NetworkView taken;
  for (const char* dst :
       {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10", "10.0.0.0/8"}) {
    taken.routes.push_back({"eth0", *ip::Ipv4Cidr::parse(dst), std::nullopt});
  }
  ip::AddressRequest automatic;
  automatic.interface = "tcplab0";
  auto refused = check_addresses(automatic, ip::decide_addresses(automatic, taken));
  CHECK(refused.status == Status::Fail);
  CHECK(refused.fix.find("10.123.45") == std::string::npos);
  CHECK(refused.fix.find("--host-ip 172.31.254.1/24 --ip 172.31.254.2") != std::string::npos);
  // Every example taken: the fix still says what to do, with no example that would fail.
  for (const char* dst : {"172.16.0.0/12", "192.168.0.0/16"}) {
    taken.routes.push_back({"eth1", *ip::Ipv4Cidr::parse(dst), std::nullopt});
  }
  auto none_free = check_addresses(automatic, ip::decide_addresses(automatic, taken));
  CHECK(none_free.fix.find("e.g.") == std::string::npos);
  CHECK(none_free.fix.find("pass a private range that no interface or route here uses") == 0);
}

TEST_CASE("doctor: addresses with --host-ip none agree with serve: no addressed TUN, no start") {
  ip::AddressRequest none;
  none.host_choice = ip::HostChoice::None;
  none.interface = "tcplab0";
  ip::NetworkView nothing;
  auto missing =
      check_addresses(none, ip::decide_addresses(none, nothing), ip::check_admin_addressed(none, nothing));
  CHECK(missing.status == Status::Fail);
  CHECK(missing.detail.find("no TUN tcplab0 was prepared") != std::string::npos);
  CHECK(missing.fix.find("leave --host-ip out") == 0);
  ip::NetworkView prepared;
  prepared.tun_interfaces = {"tcplab0"};
  prepared.addresses.push_back({"tcplab0", kHost});
  auto fine =
      check_addresses(none, ip::decide_addresses(none, prepared), ip::check_admin_addressed(none, prepared));
  CHECK(fine.status == Status::Ok);
  CHECK(fine.detail == "stack 192.0.2.2: free: clash with no address or route");
}

TEST_CASE("doctor: --host-ip none advises the /24 around the given --ip") {
  ip::AddressRequest none;
  none.host_choice = ip::HostChoice::None;
  none.interface = "tlq0";
  none.ip = wire::Ipv4Address{0xAC1F0902};  // 172.31.9.2
  ip::NetworkView unaddressed;
  unaddressed.tun_interfaces = {"tlq0"};
  auto c = check_addresses(none, ip::decide_addresses(none, unaddressed),
                           ip::check_admin_addressed(none, unaddressed));
  CHECK(c.status == Status::Fail);
  CHECK(c.fix.find("sudo ip addr add 172.31.9.1/24 dev tlq0 && sudo ip link set tlq0 up "
                   "(then --ip 172.31.9.2)") != std::string::npos);
  CHECK(c.fix.find("192.0.2") == std::string::npos);
}

TEST_CASE("doctor: --host-ip none with no TUN at all names the missing TUN, not a clash of --ip") {
  // Another tcplab runs on tcplab1 with 192.0.2.1/24; nobody prepared tcplab0.
  ip::AddressRequest none;
  none.host_choice = ip::HostChoice::None;
  none.interface = "tcplab0";
  ip::NetworkView other_tun;
  other_tun.tun_interfaces = {"tcplab1"};
  other_tun.addresses.push_back({"tcplab1", kHost});
  other_tun.routes.push_back({"tcplab1", *ip::Ipv4Cidr::parse("192.0.2.0/24"), std::nullopt});
  auto refusal = ip::check_admin_addressed(none, other_tun);
  REQUIRE(refusal);
  // No clash of --ip to hide it: serve reports the missing TUN once it has opened one.
  CHECK(ip::decide_addresses(none, other_tun).ok());
  auto c = check_addresses(none, ip::decide_addresses(none, other_tun), refusal);
  CHECK(c.status == Status::Fail);
  CHECK(c.detail.find("no TUN tcplab0 was prepared") != std::string::npos);
  CHECK(c.detail.find("overlaps") == std::string::npos);
  // Once an admin prepared tcplab0, --ip inside tcplab1's prefix is a clash again.
  ip::NetworkView prepared = other_tun;
  prepared.tun_interfaces.push_back("tcplab0");
  CHECK_FALSE(ip::decide_addresses(none, prepared).ok());
  // tcplab creating the TUN is what --host-ip none rules out.
  auto device = check_device_name({}, "tcplab0", root(), ip::HostChoice::None);
  CHECK(device.status == Status::Fail);
  CHECK(device.detail.find("tcplab creates it") == std::string::npos);
  CHECK(device.detail.find("--host-ip none") != std::string::npos);
  CHECK(check_device_name({}, "tcplab0", root(), ip::HostChoice::Given).status == Status::Ok);
}

TEST_CASE("doctor: rp_filter") {
  CHECK(check_rp_filter({0, 0, std::nullopt}, "tcplab0").status == Status::Ok);
  CHECK(check_rp_filter({2, 2, std::nullopt}, "tcplab0").detail.find("loose") != std::string::npos);
  auto strict = check_rp_filter({1, 0, std::nullopt}, "tcplab0");
  CHECK(strict.status == Status::Fail);
  CHECK(strict.fix.find("sudo sysctl -w net.ipv4.conf.all.rp_filter=2") == 0);
  // A new device starts from "default"; an existing one has its own value; the max counts.
  CHECK(check_rp_filter({0, 1, std::nullopt}, "tcplab0").status == Status::Fail);
  CHECK(check_rp_filter({0, 1, 0}, "tcplab0").status == Status::Ok);
  CHECK(check_rp_filter({2, 1, 1}, "tcplab0").status == Status::Ok);  // max(2, 1) = loose
  CHECK(check_rp_filter({0, 0, 1}, "tcplab0").fix.find("net.ipv4.conf.tcplab0.rp_filter=2") !=
        std::string::npos);
  CHECK(check_rp_filter({}, "tcplab0").status == Status::Info);
}

TEST_CASE("doctor: strict rp_filter is fine while the stack's address is routed via the TUN") {
  // all = default = 1, so the TUN gets 1: curl and ping work, the reply route leads back into the TUN.
  auto routed = check_rp_filter({1, 1, 1}, "tcplab0", StackRoute{kStack, true});
  CHECK(routed.status == Status::Ok);
  CHECK(routed.detail.find("strict") != std::string::npos);
  CHECK(routed.detail.find("192.0.2.2 is routed via tcplab0") != std::string::npos);
  CHECK(routed.fix.empty());
  auto elsewhere = check_rp_filter({1, 1, 1}, "tcplab0", StackRoute{kStack, false});
  CHECK(elsewhere.status == Status::Fail);
  CHECK(elsewhere.detail.find("the stack's address 192.0.2.2, which is not routed via tcplab0") !=
        std::string::npos);
}

TEST_CASE("doctor: the rp_filter fix changes only the settings that make it strict") {
  const StackRoute unrouted{kStack, false};
  // Only the TUN is strict: all and default stay as they are.
  CHECK(check_rp_filter({0, 0, 1}, "tcplab0", unrouted).fix ==
        "sudo sysctl -w net.ipv4.conf.tcplab0.rp_filter=2 (2 = loose, 0 = off)");
  // Only all is strict: the TUN's own 0 is not what needs changing.
  CHECK(check_rp_filter({1, 0, 0}, "tcplab0", unrouted).fix ==
        "sudo sysctl -w net.ipv4.conf.all.rp_filter=2 (2 = loose, 0 = off)");
  CHECK(
      check_rp_filter({1, 1, 1}, "tcplab0", unrouted).fix ==
      "sudo sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.tcplab0.rp_filter=2 (2 = loose, 0 = off)");
  // No TUN yet: the one tcplab creates starts from default.
  CHECK(check_rp_filter({0, 1, std::nullopt}, "tcplab0", unrouted).fix ==
        "sudo sysctl -w net.ipv4.conf.default.rp_filter=2 (2 = loose, 0 = off)");
}

TEST_CASE("doctor: firewall rules") {
  CHECK(check_firewall({}, "tcplab0").status == Status::Ok);
  CHECK(check_firewall({"", "", false}, "tcplab0").status == Status::Info);
  std::string open =
      "-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-A INPUT -p tcp --dport 22 -j DROP\n";
  auto fine = check_firewall({std::nullopt, open, true}, "tcplab0");
  CHECK(fine.status == Status::Ok);
  CHECK(fine.detail.find("FORWARD policy DROP (does not affect local traffic)") != std::string::npos);
  auto policy = check_firewall({std::nullopt, "-P INPUT DROP\n-P OUTPUT ACCEPT\n", true}, "tcplab0");
  CHECK(policy.status == Status::Fail);
  CHECK(policy.detail == "iptables `-P INPUT DROP` with no ACCEPT rule for tcplab0");
  CHECK(check_firewall({std::nullopt, "-P INPUT DROP\n-A INPUT -i tcplab0 -j ACCEPT\n", true}, "tcplab0")
            .status == Status::Ok);
  auto rule = check_firewall({std::nullopt, "-A OUTPUT -o tcplab0 -j REJECT\n", true}, "tcplab0");
  CHECK(rule.detail == "iptables rule `-A OUTPUT -o tcplab0 -j REJECT`");
  std::string nft_drop =
      "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
      "\t\tct state established accept\n\t}\n\tchain output {\n"
      "\t\ttype filter hook output priority filter; policy accept;\n\t}\n}\n";
  auto nft = check_firewall({nft_drop, std::nullopt, true}, "tcplab0");
  CHECK(nft.status == Status::Fail);
  CHECK(nft.detail.find("policy drop;` and no accept rule for tcplab0") != std::string::npos);
  std::string nft_allowed = nft_drop;
  nft_allowed.insert(nft_allowed.find("\t\tct state"), "\t\tiifname \"tcplab0\" accept\n");
  CHECK(check_firewall({nft_allowed, std::nullopt, true}, "tcplab0").status == Status::Ok);
  auto nft_rule =
      check_firewall({"table ip t {\n chain c {\n  type filter hook output priority 0; policy accept;\n"
                      "  oifname \"tcplab0\" drop\n }\n}\n",
                      std::nullopt, true},
                     "tcplab0");
  CHECK(nft_rule.detail == "nft rule `oifname \"tcplab0\" drop`");
  // The advice names the table and chain the problem is in, not a table that may not exist.
  CHECK(nft_rule.fix ==
        "let the lab's interface through: sudo nft insert rule ip t c oifname tcplab0 accept");
  CHECK(nft.fix ==
        "let the lab's interface through: sudo nft insert rule inet filter input iifname tcplab0 accept");
  std::string named_tables =
      "table ip fw {\n\tchain in_chain {\n\t\ttype filter hook input priority 0; policy drop;\n\t}\n"
      "\tchain out_chain {\n\t\ttype filter hook output priority 0; policy drop;\n\t}\n}\n";
  auto both = check_firewall({named_tables, "-P INPUT DROP\n", true}, "tcplab0");
  CHECK(check_firewall({named_tables, "-P INPUT ACCEPT\n", true}, "tcplab0").fix ==
        "let the lab's interface through: sudo nft insert rule ip fw in_chain iifname tcplab0 accept && "
        "sudo nft insert rule ip fw out_chain oifname tcplab0 accept");
  CHECK(both.fix ==
        "let the lab's interface through: sudo iptables -I INPUT -i tcplab0 -j ACCEPT && sudo iptables -I "
        "OUTPUT "
        "-o tcplab0 -j ACCEPT (nft: sudo nft insert rule ip fw in_chain iifname tcplab0 accept && "
        "sudo nft insert rule ip fw out_chain oifname tcplab0 accept)");
}

namespace {
// An `ip qa` table with one input chain (policy accept) holding `rules`, as `nft list ruleset`
// prints it.
Firewall nft_input(const std::string& rules, const std::string& hook = "input") {
  return {"table ip qa {\n\tchain c {\n\t\ttype filter hook " + hook + " priority filter; policy accept;\n" +
              rules + "\t}\n}\n",
          std::nullopt, true};
}
}  // namespace

TEST_CASE("doctor: an nft drop whose match hits the lab's traffic fails, wildcard, address or port") {
  for (const char* rule : {"iifname \"tcplab*\" drop", "ip saddr 192.0.2.0/24 drop", "tcp sport 80 drop",
                           "ip daddr 192.0.2.1 counter packets 3 bytes 180 drop",
                           "iifname { \"eth0\", \"tcplab0\" } reject with icmp type port-unreachable",
                           "meta l4proto tcp iifname != \"eth0\" drop"}) {
    CAPTURE(rule);
    auto c = check_firewall(nft_input("\t\t" + std::string(rule) + "\n"), "tcplab0");
    CHECK(c.status == Status::Fail);
    CHECK(c.detail == "nft rule `" + std::string(rule) + "`");
    CHECK(c.fix == "let the lab's interface through: sudo nft insert rule ip qa c iifname tcplab0 accept");
  }
  // The same in the output direction: the kernel's packets to the stack.
  auto out =
      check_firewall(nft_input("\t\tip daddr 192.0.2.2 tcp dport { 80, 443 } drop\n", "output"), "tcplab0");
  CHECK(out.status == Status::Fail);
  CHECK(out.fix == "let the lab's interface through: sudo nft insert rule ip qa c oifname tcplab0 accept");
  // Other addresses, ports, interfaces, protocols and states are no problem.
  for (const char* rule :
       {"iifname \"eth*\" drop", "ip saddr 10.0.0.0/8 drop", "tcp dport 22 drop", "tcp sport 443 drop",
        "udp dport 53 drop", "ct state invalid drop", "iifname \"tcplab0\" ip saddr != 192.0.2.0/24 drop"}) {
    CAPTURE(rule);
    CHECK(check_firewall(nft_input("\t\t" + std::string(rule) + "\n"), "tcplab0").status == Status::Ok);
  }
  // The addresses doctor walks with are the ones serve would use.
  LabTraffic elsewhere;
  elsewhere.host = wire::Ipv4Address{0xC6336401};   // 198.51.100.1
  elsewhere.stack = wire::Ipv4Address{0xC6336402};  // 198.51.100.2
  CHECK(check_firewall(nft_input("\t\tip saddr 192.0.2.0/24 drop\n"), elsewhere).status == Status::Ok);
  CHECK(check_firewall(nft_input("\t\tip saddr 198.51.100.0/24 drop\n"), elsewhere).status == Status::Fail);
}

TEST_CASE("doctor: an nft drop doctor cannot decide is named, never reported ok") {
  auto c = check_firewall(nft_input("\t\tmeta mark 0x1 drop\n\t\tct state new drop\n"), "tcplab0");
  CHECK(c.status == Status::Info);
  CHECK(c.detail ==
        "no nft rule surely drops traffic on tcplab0, but these may: nft rule `meta mark 0x1 drop` (in ip qa "
        "c); "
        "nft rule `ct state new drop` (in ip qa c)");
  CHECK(c.fix.find("sudo nft insert rule ip qa c iifname tcplab0 accept") != std::string::npos);
}

TEST_CASE("doctor: nft rules count in order: an accept for the lab before the drop lets it through") {
  // The state after running the fix doctor gave for `iifname "tcplab0" drop`.
  auto fixed =
      check_firewall(nft_input("\t\tiifname \"tcplab0\" accept\n\t\tiifname \"tcplab0\" drop\n"), "tcplab0");
  CHECK(fixed.status == Status::Ok);
  // After the drop, the accept is never reached.
  CHECK(check_firewall(nft_input("\t\tiifname \"tcplab0\" drop\n\t\tiifname \"tcplab0\" accept\n"), "tcplab0")
            .status == Status::Fail);
  // An accept that covers only some of the lab's packets does not save it from a later drop.
  CHECK(
      check_firewall(nft_input("\t\tct state established accept\n\t\tiifname \"tcplab0\" drop\n"), "tcplab0")
          .status == Status::Fail);
  // A drop in a chain reached by jump counts; an accept there ends the walk too.
  const std::string jumps =
      "table inet fw {\n\tchain lab {\n\t\tip saddr 192.0.2.2 drop\n\t}\n\tchain input {\n"
      "\t\ttype filter hook input priority 0; policy accept;\n\t\tjump lab\n\t}\n}\n";
  auto jumped = check_firewall({jumps, std::nullopt, true}, "tcplab0");
  CHECK(jumped.status == Status::Fail);
  CHECK(jumped.fix ==
        "let the lab's interface through: sudo nft insert rule inet fw input iifname tcplab0 accept");
}

TEST_CASE("doctor: a device with the TUN's name") {
  CHECK(check_device_name({}, "tcplab0", student()).status == Status::Ok);
  Interface veth;
  veth.exists = true;
  CHECK(check_device_name(veth, "tcplab0", root()).detail == "tcplab0 exists and is not a TUN device");
  // eth0 or lo under --tun: deleting it would cut the machine off; the fix is another name.
  for (const char* name : {"eth0", "lo"}) {
    auto c = check_device_name(veth, name, root());
    CHECK(c.fix.find("--tun NAME") != std::string::npos);
    CHECK(c.fix.find("del") == std::string::npos);
  }
  Interface busy = persistent_tun(-1);
  busy.tun_flags &= ~0x800u;  // not persistent: alive only while a process holds it
  CHECK(check_device_name(busy, "tcplab0", root()).detail.find("another process holds open") !=
        std::string::npos);
  CHECK(check_device_name(busy, "tcplab0", root()).fix.ends_with("use another name: --tun tcplab1"));
  // Never the busy name itself as the other name.
  CHECK(check_device_name(busy, "tcplab1", root()).fix.ends_with("use another name: --tun tcplab2"));
  Interface attached = persistent_tun(-1);
  attached.carrier = true;
  CHECK(check_device_name(attached, "tcplab0", root()).status == Status::Fail);
  Interface tap = persistent_tun(-1);
  tap.tun_flags = 0x2 | 0x800;
  CHECK(check_device_name(tap, "tcplab0", root()).detail.find("TAP") != std::string::npos);
  CHECK(check_device_name(tap, "tcplab0", root()).fix.find("del") == std::string::npos);
  CHECK(check_device_name(persistent_tun(-1), "tcplab0", root()).status == Status::Ok);
  CHECK(check_device_name(persistent_tun(1000), "tcplab0", student()).status == Status::Ok);
  CHECK(check_device_name(persistent_tun(-1), "tcplab0", student()).status == Status::Fail);
}

TEST_CASE("doctor: TUN settings and netem are information") {
  auto absent = check_tun_settings({}, "tcplab0", 1500, false, std::nullopt);
  CHECK(absent.status == Status::Info);
  CHECK(absent.detail.find("MTU 1500 and no offloads") != std::string::npos);
  auto offload = check_tun_settings({}, "tcplab0", 1500, true, std::nullopt);
  CHECK(offload.detail.find("MTU 1500 and offloads (IFF_VNET_HDR") != std::string::npos);
  CHECK(offload.detail.find("no offloads") == std::string::npos);
  Interface d = persistent_tun(-1);
  d.mtu = 1400;
  auto shown = check_tun_settings(d, "tcplab0", 1500, false,
                                  "Features for tcplab0:\nrx-checksumming: off [fixed]\ntx-checksumming: on\n"
                                  "scatter-gather: on\ntcp-segmentation-offload: off\n"
                                  "generic-segmentation-offload: on\ngeneric-receive-offload: on\n");
  CHECK(
      shown.detail ==
      "tcplab0 MTU 1400 (tcplab keeps an existing TUN's MTU; --mtu asks for 1500); offloads: tx-checksum on, "
      "sg on, tso off, gso on, gro on");
  CHECK(check_tun_settings(d, "tcplab0", 1400, false, std::nullopt).detail.find("ethtool is not installed") !=
        std::string::npos);
  // lo is no TUN (device-name fails it): its MTU is not a TUN setting.
  Interface lo;
  lo.exists = true;
  lo.mtu = 65536;
  auto not_tun = check_tun_settings(lo, "lo", 1500, false, std::nullopt);
  CHECK(not_tun.detail.find("MTU") == std::string::npos);
  CHECK(not_tun.detail.find("not a TUN") != std::string::npos);
  CHECK(check_netem({true, false, false}).status == Status::Info);
  CHECK(check_netem({}).detail.find("not available") != std::string::npos);
}

TEST_CASE("doctor: text and JSON output, exit status") {
  std::vector<Check> checks = {{"tun-device", Status::Ok, "fine", ""},
                               {"rp_filter", Status::Fail, "strict \"1\"", "sysctl"},
                               {"netem", Status::Info, "absent", ""}};
  CHECK(format_text(checks) ==
        "ok    tun-device    fine\n"
        "FAIL  rp_filter     strict \"1\"; fix: sysctl\n"
        "info  netem         absent\n");
  CHECK(format_json(checks) ==
        "[{\"check\":\"tun-device\",\"ok\":true,\"status\":\"ok\",\"detail\":\"fine\",\"fix\":\"\"},\n"
        " {\"check\":\"rp_filter\",\"ok\":false,\"status\":\"fail\",\"detail\":\"strict \\\"1\\\"\",\"fix\":"
        "\"sysctl\"},\n"
        " {\"check\":\"netem\",\"ok\":true,\"status\":\"info\",\"detail\":\"absent\",\"fix\":\"\"}]\n");
  CHECK_FALSE(all_ok(checks));
  checks.erase(checks.begin() + 1);
  CHECK(all_ok(checks));
}
