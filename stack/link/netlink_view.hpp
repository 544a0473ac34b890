// Reading the machine's IPv4 addresses and routes (every routing table) over rtnetlink, so
// that the TUN's addresses can be checked against them before anything is touched.
#pragma once
#include <optional>
#include <string>

#include "stack/ip/address_choice.hpp"

namespace tcplab::link {

// One snapshot of the namespace's IPv4 addresses (RTM_GETADDR) and the routes of all its
// tables (RTM_GETROUTE dump, including local, default and policy tables). Needs no privilege.
// On failure returns nothing and sets `error` to one line.
std::optional<ip::NetworkView> read_network_view(std::string& error);

}  // namespace tcplab::link
