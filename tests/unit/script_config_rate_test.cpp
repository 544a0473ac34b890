// `challenge_ack_per_second`, the script key from when the challenge-ACK limit was a host-wide
// rate, still works: it sets the per-connection limit to 1 s / N (RFC 5961 §7).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "stack/script/runner.hpp"
#include "stack/script/script.hpp"

using namespace tcplab;
using namespace tcplab::scenario;

namespace {

// The challenge-ACK scenario (spaced for one challenge per 500 ms) with one config line added.
RunResult run_with(const std::string& config_line) {
  std::ifstream in("tests/scenarios/challenge-ack-rate-limit.pkt");
  REQUIRE(in);
  std::stringstream text;
  text << config_line << "\n" << in.rdbuf();
  auto parsed = parse_script("rate.pkt", text.str());
  REQUIRE(parsed.script);
  RunOptions options;
  options.seed = 7;
  options.out = stderr;
  return run_script(*parsed.script, options);
}

}  // namespace

TEST_CASE("script config: challenge_ack_per_second=N is one challenge ACK per 1/N s per connection") {
  CHECK(run_with("// config: challenge_ack_per_second=2").passed);
  // Ten per second lets the second in-window RST, 100 ms after the first, be answered too.
  RunResult fast = run_with("// config: challenge_ack_per_second=10");
  CHECK_FALSE(fast.passed);
  CHECK_FALSE(fast.script_error);
  RunResult zero = run_with("// config: challenge_ack_per_second=0");
  CHECK(zero.script_error);
}
