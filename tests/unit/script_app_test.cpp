// The scenario runner's application hook (stack/script/app.hpp): `// config: http=PORT` asks
// RunOptions::app_factory for an app on the stack's sockets, and the app's timers run on the
// script's virtual clock. A fake app stands in for the HTTP server here.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "stack/script/runner.hpp"
#include "stack/script/script.hpp"

using namespace tcplab;
using namespace tcplab::scenario;

namespace {

// Listens on the port it is given and wants one wakeup, 2 s after it started.
struct FakeApp final : ScriptApp, tcp::AcceptHandler {
  std::optional<Instant> due;
  // The run's record: the app itself goes with the runner.
  std::vector<Instant>* advanced = nullptr;
  uint64_t* acceptable = nullptr;
  std::optional<Instant> next_deadline() const override { return due; }
  void advance(Instant now) override {
    advanced->push_back(now);
    if (due && now >= *due) due.reset();
  }
  void on_acceptable(uint16_t) override { ++*acceptable; }
};

struct Run {
  RunResult result;
  std::vector<Instant> advanced;
  std::string name;
  uint16_t port = 0;
  uint64_t acceptable = 0;
};

enum class Factory { None, Works, Fails };

Run run(const std::string& text, Factory factory) {
  Run out;
  auto parsed = parse_script("app.pkt", text);
  REQUIRE(parsed.script);
  RunOptions options;
  options.seed = 7;
  options.out = stderr;
  if (factory != Factory::None) {
    options.app_factory = [&](const AppStart& start, std::string& error) -> std::unique_ptr<ScriptApp> {
      if (factory == Factory::Fails) {
        error = "port taken";
        return nullptr;
      }
      out.name = start.name;
      out.port = start.port;
      auto made = std::make_unique<FakeApp>();
      if (!start.sockets.listen(start.port, made.get())) {
        error = "port taken";
        return nullptr;
      }
      made->due = start.now + seconds(2);
      made->advanced = &out.advanced;
      made->acceptable = &out.acceptable;
      return made;
    };
  }
  out.result = run_script(*parsed.script, options);
  return out;
}

const char* kScript =
    "// config: http=80\n"
    "0 < S 0:0(0) win 65535 <mss 1460>\n"
    "+0 > S. 0:0(0) ack 1 <...>\n"
    "+0 < . 1:1(0) ack 1 win 65535\n"
    "+3 > none\n";

}  // namespace

TEST_CASE("script app: http=PORT starts the app there, the peers talk to it, its timer runs on time") {
  Run r = run(kScript, Factory::Works);
  std::string why = r.result.diagnosis.empty() ? "" : r.result.diagnosis.front();
  INFO(why);
  CHECK(r.result.passed);
  CHECK(r.name == "http");
  CHECK(r.port == 80);
  CHECK(r.acceptable == 1);  // the handshake reached the app's listener
  // Its deadline at 2 s was met exactly, between the lines at 0 s and 3 s.
  bool at_two = false;
  for (Instant t : r.advanced) at_two = at_two || t == Instant{} + seconds(2);
  CHECK(at_two);
}

TEST_CASE("script app: without a factory, or when the app cannot start, http= is a script error") {
  Run none = run(kScript, Factory::None);
  CHECK(none.result.script_error);
  REQUIRE_FALSE(none.result.diagnosis.empty());
  CHECK(none.result.diagnosis.front().find("app.pkt:1: script error: this program cannot start") !=
        std::string::npos);

  Run fails = run(kScript, Factory::Fails);
  CHECK(fails.result.script_error);
  REQUIRE_FALSE(fails.result.diagnosis.empty());
  CHECK(fails.result.diagnosis.front().find("did not start: port taken") != std::string::npos);

  // Port 0 is no port to listen on.
  Run zero = run("// config: http=0\n0 < S 0:0(0) win 65535\n", Factory::Works);
  CHECK(zero.result.script_error);
}
