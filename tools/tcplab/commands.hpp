// The tcplab subcommands, one function each; main.cpp dispatches by name.
#pragma once

namespace tcplab::cli {

constexpr const char* kVersion = "0.1.0";

// Exit codes: 0 fine, 1 runtime error, 2 usage error.
constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// `tcplab serve [flags]`; argv[first] is the first flag.
int serve_main(int argc, char** argv, int first);
// The serve flag list for `tcplab --help`.
void print_serve_help();

}  // namespace tcplab::cli
