// Script text and a runner shared by the scenario player's unit tests.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "stack/script/runner.hpp"
#include "stack/script/script.hpp"

namespace tcplab::scenario::testing {

// A passive open: a listener, the peer's SYN, our SYN-ACK, the peer's ACK, accept().
inline constexpr const char* kPassiveOpen =
    "0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0    bind(3, ..., ...) = 0\n"
    "+0    listen(3, 1) = 0\n"
    "+0    < S 0:0(0) win 65535 <mss 1460>\n"
    "+0    > S. 0:0(0) ack 1 <mss 1460>\n"
    "+.1   < . 1:1(0) ack 1 win 65535\n"
    "+0    accept(3, ..., ...) = 4\n";

// Parses TEXT (which must parse) and runs it with seed 1, the diagnosis on stderr.
inline RunResult run_text(const std::string& text) {
  auto parsed = parse_script("t.pkt", text);
  REQUIRE(parsed.script);
  RunOptions options;
  options.seed = 1;
  options.out = stderr;
  return run_script(*parsed.script, options);
}

}  // namespace tcplab::scenario::testing
