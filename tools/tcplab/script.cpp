// `tcplab script FILE.pkt...`: plays packet scenario scripts against the stack in memory on a
// virtual clock (no root, no TUN) with the same trace, capture and step sinks as `serve`.
// The player and the result printing are stack/script/, shared with build/scenario-tests.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "stack/script/suite.hpp"
#include "stack/stack.hpp"
#include "stack/text/shell_quote.hpp"
#include "stack/trace/step_sink.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/ladder_collector.hpp"
#include "tools/tcplab/same_file.hpp"
#include "tools/tcplab/script_apps.hpp"
#include "tools/tcplab/stack_flags.hpp"

namespace tcplab::cli {
namespace {

// Whether `output` is a *.pkt file, not there yet, in one of the directories named in `operands`
// (tcplab script runs every *.pkt in a directory it is given).
bool new_script_in(const std::string& output, const std::vector<std::string>& operands) {
  std::error_code ec;
  if (output.empty() || output == "-" || std::filesystem::path(output).extension() != ".pkt" ||
      std::filesystem::exists(output, ec))
    return false;
  return std::any_of(operands.begin(), operands.end(),
                     [&](const std::string& operand) { return would_be_created_in(output, operand); });
}

struct ScriptOptions {
  TraceOptions trace;
  bool step = false;
  bool verbose = false;
  bool expect_fail = false;
  bool seed_given = false;
  uint64_t seed = 0;
  FaultOptions faults;
  bool ladder = false;
};

FlagTable script_flags(ScriptOptions& o) {
  FlagTable flags;
  add_trace_flags(flags, o.trace);
  add_step_flag(flags, o.step);
  // The shared fault group; its random numbers follow this command's own --seed.
  add_fault_flags(flags, o.faults, /*with_seed=*/false);
  add_flag(flags, "--ladder", "", "off",
           "after each script, draw its connections as a ladder diagram (as tcplab ladder does with "
           "a JSON trace: exact states, relative numbers)",
           switch_into(o.ladder, true));
  add_flag(flags, "--verbose", "", "off",
           "print every script line as it runs, with the segments the stack sent and the outcome",
           switch_into(o.verbose, true));
  add_flag(flags, "--seed", "N", "random",
           "fix the peers' ISNs and ports, the stack's ISN key and the fault flags' random numbers, so "
           "two runs print the same; a failure prints the seed it used",
           [&o](std::string_view v) -> std::optional<std::string> {
             if (auto error = uint_into(o.seed, 0, UINT64_MAX)(v)) return error;
             o.seed_given = true;
             return std::nullopt;
           });
  add_flag(flags, "--expect-fail", "", "off",
           "every script must FAIL with the text of its '// expect-error:' line in its failure: the "
           "headline without the path, and the lines under it, not the history (the runner's "
           "self-tests in tests/scenarios/selftest)",
           switch_into(o.expect_fail, true));
  return flags;
}

// A failure prints a command that reruns it: every flag given, quoted for the shell, so the
// faults (--fault 'drop in syn', --drop 5%) come back too; the runner adds --seed and --verbose
// itself, with the seed it used.
std::string rerun_command(const ParsedArgs& args) {
  std::string command = "tcplab script";
  for (const auto& f : args.flags) {
    if (f.name == "--seed" || f.name == "--verbose") continue;
    command += " " + f.name;
    if (f.value) command += " " + text::shell_quote(*f.value);
  }
  return command;
}

void print_help(const FlagTable& flags) {
  std::printf(
      "usage: tcplab script [flags] FILE.pkt|DIR|-...\n\n"
      "Plays packet scenario scripts (packetdrill syntax, docs/scenarios.md) against the stack in\n"
      "memory on a virtual clock: no root, no TUN. Prints 'ok - NAME' or 'not ok - NAME' with the\n"
      "mismatch table and the lines that ran before; exits 0 when every script passed, 1 otherwise,\n"
      "2 on a usage error. A directory means every *.pkt in it, and - one script read from stdin.\n"
      "A script with '// config: http=PORT' runs tcplab's HTTP server on the stack and talks to it\n"
      "in payload text (\"GET / HTTP/1.1\\r\\n...\" on '<' lines, a prefix of the response on '>'\n"
      "lines).\n"
      "With --step the JSON trace and capture are flushed at each pause (the capture with every\n"
      "packet sent or received before the step at hand; a burst of segments is sent when it ends);\n"
      "Ctrl-C ends the run at once, q stops it cleanly with the summary.\n\n"
      "  tcplab script tests/scenarios/passive-open.pkt --trace\n"
      "  tcplab script tests/scenarios/passive-open.pkt --step      (Enter = next, h = help)\n"
      "  tcplab script tests/scenarios/http-options-star.pkt --verbose --trace\n"
      "  tcplab script tests/scenarios --pcap all.pcap --seed 1\n\n");
  std::fputs(describe_flags(flags).c_str(), stdout);
}

}  // namespace

int script_main(int argc, char** argv, int first) {
  ScriptOptions o;
  auto flags = script_flags(o);
  ParsedArgs args;
  if (auto error = parse_flags(flags, argc, argv, first, args, SIZE_MAX)) {
    std::fprintf(stderr, "tcplab script: %s (see tcplab script --help)\n", error->c_str());
    return kExitUsage;
  }
  if (args.help_requested) {
    print_help(flags);
    return kExitOk;
  }
  if (args.positionals.empty()) {
    std::fprintf(stderr,
                 "tcplab script: name at least one .pkt script or directory (see tcplab script --help)\n");
    return kExitUsage;
  }

  // "-" is the script on stdin, as ladder and cwnd take "-" for their input; the names of
  // stdin as a file count too (step mode would read its keys from the script's own lines).
  const auto from_stdin = std::count_if(args.positionals.begin(), args.positionals.end(), [](const auto& p) {
    return p == "-" || p == "/dev/stdin" || p == "/dev/fd/0" || p == "/proc/self/fd/0";
  });
  const char* stdin_refusal = nullptr;
  if (from_stdin > 1) stdin_refusal = "stdin is named more than once (-, /dev/stdin); it holds one script";
  if (from_stdin == 1 && o.step)
    stdin_refusal = "--step reads its keys from stdin, so the script cannot come from there";
  if (stdin_refusal != nullptr) {
    std::fprintf(stderr, "tcplab script: %s (see tcplab script --help)\n", stdin_refusal);
    return kExitUsage;
  }

  // --ladder prints sequence numbers too, so --absolute has a use there.
  if (auto problem = check_trace_dependents(o.trace, o.step || o.ladder, args)) {
    std::fprintf(stderr, "tcplab script: %s (see tcplab script --help)\n", problem->c_str());
    return kExitUsage;
  }
  if (auto problem = check_trace(o.trace)) {
    std::fprintf(stderr, "tcplab script: %s (see tcplab script --help)\n", problem->c_str());
    return kExitUsage;
  }
  // The outputs are opened (emptied) before the first script is read.
  const std::vector<std::string> scripts = scenario::expand_script_paths(args.positionals).files;
  for (auto [flag, output] :
       {std::pair{"--trace-json", &o.trace.trace_json}, std::pair{"--pcap", &o.trace.pcap}}) {
    auto problem = output_over_input(flag, *output, scripts);
    // A new *.pkt in a directory given as an operand would be listed as one of its scripts.
    if (!problem && new_script_in(*output, args.positionals))
      problem = std::string(flag) + " " + *output + " would be read as a script of the directory it is in; " +
                "give the output another name or place";
    if (problem) {
      std::fprintf(stderr, "tcplab script: %s\n", problem->c_str());
      return kExitUsage;
    }
  }
  // A trace or capture into a pipe whose reader has gone (`--trace-json >(head)`) is a failed
  // write to report (the file is named incomplete, exit 1), as in serve, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  TraceSinks sinks;
  std::string error;
  if (!sinks.open(o.trace, error)) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return kExitRuntime;
  }
  // Virtual time 0 is written as the Unix epoch, so a capture's timestamps are script time.
  if (sinks.pcap()) sinks.pcap()->set_origin(Instant{}, std::chrono::system_clock::time_point{});
  // The JSON trace's "t" is script time too, as the text trace's first column: counted from the
  // first event instead, a script whose first event is not at 0 (--delay) would be shifted and
  // the next script, which starts again at 0, would get negative times.
  if (sinks.json()) sinks.json()->set_origin(Instant{});
  // The runner's events reach the command's shared sinks (text, JSON, pcap) through this.
  trace::ForwardingSink forward(sinks.tracer());

  scenario::SuiteOptions suite;
  suite.expect_fail = o.expect_fail;
  scenario::RunOptions& run = suite.run;
  run.rerun_command = rerun_command(args);
  run.verbose = o.verbose || o.step;  // stepping shows which script line is running
  run.seed =
      o.seed_given ? o.seed : std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
  run.faults = o.faults;
  run.faults.seed = run.seed;
  run.app_factory = scenario::script_app_factory();  // `// config: http=PORT`
  if (sinks.tracer().enabled()) run.sinks.push_back(&forward);

  std::unique_ptr<trace::StepSink> step;
  if (o.step) {
    // Commands come from stdin: the terminal, or a pipe when a test drives it; echoing piped
    // commands makes the output read like the session it was.
    step = std::make_unique<trace::StepSink>(
        stdin, stdout,
        trace::StepSink::Options{colour_wanted(stdout), o.trace.absolute, !isatty(STDIN_FILENO)});
    trace::StepSink* s = step.get();
    run.sinks.push_back(s);
    run.on_start = [s](Stack& stack) {
      s->set_snapshot_source([&stack](const FourTuple& t) { return stack.tcp().snapshot(t); });
    };
    run.on_settle = [s] { s->settle(); };
    run.stop_requested = [s] { return s->quit_requested(); };
    // The capture and JSON trace are flushed at every pause; Ctrl-C then ends the command
    // like any other (no summary), and the files hold what was shown before the prompt.
    s->set_before_prompt([&sinks] { sinks.flush_at_pause(); });
    std::printf(
        "# step mode: Enter or n = next, c = continue, b STATE, b rst, b retransmission, "
        "p = print TCB, q = quit, h = help\n");
  }
  std::unique_ptr<LadderCollector> ladder;
  if (o.ladder) {
    ladder = std::make_unique<LadderCollector>();
    run.sinks.push_back(ladder->sink());
  }
  suite.before_script = [&](const std::string&) {
    if (ladder) std::fputs(ladder->take_ladder(o.trace.absolute).c_str(), stdout);
    if (sinks.text()) sinks.text()->set_origin(Instant{});
    if (step) {
      step->set_origin(Instant{});
      step->reset();
    }
  };

  int rc = scenario::run_scripts(args.positionals, suite);
  if (ladder) std::fputs(ladder->take_ladder(o.trace.absolute).c_str(), stdout);
  if (!sinks.flush() && rc == kExitOk) rc = kExitRuntime;
  return rc;
}

}  // namespace tcplab::cli
