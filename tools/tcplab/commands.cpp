// The subcommand table: one line per command, in the order `tcplab --help` lists them.
#include "tools/tcplab/commands.hpp"

namespace tcplab::cli {

namespace {
constexpr Command kCommands[] = {
    {"serve", "create the TUN, answer ping, run TCP services and the HTTP server", serve_main},
    {"cwnd", "print a connection's congestion window from a JSON trace as CSV (and SVG)", cwnd_main},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace tcplab::cli
