// tcplab: one binary, subcommands like `ip` or `git`. Today: serve.
#include <cstdio>
#include <string_view>

#include "tools/tcplab/commands.hpp"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "tcplab %s: an educational userspace TCP/IP stack over a Linux TUN device\n"
               "\n"
               "usage: tcplab COMMAND [flags]\n"
               "       tcplab --help | --version\n"
               "\n"
               "commands:\n"
               "  serve    create the TUN, answer ping, run TCP services and the HTTP server\n"
               "\n"
               "Run `tcplab COMMAND --help` for a command's flags. Quick start (in your own VM,\n"
               "or a lab namespace: tools/lab run -- build/tcplab serve):\n"
               "  sudo build/tcplab serve      then: curl http://192.0.2.2/   ping 192.0.2.2\n",
               tcplab::cli::kVersion);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tcplab::cli;
  if (argc < 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  std::string_view command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    print_usage(stdout);
    std::printf("\n`tcplab serve` flags:\n");
    print_serve_help();
    return kExitOk;
  }
  if (command == "--version" || command == "-V" || command == "version") {
    std::printf("tcplab %s\n", kVersion);
    return kExitOk;
  }
  if (command == "serve") return serve_main(argc, argv, 2);
  std::fprintf(stderr, "tcplab: unknown command '%.*s' (commands: serve; see tcplab --help)\n",
               static_cast<int>(command.size()), command.data());
  return kExitUsage;
}
