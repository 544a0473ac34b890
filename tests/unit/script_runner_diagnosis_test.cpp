// Runner diagnoses that must not blame the stack for the script's own choices, and config
// values that cannot work, refused before anything runs (stack/script/runner.cpp).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "stack/script/runner.hpp"
#include "stack/script/script.hpp"
#include "tests/unit/script_fixtures.hpp"

using namespace tcplab::scenario;
using tcplab::scenario::testing::kPassiveOpen;
using tcplab::scenario::testing::run_text;

namespace {

std::string all_of(const RunResult& r) {
  std::string all;
  for (const auto& d : r.diagnosis) all += d + "\n";
  return all;
}

}  // namespace

TEST_CASE("script runner: read() of payload text says the script sent it, not that the stack lost it") {
  RunResult r = run_text(std::string(kPassiveOpen) + "+0 < P. 1:6(5) ack 1 win 65535 \"Hello\"\n" +
                         "+0 read(4, ..., 100) = 5\n");
  REQUIRE_FALSE(r.passed);
  const std::string all = all_of(r);
  CHECK(all.find("read() returned \"H\" at stream byte 0 where read() expects the filler byte \"a\"") !=
        std::string::npos);
  CHECK(all.find("the peer sent") == std::string::npos);
  CHECK(all.find("out of order, duplicated or lost") == std::string::npos);
  CHECK(all.find("payload text") != std::string::npos);
}

TEST_CASE("script runner: config values that cannot work are refused with the range") {
  auto error_of = [](const std::string& config) {
    RunResult r = run_text(config + "\n" + kPassiveOpen);
    CHECK(r.script_error);
    return all_of(r);
  };
  CHECK(error_of("// config: port=0").find("expected a whole number from 1 to 65535") != std::string::npos);
  CHECK(error_of("// config: mtu=10").find("expected a whole number from 68 to 65535") != std::string::npos);
  std::string rto = error_of("// config: rto_min=5s rto_max=1s");
  CHECK(rto.find("rto_min (5.000 s) is above rto_max (1.000 s)") != std::string::npos);
  CHECK(error_of("// config: rto_max=100ms").find("is above rto_max") != std::string::npos);
  CHECK(run_text(std::string("// config: port=1 mtu=1500 rto_min=1s rto_max=1s\n") + kPassiveOpen).passed);
}

TEST_CASE("script runner: a call on a descriptor that is not open returns -1 EBADF, as scripts expect") {
  // After close(4) the descriptor is gone: packetdrill scripts write the kernel's answer.
  RunResult closed = run_text(std::string(kPassiveOpen) + "+0 close(4) = 0\n+0 > F. 1:1(0) ack 1\n" +
                              "+0 close(4) = -1 EBADF\n+0 fcntl(4, F_GETFL) = -1 EBADF\n");
  CHECK(closed.passed);
  CHECK(all_of(closed).empty());
  RunResult wrong = run_text(std::string(kPassiveOpen) + "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n" +
                             "+0 fcntl(4, F_GETFL) = 2050\n+0 close(5) = 0\n");
  REQUIRE_FALSE(wrong.passed);
  CHECK(all_of(wrong).find("close() on fd 5, which is not open, returned -1 EBADF, the script expects 0") !=
        std::string::npos);
}

TEST_CASE("script runner: SO_LINGER's onoff and linger are numbers, linger=05 is no abort") {
  auto linger = [](const std::string& value, const std::string& expected) {
    return run_text(std::string(kPassiveOpen) + "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, " + value +
                    ", 8) = 0\n+0 close(4) = 0\n+0 " + expected + "\n");
  };
  CHECK(linger("{onoff=1, linger=05}", "> F. 1:1(0) ack 1").passed);
  CHECK(linger("{onoff=10, linger=0}", "> R 1:1(0)").passed);
  CHECK(linger("{ linger = 0, onoff = 1 }", "> R 1:1(0)").passed);
  CHECK(linger("{onoff=0, linger=0}", "> F. 1:1(0) ack 1").passed);
  RunResult bad = linger("{onoff=1, linger=zero}", "> R 1:1(0)");
  CHECK(bad.script_error);
  CHECK(all_of(bad).find("SO_LINGER takes {onoff=N, linger=SECONDS}") != std::string::npos);
}

TEST_CASE("script runner: '> #N none' is about peer N's packets, not another peer's") {
  // Peer #1's SYN-ACK is still unmatched when '> #2 none' runs: peer #2 was sent nothing.
  const std::string open2 =
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, 2) = 0\n"
      "+0 < S 0:0(0) win 65535 <mss 1460>\n";
  RunResult quiet = run_text(open2 + "+0 > #2 none\n+0 > S. 0:0(0) ack 1 <mss 1460>\n");
  CHECK(quiet.passed);
  CHECK(all_of(quiet).empty());
  RunResult owed = run_text(open2 + "+0 > #1 none\n");
  REQUIRE_FALSE(owed.passed);
  CHECK(all_of(owed).find("unexpected packet to peer #1 where the script expects none") != std::string::npos);
}

TEST_CASE("script runner: '*' on a '>' line matches a packet sent before the clock reached it") {
  // Both segments leave at 0.100; the first is matched 5 ms later, within the tolerance, so
  // the clock is at 0.105 when '*' asks for the second.
  RunResult r = run_text(std::string(kPassiveOpen) + "+0 write(4, ..., 2920) = 2920\n" +
                         "+.005 > . 1:1461(1460) ack 1\n* > P. 1461:2921(1460) ack 1\n" +
                         "+.1 < . 1:1(0) ack 2921 win 65535\n");
  CHECK(r.passed);
  CHECK(all_of(r).empty());
}

TEST_CASE("script runner: the rerun hint of a script from stdin reads it from '-' again") {
  auto parsed = parse_script("stdin", std::string(kPassiveOpen) + "+0 read(4, ..., 10) = 3\n");
  REQUIRE(parsed.script);
  parsed.script->from_stdin = true;
  RunOptions options;
  options.seed = 1;
  options.out = stderr;
  const std::string all = all_of(run_script(*parsed.script, options));
  CHECK(all.find("--seed 1 --verbose - (the script on stdin again)") != std::string::npos);
  CHECK(all.find("--verbose stdin") == std::string::npos);
}

TEST_CASE("script runner: EWOULDBLOCK is EAGAIN, as on Linux") {
  CHECK(run_text(std::string(kPassiveOpen) + "+0 read(4, ..., 10) = -1 EWOULDBLOCK\n" +
                 "+0 accept(3, ..., ...) = -1 EWOULDBLOCK\n")
            .passed);
  CHECK_FALSE(run_text(std::string(kPassiveOpen) + "+0 read(4, ..., 10) = -1 EINTR\n").passed);
}
