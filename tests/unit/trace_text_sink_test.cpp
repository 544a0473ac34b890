// Tests for the human-readable trace (stack/trace/text_sink.*): exact lines, relative
// numbers from random-looking ISNs, wrap-around, drops, timers, notes.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "stack/stack.hpp"
#include "stack/trace/format.hpp"
#include "stack/trace/text_sink.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

using namespace tcplab;
using namespace tcplab::trace;

namespace {

// Everything a sink wrote to a temporary file, read back.
class Capture {
 public:
  Capture() : file_(std::tmpfile()) { REQUIRE(file_ != nullptr); }
  ~Capture() { std::fclose(file_); }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) s.append(buf, n);
    return s;
  }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::string all = text(), cur;
    for (char c : all) {
      if (c == '\n') {
        out.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) out.push_back(cur + "<no newline>");
    return out;
  }

 private:
  std::FILE* file_;
};

const FourTuple kTuple{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40000};

wire::TcpSegment segment(uint16_t src, uint16_t dst, uint32_t seq, uint32_t ack, const char* flags,
                         uint16_t win, size_t payload_bytes = 0) {
  static std::vector<std::byte> payload(70000, std::byte{'x'});
  wire::TcpSegment s;
  s.source_port = src;
  s.destination_port = dst;
  s.seq = Seq(seq);
  s.ack = Seq(ack);
  for (const char* f = flags; *f; ++f) {
    switch (*f) {
      case 'S':
        s.flags.syn = true;
        break;
      case 'F':
        s.flags.fin = true;
        break;
      case 'R':
        s.flags.rst = true;
        break;
      case 'P':
        s.flags.psh = true;
        break;
      case '.':
        s.flags.ack = true;
        break;
    }
  }
  s.window = win;
  s.payload = std::span<const std::byte>(payload).first(payload_bytes);
  return s;
}

// A whole IPv4+TCP packet as it would cross the link.
std::vector<std::byte> tcp_packet(const wire::TcpSegment& s, wire::Ipv4Address src, wire::Ipv4Address dst) {
  std::vector<std::byte> out(20 + 60 + s.payload.size());
  size_t n = wire::emit_tcp(s, src, dst, std::span(out).subspan(20));
  wire::Ipv4Header h;
  h.protocol = static_cast<uint8_t>(wire::IpProtocol::Tcp);
  h.source = src;
  h.destination = dst;
  wire::emit_ipv4_header(h, n, out);
  out.resize(20 + n);
  return out;
}

const Instant t0 = Instant{} + seconds(1000);

}  // namespace

TEST_CASE("text trace: a handshake with Wireshark-style relative numbers") {
  Capture cap;
  TextSink sink(cap.file());
  const uint32_t iss = 0x8a3c1f05, irs = 0x1234abcd;

  auto syn = segment(40000, 80, irs, 0, "S", 64240);
  syn.options.mss = 1460;
  syn.options.sack_permitted = true;
  syn.options.timestamps = wire::TcpTimestamps{1, 0};
  syn.options.window_scale = 7;
  sink.segment(t0 + microseconds(123), SegmentEvent{Direction::In, kTuple, syn, true, Seq(iss), Seq(irs)});

  auto synack = segment(80, 40000, iss, irs + 1, "S.", 65535);
  synack.options.mss = 1460;
  sink.segment(t0 + microseconds(140),
               SegmentEvent{Direction::Out, kTuple, synack, true, Seq(iss), Seq(irs)});

  auto data = segment(40000, 80, irs + 1, iss + 1, "P.", 502, 78);
  sink.segment(t0 + microseconds(100140),
               SegmentEvent{Direction::In, kTuple, data, true, Seq(iss), Seq(irs)});

  auto ack = segment(80, 40000, iss + 1, irs + 79, ".", 65535);
  sink.segment(t0 + milliseconds(300),
               SegmentEvent{Direction::Out, kTuple, ack, true, Seq(iss), Seq(irs), "retransmission"});

  auto lines = cap.lines();
  REQUIRE(lines.size() == 4);
  // Time counts from the first event, so the SYN is at 0.
  CHECK(lines[0] ==
        "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  S 0:0(0) win 64240 "
        "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>");
  CHECK(lines[1] == "0.000017 Out 192.0.2.2:80 > 192.0.2.1:40000  S. 0:0(0) ack 1 win 65535 <mss 1460>");
  CHECK(lines[2] == "0.100017 In  192.0.2.1:40000 > 192.0.2.2:80  P. 1:79(78) ack 1 win 502");
  CHECK(lines[3] ==
        "0.299877 Out 192.0.2.2:80 > 192.0.2.1:40000  . 1:1(0) ack 79 win 65535 [retransmission]");
}

TEST_CASE("text trace: a fault line numbers its segment like the segment lines, once both ISNs are known") {
  Capture cap;
  TextSink sink(cap.file());
  const uint32_t iss = 5000, irs = 90000;
  // Our SYN (SYN-SENT): the peer's ISN is not known yet, so a fault on its SYN-ACK is absolute.
  auto syn = segment(80, 40000, iss, 0, "S", 65535);
  sink.segment(t0, SegmentEvent{Direction::Out, kTuple, syn, true, Seq(iss), Seq()});
  auto synack = segment(40000, 80, irs, iss + 1, "S.", 64240);
  sink.fault(t0, Direction::In, "dropped (drop in synack)",
             tcp_packet(synack, kTuple.remote_ip, kTuple.local_ip));
  // Established: both known, and the dropped data segment reads like its neighbours.
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, synack, true, Seq(iss), Seq(irs)});
  auto data = segment(80, 40000, iss + 1, irs + 1, ".", 65535, 100);
  sink.fault(t0, Direction::Out, "dropped (drop out data#1)",
             tcp_packet(data, kTuple.local_ip, kTuple.remote_ip));
  auto lines = cap.lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] == "0.000000 fault in dropped (drop in synack)  192.0.2.1:40000 > 192.0.2.2:80 S. seq 90000 "
                    "ack 5001 win 64240 len 0");
  CHECK(lines[3] == "0.000000 fault out dropped (drop out data#1)  192.0.2.2:80 > 192.0.2.1:40000  "
                    ". 1:101(100) ack 1 win 65535");
}

TEST_CASE("text trace: a drop line numbers a traced connection's segment like the segment lines") {
  Capture cap;
  TextSink sink(cap.file());
  const uint32_t iss = 5000, irs = 90000;
  auto fin = segment(40000, 80, irs + 1, iss + 2, "F.", 1000);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, fin, true, Seq(iss), Seq(irs)});
  sink.drop(t0, DropReason::TcpUnacceptableSegment, tcp_packet(fin, kTuple.remote_ip, kTuple.local_ip),
            "a detail");
  // Another connection (port 40001) was never traced: its numbers stay raw.
  auto other = segment(40001, 80, irs + 1, iss + 2, "F.", 1000);
  sink.drop(t0, DropReason::TcpUnacceptableSegment, tcp_packet(other, kTuple.remote_ip, kTuple.local_ip), {});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  F. 1:1(0) ack 2 win 1000");
  CHECK(lines[1] == "0.000000 drop tcp-unacceptable-segment a detail  192.0.2.1:40000 > 192.0.2.2:80  "
                    "F. 1:1(0) ack 2 win 1000");
  CHECK(lines[2] == "0.000000 drop tcp-unacceptable-segment  192.0.2.1:40001 > 192.0.2.2:80 F. seq 90001 "
                    "ack 5002 win 1000 len 0");
}

TEST_CASE("text trace: relative numbers survive the 2^32 wrap") {
  Capture cap;
  TextSink sink(cap.file());
  const uint32_t iss = 0xFFFFFFF0, irs = 0xFFFFFF00;
  // Our seq is iss + 1 + 100 = 0x55 after wrapping; the peer's ack of it likewise.
  auto out = segment(80, 40000, iss + 101, irs + 1, "P.", 1000, 1460);
  sink.segment(t0, SegmentEvent{Direction::Out, kTuple, out, true, Seq(iss), Seq(irs)});
  auto in = segment(40000, 80, irs + 1, iss + 101 + 1460, ".", 500);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, in, true, Seq(iss), Seq(irs)});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "0.000000 Out 192.0.2.2:80 > 192.0.2.1:40000  P. 101:1561(1460) ack 1 win 1000");
  CHECK(lines[1] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  . 1:1(0) ack 1561 win 500");
}

TEST_CASE("text trace: without known ISNs the numbers are absolute") {
  Capture cap;
  TextSink sink(cap.file());
  // RFC 9293 §3.10.7.1: the RST answering a segment to a closed port has no connection.
  auto rst = segment(81, 40000, 0, 3000000001u, "R.", 0);
  sink.segment(t0, SegmentEvent{Direction::Out, kTuple, rst, false, Seq(), Seq()});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "0.000000 Out 192.0.2.2:80 > 192.0.2.1:40000  R. 0:0(0) ack 3000000001 win 0");
}

TEST_CASE("text trace: a SYN is its own origin even before the connection knows its ISNs") {
  Capture cap;
  TextSink sink(cap.file());
  // A SYN arriving in LISTEN is traced before any TCB exists (relative = false), but its
  // sequence number is the peer's ISN, so it reads S 0:0(0) as in Wireshark.
  auto syn = segment(40000, 80, 120181493, 0, "S", 64240);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, syn, false, Seq(), Seq()});
  // A SYN-ACK without known ISNs: seq from itself, the ack stays absolute.
  auto synack = segment(40000, 80, 77, 5001, "S.", 100);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, synack, false, Seq(), Seq()});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  S 0:0(0) win 64240");
  CHECK(lines[1] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  S. 0:0(0) ack 5001 win 100");
}

TEST_CASE("text trace: state changes, timers and notes") {
  Capture cap;
  TextSink sink(cap.file());
  sink.state_change(t0, kTuple, "LISTEN", "SYN-RECEIVED", "RFC 9293 §3.10.7.2");
  sink.timer(t0 + milliseconds(1), kTuple, "rto", TimerAction::Armed, t0 + milliseconds(201));
  sink.timer(t0 + milliseconds(201), kTuple, "rto", TimerAction::Fired, t0 + milliseconds(201));
  sink.timer(t0 + milliseconds(250), kTuple, "time-wait", TimerAction::Cancelled, t0);
  sink.note(t0 + seconds(2), &kTuple, "accept queue: 1 waiting");
  sink.note(t0 + seconds(2), nullptr, "ICMP echo reply to 192.0.2.1");
  auto lines = cap.lines();
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] ==
        "0.000000 state 192.0.2.2:80 <> 192.0.2.1:40000 LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2)");
  CHECK(lines[1] == "0.001000 timer 192.0.2.2:80 <> 192.0.2.1:40000 rto armed +0.200000");
  CHECK(lines[2] == "0.201000 timer 192.0.2.2:80 <> 192.0.2.1:40000 rto fired");
  CHECK(lines[3] == "0.250000 timer 192.0.2.2:80 <> 192.0.2.1:40000 time-wait cancelled");
  CHECK(lines[4] == "2.000000 note 192.0.2.2:80 <> 192.0.2.1:40000 accept queue: 1 waiting");
  CHECK(lines[5] == "2.000000 note ICMP echo reply to 192.0.2.1");
}

TEST_CASE("text trace: congestion window changes with the rule") {
  Capture cap;
  TextSink sink(cap.file());
  sink.congestion(t0, kTuple, 14600, UINT64_MAX, "RFC 6928 §2 (initial window)");
  sink.congestion(t0 + milliseconds(5), kTuple, 1460, 7300, "RFC 5681 §3.1 (timeout)");
  auto lines = cap.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "0.000000 cwnd 192.0.2.2:80 <> 192.0.2.1:40000 14600 ssthresh inf (RFC 6928 §2 (initial window))");
  CHECK(lines[1] ==
        "0.005000 cwnd 192.0.2.2:80 <> 192.0.2.1:40000 1460 ssthresh 7300 "
        "(RFC 5681 §3.1 (timeout))");
}

TEST_CASE("text trace: drops name the reason and summarise the packet") {
  Capture cap;
  TextSink sink(cap.file());
  auto syn = segment(40000, 81, 1234567, 0, "S", 64240);
  auto packet = tcp_packet(syn, kTuple.remote_ip, kTuple.local_ip);
  sink.drop(t0, DropReason::TcpNoConnection, packet, "port 81 closed");

  // A corrupt IPv4 header cannot be parsed, so the line shows its first bytes instead.
  auto bad = packet;
  bad[10] ^= std::byte{0xff};
  sink.drop(t0 + microseconds(5), DropReason::Ipv4BadChecksum, bad, {});
  std::vector<std::byte> tiny{std::byte{0x45}, std::byte{0x00}};
  sink.drop(t0 + microseconds(6), DropReason::Ipv4Truncated, tiny, {});

  auto lines = cap.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "0.000000 drop tcp-no-connection port 81 closed  192.0.2.1:40000 > 192.0.2.2:81 S seq 1234567 win "
        "64240 len 0");
  CHECK(lines[1].rfind("0.000005 drop ipv4-bad-checksum  40 bytes: 45 00 00 28 ", 0) == 0);
  CHECK(lines[1].size() == std::string("0.000005 drop ipv4-bad-checksum  40 bytes:").size() + 20 * 3 + 4);
  CHECK(lines[1].substr(lines[1].size() - 4) == " ...");
  CHECK(lines[2] == "0.000006 drop ipv4-truncated  2 bytes: 45 00");
}

TEST_CASE("text trace: raw packets are left to the pcap sink") {
  Capture cap;
  TextSink sink(cap.file());
  std::vector<std::byte> bytes(40, std::byte{0x45});
  sink.packet(t0, Direction::In, bytes);
  CHECK(cap.text().empty());
  // ...and the first printed event still starts the clock at 0.
  sink.note(t0 + seconds(1), nullptr, "hello");
  CHECK(cap.text() == "0.000000 note hello\n");
}

TEST_CASE("format: a TCP segment refused for its options still shows its ports, flags and numbers") {
  wire::Ipv4Header h;
  h.source = kTuple.remote_ip;
  h.destination = kTuple.local_ip;
  h.protocol = 6;
  std::vector<std::byte> p(20 + 24);
  wire::emit_ipv4_header(h, 24, p);
  auto tcp = std::span(p).subspan(20);
  const uint8_t fixed[20] = {0x9c, 0x40, 0x00, 0x50, 0, 0, 0x03, 0xe8, 0, 0, 0, 0,
                             0x60, 0x02, 0xff, 0xff, 0, 0, 0, 0};  // 40000 > 80, SYN, seq 1000
  for (size_t i = 0; i < 20; ++i) tcp[i] = std::byte{fixed[i]};
  tcp[20] = std::byte{2};  // MSS with length 0: a malformed option
  tcp[21] = std::byte{0};
  auto text = packet_summary(p);
  CHECK(text.starts_with("192.0.2.1:40000 > 192.0.2.2:80 S seq 1000 ("));
  CHECK(text.ends_with(", 24 bytes)"));
  // Shorter than a TCP header: only the addresses.
  std::vector<std::byte> tiny(20 + 8);
  wire::emit_ipv4_header(h, 8, tiny);
  CHECK(packet_summary(tiny).starts_with("192.0.2.1 > 192.0.2.2 tcp ("));
}

TEST_CASE("format: packet summaries for ICMP, UDP and other protocols") {
  wire::Ipv4Header h;
  h.source = kTuple.remote_ip;
  h.destination = kTuple.local_ip;
  std::vector<std::byte> p(20 + 16);
  h.protocol = 17;
  wire::emit_ipv4_header(h, 16, p);
  CHECK(packet_summary(p) == "192.0.2.1 > 192.0.2.2 udp len 16");
  h.protocol = 47;
  wire::emit_ipv4_header(h, 16, p);
  CHECK(packet_summary(p) == "192.0.2.1 > 192.0.2.2 proto 47 len 16");
  h.protocol = 1;
  wire::emit_ipv4_header(h, 16, p);
  // All-zero ICMP bytes have a wrong checksum: the summary says so rather than guessing.
  CHECK(packet_summary(p) == "192.0.2.1 > 192.0.2.2 icmp (icmp-bad-checksum) len 16");
  std::vector<std::byte> echo(16);
  size_t n = wire::emit_icmp(8, 0, 0x00010002, std::span(echo).first(0), std::span(p).subspan(20));
  wire::emit_ipv4_header(h, n, p);
  CHECK(packet_summary(std::span(p).first(20 + n)) == "192.0.2.1 > 192.0.2.2 icmp type 8 code 0 len 8");
}

namespace {
class IgnoreAccepts final : public tcp::AcceptHandler {
 public:
  void on_acceptable(uint16_t) override {}
};
}  // namespace

TEST_CASE("text trace: a handshake through the real stack reads like Wireshark") {
  Capture cap;
  TextSink sink(cap.file());
  trace::Tracer tracer;
  tracer.add(&sink);
  StackConfig config;
  config.tcp.fixed_isn = 0xFFFFFFFE;  // our ISN two short of the wrap
  Stack stack(config, tracer);
  IgnoreAccepts accepts;
  REQUIRE(stack.tcp().listen(80, &accepts));

  const uint32_t irs = 3000000000u;
  auto syn = segment(40000, 80, irs, 0, "S", 64240);
  syn.options.mss = 1460;
  stack.receive(tcp_packet(syn, kTuple.remote_ip, kTuple.local_ip), t0);
  REQUIRE(stack.outbox().size() == 1);
  stack.outbox().clear();
  auto ack = segment(40000, 80, irs + 1, 0xFFFFFFFF, ".", 502);  // acks our SYN: ISN + 1
  stack.receive(tcp_packet(ack, kTuple.remote_ip, kTuple.local_ip), t0 + microseconds(300));

  std::vector<std::string> segments, states;
  for (auto& line : cap.lines()) {
    if (line.find(" In  ") != std::string::npos || line.find(" Out ") != std::string::npos)
      segments.push_back(line);
    if (line.find(" state ") != std::string::npos) states.push_back(line);
  }
  REQUIRE(segments.size() == 3);
  CHECK(segments[0] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  S 0:0(0) win 64240 <mss 1460>");
  CHECK(segments[1].rfind("0.000000 Out 192.0.2.2:80 > 192.0.2.1:40000  S. 0:0(0) ack 1 win ", 0) == 0);
  CHECK(segments[2] == "0.000300 In  192.0.2.1:40000 > 192.0.2.2:80  . 1:1(0) ack 1 win 502");
  REQUIRE(states.size() == 2);
  CHECK(states[0].find("192.0.2.2:80 <> 192.0.2.1:40000") != std::string::npos);
  CHECK(states[0].find("LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2") != std::string::npos);
  CHECK(states[1].find("SYN-RECEIVED -> ESTABLISHED (RFC 9293 §3.10.7.4") != std::string::npos);
}

TEST_CASE("text trace: colour marks flags, notes, state changes and drops; off by default") {
  auto run = [](bool colour) {
    Capture cap;
    TextSink sink(cap.file(), TextSink::Options{colour, false});
    auto rst = segment(40000, 80, 7, 0, "R", 0);
    sink.segment(t0, SegmentEvent{Direction::In, kTuple, rst, false, Seq(), Seq()});
    auto ack = segment(80, 40000, 1, 1, ".", 100);
    sink.segment(t0, SegmentEvent{Direction::Out, kTuple, ack, true, Seq(0), Seq(0), "retransmission"});
    sink.state_change(t0, kTuple, "ESTABLISHED", "CLOSED", "RFC 9293 §3.10.7.4 second");
    std::vector<std::byte> junk(3, std::byte{0x45});
    sink.drop(t0, DropReason::Ipv4Truncated, junk, {});
    return cap.lines();
  };
  auto plain = run(false);
  REQUIRE(plain.size() == 4);
  CHECK(plain[0] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  R 7:7(0) win 0");
  for (const auto& l : plain) CHECK(l.find('\033') == std::string::npos);

  auto coloured = run(true);
  REQUIRE(coloured.size() == 4);
  CHECK(coloured[0] ==
        "0.000000 \033[36mIn \033[0m 192.0.2.1:40000 > 192.0.2.2:80  \033[1;31mR\033[0m 7:7(0) win 0");
  CHECK(coloured[1].find("\033[33m[retransmission]\033[0m") != std::string::npos);
  CHECK(coloured[2].find("\033[1;35mESTABLISHED -> CLOSED\033[0m") != std::string::npos);
  CHECK(coloured[3].starts_with("0.000000 \033[31mdrop ipv4-truncated\033[0m"));
}

TEST_CASE("text trace: --absolute prints the raw numbers, SYN included") {
  Capture cap;
  TextSink sink(cap.file(), TextSink::Options{false, true});
  const uint32_t iss = 0x8a3c1f05, irs = 0x1234abcd;
  auto syn = segment(40000, 80, irs, 0, "S", 64240);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, syn, false, Seq(), Seq()});
  auto synack = segment(80, 40000, iss, irs + 1, "S.", 65535);
  sink.segment(t0, SegmentEvent{Direction::Out, kTuple, synack, true, Seq(iss), Seq(irs)});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "0.000000 In  192.0.2.1:40000 > 192.0.2.2:80  S 305441741:305441741(0) win 64240");
  CHECK(lines[1] ==
        "0.000000 Out 192.0.2.2:80 > 192.0.2.1:40000  S. 2319195909:2319195909(0) ack 305441742 win 65535");
}
