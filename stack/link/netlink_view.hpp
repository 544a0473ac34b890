// Reading the machine's IPv4 addresses and routes (every routing table) over rtnetlink, so
// that the TUN's addresses can be checked against them before anything is touched.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "stack/ip/address_choice.hpp"

namespace tcplab::link {

// One snapshot of the namespace's IPv4 addresses (RTM_GETADDR), the routes of all its tables
// (RTM_GETROUTE dump, including local, default and policy tables) and which of its interfaces
// are TUN devices (RTM_GETLINK). Needs no privilege.
// On failure returns nothing and sets `error` to one line.
std::optional<ip::NetworkView> read_network_view(std::string& error);

// The parsers behind it, exposed so tests can feed hand-built messages. Each takes one
// RTM_NEWADDR / RTM_NEWROUTE payload (the bytes after the nlmsghdr) and appends what it
// describes to `view`; other families are ignored, a malformed attribute ends the parse.
// `name_of` turns an interface index into its name.
using InterfaceNamer = std::function<std::string(uint32_t)>;
void add_address_message(std::span<const uint8_t> payload, ip::NetworkView& view,
                         const InterfaceNamer& name_of);
void add_route_message(std::span<const uint8_t> payload, ip::NetworkView& view,
                       const InterfaceNamer& name_of);
// One RTM_NEWLINK payload: a TUN (link kind "tun" and no link-layer header, ARPHRD_NONE; a TAP
// has the same kind but is Ethernet) is added to view.tun_interfaces, anything else ignored.
void add_link_message(std::span<const uint8_t> payload, ip::NetworkView& view);

// The interface's tx_dropped counter (IFLA_STATS64), read over rtnetlink in this process's
// network namespace. On a TUN these are the packets the kernel sent towards its reader and
// dropped because the reader's queue (txqueuelen packets) was full. Nothing if unreadable.
std::optional<uint64_t> read_tx_dropped(const std::string& interface);
// Its parser: the tx_dropped of one RTM_NEWLINK payload, if it describes interface `index`.
std::optional<uint64_t> link_tx_dropped(std::span<const uint8_t> payload, int index);

}  // namespace tcplab::link
