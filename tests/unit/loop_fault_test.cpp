// The event loop with a fault injector between the link and the stack: a socketpair stands
// in for the TUN. Delayed replies leave when the injector's deadline comes (the loop wakes
// for it), inbound drops never reach the stack, and the tap sees the stack's side.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stack/link/fault_injector.hpp"
#include "stack/loop/event_loop.hpp"
#include "tests/unit/link_pair.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;

namespace {

struct Taps : trace::Sink {
  int in = 0, out = 0, faults = 0;
  void packet(Instant, trace::Direction d, std::span<const std::byte>) override {
    (d == trace::Direction::In ? in : out)++;
  }
  void fault(Instant, trace::Direction, std::string_view, std::span<const std::byte>) override { ++faults; }
};

int read_replies(int fd) {
  std::vector<std::byte> buf(2000);
  int n = 0;
  while (read(fd, buf.data(), buf.size()) > 0) ++n;
  return n;
}

}  // namespace

TEST_CASE("loop + faults: an outbound delay holds the reply until the injector's deadline") {
  testing::LinkPair link;
  trace::Tracer tracer;
  Taps taps;
  tracer.add(&taps);
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  link::FaultOptions options;
  REQUIRE_FALSE(link::apply_random_fault(options, link::RandomFaultKind::Delay, "out:30"));
  link::FaultInjector faults(options, &tracer);
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_fault_injector(&faults);
  auto ping = wire::test::hex(wire::test::kPingRequest);
  Instant sent = clock.now();
  REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
  loop.run_once(std::chrono::milliseconds(500));  // reads the ping; the reply is held
  CHECK(taps.in == 1);
  CHECK(taps.out == 1);  // the tap saw the reply leave the stack
  CHECK(loop.stats().packets_written == 0);
  CHECK(read_replies(link.test_side) == 0);
  REQUIRE(faults.next_deadline().has_value());
  // No packet arrives now: only the injector's deadline can wake the loop before 500 ms.
  loop.run_once(std::chrono::milliseconds(500));
  CHECK(loop.stats().packets_written == 1);
  CHECK(clock.now() - sent >= std::chrono::milliseconds(30));
  CHECK(read_replies(link.test_side) == 1);
  CHECK(faults.stats().out().delayed == 1);
  CHECK(taps.faults == 0);  // the link delay is not a fault event
}

TEST_CASE("loop + faults: an inbound drop never reaches the stack or the tap") {
  testing::LinkPair link;
  trace::Tracer tracer;
  Taps taps;
  tracer.add(&taps);
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  link::FaultOptions options;
  REQUIRE_FALSE(link::apply_random_fault(options, link::RandomFaultKind::Drop, "in:100%"));
  link::FaultInjector faults(options, &tracer);
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_fault_injector(&faults);
  auto ping = wire::test::hex(wire::test::kPingRequest);
  for (int i = 0; i < 3; ++i)
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
  loop.run_once(std::chrono::milliseconds(200));
  CHECK(loop.stats().packets_read == 3);
  CHECK(taps.in == 0);
  CHECK(taps.faults == 3);
  CHECK(stack.ip_stats().echo_replies == 0);
  CHECK(faults.stats().in().dropped == 3);
  CHECK(read_replies(link.test_side) == 0);
  // The drop counters (the exit summary, /stats) account for them, once each.
  CHECK(stack.drops().get(DropReason::FaultInjected) == 3);
  loop.run_once(std::chrono::milliseconds(1));
  CHECK(stack.drops().get(DropReason::FaultInjected) == 3);
}

TEST_CASE("loop + faults: send_queued at exit waits for held outbound packets, not inbound ones") {
  testing::LinkPair link;
  trace::Tracer tracer;
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  link::FaultOptions options;
  REQUIRE_FALSE(link::apply_random_fault(options, link::RandomFaultKind::Delay, "in:300"));
  REQUIRE_FALSE(link::apply_random_fault(options, link::RandomFaultKind::Delay, "out:30"));
  link::FaultInjector faults(options, &tracer);
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_fault_injector(&faults);
  auto ping = wire::test::hex(wire::test::kPingRequest);
  auto send_ping = [&] {
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
    loop.run_once(std::chrono::milliseconds(100));  // reads it; the injector holds it 300 ms
    REQUIRE(faults.next_deadline(trace::Direction::In).has_value());
  };

  SUBCASE("only an inbound packet held: nothing to wait for") {
    send_ping();
    Instant before = clock.now();
    loop.send_queued();
    CHECK(faults.held() == 1);  // still held: never released, never read
    CHECK(clock.now() - before < std::chrono::milliseconds(300));
  }
  SUBCASE("an outbound packet held as well: it leaves, the inbound one stays") {
    send_ping();
    loop.run_once(std::chrono::milliseconds(1000));  // the ping reaches the stack; the reply is held
    REQUIRE(faults.next_deadline(trace::Direction::Out).has_value());
    send_ping();
    loop.send_queued();
    CHECK(loop.stats().packets_written == 1);
    CHECK(read_replies(link.test_side) == 1);
    CHECK(faults.held() == 1);
  }
}
