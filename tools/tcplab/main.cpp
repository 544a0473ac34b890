// tcplab: one binary, subcommands like `ip` or `git` (the table is in commands.cpp).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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
               "Run `tcplab COMMAND --help` (or `tcplab help COMMAND`) for a command's flags. Each\n"
               "flag may be given once; only those marked [repeatable] may be given again.\n"
               "Quick start (in your own VM, or a lab namespace: tools/lab run -- build/tcplab serve):\n"
               "  sudo build/tcplab serve      then paste the commands it prints\n");
}

// A process started with fd 0, 1 or 2 closed would get its first open() there: the JSON trace,
// the capture or the TUN would become "stdout", and printed text would land in them. Like
// setuid programs do, those descriptors are filled with /dev/null before anything else opens.
void fill_closed_standard_fds() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int null_fd = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    // open() takes the lowest free descriptor, which is `fd`; anything else is not ours to keep.
    if (null_fd >= 0 && null_fd != fd) ::close(null_fd);
  }
}

const tcplab::cli::Command* find_command(std::string_view name) {
  for (const auto& c : tcplab::cli::commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

namespace {
void ignore_early_status_request(int) {}
}  // namespace

int main(int argc, char** argv) {
  using namespace tcplab::cli;
  // SIGUSR1 asks a running tcplab for its status (tools/lab table); one that comes before the
  // event loop installs its handler must not kill the process (the default action). A handler
  // that does nothing, not SIG_IGN, which programs tcplab runs (ip, tc) would inherit.
  std::signal(SIGUSR1, ignore_early_status_request);
  fill_closed_standard_fds();
  if (argc < 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    // `tcplab help serve` (as in git) is `tcplab serve --help`.
    if (argc == 3) {
      if (const Command* c = find_command(argv[2])) {
        char help_flag[] = "--help";
        char* help_argv[] = {argv[0], argv[2], help_flag, nullptr};
        return c->run(3, help_argv, 2);
      }
    }
    if (argc > 3 && find_command(argv[2]) != nullptr) {
      std::fprintf(stderr, "tcplab: unexpected argument '%s' after %s %s (see tcplab --help)\n", argv[3],
                   argv[1], argv[2]);
      return kExitUsage;
    }
    if (argc > 2) {
      std::fprintf(stderr, "tcplab: no command '%s' to show help for (see tcplab --help)\n", argv[2]);
      return kExitUsage;
    }
    print_usage(stdout);
    return kExitOk;
  }
  if (name == "--version" || name == "-V" || name == "version") {
    if (argc > 2) {
      std::fprintf(stderr, "tcplab: unexpected argument '%s' after %s\n", argv[2], argv[1]);
      return kExitUsage;
    }
    std::printf("tcplab %s\n", kVersion);
    return kExitOk;
  }
  if (const Command* c = find_command(name)) return c->run(argc, argv, 2);
  std::string names;
  for (const auto& c : commands()) names += (names.empty() ? "" : ", ") + std::string(c.name);
  std::fprintf(stderr, "tcplab: unknown command '%.*s' (commands: %s; see tcplab --help)\n",
               static_cast<int>(name.size()), name.data(), names.c_str());
  return kExitUsage;
}
