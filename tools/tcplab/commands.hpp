// The tcplab subcommands, one function each; main.cpp dispatches through kCommands.
#pragma once
#include <span>

namespace tcplab::cli {

constexpr const char* kVersion = "0.2.0";

// Exit codes: 0 fine, 1 runtime error (or a failed check), 2 usage error.
constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// Every subcommand: `tcplab NAME [flags] [operands]`; argv[first] is the first argument after
// the name. `help` prints the command's flag table (for `tcplab --help` too).
struct Command {
  const char* name;
  const char* summary;  // one line for `tcplab --help`
  int (*run)(int argc, char** argv, int first);
};

// `tcplab serve [flags]`: the TUN, ping, TCP services and the HTTP server.
int serve_main(int argc, char** argv, int first);
// `tcplab script FILE.pkt...`: scenario scripts in memory on a virtual clock (no root, no TUN).
int script_main(int argc, char** argv, int first);

// `tcplab demo keepalive [flags]`: the article's comparison, measured, in namespaces of its own.
int demo_main(int argc, char** argv, int first);
// `tcplab get URL... [-o FILE]... [flags]`: the HTTP client on our own TCP.
int get_main(int argc, char** argv, int first);

// `tcplab ladder FILE`: sequence diagrams of the TCP connections in a capture or JSON trace.
int ladder_main(int argc, char** argv, int first);

// `tcplab doctor [--json]`: checks the machine and prints a fix for each failure.
int doctor_main(int argc, char** argv, int first);

// `tcplab cwnd TRACE.jsonl [--conn N] [--svg FILE]`: cwnd/ssthresh series as CSV (and SVG).
int cwnd_main(int argc, char** argv, int first);

// The table main() dispatches through, in the order --help lists it.
std::span<const Command> commands();

}  // namespace tcplab::cli
