// `tcplab cwnd TRACE.jsonl [--conn N] [--svg OUT]`: the congestion window of one connection
// from a JSON trace, as CSV on stdout and optionally as an SVG plot. The reading and drawing
// live in stack/trace/cwnd_series.* (unit-tested); this file only handles flags and files.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "stack/capture/capture.hpp"
#include "stack/ladder/input.hpp"
#include "stack/trace/cwnd_series.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/input_file.hpp"
#include "tools/tcplab/same_file.hpp"

namespace tcplab::cli {

int cwnd_main(int argc, char** argv, int first) {
  size_t conn = 1;
  std::string svg;
  FlagTable flags;
  add_flag(flags, "--conn", "N", "1",
           "which connection: the Nth to appear in the trace's congestion events (the list is on stderr)",
           uint_into(conn, 1, 1000000));
  add_flag(flags, "--svg", "FILE", "off", "also draw cwnd and ssthresh over time as a standalone SVG",
           side_file_into(svg));
  ParsedArgs args;
  if (auto error = parse_flags(flags, argc, argv, first, args, 1)) {
    std::fprintf(stderr, "tcplab cwnd: %s (see tcplab cwnd --help)\n", error->c_str());
    return kExitUsage;
  }
  if (args.help_requested) {
    std::printf(
        "usage: tcplab cwnd TRACE.jsonl [--conn N] [--svg FILE]\n\n"
        "Prints the congestion window and slow-start threshold of one connection as CSV\n"
        "(time,cwnd,ssthresh,rule; an empty ssthresh is not set yet), read from a trace written\n"
        "with --trace-json. Each row is one change with the RFC rule that made it. TRACE.jsonl '-'\n"
        "reads standard input.\n\n");
    std::fputs(describe_flags(flags).c_str(), stdout);
    return kExitOk;
  }
  if (args.positionals.size() != 1) {
    std::fprintf(stderr, "tcplab cwnd: expected one trace file (see tcplab cwnd --help)\n");
    return kExitUsage;
  }
  const std::string& path = args.positionals[0];
  if (auto problem = output_over_input("--svg", svg, {path})) {
    std::fprintf(stderr, "tcplab cwnd: %s\n", problem->c_str());
    return kExitUsage;
  }
  std::string text, error;
  if (!read_input_file(path, text, error)) {
    std::fprintf(stderr, "tcplab cwnd: %s\n", error.c_str());
    return kExitRuntime;
  }
  // A capture holds packets, not the sender's cwnd: say what the file is rather than that its
  // trace has no events.
  const capture::ConstBytes bytes(reinterpret_cast<const std::byte*>(text.data()), text.size());
  if (capture::looks_like_pcapng(bytes) || capture::looks_like_pcap(bytes)) {
    std::fprintf(stderr,
                 "tcplab cwnd: %s is a %s capture, not a JSON trace: the congestion window is not on the "
                 "wire (write a trace with --trace-json; tcplab ladder reads captures)\n",
                 input_name(path).c_str(), capture::looks_like_pcapng(bytes) ? "pcapng" : "pcap");
    return kExitRuntime;
  }
  // Anything else (a README, a gzip file) is said to be no trace at all, as ladder says it,
  // rather than a trace without congestion events.
  if (!ladder::looks_like_json_trace(text)) {
    std::fprintf(stderr, "tcplab cwnd: %s: %s\n", input_name(path).c_str(),
                 text.empty() ? "empty file" : "not a tcplab JSON trace (--trace-json) file");
    return kExitRuntime;
  }
  trace::CwndTrace t = trace::read_cwnd_trace(text);
  if (t.malformed > 0)
    std::fprintf(stderr, "tcplab cwnd: %zu congestion lines could not be read and were skipped\n",
                 t.malformed);
  if (t.connections.empty()) {
    std::fprintf(stderr, "tcplab cwnd: %s has no congestion events (write one with --trace-json)\n",
                 input_name(path).c_str());
    return kExitRuntime;
  }
  for (size_t i = 0; i < t.connections.size(); ++i) {
    const auto& c = t.connections[i];
    const size_t changes = c.points.size();
    std::fprintf(stderr, "tcplab cwnd: %s connection %zu: %s -> %s, %zu change%s\n",
                 i + 1 == conn ? "*" : " ", i + 1, c.local.c_str(), c.remote.c_str(), changes,
                 changes == 1 ? "" : "s");
  }
  if (conn > t.connections.size()) {
    std::fprintf(stderr, "tcplab cwnd: --conn %zu, but the trace has %zu connection%s\n", conn,
                 t.connections.size(), t.connections.size() == 1 ? "" : "s");
    return kExitRuntime;
  }
  const trace::CwndConnection& c = t.connections[conn - 1];
  std::fputs(trace::cwnd_csv(c).c_str(), stdout);
  if (!svg.empty()) {
    std::FILE* f = std::fopen(svg.c_str(), "w");
    std::string drawing = trace::cwnd_svg(c);
    if (!f || std::fwrite(drawing.data(), 1, drawing.size(), f) != drawing.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "tcplab cwnd: cannot write %s: %s\n", svg.c_str(), std::strerror(errno));
      return kExitRuntime;
    }
  }
  return kExitOk;
}

}  // namespace tcplab::cli
