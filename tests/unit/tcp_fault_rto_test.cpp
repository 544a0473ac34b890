// A targeted fault between two real stacks: the server's third data segment is dropped by
// the fault injector on its way out, and the test checks that TCP recovers exactly as
// RFC 6298 says: one retransmission of the same bytes when the timer, restarted by the last
// ACK of new data (§5.3), expires after RTO = max(1 s, SRTT + 4 RTTVAR) (§2.2-2.4), then
// the transfer completes.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "stack/link/fault_injector.hpp"
#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

using namespace tcplab;
using trace::Direction;

namespace {

constexpr size_t kMss = 1460;
constexpr size_t kTotal = 4 * kMss;  // four segments, all inside the initial window

std::byte pattern(size_t i) { return std::byte(static_cast<uint8_t>('a' + i % 23)); }

// The server application: sends kTotal bytes to whoever connects. It does not close: a
// FIN sent behind the lost segment would be a second retransmission when the receiver
// (tcplab, which does not queue an out-of-order FIN) discards it, and this test is about one.
struct Server final : tcp::AcceptHandler, tcp::SocketHandler {
  tcp::TcpHost* host = nullptr;
  void on_acceptable(uint16_t port) override {
    while (auto* s = host->accept(port)) {
      s->set_handler(this);
      std::vector<std::byte> data(kTotal);
      for (size_t i = 0; i < kTotal; ++i) data[i] = pattern(i);
      REQUIRE(s->send(data) == kTotal);
    }
  }
};

struct Client final : tcp::SocketHandler {
  std::vector<std::byte> received;
  void on_readable(tcp::Socket& s) override {
    std::byte buf[4096];
    while (size_t n = s.receive(buf)) received.insert(received.end(), buf, buf + n);
  }
};

// What the server's tracer saw: its data segments, the ACKs it received, the faults.
struct Recorder final : trace::Sink {
  struct Seg {
    Instant t;
    Direction direction;
    uint32_t seq = 0;  // relative to our ISS (out) or the peer's (in)
    uint32_t ack = 0;  // relative to our ISS (in)
    std::vector<std::byte> payload;
    std::string note;
    std::string flags;
  };
  std::vector<Seg> segments;
  std::vector<std::pair<Instant, std::string>> faults;
  std::vector<std::vector<std::byte>> fault_packets;
  void segment(Instant t, const trace::SegmentEvent& e) override {
    Seg s{t, e.direction, 0, 0, {e.segment.payload.begin(), e.segment.payload.end()}, std::string(e.note),
          {}};
    s.seq = static_cast<uint32_t>(e.segment.seq - (e.direction == Direction::Out ? e.iss : e.irs));
    if (e.segment.flags.ack) s.ack = static_cast<uint32_t>(e.segment.ack - e.iss);
    s.flags = e.segment.flags.to_string();
    segments.push_back(std::move(s));
  }
  void fault(Instant t, Direction, std::string_view what, std::span<const std::byte> ip) override {
    faults.emplace_back(t, std::string(what));
    fault_packets.emplace_back(ip.begin(), ip.end());
  }
};

}  // namespace

TEST_CASE("faults: dropping the third data segment causes one RFC 6298 retransmission, then recovery") {
  trace::Tracer server_tracer, client_tracer;
  Recorder rec;
  server_tracer.add(&rec);
  StackConfig server_config, client_config;
  server_config.tcp.rto_min = seconds(1);  // RFC 6298 §2.4's minimum, not Linux's 200 ms
  client_config.address = wire::Ipv4Address{0xC0000201};
  client_config.tcp.delayed_ack = false;  // every segment ACKed at once: RTT samples are exact
  // Without timestamps the segments carry the full MSS and RTT samples follow RFC 6298's
  // one-timed-segment rule, which is what this test computes the RTO from.
  server_config.tcp.timestamps = client_config.tcp.timestamps = false;
  Stack server(server_config, server_tracer), client(client_config, client_tracer);
  Server app;
  app.host = &server.tcp();
  REQUIRE(server.tcp().listen(80, &app));

  // The injector on the server's link: 25 ms each way (RTT 50 ms), and the targeted drop.
  link::FaultOptions faults;
  REQUIRE_FALSE(link::apply_random_fault(faults, link::RandomFaultKind::Delay, "25"));
  std::string error;
  auto drop = link::parse_targeted_fault("drop out data#3", error);
  REQUIRE(drop);
  faults.targeted.push_back(*drop);
  link::FaultInjector injector(faults, &server_tracer);

  Instant now{seconds(50)};
  server.advance(now);
  client.advance(now);
  Client peer;
  REQUIRE(client.tcp().connect(server_config.address, 80, &peer) != nullptr);
  for (int step = 0; step < 10000; ++step) {
    bool moved = false;
    for (size_t i = 0; i < server.outbox().size(); ++i)
      injector.push(Direction::Out, server.outbox().packet(i), now);
    server.outbox().clear();
    for (const auto& p : injector.take(Direction::Out)) client.receive(p, now), moved = true;
    for (size_t i = 0; i < client.outbox().size(); ++i)
      injector.push(Direction::In, client.outbox().packet(i), now);
    client.outbox().clear();
    for (const auto& p : injector.take(Direction::In)) server.receive(p, now), moved = true;
    if (moved) continue;
    std::optional<Instant> next;
    for (auto d : {server.next_deadline(), client.next_deadline(), injector.next_deadline()})
      if (d && (!next || *d < *next)) next = d;
    if (!next || *next > now + seconds(30)) break;
    now = std::max(now, *next);
    server.advance(now);
    client.advance(now);
    injector.advance(now);
  }

  // Exactly one fault, on the third data segment (relative seq 2921), as the injector said.
  std::string history;
  for (const auto& s : rec.segments)
    history += (s.direction == Direction::In ? "< " : "> ") + s.flags + " " + std::to_string(s.seq) +
               " ack " + std::to_string(s.ack) + " len " + std::to_string(s.payload.size()) + " " + s.note +
               " at " + std::to_string(std::chrono::duration_cast<milliseconds>(s.t - Instant{}).count()) +
               " ms\n";
  INFO(history);
  REQUIRE(rec.faults.size() == 1);
  CHECK(rec.faults[0].second == "dropped (drop out data#3)");
  std::vector<Recorder::Seg> data_out;
  for (const auto& s : rec.segments)
    if (s.direction == Direction::Out && !s.payload.empty()) data_out.push_back(s);
  REQUIRE(data_out.size() == 5);  // four, then one retransmission
  const Instant sent = data_out[0].t;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(data_out[i].t == sent);
    CHECK(data_out[i].seq == 1 + i * kMss);
    CHECK(data_out[i].note.empty());
  }
  auto ip = wire::parse_ipv4(rec.fault_packets[0]);
  REQUIRE(ip);
  auto dropped = wire::parse_tcp(ip->payload, ip->header.source, ip->header.destination);
  REQUIRE(dropped);
  CHECK(std::vector<std::byte>(dropped->payload.begin(), dropped->payload.end()) == data_out[2].payload);

  // The last ACK of new data before the retransmission acknowledged the first two segments;
  // it reached the server one RTT after they left.
  const auto& rtx = data_out[4];
  std::optional<Instant> last_new_ack;
  uint32_t highest = 0;
  for (const auto& s : rec.segments) {
    if (s.direction != Direction::In || s.t >= rtx.t) continue;
    if (s.ack > highest) highest = s.ack, last_new_ack = s.t;
  }
  REQUIRE(last_new_ack);
  CHECK(highest == 1 + 2 * kMss);
  CHECK(*last_new_ack == sent + milliseconds(50));
  // RFC 6298: every RTT sample was 50 ms, so SRTT = 50 ms, RTTVAR <= 25 ms and
  // SRTT + 4 RTTVAR <= 150 ms: the 1 s minimum rules (§2.4). The timer was restarted by that
  // ACK (§5.3) and fires 1 s later; the retransmission carries the very same bytes (§5.4).
  CHECK(rtx.t == *last_new_ack + seconds(1));
  CHECK(rtx.seq == 1 + 2 * kMss);
  CHECK(rtx.note == "retransmission");
  CHECK(rtx.payload == data_out[2].payload);

  // Recovery: every byte arrived in order and was acknowledged, nothing else was resent.
  REQUIRE(peer.received.size() == kTotal);
  bool intact = true;
  for (size_t i = 0; i < kTotal; ++i) intact &= peer.received[i] == pattern(i);
  CHECK(intact);
  auto connections = server.tcp().connections();
  REQUIRE(connections.size() == 1);
  CHECK(connections[0].snd_una == 1 + kTotal);
  CHECK(connections[0].snd_nxt == 1 + kTotal);
  CHECK(server.tcp().stats().retransmissions == 1);
  CHECK(server.tcp().stats().retransmitted_bytes == rtx.payload.size());
  CHECK(injector.stats().out().dropped == 1);
  CHECK(injector.stats().out().delayed > 0);
  CHECK(injector.stats().in().delayed > 0);
}
