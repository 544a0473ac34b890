// Gathers the facts `tcplab doctor` judges (stack/doctor/checks.hpp): stat/open of
// /dev/net/tun, /proc and /sys files, getifaddrs, and the output of nft, iptables, ethtool.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "stack/doctor/checks.hpp"

namespace tcplab::cli {

doctor::Identity probe_identity();
doctor::TunNode probe_tun_node(const char* path = "/dev/net/tun");
doctor::Interface probe_interface(const std::string& name);
doctor::RpFilter probe_rp_filter(const std::string& device);
doctor::Firewall probe_firewall(const doctor::Identity& me);
std::optional<std::string> probe_ethtool(const std::string& device);
doctor::Netem probe_netem();

}  // namespace tcplab::cli
