// Plays one parsed scenario script against a fresh sans-IO tcplab::Stack on a virtual clock
// and says whether every expected segment and call result matched (docs/scenarios.md).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "stack/link/fault_spec.hpp"
#include "stack/script/app.hpp"
#include "stack/script/script.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab {
class Stack;
}

namespace tcplab::scenario {

struct RunOptions {
  bool verbose = false;  // print every line as it runs, with the segments the stack sent
  bool trace = false;    // attach a trace sink: state changes, timers, drops in the history
  uint64_t seed = 0;     // random remote ISNs, ports and ISN key derive from it
  std::FILE* out = stdout;
  // The command a failure diagnosis tells the reader to rerun with: "tcplab script" and every
  // flag that changes the run (--fault 'drop in syn'), quoted for the shell; the runner adds
  // --seed, --verbose and the script.
  std::string rerun_command = "build/scenario-tests";
  // More sinks for the run's tracer (tcplab script: text, JSON, pcap, step). They see every
  // packet both ways (Sink::packet), at virtual times counted from Instant{}.
  std::vector<trace::Sink*> sinks;
  // Called once the stack exists, before the first line (step mode takes TCB snapshots).
  std::function<void(Stack&)> on_start;
  // Called after every injected segment and every timer run has been processed.
  std::function<void()> on_settle;
  // Polled between lines: true ends the run early (q in step mode), reported as `stopped`.
  std::function<bool()> stop_requested;
  // Faults between the script's peer and the stack, as `serve --drop/--fault` puts them
  // between the TUN and the stack (stack/link/fault_injector.hpp): injected segments may be
  // lost or late, and the segments the script expects are those that got through.
  link::FaultOptions faults;
  // Starts the application a script names in its config (`http=PORT`): the front ends set it
  // to build tcplab's HTTP server. Unset, such a script is a script error.
  AppFactory app_factory;
};

struct RunResult {
  bool passed = false;
  bool script_error = false;  // the script itself is wrong (syntax, unknown key, ...)
  bool stopped = false;       // stop_requested() ended the run before `stopped_line`
  int stopped_line = 0;
  std::vector<std::string> diagnosis;  // why it failed: headline, details, history
  // How many of the diagnosis's first lines are the failure itself (headline and details),
  // before the history and the rerun hint: what a self-test's expect-error is matched with.
  size_t failure_lines = 0;
};

RunResult run_script(const Script& script, const RunOptions& options);

// The payload byte at relative sequence number (from the sender's ISN) `seq`: deterministic,
// printable and not periodic at 26, so shifted or mixed-up data is caught.
inline char filler_byte(uint32_t stream_offset) {
  return static_cast<char>('a' + (stream_offset + stream_offset / 26) % 26);
}

}  // namespace tcplab::scenario
