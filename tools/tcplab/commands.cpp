// The subcommand table: one line per command, in the order `tcplab --help` lists them.
#include "tools/tcplab/commands.hpp"

namespace tcplab::cli {

namespace {
constexpr Command kCommands[] = {
    {"serve", "create the TUN, answer ping, run TCP services and the HTTP server", serve_main},
    {"ladder", "draw the TCP connections in a pcap, pcapng or JSON trace as sequence diagrams", ladder_main},
    {"doctor", "check this machine for what stops tcplab (TUN, privileges, addresses, firewall)",
     doctor_main},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace tcplab::cli
