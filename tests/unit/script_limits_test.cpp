// Scenario lines that ask for what no packet or socket can be: refused by the parser with
// the line, the column and the limit, before anything runs (stack/script/script.cpp), and
// what the runner then compares (stack/script/runner.cpp).
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

ParseResult parse_line(const std::string& line) { return parse_script("l.pkt", line + "\n"); }

}  // namespace

TEST_CASE("script limits: an injected segment's len counts its options against the IPv4 packet") {
  // 20 + 20 + 4 option bytes + 65495 is past RFC 791's 65535: the runner's encoder would
  // have asserted on it.
  auto r = parse_line("0 < . 1:65496(65495) ack 1 win 65535 <mss 1460>");
  REQUIRE(r.error);
  CHECK(r.error->line == 1);
  CHECK(r.error->column == 7);
  CHECK(r.error->token == "1:65496(65495)");
  CHECK(r.error->message.starts_with("len is larger than an IPv4 packet can carry (with its options)"));
  CHECK(r.error->message.find("at most 65491 payload bytes beside 4 option bytes") != std::string::npos);
  // The same on a fragment: the datagram is built whole before a piece of it is sent.
  CHECK(parse_line("0 < . 1:65496(65495) ack 1 win 65535 <mss 1460> frag 0:8").error);
  // Up to the limit the segment is built and sent, whole or as a fragment.
  CHECK(parse_line("0 < . 1:65492(65491) ack 1 win 65535 <mss 1460>").script);
  CHECK(parse_line("0 < . 1:65496(65495) ack 1 win 65535").script);
  CHECK(parse_line("0 < . 1:65484(65483) ack 1 win 65535 <nop,nop,TS val 1 ecr 0>").script);
  CHECK(parse_line("0 < . 1:65485(65484) ack 1 win 65535 <nop,nop,TS val 1 ecr 0>").error);
  // The other injected kinds at their largest run without tripping the encoder: a UDP
  // datagram of 65507 bytes, an ICMP error quoting a 65495-byte segment (no options), and
  // segments at the limit, whole and in a fragment.
  RunResult big = run_text(std::string(kPassiveOpen) +
                           "+0 < udp (65507)\n+0 > icmp unreachable port_unreachable\n"
                           "+0 < icmp unreachable frag_needed mtu 1200 [1:65496(65495)]\n"
                           "+0 < . 1:65492(65491) ack 1 win 65535 <mss 1460> frag 0:8\n");
  CHECK_FALSE(big.script_error);
}

TEST_CASE("script limits: injected options past the 40 bytes of TCP option space are refused") {
  // nop,nop,TS (12) and nop,nop,sack with 4 blocks (36): 48 bytes, where the encoder would
  // have dropped the fourth block without a word.
  auto r = parse_line("0 < . 1:1(0) ack 1 win 65535 <sack 1:2 3:4 5:6 7:8, TS val 1 ecr 0>");
  REQUIRE(r.error);
  CHECK(r.error->column == 30);
  CHECK(r.error->message.starts_with("the options take 48 bytes as laid out, but a TCP header has room "
                                     "for 40 (RFC 9293 §3.1)"));
  // The same blocks fit alone, and three beside the timestamps.
  CHECK(parse_line("0 < . 1:1(0) ack 1 win 65535 <sack 1:2 3:4 5:6 7:8>").script);
  CHECK(parse_line("0 < . 1:1(0) ack 1 win 65535 <sack 1:2 3:4 5:6, TS val 1 ecr 0>").script);
  // 4 + 12 + 4 + 28: a third block is one too many beside mss, sackOK, TS and wscale.
  CHECK(parse_line("0 < S 0:0(0) win 65535 <mss 1460, sackOK, TS val 1 ecr 0, wscale 7, sack 1:2 3:4 5:6>")
            .error);
}

TEST_CASE("script limits: state(N) = -1 EBADF is what a descriptor that is not open answers") {
  const std::string open = std::string(kPassiveOpen);
  CHECK(parse_script("s.pkt", open + "+0 state(9) = -1 EBADF\n").script);
  auto other = parse_script("s.pkt", open + "+0 state(9) = -1 EAGAIN\n");
  REQUIRE(other.error);
  CHECK(other.error->column == 15);
  CHECK(other.error->message.starts_with("state() = NAME, or -1 EBADF for a descriptor that is not open"));
  auto peer = parse_script("s.pkt", open + "+0 state(#1) = -1 EBADF\n");
  REQUIRE(peer.error);
  CHECK(peer.error->message.starts_with("state(#N) = NAME: a peer has no descriptor"));

  RunResult closed = run_text(open + "+0 state(9) = -1 EBADF\n+0 close(4) = 0\n+0 > F. 1:1(0) ack 1\n" +
                              "+0 state(4) = -1 EBADF\n");
  CHECK(closed.passed);
  std::string all;
  RunResult named = run_text(open + "+0 state(9) = CLOSED\n");
  for (const auto& d : named.diagnosis) all += d + "\n";
  CHECK(all.find("state() on fd 9, which is not open, returned -1 EBADF, the script expects CLOSED") !=
        std::string::npos);
  all.clear();
  RunResult open_fd = run_text(open + "+0 state(4) = -1 EBADF\n");
  CHECK_FALSE(open_fd.passed);
  CHECK_FALSE(open_fd.script_error);
  for (const auto& d : open_fd.diagnosis) all += d + "\n";
  CHECK(all.find("the connection is in ESTABLISHED, the script expects -1 EBADF") != std::string::npos);
}

TEST_CASE("script limits: TCP_INFO numbers are compared as numbers and range-checked when parsed") {
  const std::string call = "+0 getsockopt(4, SOL_TCP, TCP_INFO, ";
  CHECK(run_text(kPassiveOpen + call + "{tcpi_snd_cwnd=010}, [232]) = 0\n").passed);
  CHECK(run_text(kPassiveOpen + call + "{tcpi_snd_cwnd=000000000000000000000010, tcpi_snd_mss=01460}, " +
                 "[232]) = 0\n")
            .passed);
  CHECK_FALSE(run_text(kPassiveOpen + call + "{tcpi_snd_cwnd=011}, [232]) = 0\n").passed);
  auto big = parse_script("i.pkt", kPassiveOpen + call + "{tcpi_rto=99999999999999999999}, [232]) = 0\n");
  REQUIRE(big.error);
  CHECK(big.error->line == 8);
  CHECK(big.error->column == 47);
  CHECK(big.error->token == "99999999999999999999");
  CHECK(big.error->message ==
        "TCP_INFO field tcpi_rto is too large: tcp_info's fields are 32-bit (at most 4294967295)");
  CHECK(parse_script("i.pkt", kPassiveOpen + call + "{tcpi_rto=4294967296}, [232]) = 0\n").error);
  CHECK(parse_script("i.pkt", kPassiveOpen + call + "{tcpi_rto=4294967295}, [232]) = 0\n").script);
}

TEST_CASE("script limits: a backlog is a number of connections, not bytes") {
  auto r = parse_script("b.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, many) = 0\n");
  REQUIRE(r.error);
  CHECK(r.error->line == 2);
  CHECK(r.error->column == 14);
  CHECK(r.error->message == "listen(): the backlog must be a number of connections from 0 to 67108864");
  CHECK(r.error->message.find("MiB") == std::string::npos);
  CHECK(r.error->message.find("byte") == std::string::npos);
  CHECK(parse_script("b.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, 67108865) = 0\n")
            .error);
}

TEST_CASE("script limits: a misspelt directive is told to be written exactly as shown") {
  auto pending = parse_script("p.pkt", std::string("// pending: x\n") + kPassiveOpen);
  REQUIRE(pending.error);
  CHECK(pending.error->message ==
        "did you mean '// PENDING:'? Directives are written exactly as shown; write any other comment "
        "without the colon");
  CHECK(pending.error->message.find("lower case") == std::string::npos);
  auto config = parse_script("c.pkt", std::string("// CONFIG: mss=1000\n") + kPassiveOpen);
  REQUIRE(config.error);
  CHECK(config.error->message.starts_with(
      "did you mean '// config:'? Directives are written exactly as shown"));
}

TEST_CASE("script limits: a packetdrill flag line quotes the flag whole, cut at 60 bytes with '...'") {
  auto r = parse_script("f.pkt", std::string("--tolerance_usecs=10000\n") + kPassiveOpen);
  REQUIRE(r.error);
  CHECK(r.error->column == 1);
  CHECK(r.error->format() == "f.pkt:1:1: script error: packetdrill command-line flags are not supported; use "
                             "'// config:' for settings (at '--tolerance_usecs=10000')");
  auto indented = parse_script("f.pkt", "  --ip_version=ipv4 --x\n" + std::string(kPassiveOpen));
  REQUIRE(indented.error);
  CHECK(indented.error->column == 3);
  CHECK(indented.error->token == "--ip_version=ipv4");
  auto long_flag = parse_script("f.pkt", "--" + std::string(100, 'a') + "=1\n" + kPassiveOpen);
  REQUIRE(long_flag.error);
  CHECK(long_flag.error->format().ends_with("(at '--" + std::string(58, 'a') + "...')"));
}

TEST_CASE("script limits: socket() other than SOCK_STREAM, IPPROTO_TCP is a script error") {
  auto udp = parse_line("0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3");
  REQUIRE(udp.error);
  CHECK(udp.error->column == 15);
  CHECK(udp.error->token == "SOCK_DGRAM");
  CHECK(udp.error->message.starts_with("socket(): tcplab's scenario player has TCP sockets only"));
  auto proto = parse_line("0 socket(..., SOCK_STREAM, IPPROTO_UDP) = 3");
  REQUIRE(proto.error);
  CHECK(proto.error->column == 28);
  CHECK(proto.error->message == "socket(): the protocol must be IPPROTO_TCP or 0 (TCP sockets only)");
  CHECK(parse_line("0 socket(..., SOCK_RAW | SOCK_STREAM, 0) = 3").error);
  // Not a type: an empty part after a bar, or SOCK_STREAM twice.
  CHECK(parse_line("0 socket(..., SOCK_STREAM|, 0) = 3").error);
  CHECK(parse_line("0 socket(..., SOCK_STREAM | , 0) = 3").error);
  CHECK(parse_line("0 socket(..., SOCK_STREAM|SOCK_STREAM, 0) = 3").error);
  CHECK(parse_line("0 socket(..., SOCK_STREAM) = 3").error);
  CHECK(parse_line("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3").script);
  CHECK(parse_line("0 socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, 0) = 3").script);
  // IPv4 only: an AF_INET6 socket would silently be an IPv4 one.
  auto v6 = parse_line("0 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 3");
  REQUIRE(v6.error);
  CHECK(v6.error->column == 10);
  CHECK(v6.error->token == "AF_INET6");
  CHECK(v6.error->message.starts_with("socket(): tcplab's stack is IPv4 only"));
}

TEST_CASE("script limits: remote_port is 1 to 65520, so that the 16 peers' ports fit") {
  auto error_of = [](const std::string& value) {
    RunResult r = run_text("// config: remote_port=" + value + "\n" + kPassiveOpen);
    CHECK(r.script_error);
    std::string all;
    for (const auto& d : r.diagnosis) all += d + "\n";
    return all;
  };
  const std::string range = "expected a whole number from 1 to 65520 (peers #1 to #16 use remote_port to "
                            "remote_port + 15)";
  CHECK(error_of("0").find(range) != std::string::npos);
  CHECK(error_of("65521").find(range) != std::string::npos);
  CHECK(run_text(std::string("// config: remote_port=65520\n") + kPassiveOpen).passed);
  CHECK(run_text(std::string("// config: remote_port=1\n") + kPassiveOpen).passed);
}

TEST_CASE("script limits: a non-ASCII byte in an option name is shown as \\xNN, as in the token") {
  auto r = parse_line("0 < S 0:0(0) win 65535 <mss\xC2\xA0" "1460>");
  REQUIRE(r.error);
  const std::string shown = r.error->format();
  CHECK(shown.find("unknown option 'mss\\xc2\\xa01460'") != std::string::npos);
  CHECK(shown.find("(at '<mss\\xc2\\xa01460>')") != std::string::npos);
  CHECK(shown.find('\xC2') == std::string::npos);
  // The same in an ICMP code name that the message quotes.
  auto icmp = parse_line("0 > icmp unreachable code_\xC2\xA0" "1");
  REQUIRE(icmp.error);
  CHECK(icmp.error->message.find("code 'code_\\xc2\\xa01' is not supported") != std::string::npos);
  CHECK(icmp.error->format().find('\xC2') == std::string::npos);
}
