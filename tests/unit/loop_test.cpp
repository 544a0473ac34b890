// Tests for stack/loop: the event loop over a SOCK_SEQPACKET socketpair standing in for the
// TUN (one write = one packet), with the real clock; and the status report formatting.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "stack/loop/event_loop.hpp"
#include "stack/loop/status.hpp"
#include "tests/unit/link_pair.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;

namespace {

struct CountingClient : loop::TimedClient {
  std::optional<Instant> deadline;
  int advances = 0;
  std::optional<Instant> next_deadline() const override { return deadline; }
  void advance(Instant now) override {
    ++advances;
    if (deadline && now >= *deadline) deadline.reset();
  }
};

struct PacketCounter : trace::Sink {
  int in = 0, out = 0;
  void packet(Instant, trace::Direction d, std::span<const std::byte>) override {
    (d == trace::Direction::In ? in : out)++;
  }
};

}  // namespace

TEST_CASE("loop: a batch of pings read from the link are all answered") {
  testing::LinkPair link;
  trace::Tracer tracer;
  PacketCounter counter;
  tracer.add(&counter);
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  auto ping = wire::test::hex(wire::test::kPingRequest);
  const int n = 100;  // more than one batch
  for (int i = 0; i < n; ++i)
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
  for (int i = 0; i < 10 && loop.stats().packets_written < n; ++i)
    loop.run_once(std::chrono::milliseconds(200));
  CHECK(loop.stats().packets_read == n);
  CHECK(loop.stats().packets_written == n);
  CHECK(loop.stats().full_batches >= 1);
  CHECK(counter.in == n);
  CHECK(counter.out == n);
  std::vector<std::byte> reply(2000);
  int replies = 0;
  while (read(link.test_side, reply.data(), reply.size()) == static_cast<ssize_t>(ping.size())) {
    CHECK(static_cast<uint8_t>(reply[20]) == 0);  // echo reply
    ++replies;
  }
  CHECK(replies == n);
  CHECK(stack.outbox().empty());
}

TEST_CASE("loop: sleeps until the earliest deadline, not longer and not busily") {
  testing::LinkPair link;
  trace::Tracer tracer;
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  CountingClient client;
  loop.add_client(client);
  auto start = clock.now();
  client.deadline = start + std::chrono::milliseconds(50);
  int wakeups = 0;
  while (client.deadline && wakeups < 100) {
    loop.run_once(std::chrono::seconds(2));
    ++wakeups;
  }
  auto elapsed = clock.now() - start;
  CHECK_FALSE(client.deadline.has_value());
  CHECK(elapsed >= std::chrono::milliseconds(50));
  CHECK(elapsed < std::chrono::milliseconds(1000));
  CHECK(wakeups <= 3);  // poll slept: no spinning until the deadline
  CHECK(client.advances == wakeups);
}

TEST_CASE("loop: request_stop ends run() with 0") {
  testing::LinkPair link;
  trace::Tracer tracer;
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.request_stop();
  CHECK(loop.run() == 0);
}

TEST_CASE("status: drop counters by name, zeros left out; connection lines") {
  DropCounters drops;
  CHECK(loop::format_drops(drops) == "drops: none");
  drops.count(DropReason::Ipv4BadChecksum);
  drops.count(DropReason::Ipv4BadChecksum);
  drops.count(DropReason::FragmentOverlap);
  CHECK(loop::format_drops(drops) == "drops: ipv4-bad-checksum 2, fragment-overlap 1");

  tcp::ConnectionInfo c;
  c.tuple = FourTuple{wire::Ipv4Address{0xC0000202}, 7, wire::Ipv4Address{0xC0000201}, 40000};
  c.state = tcp::State::Established;
  c.snd_una = 1;
  c.snd_nxt = 11;
  c.rcv_nxt = 6;
  auto text = loop::format_connections({c});
  CHECK(text.find("connections: 1\n") == 0);
  CHECK(text.find("ESTABLISHED") != std::string::npos);
  CHECK(text.find("192.0.2.2:7 > 192.0.2.1:40000") != std::string::npos);
  CHECK(text.find("snd.una 1 snd.nxt 11 rcv.nxt 6") != std::string::npos);
  // The kernel's TCP does not show its sequence numbers: "-", never zeros that look measured.
  c.snd_una = c.snd_nxt = c.rcv_nxt = 0;
  auto kernel = loop::format_connections({c}, false);
  CHECK(kernel.find("ESTABLISHED  192.0.2.2:7 > 192.0.2.1:40000  snd.una - snd.nxt - rcv.nxt -\n") !=
        std::string::npos);
}

TEST_CASE("loop: --busy-poll finds the next packet by spinning, and only after traffic") {
  auto ping = wire::test::hex(wire::test::kPingRequest);
  for (bool spinning : {false, true}) {
    CAPTURE(spinning);
    testing::LinkPair link;
    trace::Tracer tracer;
    Stack stack(StackConfig{}, tracer);
    SteadyClock clock;
    loop::EventLoop loop(link.stack_side, stack, tracer, clock);
    // A budget far longer than this test, so a packet sent a few milliseconds later is
    // always inside it.
    loop.set_busy_poll(spinning ? std::chrono::seconds(30) : Duration::zero());
    // No traffic yet: nothing to spin after, so an empty wait sleeps and finds nothing.
    loop.run_once(std::chrono::milliseconds(1));
    CHECK(loop.stats().busy_poll_hits == 0);
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
    loop.run_once(std::chrono::milliseconds(200));
    REQUIRE(loop.stats().packets_read == 1);
    CHECK(loop.stats().busy_poll_hits == 0);  // the first packet came to a sleeping loop
    // A packet already waiting is found by the first check: no wake-up saved, not a hit.
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
    loop.run_once(std::chrono::milliseconds(200));
    REQUIRE(loop.stats().packets_read == 2);
    CHECK(loop.stats().busy_poll_hits == 0);
    // The next one comes 5 ms into the wait: found by spinning, or by waking from poll().
    std::thread sender([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      [[maybe_unused]] ssize_t n = write(link.test_side, ping.data(), ping.size());
    });
    loop.run_once(std::chrono::seconds(5));
    sender.join();
    REQUIRE(loop.stats().packets_read == 3);
    CHECK(loop.stats().busy_poll_hits == (spinning ? 1u : 0u));
    // Spinning never outlasts run_once's own limit: with nothing arriving, a 30 s budget
    // still returns after max_wait (a hang here would fail the test by its timeout).
    const auto t0 = std::chrono::steady_clock::now();
    loop.run_once(std::chrono::milliseconds(20));
    CHECK(loop.stats().packets_read == 3);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  }
}

namespace {

// A clock that only moves when told, and a sink that moves it by a second at every inbound
// packet: a person reading each step before pressing Enter.
struct ManualClock final : Clock {
  Instant t = Instant{} + std::chrono::seconds(100);
  Instant now() const override { return t; }
};

struct ReadingSink : trace::Sink {
  ManualClock& clock;
  std::vector<Instant> seen_in;
  explicit ReadingSink(ManualClock& c) : clock(c) {}
  void packet(Instant t, trace::Direction d, std::span<const std::byte>) override {
    if (d != trace::Direction::In) return;
    seen_in.push_back(t);
    clock.t += std::chrono::seconds(1);
  }
};

std::vector<Instant> inbound_times_with_pauses(bool paused_by_user, Instant& advanced_to) {
  testing::LinkPair link;
  ManualClock clock;
  trace::Tracer tracer;
  ReadingSink reader(clock);
  tracer.add(&reader);
  Stack stack(StackConfig{}, tracer);
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_paused_by_user(paused_by_user);
  struct : loop::TimedClient {
    Instant* last;
    std::optional<Instant> next_deadline() const override { return std::nullopt; }
    void advance(Instant now) override { *last = now; }
  } recorder;
  recorder.last = &advanced_to;
  loop.add_client(recorder);
  auto ping = wire::test::hex(wire::test::kPingRequest);
  for (int i = 0; i < 3; ++i)
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
  // Stepping, each packet is a turn of its own (see the next test); unstepped, one batch.
  for (int turn = 0; turn < (paused_by_user ? 3 : 1); ++turn) loop.run_once(std::chrono::milliseconds(200));
  return reader.seen_in;
}

}  // namespace

TEST_CASE("loop: after a step pause, packets and timers get the real time, not the batch's start") {
  using std::chrono::seconds;
  const Instant start = Instant{} + seconds(100);
  Instant advanced_to{};
  auto stepped = inbound_times_with_pauses(true, advanced_to);
  CHECK(stepped == std::vector<Instant>{start, start + seconds(1), start + seconds(2)});
  CHECK(advanced_to == start + seconds(3));  // the stack's timers see the time after the pauses
  // Without pauses one batch shares one instant, as a batch read at once should.
  auto batched = inbound_times_with_pauses(false, advanced_to);
  CHECK(batched == std::vector<Instant>{start, start, start});
  CHECK(advanced_to == start);
}

namespace {

// The order in which packets crossed the link: "in" or "out", one entry each.
struct CrossingOrder : trace::Sink {
  std::vector<std::string> seen;
  void packet(Instant, trace::Direction d, std::span<const std::byte>) override {
    seen.emplace_back(d == trace::Direction::In ? "in" : "out");
  }
};

// Two pings waiting on the link, as many turns as they take. `written_before_timers` gets,
// for each turn, how many packets the loop had written when the timers' turn began.
std::vector<std::string> crossings_of_two_pings(bool paused_by_user,
                                                std::vector<uint64_t>& written_before_timers) {
  testing::LinkPair link;
  trace::Tracer tracer;
  CrossingOrder order;
  tracer.add(&order);
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_paused_by_user(paused_by_user);
  struct : loop::TimedClient {
    const loop::EventLoop* loop;
    std::vector<uint64_t>* written;
    std::optional<Instant> next_deadline() const override { return std::nullopt; }
    void advance(Instant) override { written->push_back(loop->stats().packets_written); }
  } timers;
  timers.loop = &loop;
  timers.written = &written_before_timers;
  loop.add_client(timers);
  auto ping = wire::test::hex(wire::test::kPingRequest);
  for (int i = 0; i < 2; ++i)
    REQUIRE(write(link.test_side, ping.data(), ping.size()) == static_cast<ssize_t>(ping.size()));
  for (int turn = 0; turn < 4 && loop.stats().packets_written < 2; ++turn)
    loop.run_once(std::chrono::milliseconds(200));
  return order.seen;
}

}  // namespace

TEST_CASE("loop: in step mode a packet's answer leaves before the next packet is read") {
  // A person may pause at the second packet for longer than the client waits to retransmit:
  // the first packet's answer must already be on the wire by then.
  // And it has left before the timers run, since a timer's step may hold the loop again.
  std::vector<uint64_t> written_before_timers;
  CHECK(crossings_of_two_pings(true, written_before_timers) ==
        std::vector<std::string>{"in", "out", "in", "out"});
  CHECK(written_before_timers == std::vector<uint64_t>{1, 2});
  // Without step mode, packets waiting together are read as one batch, answered together
  // when the turn ends, after the timers.
  written_before_timers.clear();
  CHECK(crossings_of_two_pings(false, written_before_timers) ==
        std::vector<std::string>{"in", "in", "out", "out"});
  CHECK(written_before_timers == std::vector<uint64_t>{0});
}
