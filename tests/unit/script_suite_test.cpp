// What the scenario player says about paths that are no scripts it can play: a device that
// never ends, files over the size cap, missing paths and dangling links (stack/script/suite.cpp).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "stack/script/script.hpp"
#include "stack/script/suite.hpp"
#include "tests/unit/script_fixtures.hpp"

using namespace tcplab::scenario;
using tcplab::scenario::testing::kPassiveOpen;

namespace {

// run_scripts() over `paths`, its printed output.
std::string run_printed(const std::vector<std::string>& paths, bool expect_fail = false) {
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  SuiteOptions options;
  options.run.seed = 1;
  options.run.out = out;
  options.expect_fail = expect_fail;
  run_scripts(paths, options);
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text += static_cast<char>(c);
  std::fclose(out);
  return text;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char name[] = "/tmp/tcplab-suite-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("script suite: a device that never ends is read up to the cap, not into all memory") {
  // /dev/zero never ends: reading it whole used to fill memory until the process died.
  std::string out = run_printed({"/dev/zero"});
  CHECK(out.find("not ok - zero\n# cannot read /dev/zero: script too large (at most 8 MiB)") !=
        std::string::npos);
  CHECK(out.find("# 0 passed, 1 failed") != std::string::npos);
}

TEST_CASE("script suite: a script larger than the cap is refused with the limit") {
  TempDir dir;
  const std::string big = (dir.path / "big.pkt").string();
  { std::ofstream create(big); }
  std::filesystem::resize_file(big, (8u << 20) + 1);
  std::string out = run_printed({big});
  CHECK(out.find("cannot read " + big + ": script too large (8388609 bytes; at most 8 MiB)") !=
        std::string::npos);
}

TEST_CASE("script suite: a missing directory and a dangling link are named") {
  std::string out = run_printed({"/nonexistent-tcplab-dir/"});
  CHECK(out.find("not ok - /nonexistent-tcplab-dir/\n# cannot read /nonexistent-tcplab-dir/: No such file") !=
        std::string::npos);
  TempDir dir;
  std::filesystem::create_symlink(dir.path / "gone.pkt", dir.path / "x.pkt");
  out = run_printed({dir.path.string()});
  CHECK(out.find("not ok - x\n# cannot read " + (dir.path / "x.pkt").string() +
                 ": a symbolic link to a file that does not exist") != std::string::npos);
}

TEST_CASE("script suite: an empty '// expect-error:' does not make a self-test pass") {
  TempDir dir;
  const std::string path = (dir.path / "ef-empty.pkt").string();
  std::ofstream(path) << "// expect-error:\n" << kPassiveOpen << "+0 read(4, ..., 10) = 3\n";
  std::string out = run_printed({path}, /*expect_fail=*/true);
  CHECK(out.find("ok - ef-empty (failed as expected") == std::string::npos);
  CHECK(out.find("not ok - ef-empty (a self-test needs a '// expect-error: TEXT' line)") !=
        std::string::npos);
}

TEST_CASE("script suite: expect-error is matched in the failure, not in the history, rerun hint or path") {
  TempDir dir;
  // The failure is a wrong read count; "win 65535" is only in a line that ran before it.
  const std::string history = (dir.path / "ef-history.pkt").string();
  std::ofstream(history) << "// expect-error: win 65535\n" << kPassiveOpen << "+0 read(4, ..., 10) = 3\n";
  CHECK(run_printed({history}, true).find("not ok - ef-history (failed, but not with \"win 65535\")") !=
        std::string::npos);
  // The file's name is in the headline's path and in the rerun hint, never in the failure.
  const std::string named = (dir.path / "ef-named.pkt").string();
  std::ofstream(named) << "// expect-error: ef-named\n" << kPassiveOpen << "+0 read(4, ..., 10) = 3\n";
  CHECK(run_printed({named}, true).find("not ok - ef-named (failed, but not with") != std::string::npos);
  // The headline without its path, and the detail lines (the script line), do count.
  const std::string right = (dir.path / "ef-right.pkt").string();
  std::ofstream(right) << "// expect-error: 9: read() returned -1 EAGAIN, the script expects 3\n"
                       << kPassiveOpen << "+0 read(4, ..., 10) = 3\n";
  CHECK(run_printed({right}, true).find("ok - ef-right (failed as expected") != std::string::npos);
  const std::string detail = (dir.path / "ef-detail.pkt").string();
  std::ofstream(detail) << "// expect-error: line 9: +0 read(4, ..., 10) = 3\n"
                        << kPassiveOpen << "+0 read(4, ..., 10) = 3\n";
  CHECK(run_printed({detail}, true).find("ok - ef-detail (failed as expected") != std::string::npos);
}
