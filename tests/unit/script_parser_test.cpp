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

TEST_CASE("script: an icmp line in packetdrill's words, the quoted segment before or after") {
  auto r = parse(
      "+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n"
      "+0 < [S. 0:0(0)] icmp unreachable frag_needed mtu 576\n"
      "+0 < #2 icmp time_exceeded code_1 [P. 10:20(10)]\n"
      "+0 > icmp unreachable port_unreachable\n"
      "+0 > icmp unreachable\n");
  REQUIRE(r.script);
  const auto& l = r.script->lines;
  CHECK(l[2].protocol == Protocol::Icmp);
  CHECK(l[2].kind == Line::Kind::Inject);
  CHECK(l[2].icmp.type == 3);
  CHECK(l[2].icmp.code == 4);
  CHECK(l[2].icmp.mtu == 1200);
  CHECK(l[2].icmp.quote_seq == 1);
  CHECK(l[2].icmp.quote_len == 1460);
  CHECK(l[3].icmp.quote_flags.syn);
  CHECK(l[3].icmp.quote_flags.ack);
  CHECK(l[3].icmp.mtu == 576);
  CHECK(l[4].segment.peer == 2);
  CHECK(l[4].icmp.type == 11);
  CHECK(l[4].icmp.code == 1);
  CHECK(l[4].icmp.quote_seq == 10);
  CHECK(l[5].kind == Line::Kind::Expect);
  CHECK(l[5].icmp.code == 3);
  CHECK_FALSE(l[5].icmp.mtu);
  CHECK(l[6].icmp.code == 0);  // packetdrill: a missing code is code 0
  CHECK(icmp_to_string(3, 4) == "unreachable frag_needed");
  CHECK(icmp_to_string(11, 1) == "time_exceeded exceeded_frag_time");
  CHECK(icmp_to_string(5, 1) == "type_5 code_1");
}

TEST_CASE("script: icmp mistakes are refused with the reason") {
  auto message = [](const std::string& line) {
    auto r = parse(line + "\n");
    REQUIRE(r.error);
    return r.error->message;
  };
  CHECK(message("+0 < icmp redirect [1:1(0)]").find("'redirect' is not supported") != std::string::npos);
  CHECK(message("+0 < icmp bogus [1:1(0)]").find("unknown ICMP type") != std::string::npos);
  CHECK(message("+0 < icmp unreachable packet_filtered [1:1(0)]").find("not supported") != std::string::npos);
  CHECK(message("+0 < icmp unreachable code_9 [1:1(0)]").find("not supported") != std::string::npos);
  CHECK(message("+0 < icmp unreachable port_unreachable mtu 1200 [1:1(0)]")
            .find("mtu is only valid for unreachable frag_needed") != std::string::npos);
  CHECK(message("+0 < icmp unreachable frag_needed mtu 70000 [1:1(0)]").find("16 bits") != std::string::npos);
  CHECK(message("+0 < icmp unreachable frag_needed").find("quotes the segment") != std::string::npos);
  CHECK(message("+0 > icmp unreachable frag_needed [1:1(0)]").find("no quoted segment") != std::string::npos);
  CHECK(message("+0 < icmp unreachable frag_needed [1:5(1)]").find("must agree") != std::string::npos);
  CHECK(message("+0 < icmp unreachable frag_needed [1:1(0)").find("no closing ']'") != std::string::npos);
  CHECK(message("+0 < icmp").find("missing ICMP type") != std::string::npos);
  CHECK(message("+0 < icmp unreachable frag_needed [1:1(0)] frag 0:8").find("not icmp") != std::string::npos);
}

TEST_CASE("script: 'frag A:B' and 'udp (LEN)' on injected lines") {
  auto r = parse(
      "+0 < P. 1:1001(1000) ack 1 win 500 frag 0:512\n"
      "+0 < P. 1:1001(1000) ack 1 win 500 frag 512:1020\n"
      "+0 < udp (100)\n"
      "+0 < #3 udp (100) frag 8:108\n");
  REQUIRE(r.script);
  const auto& l = r.script->lines;
  REQUIRE(l[2].fragment);
  CHECK(l[2].fragment->offset == 0);
  CHECK(l[2].fragment->end == 512);
  CHECK(l[2].datagram == "P. 1:1001(1000) ack 1 win 500");
  CHECK(l[3].datagram == l[2].datagram);  // one datagram: one IP identification
  CHECK(l[2].segment.win == 500);
  CHECK(l[4].protocol == Protocol::Udp);
  CHECK(l[4].udp_len == 100);
  CHECK_FALSE(l[4].fragment);
  CHECK(l[5].segment.peer == 3);
  CHECK(l[5].fragment->offset == 8);
  CHECK(l[5].datagram == "#3 udp (100)");
  auto message = [](const std::string& line) {
    auto r = parse(line + "\n");
    REQUIRE(r.error);
    return r.error->message;
  };
  CHECK(message("+0 < . 1:1(0) ack 1 frag 4:20").find("multiple of 8") != std::string::npos);
  CHECK(message("+0 < . 1:1(0) ack 1 frag 16:8").find("B > A") != std::string::npos);
  CHECK(message("+0 < . 1:1(0) ack 1 frag 0:70000").find("65,515") != std::string::npos);
  CHECK(message("+0 < . 1:1(0) ack 1 frag 0-8").find("frag A:B") != std::string::npos);
  CHECK(message("+0 < . 1:1(0) ack 1 frag").find("frag A:B") != std::string::npos);
  CHECK(message("+0 < . 1:1(0) ack 1 frag 0:8 badsum").find("comes last") != std::string::npos);
  CHECK(message("+0 > . 1:1(0) ack 1 frag 0:8").find("injected") != std::string::npos);
  CHECK(message("+0 > udp (10)").find("tcplab sends no UDP") != std::string::npos);
  CHECK(message("+0 < udp 10").find("udp (LEN)") != std::string::npos);
  CHECK(message("+0 < udp (70000)").find("larger than an IPv4 packet") != std::string::npos);
}

TEST_CASE("script: results are checked as they are read: errno names, state names, TCP_INFO fields") {
  const std::string open = "+0 accept(3, ..., ...) = 4\n";
  auto error_of = [&](const std::string& line) {
    auto r = parse(open + line + "\n");
    REQUIRE(r.error);
    return *r.error;
  };
  CHECK(parse(open + "+0 read(4, ..., 10) = -1 EAGAIN").script);
  ScriptError e = error_of("+0 read(4, ..., 10) = -1 EFOO");
  CHECK(e.line == 4);
  CHECK(e.column == 26);
  CHECK(e.token == "EFOO");
  CHECK(e.message.starts_with("unknown errno name"));
  CHECK(error_of("+0 read(4, ..., 10) = FOO").message.starts_with("expected a number"));

  CHECK(parse(open + "+0 state(4) = TCP_TIME_WAIT").script);
  e = error_of("+0 state(4) = NONSENSE");
  CHECK(e.column == 15);
  CHECK(e.message.starts_with("unknown state"));
  CHECK(error_of("+0 state(4) = 1").message.starts_with("state() = NAME"));

  const std::string call = "+0 getsockopt(4, SOL_TCP, TCP_INFO, ";
  CHECK(parse(open + call + "{tcpi_state=1, tcpi_rto=200000, tcpi_options=A|B}, [232]) = 0").script);
  e = error_of(call + "{tcpi_state=}, [232]) = 0");
  CHECK(e.column == 38);
  CHECK(e.message == "TCP_INFO field tcpi_state has no value after '='");
  e = error_of(call + "{tcpi_state=99}, [232]) = 0");
  CHECK(e.column == 49);
  CHECK(e.token == "99");
  CHECK(e.message.starts_with("unknown tcpi_state"));
  e = error_of(call + "{tcpi_state=1 tcpi_rto=200000}, [232]) = 0");
  CHECK(e.message == "expected ',' between TCP_INFO fields");
  CHECK(error_of(call + "{tcpi_state=1, tcpi_rto=2x}, [232]) = 0").message ==
        "TCP_INFO field tcpi_rto expects a number");
  e = error_of("+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [EBOGUS], [4]) = 0");
  CHECK(e.message.starts_with("SO_ERROR is 0 or an errno name"));
}

TEST_CASE("script: rfc_state_name reads the RFC's names, Linux's names and Linux's numbers") {
  CHECK(rfc_state_name("TIME-WAIT", false) == "TIME-WAIT");
  CHECK(rfc_state_name("tcp_syn_recv", false) == "SYN-RECEIVED");
  CHECK(rfc_state_name("CLOSE", false) == "CLOSED");
  CHECK(rfc_state_name("FIN_WAIT1", false) == "FIN-WAIT-1");
  CHECK_FALSE(rfc_state_name("1", false));
  CHECK(rfc_state_name("1", true) == "ESTABLISHED");
  CHECK(rfc_state_name("11", true) == "CLOSING");
  CHECK_FALSE(rfc_state_name("0", true));
  CHECK_FALSE(rfc_state_name("12", true));
  CHECK_FALSE(rfc_state_name("", true));
  CHECK_FALSE(rfc_state_name("NONSENSE", true));
}

TEST_CASE("script: an error shows the script's unprintable bytes as \\xNN, whole") {
  auto r = parse_script("b.pkt", std::string("\x00\x01\xff garbage", 11));
  REQUIRE(r.error);
  CHECK(r.error->format() == "b.pkt:1:1: script error: bad time: expected seconds like 0.100, +0.1 or * (at "
                             "'\\x00\\x01\\xff')");
}

TEST_CASE("script: a word where a call wants a number is a script error at its column, before running") {
  const std::string open = "+0 accept(3, ..., ...) = 4\n";
  auto error_of = [&](const std::string& line) {
    auto r = parse(open + line + "\n");
    REQUIRE(r.error);
    return *r.error;
  };
  ScriptError e = error_of("+0 accept(three, ..., ...) = 5");
  CHECK(e.line == 4);
  CHECK(e.column == 11);
  CHECK(e.token == "three");
  CHECK(e.message == "accept(): the descriptor must be a number, like 3");
  e = error_of("+0 write(4, ..., lots) = 100");
  CHECK(e.column == 18);
  CHECK(e.token == "lots");
  CHECK(e.message.starts_with("write(): a byte count must be a number from 0 to 67108864"));
  CHECK(error_of("+0 read(4, ..., -5) = 0").token == "-5");
  CHECK(error_of("+0 read(4, ..., 18446744073709551615) = 0").message.find("64 MiB") != std::string::npos);
  CHECK(error_of("+0 read(4, ..., 67108865) = 0").token == "67108865");
  CHECK(error_of("+0 read(4, ...) = 0").message == "read() needs a byte count as argument 3");
  CHECK(error_of("+0 listen(x, y) = 0").token == "x");
  CHECK(error_of("+0 listen(3, y) = 0").message.starts_with("listen(): the backlog must be a number"));
  CHECK(error_of("+0 state(x) = CLOSED").token == "x");
  CHECK(error_of("+0 state(#17) = CLOSED").message == "peers are numbered #1 to #16");
  e = error_of("+0 shutdown(4, FOO) = 0");
  CHECK(e.column == 16);
  CHECK(e.message.starts_with("shutdown() supports SHUT_WR"));
  CHECK(error_of("+0 close() = 0").message == "close() needs a file descriptor argument");
  // Every form the shipped scripts and the docs use still parses.
  CHECK(parse(open +
              "+0 read(4, ..., 67108864) = -1 EAGAIN\n+0 state(#2) = CLOSED\n"
              "+0 shutdown(4, SHUT_RDWR) = 0\n+0 setsockopt(4, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n")
            .script);
}

TEST_CASE("script: '*' on an injected line is refused like on a call") {
  auto r = parse("*  < S 0:0(0) win 65535 <mss 1460>\n");
  REQUIRE(r.error);
  CHECK(r.error->line == 3);
  CHECK(r.error->column == 1);
  CHECK(r.error->message == "'*' is only allowed on '>' lines");
  CHECK(parse("+0 < S 0:0(0) win 65535\n* > S. 0:0(0) ack 1\n").script);
}

TEST_CASE("script: a time beyond the limits says which limit") {
  auto message_of = [](const std::string& time) {
    auto r = parse(time + " > none\n");
    REQUIRE(r.error);
    return r.error->message;
  };
  CHECK(parse("+0.100000 > none\n+1000000 > none\n").script);
  CHECK(message_of("+0.1000000").starts_with("time has more than microsecond precision"));
  CHECK(message_of("+0.123456789").starts_with("time has more than microsecond precision"));
  CHECK(message_of("+1000001") == "time too large (at most 1000000 s per time)");
  CHECK(message_of("0.1...1000001") == "time too large (at most 1000000 s per time)");
  CHECK(message_of("+abc").starts_with("bad time: expected seconds"));
  auto seq = parse("+0 < S 99999999999999999999:0(0) win 65535\n");
  REQUIRE(seq.error);
  CHECK(seq.error->message == "seq does not fit in 32 bits");
}

TEST_CASE("script: a UTF-8 byte order mark is skipped; other non-ASCII bytes are shown as \\xNN") {
  auto bom = parse_script("b.pkt", "\xEF\xBB\xBF// a comment first\n" + std::string(kOpen));
  CHECK(bom.script);
  auto nbsp = parse_script("n.pkt", "0\xC2\xA0socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
  REQUIRE(nbsp.error);
  CHECK(nbsp.error->format() ==
        "n.pkt:1:1: script error: bad time: expected seconds like 0.100, +0.1 or * (at "
        "'0\\xc2\\xa0socket(...,')");
  // A BOM anywhere else is a mistake, and shown.
  auto late = parse("\xEF\xBB\xBF+0 > none\n");
  REQUIRE(late.error);
  CHECK(late.error->format().find("(at '\\xef\\xbb\\xbf+0')") != std::string::npos);
}

TEST_CASE("script: a long token is cut in the diagnosis") {
  auto r = parse("+0 < S 0:0(0) win " + std::string(1'000'000, '9') + "\n");
  REQUIRE(r.error);
  const std::string shown = r.error->format();
  CHECK(shown.size() < 200);
  CHECK(shown.ends_with("(at '" + std::string(60, '9') + "...')"));
}

TEST_CASE("script: an empty '// expect-error:' and a misspelt directive are script errors") {
  auto empty = parse_script("e.pkt", std::string(kOpen) + "// expect-error:   \n");
  REQUIRE(empty.error);
  CHECK(empty.error->line == 3);
  CHECK(empty.error->message.starts_with("'// expect-error:' needs the text"));
  for (const char* near : {"// confg: mss=1000", "// CONFIG: mss=1000", "// Config : mss=1000",
                           "// expect_error: x", "// pending: later"}) {
    auto r = parse_script("c.pkt", std::string(near) + "\n" + kOpen);
    REQUIRE_MESSAGE(r.error, near);
    CHECK(r.error->line == 1);
    CHECK(r.error->message.starts_with("did you mean '// "));
  }
  auto spaceless = parse_script("s.pkt", std::string("//config: mss=1000\n") + kOpen);
  REQUIRE(spaceless.script);
  REQUIRE(spaceless.script->config.size() == 1);
  CHECK(spaceless.script->config[0].key == "mss");
  // Ordinary comments, with or without a colon, are still comments.
  CHECK(parse_script("o.pkt", std::string("// note: the SYN\n// configure nothing\n") + kOpen).script);
}

TEST_CASE("script: 'ack N' without '.' points at the ack") {
  auto r = parse("+0 < S 0:0(0) ack 1 win 65535\n");
  REQUIRE(r.error);
  CHECK(r.error->column == 15);
  CHECK(r.error->token == "ack");
}
