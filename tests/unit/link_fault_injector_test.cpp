// Tests for the fault injector (stack/link/fault_*): spec parsing, segment classification,
// the random faults and their reproducibility, and a targeted drop between two real stacks
// that must cause exactly the retransmission RFC 6298 predicts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/link/fault_injector.hpp"
#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

using namespace tcplab;
using link::FaultInjector;
using link::FaultOptions;
using link::SegmentKind;
using trace::Direction;

namespace {

const wire::Ipv4Address kClient{0xC0000201};  // 192.0.2.1
const wire::Ipv4Address kServer{0xC0000202};  // 192.0.2.2
const Instant t0 = Instant{} + seconds(100);

// An IPv4/TCP packet; `from_client` picks the addresses and ports.
std::vector<std::byte> segment(bool from_client, const std::string& flags, uint32_t seq, uint32_t ack,
                               size_t payload = 0) {
  wire::TcpSegment s;
  s.source_port = from_client ? 40000 : 80;
  s.destination_port = from_client ? 80 : 40000;
  for (char c : flags) {
    if (c == 'S') s.flags.syn = true;
    if (c == 'F') s.flags.fin = true;
    if (c == 'R') s.flags.rst = true;
    if (c == '.') s.flags.ack = true;
  }
  s.seq = Seq(seq);
  s.ack = Seq(ack);
  s.window = 65535;
  std::vector<std::byte> data(payload, std::byte{'x'});
  s.payload = data;
  std::vector<std::byte> packet(20 + 60 + payload);
  auto src = from_client ? kClient : kServer, dst = from_client ? kServer : kClient;
  size_t n = wire::emit_tcp(s, src, dst, wire::MutableBytes(packet).subspan(20));
  wire::Ipv4Header h;
  h.protocol = 6;
  h.source = src;
  h.destination = dst;
  wire::emit_ipv4_header(h, n, packet);
  packet.resize(20 + n);
  return packet;
}

// Records fault events.
struct FaultRecorder final : trace::Sink {
  struct Event {
    Instant t;
    Direction direction;
    std::string what;
    std::vector<std::byte> bytes;
  };
  std::vector<Event> faults;
  void fault(Instant t, Direction d, std::string_view what, std::span<const std::byte> ip) override {
    faults.push_back({t, d, std::string(what), {ip.begin(), ip.end()}});
  }
};

FaultOptions targeted(const std::string& spec) {
  FaultOptions o;
  std::string error;
  auto f = link::parse_targeted_fault(spec, error);
  REQUIRE_MESSAGE(f.has_value(), error);
  o.targeted.push_back(*f);
  return o;
}

}  // namespace

TEST_CASE("fault spec: probabilities, directions and delays") {
  CHECK(link::parse_probability("0.05") == doctest::Approx(0.05));
  CHECK(link::parse_probability("5%") == doctest::Approx(0.05));
  CHECK(link::parse_probability("100%") == doctest::Approx(1.0));
  CHECK(link::parse_probability("0") == doctest::Approx(0.0));
  for (const char* bad : {"", "%", "1.5", "101%", "-0.1", "+0.1", "5 %", "abc", "0.05x", "nan", "inf"})
    CHECK_MESSAGE(!link::parse_probability(bad), bad);

  FaultOptions o;
  CHECK_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Drop, "in:1%"));
  CHECK_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Drop, "out:5%"));
  CHECK(o.in.drop == doctest::Approx(0.01));
  CHECK(o.out.drop == doctest::Approx(0.05));
  CHECK_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Dup, "0.5"));
  CHECK(o.in.dup == doctest::Approx(0.5));
  CHECK(o.out.dup == doctest::Approx(0.5));
  CHECK_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Delay, "in:20"));
  CHECK(o.in.delay == milliseconds(20));
  CHECK(o.out.delay == Duration::zero());
  CHECK(o.in.jitter == Duration::zero());
  for (const char* bad : {"20:", ":5", "x", "-1", "in:", "60001", "both:20"})
    CHECK_MESSAGE(link::apply_random_fault(o, link::RandomFaultKind::Delay, bad).has_value(), bad);
  CHECK_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Delay, "out:30:5"));
  CHECK(o.out.delay == milliseconds(30));
  CHECK(o.out.jitter == milliseconds(5));
  CHECK(o.in.delay == milliseconds(20));
  CHECK(link::apply_random_fault(o, link::RandomFaultKind::Reorder, "up:5%").has_value());
  CHECK(o.any());
  CHECK_FALSE(FaultOptions{}.any());
}

TEST_CASE("fault spec: a second value for a direction is refused, not silently taken") {
  using link::RandomFaultKind;
  const std::string advice =
      " a value from an earlier use of this flag; give each direction one value (in:VALUE and out:VALUE for "
      "two "
      "different ones)";
  FaultOptions o;
  CHECK_FALSE(link::apply_random_fault(o, RandomFaultKind::Drop, "1"));
  CHECK(link::apply_random_fault(o, RandomFaultKind::Drop, "0") == "both directions already have" + advice);
  CHECK(link::apply_random_fault(o, RandomFaultKind::Drop, "out:0") ==
        "the out direction already has" + advice);
  CHECK(o.in.drop == 1.0);  // the first value stands
  CHECK(o.out.drop == 1.0);
  // Another kind keeps its own record.
  CHECK_FALSE(link::apply_random_fault(o, RandomFaultKind::Dup, "in:5%"));
  CHECK(link::apply_random_fault(o, RandomFaultKind::Dup, "2%") == "the in direction already has" + advice);
  CHECK_FALSE(link::apply_random_fault(o, RandomFaultKind::Dup, "out:2%"));
  CHECK(o.in.dup == doctest::Approx(0.05));
  CHECK(o.out.dup == doctest::Approx(0.02));
  // A refused malformed value sets nothing, so the direction can still be given.
  CHECK(link::apply_random_fault(o, RandomFaultKind::Delay, "in:x").has_value());
  CHECK_FALSE(link::apply_random_fault(o, RandomFaultKind::Delay, "20"));
  CHECK(link::apply_random_fault(o, RandomFaultKind::Delay, "out:30:5") ==
        "the out direction already has" + advice);
}

TEST_CASE("fault spec: targeted faults parse and refuse clearly") {
  std::string error;
  auto f = link::parse_targeted_fault("drop out data#3", error);
  REQUIRE(f);
  CHECK(f->action == link::FaultAction::Drop);
  CHECK(f->direction == Direction::Out);
  CHECK(f->kind == SegmentKind::Data);
  CHECK(f->nth == 3);
  CHECK(f->text == "drop out data#3");
  f = link::parse_targeted_fault("  delay   in syn 2000 ", error);
  REQUIRE(f);
  CHECK(f->action == link::FaultAction::Delay);
  CHECK(f->delay == milliseconds(2000));
  CHECK(f->nth == 1);
  CHECK(f->text == "delay in syn#1 2000");
  f = link::parse_targeted_fault("drop in ack-of-synack", error);
  REQUIRE(f);
  CHECK(f->kind == SegmentKind::AckOfSynAck);
  struct Bad {
    const char* spec;
    const char* says;
  };
  for (Bad b : {Bad{"", "expected"}, Bad{"drop out", "expected"}, Bad{"lose out data", "unknown action"},
                Bad{"drop up data", "unknown direction"}, Bad{"drop out datum", "unknown segment kind"},
                Bad{"drop out data#0", "count from 1"}, Bad{"drop out data#x", "count from 1"},
                Bad{"drop out data#", "count from 1"}, Bad{"delay in syn", "needs milliseconds"},
                Bad{"delay in syn soon", "not a delay"}, Bad{"drop out fin 5", "takes no argument"},
                Bad{"delay in syn 20 30", "takes one number of milliseconds, not '20 30'"}}) {
    error.clear();
    CHECK_MESSAGE(!link::parse_targeted_fault(b.spec, error), b.spec);
    CHECK_MESSAGE(error.find(b.says) != std::string::npos, b.spec << ": " << error);
  }
}

TEST_CASE("fault classifier: handshake, data, teardown, retransmissions counted") {
  link::SegmentClassifier c;
  auto kinds = [&](Direction d, const std::vector<std::byte>& p) { return c.classify(d, p, t0); };
  // Client (in) opens; the stack (out) answers.
  auto syn = kinds(Direction::In, segment(true, "S", 1000, 0));
  CHECK(syn.tcp);
  CHECK(syn.is(SegmentKind::Syn));
  CHECK(syn.nth[size_t(SegmentKind::Any)] == 1);
  CHECK(syn.tuple.local_port == 80);
  CHECK(syn.tuple.remote_port == 40000);
  auto synack = kinds(Direction::Out, segment(false, "S.", 5000, 1001));
  CHECK(synack.is(SegmentKind::SynAck));
  CHECK_FALSE(synack.is(SegmentKind::Syn));
  // The SYN-ACK is retransmitted; the client ACKs both copies: ack-of-synack #1 and #2.
  CHECK(kinds(Direction::Out, segment(false, "S.", 5000, 1001)).nth[size_t(SegmentKind::SynAck)] == 2);
  auto ack1 = kinds(Direction::In, segment(true, ".", 1001, 5001));
  CHECK(ack1.is(SegmentKind::Ack));
  CHECK(ack1.nth[size_t(SegmentKind::AckOfSynAck)] == 1);
  auto ack2 = kinds(Direction::In, segment(true, ".", 1001, 5001));
  CHECK(ack2.nth[size_t(SegmentKind::AckOfSynAck)] == 2);
  // Data both ways; a data segment is not a pure ACK and not an ack-of-synack.
  auto get = kinds(Direction::In, segment(true, ".", 1001, 5001, 100));
  CHECK(get.is(SegmentKind::Data));
  CHECK_FALSE(get.is(SegmentKind::Ack));
  CHECK_FALSE(get.is(SegmentKind::AckOfSynAck));
  // After the client sent data, a pure ACK with the same number is a window update.
  CHECK_FALSE(kinds(Direction::In, segment(true, ".", 1101, 5001)).is(SegmentKind::AckOfSynAck));
  for (uint32_t i = 0; i < 3; ++i) {
    auto d = kinds(Direction::Out, segment(false, ".", 5001 + i * 1000, 1101, 1000));
    CHECK(d.nth[size_t(SegmentKind::Data)] == i + 1);
  }
  // A retransmission counts as the next one of its kind.
  CHECK(kinds(Direction::Out, segment(false, ".", 6001, 1101, 1000)).nth[size_t(SegmentKind::Data)] == 4);
  // The stack closes: its FIN is acknowledged by the client's FIN-ACK (a FIN, so not the
  // final ACK), then the stack ACKs the client's FIN: that one is ack-of-fin out.
  auto fin = kinds(Direction::Out, segment(false, "F.", 8001, 1101));
  CHECK(fin.is(SegmentKind::Fin));
  auto client_fin = kinds(Direction::In, segment(true, "F.", 1101, 8002));
  CHECK(client_fin.is(SegmentKind::Fin));
  CHECK_FALSE(client_fin.is(SegmentKind::AckOfFin));
  auto last = kinds(Direction::Out, segment(false, ".", 8002, 1102));
  CHECK(last.nth[size_t(SegmentKind::AckOfFin)] == 1);
  // An RST and something that is not TCP.
  CHECK(kinds(Direction::In, segment(true, "R", 1102, 0)).is(SegmentKind::Rst));
  std::vector<std::byte> junk(10, std::byte{0x45});
  CHECK_FALSE(kinds(Direction::In, junk).tcp);
  // A new SYN (new ISN) on the same 4-tuple starts the counts again.
  kinds(Direction::In, segment(true, "S", 1000, 0));  // a retransmitted old SYN: still counting
  auto again = kinds(Direction::In, segment(true, "S", 90000, 0));
  CHECK(again.nth[size_t(SegmentKind::Syn)] == 1);
  CHECK(again.nth[size_t(SegmentKind::Any)] == 1);
}

TEST_CASE("fault injector: a targeted fault hits the Nth segment of every connection, once") {
  trace::Tracer tracer;
  FaultRecorder rec;
  tracer.add(&rec);
  FaultInjector inj(targeted("drop out data#2"), &tracer);
  for (int i = 0; i < 4; ++i) inj.push(Direction::Out, segment(false, ".", 5001 + i * 10, 1, 10), t0);
  auto out = inj.take(Direction::Out);
  CHECK(out.size() == 3);
  REQUIRE(rec.faults.size() == 1);
  CHECK(rec.faults[0].what == "dropped (drop out data#2)");
  CHECK(rec.faults[0].direction == Direction::Out);
  CHECK(rec.faults[0].bytes == segment(false, ".", 5011, 1, 10));
  // Inbound segments and pure ACKs are not counted as outbound data.
  inj.push(Direction::In, segment(true, ".", 1, 5001, 10), t0);
  CHECK(inj.take(Direction::In).size() == 1);
  CHECK(inj.stats().out().dropped == 1);
  CHECK(inj.stats().in().dropped == 0);
}

TEST_CASE("fault injector: delay, dup and corrupt as targeted actions") {
  trace::Tracer tracer;
  FaultRecorder rec;
  tracer.add(&rec);
  FaultOptions o = targeted("delay in syn 2000");
  std::string error;
  o.targeted.push_back(*link::parse_targeted_fault("dup in data#1", error));
  o.targeted.push_back(*link::parse_targeted_fault("corrupt in data#2", error));
  FaultInjector inj(o, &tracer);
  auto syn = segment(true, "S", 1000, 0);
  inj.push(Direction::In, syn, t0);
  CHECK_FALSE(inj.has_ready(Direction::In));
  REQUIRE(inj.next_deadline() == t0 + milliseconds(2000));
  inj.advance(t0 + milliseconds(1999));
  CHECK_FALSE(inj.has_ready(Direction::In));
  inj.advance(t0 + milliseconds(2000));
  auto got = inj.take(Direction::In);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == syn);
  CHECK_FALSE(inj.next_deadline().has_value());
  auto data1 = segment(true, ".", 1001, 1, 50);
  inj.push(Direction::In, data1, t0);
  got = inj.take(Direction::In);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == data1);
  CHECK(got[1] == data1);
  auto data2 = segment(true, ".", 1051, 1, 50);
  inj.push(Direction::In, data2, t0);
  got = inj.take(Direction::In);
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].size() == data2.size());
  int bits = 0;
  for (size_t i = 0; i < data2.size(); ++i)
    bits += std::popcount(static_cast<unsigned>(got[0][i] ^ data2[i]));
  CHECK(bits == 1);
  REQUIRE(rec.faults.size() == 3);
  CHECK(rec.faults[0].what == "delayed 2000 ms (delay in syn#1 2000)");
  CHECK(rec.faults[1].what == "duplicated (dup in data#1)");
  CHECK(rec.faults[2].what.starts_with("corrupted: bit "));
  CHECK(rec.faults[2].bytes == got[0]);  // the event shows what the stack will receive
  const auto& s = inj.stats().in();
  CHECK(s.delayed == 1);
  CHECK(s.duplicated == 1);
  CHECK(s.corrupted == 1);
}

TEST_CASE("fault injector: random faults follow their probability and the seed") {
  auto run = [](uint64_t seed) {
    FaultOptions o;
    o.seed = seed;
    REQUIRE_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Drop, "out:10%"));
    FaultInjector inj(o);
    std::vector<int> delivered;
    for (int i = 0; i < 10000; ++i) {
      auto p = segment(false, ".", 5001 + i, 1, 1);
      inj.push(Direction::Out, p, t0);
      if (!inj.take(Direction::Out).empty()) delivered.push_back(i);
      // Inbound is untouched: only out: was given.
      inj.push(Direction::In, segment(true, ".", 1 + i, 5001, 1), t0);
      CHECK(inj.take(Direction::In).size() == 1);
    }
    CHECK(inj.stats().out().dropped == 10000 - delivered.size());
    return delivered;
  };
  auto a = run(7), b = run(7), c = run(8);
  CHECK(a == b);  // same seed, same packets: same decisions
  CHECK(a != c);
  // 10% of 10000: the binomial standard deviation is 30, so 900..1100 is over 3 sigma.
  CHECK(10000 - a.size() > 900);
  CHECK(10000 - a.size() < 1100);
}

TEST_CASE("fault injector: reorder lets the next packet overtake, or releases after the hold limit") {
  FaultOptions o;
  REQUIRE_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Reorder, "100%"));
  FaultInjector inj(o);
  auto p1 = segment(true, ".", 1, 1, 1), p2 = segment(true, ".", 2, 1, 1);
  inj.push(Direction::In, p1, t0);
  CHECK_FALSE(inj.has_ready(Direction::In));
  CHECK(inj.next_deadline() == t0 + link::kReorderHoldLimit);
  inj.push(Direction::In, p2, t0 + milliseconds(1));  // chosen too, but the slot is taken: overtakes
  auto got = inj.take(Direction::In);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == p2);
  CHECK(got[1] == p1);
  auto p3 = segment(true, ".", 3, 1, 1);
  inj.push(Direction::In, p3, t0 + milliseconds(2));
  inj.advance(t0 + milliseconds(2) + link::kReorderHoldLimit);
  got = inj.take(Direction::In);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == p3);
}

TEST_CASE("fault injector: the link delay keeps order and holds a bounded number of packets") {
  FaultOptions o;
  REQUIRE_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Delay, "out:20"));
  trace::Tracer tracer;
  FaultRecorder rec;
  tracer.add(&rec);
  FaultInjector inj(o, &tracer);
  for (size_t i = 0; i < link::kMaxHeldPackets + 5; ++i)
    inj.push(Direction::Out, segment(false, ".", 1 + static_cast<uint32_t>(i), 1, 1), t0 + microseconds(i));
  CHECK(inj.held() == link::kMaxHeldPackets);
  CHECK(inj.stats().out().queue_full == 5);
  CHECK(rec.faults.size() == 5);  // the link delay itself is no fault; the overflow drops are
  inj.advance(t0 + milliseconds(20));
  auto got = inj.take(Direction::Out);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == segment(false, ".", 1, 1, 1));
  inj.advance(t0 + seconds(1));
  got = inj.take(Direction::Out);
  REQUIRE(got.size() == link::kMaxHeldPackets - 1);
  CHECK(got.back() == segment(false, ".", static_cast<uint32_t>(link::kMaxHeldPackets), 1, 1));
  CHECK(inj.held() == 0);
  CHECK_FALSE(inj.next_deadline().has_value());
}

TEST_CASE("fault injector: each direction has its own next release") {
  FaultOptions o;
  REQUIRE_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Delay, "in:500"));
  REQUIRE_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Delay, "out:20"));
  FaultInjector inj(o);
  CHECK_FALSE(inj.next_deadline(Direction::In).has_value());
  CHECK_FALSE(inj.next_deadline(Direction::Out).has_value());
  inj.push(Direction::In, segment(true, ".", 1, 1, 1), t0);
  CHECK(inj.next_deadline(Direction::In) == t0 + milliseconds(500));
  CHECK_FALSE(inj.next_deadline(Direction::Out).has_value());  // an exit has nothing to wait for
  CHECK(inj.next_deadline() == t0 + milliseconds(500));
  inj.push(Direction::Out, segment(false, ".", 1, 2, 1), t0 + milliseconds(10));
  CHECK(inj.next_deadline(Direction::Out) == t0 + milliseconds(30));
  CHECK(inj.next_deadline(Direction::In) == t0 + milliseconds(500));
  CHECK(inj.next_deadline() == t0 + milliseconds(30));
  inj.advance(t0 + milliseconds(30));
  CHECK(inj.take(Direction::Out).size() == 1);
  CHECK_FALSE(inj.next_deadline(Direction::Out).has_value());
  CHECK(inj.next_deadline() == t0 + milliseconds(500));
  CHECK(inj.held() == 1);
}

TEST_CASE("fault injector: a packet held for reordering counts in its own direction") {
  FaultOptions o;
  REQUIRE_FALSE(link::apply_random_fault(o, link::RandomFaultKind::Reorder, "out:100%"));
  FaultInjector inj(o);
  inj.push(Direction::Out, segment(false, ".", 1, 1, 1), t0);
  CHECK(inj.next_deadline(Direction::Out) == t0 + link::kReorderHoldLimit);
  CHECK_FALSE(inj.next_deadline(Direction::In).has_value());
}
