// The scenario parser's packetdrill syntax: "A...B" time ranges, skipped shell and python
// lines, and options that are refused with a reason (stack/script/script.cpp).
#include <doctest/doctest.h>

#include "stack/script/script.hpp"

using namespace tcplab::scenario;

namespace {

const char* kOpen =
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0 listen(3, 1) = 0\n";

ParseResult parse(const std::string& body) { return parse_script("t.pkt", kOpen + body); }

}  // namespace

TEST_CASE("script: '+A...B' counts both ends from the previous line, 'A...B' none") {
  auto r = parse("+.01...0.011 > S. 0:0(0) ack 1\n0.100...0.200 > . 1:1(0) ack 1\n");
  REQUIRE(r.script);
  const TimeSpec& rel = r.script->lines[2].time;
  CHECK(rel.kind == TimeSpec::Kind::Relative);
  CHECK(rel.value == 10'000);
  REQUIRE(rel.range_end);
  CHECK(rel.range_end->first == TimeSpec::Kind::Relative);
  CHECK(rel.range_end->second == 11'000);
  const TimeSpec& abs = r.script->lines[3].time;
  CHECK(abs.kind == TimeSpec::Kind::Absolute);
  REQUIRE(abs.range_end);
  CHECK(abs.range_end->first == TimeSpec::Kind::Absolute);
  CHECK(abs.range_end->second == 200'000);
}

TEST_CASE("script: a range is allowed on a call, '*' is not, and a range needs an end") {
  CHECK(parse("0.1...0.2 accept(3, ..., ...) = -1 EAGAIN\n").script);
  auto star = parse("* accept(3, ..., ...) = -1 EAGAIN\n");
  REQUIRE(star.error);
  CHECK(star.error->message.find("'*' is only allowed on '>' lines") != std::string::npos);
  auto open = parse("+0.1... > . 1:1(0) ack 1\n");
  REQUIRE(open.error);
  CHECK(open.error->message.find("needs an end") != std::string::npos);
}

TEST_CASE("script: shell lines and python blocks are counted, not run") {
  auto r = parse(
      "`sysctl -q x=1`\n+0 `echo`\n+0 %{ assert a // 2 == 1 }%\n%{\nx = 1 // 2\n}%\n"
      "+0 accept(3, ..., ...) = -1 EAGAIN\n");
  REQUIRE(r.script);
  CHECK(r.script->skipped_shell_lines == 2);
  CHECK(r.script->skipped_python_blocks == 2);
  CHECK(r.script->lines.size() == 3);
  CHECK(skipped_note(*r.script) == "skipped 2 shell lines and 2 python blocks: tcplab does not run them");
  auto one = parse("%{ pass }%\n");
  REQUIRE(one.script);
  CHECK(skipped_note(*one.script) == "skipped 1 python block: tcplab does not run them");
  auto unclosed = parse("+0 %{\nx = 1\n");
  REQUIRE(unclosed.error);
  CHECK(unclosed.error->line == 3);
  CHECK(unclosed.error->message == "python block is never closed with }%");
}

TEST_CASE("script: Fast Open and other unimplemented options are refused by name and line") {
  auto r = parse("+0 < S 0:0(0) win 65535 <mss 1460,FO abcd1234,nop,nop>\n");
  REQUIRE(r.error);
  CHECK(r.error->line == 3);
  CHECK(r.error->format().find("option 'FO' is not supported: TCP Fast Open (RFC 7413") != std::string::npos);
  auto md5 = parse("+0 > S. 0:0(0) ack 1 <md5 1234>\n");
  REQUIRE(md5.error);
  CHECK(md5.error->message.find("RFC 2385") != std::string::npos);
  auto unknown = parse("+0 > S. 0:0(0) ack 1 <frobnicate>\n");
  REQUIRE(unknown.error);
  CHECK(unknown.error->message.find("unknown option 'frobnicate'") != std::string::npos);
}
