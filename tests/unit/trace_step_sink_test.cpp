// Tests for step mode (stack/trace/step_sink.*): the command parser, the pause decision, and
// the sink driven by commands from a file the way a pipe or a terminal would feed it.
#include <doctest/doctest.h>

#include <cstdio>
#include <optional>
#include <string>

#include "stack/trace/step_sink.hpp"

using namespace tcplab;
using namespace tcplab::trace;
using Kind = StepCommand::Kind;

namespace {

const FourTuple kTuple{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40000};
const Instant t0 = Instant{} + seconds(1000);

// A file holding `text`, rewound, to read commands from.
std::FILE* input(const std::string& text) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  std::fputs(text.c_str(), f);
  std::rewind(f);
  return f;
}

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

wire::TcpSegment segment(const char* flags) {
  wire::TcpSegment s;
  s.source_port = 40000;
  s.destination_port = 80;
  for (const char* f = flags; *f; ++f) {
    if (*f == 'S') s.flags.syn = true;
    if (*f == 'R') s.flags.rst = true;
    if (*f == '.') s.flags.ack = true;
  }
  s.window = 1000;
  return s;
}

}  // namespace

TEST_CASE("step commands: every key and its mistakes") {
  CHECK(parse_step_command("").kind == Kind::Next);
  CHECK(parse_step_command("  n ").kind == Kind::Next);
  CHECK(parse_step_command("next").kind == Kind::Next);
  CHECK(parse_step_command("c").kind == Kind::Continue);
  CHECK(parse_step_command("p").kind == Kind::Print);
  CHECK(parse_step_command("q").kind == Kind::Quit);
  CHECK(parse_step_command("?").kind == Kind::Help);
  CHECK(parse_step_command("b rst").kind == Kind::BreakRst);
  CHECK(parse_step_command("b RST").kind == Kind::BreakRst);
  CHECK(parse_step_command("b retransmission").kind == Kind::BreakRetransmission);

  auto b = parse_step_command("b ESTABLISHED");
  CHECK(b.kind == Kind::BreakState);
  CHECK(b.state == "ESTABLISHED");
  // Case and Linux spellings (tcp_states.h) map to the RFC names.
  CHECK(parse_step_command("b time_wait").state == "TIME-WAIT");
  CHECK(parse_step_command("break syn_recv").state == "SYN-RECEIVED");
  CHECK(parse_step_command("b TCP_FIN_WAIT1").state == "FIN-WAIT-1");

  auto unknown_state = parse_step_command("b ESTABLISH");
  CHECK(unknown_state.kind == Kind::Invalid);
  CHECK(unknown_state.error.find("'ESTABLISH' is neither a state") != std::string::npos);
  CHECK(parse_step_command("b").kind == Kind::Invalid);
  CHECK(parse_step_command("b rst now").kind == Kind::Invalid);
  CHECK(parse_step_command("n 3").kind == Kind::Invalid);
  auto junk = parse_step_command("xyzzy");
  CHECK(junk.kind == Kind::Invalid);
  CHECK(junk.error == "unknown command 'xyzzy' (h for help)");
  // An arrow key sends ESC [ A: echoed raw it would move the terminal's cursor.
  CHECK(parse_step_command("\x1b[A").error == "unknown command '\\x1b[A' (h for help)");
}

TEST_CASE("step decision: which events end the run towards each goal") {
  StepEvent in{StepEvent::Kind::SegmentIn, false, false, {}};
  StepEvent out{StepEvent::Kind::SegmentOut, false, false, {}};
  StepEvent rst_in{StepEvent::Kind::SegmentIn, true, false, {}};
  StepEvent retransmit{StepEvent::Kind::SegmentOut, false, true, {}};
  StepEvent to_established{StepEvent::Kind::StateChange, false, false, "ESTABLISHED"};
  StepEvent to_time_wait{StepEvent::Kind::StateChange, false, false, "TIME-WAIT"};

  StepGoal every{StepGoal::Kind::EverySegment, {}};
  CHECK(should_pause(every, in));
  CHECK(should_pause(every, out));
  CHECK_FALSE(should_pause(every, to_established));  // state changes show in the TCB

  StepGoal never{StepGoal::Kind::Never, {}};
  CHECK_FALSE(should_pause(never, in));
  CHECK_FALSE(should_pause(never, rst_in));
  CHECK_FALSE(should_pause(never, to_established));

  StepGoal established{StepGoal::Kind::State, "ESTABLISHED"};
  CHECK(should_pause(established, to_established));
  CHECK_FALSE(should_pause(established, to_time_wait));
  CHECK_FALSE(should_pause(established, in));

  StepGoal rst{StepGoal::Kind::Rst, {}};
  CHECK(should_pause(rst, rst_in));
  CHECK_FALSE(should_pause(rst, in));
  CHECK_FALSE(should_pause(rst, retransmit));

  StepGoal rtx{StepGoal::Kind::Retransmission, {}};
  CHECK(should_pause(rtx, retransmit));
  CHECK_FALSE(should_pause(rtx, out));
  CHECK_FALSE(should_pause(rtx, rst_in));
}

TEST_CASE("step sink: pauses, shows what changed, follows b STATE and quits") {
  std::FILE* in = input("n\np\nb ESTABLISHED\nq\n");
  std::FILE* out = std::tmpfile();
  StepSink sink(in, out, StepSink::Options{false, false, true});
  tcp::TcbSnapshot tcb;
  tcb.tuple = kTuple;
  tcb.state = tcp::State::SynReceived;
  tcb.iss = Seq(1000);
  tcb.irs = Seq(5000);
  tcb.snd_una = Seq(1000);
  tcb.snd_nxt = Seq(1001);
  tcb.rcv_nxt = Seq(5001);
  tcb.snd_wnd = 1000;
  tcb.rcv_wnd = 65535;
  tcb.rto = seconds(1);
  tcb.cwnd = 14600;
  std::optional<tcp::TcbSnapshot> current;  // no TCB until the SYN is processed
  sink.set_snapshot_source([&](const FourTuple& t) { return t == kTuple ? current : std::nullopt; });
  int quits = 0;
  sink.set_on_quit([&] { ++quits; });

  // 1: the SYN arrives in LISTEN: no TCB yet. Command "n".
  auto syn = segment("S");
  syn.seq = Seq(5000);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, syn, false, Seq(), Seq()});
  // 2: our SYN-ACK is built; the TCB exists. Commands "p", then "b ESTABLISHED".
  current = tcb;
  auto synack = segment("S.");
  synack.seq = Seq(1000);
  synack.ack = Seq(5001);
  sink.segment(t0, SegmentEvent{Direction::Out, kTuple, synack, true, Seq(1000), Seq(5000)});
  // Not a pause: running until ESTABLISHED.
  auto ack = segment(".");
  ack.seq = Seq(5001);
  ack.ack = Seq(1001);
  sink.segment(t0 + milliseconds(10), SegmentEvent{Direction::In, kTuple, ack, true, Seq(1000), Seq(5000)});
  current->state = tcp::State::Established;
  current->snd_una = Seq(1001);
  // 3: the state change. Command "q".
  sink.state_change(t0 + milliseconds(10), kTuple, "SYN-RECEIVED", "ESTABLISHED", "RFC 9293 §3.10.7.4");
  // After q nothing pauses or prints.
  sink.segment(t0 + milliseconds(20), SegmentEvent{Direction::In, kTuple, ack, true, Seq(1000), Seq(5000)});
  sink.settle();

  std::string text = contents(out);
  INFO(text);
  CHECK(sink.pauses() == 3);
  CHECK(sink.quit_requested());
  CHECK(quits == 1);
  CHECK(count(text, "step> ") == 4);  // n, p (prompts again), b ESTABLISHED, q
  CHECK(text.find("step 1  0.000000  In  192.0.2.1:40000 > 192.0.2.2:80  S 0:0(0) win 1000\n"
                  "  before: no TCB for this connection (yet)\nstep> n\n") != std::string::npos);
  CHECK(text.find("step 2  0.000000  Out 192.0.2.2:80 > 192.0.2.1:40000  S. 0:0(0) ack 1 win 1000\n"
                  "  now:    SYN-RECEIVED  snd.una 0  snd.nxt 1  snd.wnd 1000  rcv.nxt 1  rcv.wnd 65535\n"
                  "          RTO 1.000s  cwnd 14600  timers: none\nstep> p\n") != std::string::npos);
  CHECK(text.find("(running until a connection enters ESTABLISHED)") != std::string::npos);
  // The third pause is the state change, with the changed fields as old->new.
  CHECK(text.find("step 3  0.010000  state 192.0.2.2:80 <> 192.0.2.1:40000  SYN-RECEIVED -> ESTABLISHED") !=
        std::string::npos);
  CHECK(text.find("  now:    SYN-RECEIVED->ESTABLISHED  snd.una 0->1  snd.nxt 1  ") != std::string::npos);
  CHECK(text.find("(quit)") != std::string::npos);
  CHECK(count(text, "step ") == 3);
  std::fclose(in);
  std::fclose(out);
}

TEST_CASE("step sink: end of input continues without stopping; settle shows the TCB after") {
  std::FILE* in = input("n\n");
  std::FILE* out = std::tmpfile();
  StepSink sink(in, out, StepSink::Options{false, true, false});
  tcp::TcbSnapshot tcb;
  tcb.state = tcp::State::Established;
  tcb.iss = Seq(1000);
  tcb.irs = Seq(5000);
  tcb.snd_una = tcb.snd_nxt = Seq(1001);
  tcb.rcv_nxt = Seq(5001);
  sink.set_snapshot_source([&](const FourTuple&) { return tcb; });
  // The hooks around each prompt (serve --step flushes its files and arms its Ctrl-C notice),
  // in order, once per prompt: left after the command is read, and at the end of input too.
  std::string hooks;
  sink.set_before_prompt([&] { hooks += "("; });
  sink.set_after_prompt([&] { hooks += ")"; });

  auto data = segment(".");
  data.seq = Seq(5001);
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, data, true, Seq(1000), Seq(5000)});
  CHECK(hooks == "()");
  tcb.rcv_nxt = Seq(5101);
  tcb.timers.push_back({"delayed-ack", t0 + milliseconds(40)});
  sink.settle();  // the segment was processed: the TCB after it, with the change
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, data, true, Seq(1000), Seq(5000)});  // EOF: no pause
  sink.segment(t0, SegmentEvent{Direction::Out, kTuple, data, true, Seq(1000), Seq(5000)});

  std::string text = contents(out);
  INFO(text);
  CHECK(sink.pauses() == 2);
  CHECK_FALSE(sink.quit_requested());
  // --absolute: raw numbers in the segment and the TCB; no echo of commands when not asked.
  CHECK(text.find("In  192.0.2.1:40000 > 192.0.2.2:80  . 5001:5001(0) ack 0 win 1000") != std::string::npos);
  CHECK(text.find("  before: ESTABLISHED  snd.una 1001  snd.nxt 1001  snd.wnd 0  rcv.nxt 5001  ") !=
        std::string::npos);
  CHECK(text.find("  after:  ESTABLISHED  snd.una 1001  snd.nxt 1001  snd.wnd 0  rcv.nxt 5001->5101  ") !=
        std::string::npos);
  CHECK(text.find("timers: delayed-ack at 0.040 (in 0.040)  (was none)") != std::string::npos);
  CHECK(text.find("(end of input: continuing without stopping)") != std::string::npos);
  CHECK(count(text, "step> ") == 2);
  std::fclose(in);
  std::fclose(out);
}

TEST_CASE("step sink: a compact TIME-WAIT record's cwnd reads as not kept, not as a window of 0") {
  std::FILE* in = input("\n");
  std::FILE* out = std::tmpfile();
  StepSink sink(in, out, StepSink::Options{false, false, false});
  tcp::TcbSnapshot tcb;
  tcb.state = tcp::State::TimeWait;
  tcb.cwnd = 14600;
  sink.set_snapshot_source([&](const FourTuple&) { return tcb; });
  auto fin = segment("F.");
  sink.segment(t0, SegmentEvent{Direction::In, kTuple, fin, true, Seq(), Seq()});
  // The connection is then held as a compact record (TimeWaitTable::snapshot).
  tcb.congestion_kept = false;
  tcb.cwnd = 0;
  sink.settle();

  std::string text = contents(out);
  INFO(text);
  CHECK(text.find("cwnd 14600->- (compact record)") != std::string::npos);
  CHECK(text.find("->0") == std::string::npos);
  std::fclose(in);
  std::fclose(out);
}
