// The script list runner shared by build/scenario-tests and `tcplab script` (suite.hpp).
#include "stack/script/suite.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "stack/script/script.hpp"
#include "stack/text/escape_unprintable.hpp"

namespace tcplab::scenario {

namespace {

// Far more than any scenario (the longest shipped ones are a few kB).
constexpr uint64_t kMaxScriptBytes = 8u << 20;

// Reads a script whole, or says why not. A regular file is checked by its size first; a pipe
// or device (`cat x.pkt | tcplab script /dev/stdin`) is read up to the cap and no further,
// so a device such as /dev/zero, which never ends, is refused instead of filling memory.
std::optional<std::string> read_script_file(const std::string& path, std::string& out) {
  const std::string too_large =
      "script too large (at most " + std::to_string(kMaxScriptBytes >> 20) + " MiB)";
  if (path == "-") {
    // stdin as it is, whatever it is (a pipe, a file, a socket): read from descriptor 0 itself,
    // not reopened by a name, which a socket does not have and a file would start again.
    out.clear();
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::strerror(errno);
      if (n == 0) return std::nullopt;
      out.append(chunk, static_cast<size_t>(n));
      if (out.size() > kMaxScriptBytes) return too_large;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    std::string why = std::strerror(errno);
    struct stat link {};
    if (errno == ENOENT && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
      why = "a symbolic link to a file that does not exist";
    return why;
  }
  if (S_ISDIR(st.st_mode)) return "a directory";  // only a trailing path to one gets here
  if (S_ISSOCK(st.st_mode)) return "a socket; a script is a text file";
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > kMaxScriptBytes)
    return "script too large (" + std::to_string(st.st_size) + " bytes; at most " +
           std::to_string(kMaxScriptBytes >> 20) + " MiB)";
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno != 0 ? std::strerror(errno) : "cannot open it";
  out.clear();
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    out.append(chunk, static_cast<size_t>(in.gcount()));
    if (out.size() > kMaxScriptBytes) return too_large;  // a device, or a file that grew after stat()
  }
  return std::nullopt;
}

// Diagnoses quote script lines, which may hold any byte: each is shown escaped (\xNN), so a
// NUL does not cut the line short and an escape sequence does not reach the terminal.
void print_diagnosis(std::FILE* out, const std::vector<std::string>& lines) {
  for (const auto& l : lines) std::fprintf(out, "# %s\n", text::escape_unprintable(l).c_str());
}

// Self-tests of the parser carry their expected error on a comment line, which the parser
// never reached when it stopped early.
std::optional<std::string> expect_error_comment(const std::string& text) {
  std::optional<std::string> found;
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);)
    if (auto e = expect_error_text(l)) found = e;
  return found;
}

// What a self-test's '// expect-error: TEXT' is looked for in: the failure's headline and
// its detail lines, without the script's path in front of the headline. Not the history
// (a line that ran, say "win 65535", would match any failure after it), not the rerun hint,
// not the path (the file's name would match every failure of that file).
std::string failure_text(const RunResult& result, const std::string& path) {
  std::string text;
  const size_t lines = std::min(std::max<size_t>(result.failure_lines, 1), result.diagnosis.size());
  for (size_t i = 0; i < lines; ++i) {
    std::string_view line = result.diagnosis[i];
    if (i == 0 && line.starts_with(path + ":")) line.remove_prefix(path.size() + 1);
    text += std::string(line) + "\n";
  }
  return text;
}

}  // namespace

ScriptList expand_script_paths(const std::vector<std::string>& paths) {
  ScriptList list;
  for (const auto& p : paths) {
    std::error_code ec;
    if (p == "-") {
      list.files.push_back(p);  // stdin, never a directory named "-"
    } else if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      // Anything named *.pkt but a directory: a dangling link or a device is then refused
      // by name when it is read, instead of the directory seeming to hold no scripts.
      for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
        std::error_code type_error;
        if (entry.path().extension() == ".pkt" && !entry.is_directory(type_error))
          found.push_back(entry.path().string());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) list.empty_directories.push_back(p);
      list.files.insert(list.files.end(), found.begin(), found.end());
    } else {
      list.files.push_back(p);
    }
  }
  return list;
}

int run_scripts(const std::vector<std::string>& paths, const SuiteOptions& options) {
  std::FILE* out = options.run.out;
  ScriptList list = expand_script_paths(paths);
  // A directory without scripts is a "not ok" of its own, and counted as one: the summary
  // must not read "0 failed" under a "not ok" line.
  int passed = 0, failed = 0;
  for (const auto& d : list.empty_directories) {
    std::fprintf(out, "not ok - %s: no *.pkt scripts in this directory\n", d.c_str());
    ++failed;
  }
  for (size_t index = 0; index < list.files.size(); ++index) {
    const std::string& path = list.files[index];
    std::string text;
    std::string name = path == "-" ? "stdin" : std::filesystem::path(path).stem().string();
    if (name.empty()) name = path;  // "nodir/" has no file name
    if (auto why = read_script_file(path, text)) {
      std::fprintf(out, "not ok - %s\n# cannot read %s: %s\n", text::escape_unprintable(name).c_str(),
                   text::escape_unprintable(path).c_str(), why->c_str());
      ++failed;
      continue;
    }
    // Errors point at "stdin:LINE:COL", the name the result line gives a piped script.
    auto parsed = parse_script(path == "-" ? "stdin" : path, text);
    RunResult result;
    std::optional<std::string> expect_error;
    if (parsed.error) {
      result.script_error = true;
      result.diagnosis.push_back(parsed.error->format());
      result.failure_lines = 1;
      expect_error = expect_error_comment(text);
    } else {
      expect_error = parsed.script->expect_error;
      parsed.script->from_stdin = path == "-";
      if (std::string note = skipped_note(*parsed.script); !note.empty())
        std::fprintf(out, "# %s: %s\n", name.c_str(), note.c_str());
      if (options.before_script) options.before_script(path);
      if (options.run.verbose)
        std::fprintf(out, "# running %s (seed %llu)\n", path.c_str(),
                     static_cast<unsigned long long>(options.run.seed));
      result = run_script(*parsed.script, options.run);
      if (result.stopped) {
        // Quitting is not a failure of the script, but it did not pass either: exit 0 would
        // say that every script passed, so a stopped run exits 1 and its summary says why.
        const size_t not_run = list.files.size() - index - 1;
        std::fprintf(out, "# stopped at %s line %d (quit in step mode); %zu script(s) after it not run\n",
                     path.c_str(), result.stopped_line, not_run);
        std::fprintf(out, "# %d passed, %d failed, 1 stopped (quit in step mode), %zu not run\n", passed,
                     failed, not_run);
        std::fflush(out);
        return 1;
      }
      // The run is deterministic for a seed, so a failure is replayed with a trace sink: the
      // diagnosis then shows the core's state changes, timers and drops between the lines.
      // The replay has none of the caller's sinks or hooks: a capture holds each run once.
      if (!result.passed && !result.script_error && !options.run.trace) {
        RunOptions traced;
        traced.trace = true;
        traced.seed = options.run.seed;
        traced.faults = options.run.faults;
        traced.out = out;
        traced.rerun_command = options.run.rerun_command;
        traced.app_factory = options.run.app_factory;  // a hook the script needs, not a sink
        auto again = run_script(*parsed.script, traced);
        if (!again.passed) {
          result.diagnosis = std::move(again.diagnosis);
          result.failure_lines = again.failure_lines;
          result.diagnosis.push_back("(history replayed with --trace, same seed)");
        } else {
          result.diagnosis.push_back(
              "note: replayed with a trace sink attached, the script PASSES: tracing changes "
              "the stack's behaviour, which is a bug of its own");
        }
      }
    }
    if (!options.expect_fail) {
      if (result.passed) {
        std::fprintf(out, "ok - %s\n", name.c_str());
        ++passed;
      } else {
        std::fprintf(out, "not ok - %s\n", name.c_str());
        print_diagnosis(out, result.diagnosis);
        ++failed;
      }
    } else {
      // A self-test passes only when the script fails, and fails for the stated reason.
      const std::string failure = failure_text(result, path == "-" ? "stdin" : path);
      if (result.passed) {
        std::fprintf(out, "not ok - %s (expected to fail, but it passed)\n", name.c_str());
        ++failed;
      } else if (!expect_error) {
        std::fprintf(out, "not ok - %s (a self-test needs a '// expect-error: TEXT' line)\n", name.c_str());
        print_diagnosis(out, result.diagnosis);
        ++failed;
      } else if (failure.find(*expect_error) == std::string::npos) {
        std::fprintf(out, "not ok - %s (failed, but not with \"%s\")\n", name.c_str(), expect_error->c_str());
        print_diagnosis(out, result.diagnosis);
        ++failed;
      } else {
        std::fprintf(out, "ok - %s (failed as expected: %s)\n", name.c_str(), expect_error->c_str());
        if (options.run.verbose) print_diagnosis(out, result.diagnosis);
        ++passed;
      }
    }
    std::fflush(out);
  }
  std::fprintf(out, "# %d passed, %d failed\n", passed, failed);
  return failed > 0 ? 1 : 0;
}

}  // namespace tcplab::scenario
