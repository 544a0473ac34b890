// build/scenario-tests: runs packet scenario scripts (*.pkt) and prints "ok - NAME" or
// "not ok - NAME" plus a diagnosis for each; exits 1 if any failed (docs/scenarios.md). The
// list runner itself is stack/script/suite.cpp, shared with `tcplab script`.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "stack/script/suite.hpp"
#include "tools/tcplab/script_apps.hpp"

namespace {

using tcplab::scenario::RunOptions;

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: scenario-tests [--verbose] [--trace] [--seed N] [--expect-fail] PATH...\n"
               "  PATH          a .pkt script, or a directory: every *.pkt in it (not subdirectories)\n"
               "  --verbose     print every line as it runs, with the segments the stack sent\n"
               "  --trace       record the core's events (state changes, timers, drops) in the history\n"
               "  --seed N      fix the random remote ISNs, ports and ISN key (printed on failure)\n"
               "  --expect-fail every script must FAIL, with the text of its '// expect-error:' line\n"
               "                in the diagnosis (self-tests showing the runner can fail)\n");
}

}  // namespace

int main(int argc, char** argv) {
  RunOptions options;
  bool expect_fail = false;
  bool seed_given = false;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose" || a == "-v") {
      options.verbose = true;
    } else if (a == "--trace") {
      options.trace = true;
    } else if (a == "--expect-fail") {
      expect_fail = true;
    } else if (a == "--seed" && i + 1 < argc) {
      char* end = nullptr;
      options.seed = std::strtoull(argv[++i], &end, 10);
      if (!end || *end) {
        std::fprintf(stderr, "scenario-tests: --seed needs a number\n");
        return 2;
      }
      seed_given = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "scenario-tests: unknown flag %s\n", a.c_str());
      usage(stderr);
      return 2;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) {
    usage(stderr);
    return 2;
  }
  if (!seed_given)
    options.seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);

  // `// config: http=PORT` scripts run tcplab's HTTP server on the stack.
  options.app_factory = tcplab::scenario::script_app_factory();
  tcplab::scenario::SuiteOptions suite;
  suite.run = options;
  suite.expect_fail = expect_fail;
  return tcplab::scenario::run_scripts(paths, suite);
}
