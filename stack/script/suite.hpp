// Runs a list of scenario scripts (files or directories of *.pkt) and prints one "ok - NAME"
// or "not ok - NAME" line each, with the diagnosis of a failure (mismatch table, history).
// build/scenario-tests and `tcplab script` both print their results through this.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "stack/script/runner.hpp"

namespace tcplab::scenario {

struct SuiteOptions {
  RunOptions run;  // for every script; run.seed is the one seed of the whole list
  // Self-tests: every script must FAIL, with the text of its '// expect-error:' line in the
  // diagnosis.
  bool expect_fail = false;
  // Called before each script runs (tcplab script resets its sinks' clocks here).
  std::function<void(const std::string& path)> before_script;
};

// Files named directly are taken as they are; a directory contributes its *.pkt files
// (not subdirectories), sorted. A directory without scripts is a failure of its own.
struct ScriptList {
  std::vector<std::string> files;
  std::vector<std::string> empty_directories;
};
ScriptList expand_script_paths(const std::vector<std::string>& paths);

// Runs the list and prints to options.run.out; returns 0 when everything passed (or failed
// as expected), 1 otherwise. q in step mode ends the list early: the stopped script and the
// ones after it count as neither passed nor failed, and the run returns 1 (not all passed).
int run_scripts(const std::vector<std::string>& paths, const SuiteOptions& options);

}  // namespace tcplab::scenario
