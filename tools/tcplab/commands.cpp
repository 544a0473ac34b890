// The subcommand table: one line per command, in the order `tcplab --help` lists them.
#include "tools/tcplab/commands.hpp"

namespace tcplab::cli {

namespace {
constexpr Command kCommands[] = {
    {"serve", "create the TUN, answer ping, run TCP services and the HTTP server", serve_main},
    {"get", "tcplab as the HTTP client: fetch URLs from a kernel server over our own TCP", get_main},
    {"script", "play packet scenario scripts against the stack on a virtual clock (no root)", script_main},
    {"demo", "run the keep-alive article's comparison and print what each mode cost", demo_main},
    {"ladder", "draw the TCP connections in a pcap, pcapng or JSON trace as sequence diagrams", ladder_main},
    {"doctor", "check this machine for what stops tcplab (TUN, privileges, addresses, firewall)",
     doctor_main},
    {"cwnd", "print a connection's congestion window from a JSON trace as CSV (and SVG)", cwnd_main},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace tcplab::cli
