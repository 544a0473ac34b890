// build/scenario-tests: runs packet scenario scripts (*.pkt) and prints "ok - NAME" or
// "not ok - NAME" plus a diagnosis for each; exits 1 if any failed (docs/scenarios.md).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "stack/script/runner.hpp"
#include "stack/script/script.hpp"

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

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

void print_diagnosis(const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::printf("# %s\n", l.c_str());
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

  std::vector<std::string> scripts;
  bool missing = false;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : std::filesystem::directory_iterator(p, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".pkt")
          found.push_back(entry.path().string());
      std::sort(found.begin(), found.end());
      if (found.empty()) {
        std::printf("not ok - %s: no *.pkt scripts in this directory\n", p.c_str());
        missing = true;
      }
      scripts.insert(scripts.end(), found.begin(), found.end());
    } else {
      scripts.push_back(p);
    }
  }

  int passed = 0, failed = 0;
  for (const auto& path : scripts) {
    std::string text;
    std::string name = std::filesystem::path(path).stem().string();
    if (!read_file(path, text)) {
      std::printf("not ok - %s\n# cannot read %s\n", name.c_str(), path.c_str());
      ++failed;
      continue;
    }
    auto parsed = tcplab::scenario::parse_script(path, text);
    tcplab::scenario::RunResult result;
    std::optional<std::string> expect_error;
    if (parsed.error) {
      result.script_error = true;
      result.diagnosis.push_back(parsed.error->format());
      // Self-tests of the parser carry their expected error on a comment line too.
      std::istringstream lines(text);
      for (std::string l; std::getline(lines, l);)
        if (auto at = l.find("// expect-error:"); at != std::string::npos) {
          auto e = l.substr(at + 16);
          e.erase(0, e.find_first_not_of(' '));
          expect_error = e;
        }
    } else {
      expect_error = parsed.script->expect_error;
      if (options.verbose)
        std::printf("# running %s (seed %llu)\n", path.c_str(),
                    static_cast<unsigned long long>(options.seed));
      result = tcplab::scenario::run_script(*parsed.script, options);
      // The run is deterministic for a seed, so a failure is replayed with a trace sink: the
      // diagnosis then shows the core's state changes, timers and drops between the lines.
      if (!result.passed && !result.script_error && !options.trace) {
        RunOptions traced = options;
        traced.trace = true;
        traced.verbose = false;
        auto again = tcplab::scenario::run_script(*parsed.script, traced);
        if (!again.passed) {
          result.diagnosis = std::move(again.diagnosis);
          result.diagnosis.push_back("(history replayed with --trace, same seed)");
        } else {
          result.diagnosis.push_back(
              "note: replayed with a trace sink attached, the script PASSES: tracing changes "
              "the stack's behaviour, which is a bug of its own");
        }
      }
    }
    if (!expect_fail) {
      if (result.passed) {
        std::printf("ok - %s\n", name.c_str());
        ++passed;
      } else {
        std::printf("not ok - %s\n", name.c_str());
        print_diagnosis(result.diagnosis);
        ++failed;
      }
    } else {
      // A self-test passes only when the script fails, and fails for the stated reason.
      std::string all;
      for (const auto& d : result.diagnosis) all += d + "\n";
      if (result.passed) {
        std::printf("not ok - %s (expected to fail, but it passed)\n", name.c_str());
        ++failed;
      } else if (!expect_error) {
        std::printf("not ok - %s (a self-test needs a '// expect-error: TEXT' line)\n", name.c_str());
        print_diagnosis(result.diagnosis);
        ++failed;
      } else if (all.find(*expect_error) == std::string::npos) {
        std::printf("not ok - %s (failed, but not with \"%s\")\n", name.c_str(), expect_error->c_str());
        print_diagnosis(result.diagnosis);
        ++failed;
      } else {
        std::printf("ok - %s (failed as expected: %s)\n", name.c_str(), expect_error->c_str());
        if (options.verbose) print_diagnosis(result.diagnosis);
        ++passed;
      }
    }
    std::fflush(stdout);
  }
  std::printf("# %d passed, %d failed\n", passed, failed);
  return (failed > 0 || missing) ? 1 : 0;
}
