// Plays one parsed scenario script against a fresh sans-IO tcplab::Stack on a virtual clock
// and says whether every expected segment and call result matched (docs/scenarios.md).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "stack/script/script.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::scenario {

struct RunOptions {
  bool verbose = false;  // print every line as it runs, with the segments the stack sent
  bool trace = false;    // attach a trace sink: state changes, timers, drops in the history
  uint64_t seed = 0;     // random remote ISNs, ports and ISN key derive from it
  // An extra sink for the run's trace events and every packet in and out (a PcapWriter or
  // JsonSink writing the run to a file); not owned, may be null.
  trace::Sink* sink = nullptr;
  std::FILE* out = stdout;
};

struct RunResult {
  bool passed = false;
  bool script_error = false;           // the script itself is wrong (syntax, unknown key, ...)
  std::vector<std::string> diagnosis;  // why it failed: headline, details, history
};

RunResult run_script(const Script& script, const RunOptions& options);

// The payload byte at relative sequence number (from the sender's ISN) `seq`: deterministic,
// printable and not periodic at 26, so shifted or mixed-up data is caught.
inline char filler_byte(uint32_t stream_offset) {
  return static_cast<char>('a' + (stream_offset + stream_offset / 26) % 26);
}

}  // namespace tcplab::scenario
