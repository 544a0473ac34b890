// `tcplab ladder FILE`: read a capture or JSON trace, draw each TCP connection as a sequence
// diagram in the terminal and, with --svg, as an SVG file. The work is in stack/ladder/.
#include "stack/ladder/ladder.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "stack/capture/capture.hpp"
#include "stack/ladder/input.hpp"
#include "stack/ladder/render.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/input_file.hpp"
#include "tools/tcplab/same_file.hpp"

namespace tcplab::cli {

namespace {

struct LadderFlags {
  std::string svg;
  uint32_t connection = 0;  // 0: all
  bool absolute = false;
};

}  // namespace

int ladder_main(int argc, char** argv, int first) {
  LadderFlags o;
  FlagTable flags;
  add_flag(flags, "--svg", "OUT", "none", "also write the diagram as a standalone SVG file",
           side_file_into(o.svg));
  add_flag(flags, "--conn", "N", "all", "draw only connection N (numbered as in the full output)",
           uint_into(o.connection, 1, 1000000));
  add_flag(flags, "--absolute", "", "off", "raw sequence numbers instead of relative ones",
           switch_into(o.absolute, true));
  ParsedArgs args;
  if (auto error = parse_flags(flags, argc, argv, first, args, 1)) {
    std::fprintf(stderr, "tcplab ladder: %s (see tcplab ladder --help)\n", error->c_str());
    return kExitUsage;
  }
  if (args.help_requested) {
    std::printf(
        "usage: tcplab ladder [flags] FILE\n\n"
        "Draws each TCP connection in FILE as a sequence diagram: client (the SYN's sender) left,\n"
        "server right, one arrow per segment with flags, seq/ack relative to each side's ISN (as\n"
        "in Wireshark), len and win; time since the first packet on the left; TCP states where\n"
        "they change. FILE is a pcap or pcapng capture (tcplab --pcap, tcpdump, tshark, Wireshark;\n"
        "raw IP, Ethernet or Linux cooked link types) or a tcplab JSON trace (--trace-json); '-'\n"
        "reads standard input. Exit 1 when the file cannot be read or holds only packets of another\n"
        "link type. A segment the snap length cut short is drawn with its real length (from the IPv4\n"
        "header) and marked; IPv4 fragments are reassembled when the capture holds them all.\n"
        "States come from the JSON trace or tcplab's pcapng comments when present; otherwise\n"
        "they are inferred from the flags and marked with '?'. Retransmissions (same sequence\n"
        "range again) and injected faults are marked under their arrow.\n\n");
    std::fputs(describe_flags(flags).c_str(), stdout);
    return kExitOk;
  }
  if (args.positionals.size() != 1) {
    std::fprintf(stderr, "tcplab ladder: expected one FILE (see tcplab ladder --help)\n");
    return kExitUsage;
  }
  const std::string& path = args.positionals[0];
  if (auto problem = output_over_input("--svg", o.svg, {path})) {
    std::fprintf(stderr, "tcplab ladder: %s\n", problem->c_str());
    return kExitUsage;
  }
  std::string text, error;
  if (!read_input_file(path, text, error)) {
    std::fprintf(stderr, "tcplab ladder: %s\n", error.c_str());
    return kExitRuntime;
  }
  auto input = ladder::read_input(std::as_bytes(std::span(text)), error);
  if (!input) {
    std::fprintf(stderr, "tcplab ladder: %s: %s\n", input_name(path).c_str(), error.c_str());
    return kExitRuntime;
  }
  // Nothing to draw because the capture's link type is one we cannot unwrap: that is an
  // error to act on (capture on another interface, or with -i any), not an empty diagram.
  if (input->events.empty() && !input->unsupported_linktypes.empty()) {
    std::fprintf(stderr, "tcplab ladder: %s: no packet could be read: %s\n", input_name(path).c_str(),
                 capture::unsupported_linktype_text(input->unsupported_linktypes.begin()->first).c_str());
    return kExitRuntime;
  }
  ladder::Ladder diagram = ladder::build_ladder(*input, {o.absolute});
  if (o.connection != 0) {
    if (o.connection > diagram.connections.size()) {
      std::fprintf(stderr, "tcplab ladder: %s has %zu TCP connection(s); there is no connection %u\n",
                   input_name(path).c_str(), diagram.connections.size(), o.connection);
      return kExitRuntime;
    }
    auto chosen = diagram.connections[o.connection - 1];
    diagram.connections = {chosen};
  }
  std::fputs(ladder::render_text(diagram).c_str(), stdout);
  if (!o.svg.empty()) {
    std::FILE* out = std::fopen(o.svg.c_str(), "w");
    std::string svg = ladder::render_svg(diagram);
    if (!out || std::fwrite(svg.data(), 1, svg.size(), out) != svg.size() || std::fclose(out) != 0) {
      std::fprintf(stderr, "tcplab ladder: cannot write %s: %s\n", o.svg.c_str(), std::strerror(errno));
      return kExitRuntime;
    }
  }
  return kExitOk;
}

}  // namespace tcplab::cli
