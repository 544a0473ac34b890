// tcplab: one binary, subcommands like `ip` or `git` (the table is in commands.cpp).
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "tools/tcplab/commands.hpp"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "tcplab %s: an educational userspace TCP/IP stack over a Linux TUN device\n"
               "\n"
               "usage: tcplab COMMAND [flags] [operands]\n"
               "       tcplab --help | --version\n"
               "\n"
               "commands:\n",
               tcplab::cli::kVersion);
  for (const auto& c : tcplab::cli::commands()) std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\n"
               "Run `tcplab COMMAND --help` for a command's flags. Quick start (in your own VM,\n"
               "or a lab namespace: tools/lab run -- build/tcplab serve):\n"
               "  sudo build/tcplab serve      then paste the commands it prints\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tcplab::cli;
  if (argc < 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    print_usage(stdout);
    return kExitOk;
  }
  if (name == "--version" || name == "-V" || name == "version") {
    std::printf("tcplab %s\n", kVersion);
    return kExitOk;
  }
  for (const auto& c : commands()) {
    if (name == c.name) return c.run(argc, argv, 2);
  }
  std::string names;
  for (const auto& c : commands()) names += (names.empty() ? "" : ", ") + std::string(c.name);
  std::fprintf(stderr, "tcplab: unknown command '%.*s' (commands: %s; see tcplab --help)\n",
               static_cast<int>(name.size()), name.data(), names.c_str());
  return kExitUsage;
}
