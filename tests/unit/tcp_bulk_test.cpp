// A bulk transfer between two in-memory stacks (client and server, both tcplab): checks that
// every byte arrives in order through window scaling, delayed ACKs and flow control, with and
// without a lossy link, and prints the core's throughput (no TUN, no syscalls).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "stack/stack.hpp"

using namespace tcplab;

namespace {

// Byte i of the stream is a function of i, so the receiver can check every byte.
std::byte pattern(uint64_t i) { return std::byte(static_cast<uint8_t>(i * 131 + (i >> 11))); }

struct Sender final : tcp::SocketHandler {
  uint64_t total = 0, sent = 0;
  bool connected = false, closed = false;
  std::vector<std::byte> chunk = std::vector<std::byte>(64 * 1024);
  void pump(tcp::Socket& s) {
    while (sent < total) {
      size_t n = std::min<uint64_t>(chunk.size(), total - sent);
      // Offer one byte more than fits: only a short send() earns an on_writable later,
      // and the pattern is not computed for bytes that would be refused anyway.
      n = std::min(n, s.send_space() + 1);
      for (size_t i = 0; i < n; ++i) chunk[i] = pattern(sent + i);
      size_t taken = s.send(std::span(chunk).first(n));
      sent += taken;
      if (taken < n) return;
    }
    if (!closed) {
      closed = true;
      s.close();
    }
  }
  void on_connected(tcp::Socket& s) override {
    connected = true;
    pump(s);
  }
  void on_writable(tcp::Socket& s) override { pump(s); }
};

struct Receiver final : tcp::AcceptHandler, tcp::SocketHandler {
  tcp::TcpHost* host = nullptr;
  uint64_t received = 0;
  bool corrupt = false, fin = false;
  std::vector<std::byte> buf = std::vector<std::byte>(256 * 1024);
  void on_acceptable(uint16_t port) override {
    while (auto* s = host->accept(port)) s->set_handler(this);
  }
  void on_readable(tcp::Socket& s) override {
    while (size_t n = s.receive(buf)) {
      for (size_t i = 0; i < n; ++i) corrupt |= buf[i] != pattern(received + i);
      received += n;
    }
    if (s.peer_closed() && !fin) {
      fin = true;
      s.close();
    }
  }
};

// What a lossy transfer cost the sender (the client stack).
struct SenderCost {
  uint64_t retransmissions = 0;  // segments resent
  Duration virtual_time{};       // from connect() to the end, on the virtual clock
  uint64_t both_retransmissions = 0;    // both stacks' counters, as an exit summary adds them
  uint64_t traced_retransmissions = 0;  // segment events of both stacks marked as retransmissions
  std::vector<std::string> notes;       // the notes those events carried, each once
};

// Counts the segment events marked as retransmissions, and which notes they carried.
struct RetransmissionCounter final : trace::Sink {
  SenderCost* cost = nullptr;
  void segment(Instant, const trace::SegmentEvent& e) override {
    if (!e.retransmission) return;
    ++cost->traced_retransmissions;
    if (std::find(cost->notes.begin(), cost->notes.end(), e.note) == cost->notes.end())
      cost->notes.emplace_back(e.note);
  }
};

// Moves packets between the stacks; `drop_every` > 0 loses every n-th data packet once.
double transfer(uint64_t bytes, int drop_every, Receiver& rx, Sender& tx, bool sack = true,
                SenderCost* cost = nullptr) {
  trace::Tracer tracer;
  RetransmissionCounter counter;
  counter.cost = cost;
  if (cost) tracer.add(&counter);
  StackConfig server_config, client_config;
  client_config.address = wire::Ipv4Address{0xC0000201};
  server_config.tcp.sack = client_config.tcp.sack = sack;
  Stack server(server_config, tracer), client(client_config, tracer);
  rx.host = &server.tcp();
  REQUIRE(server.tcp().listen(5001, &rx));
  tx.total = bytes;
  Instant now{seconds(1)};
  auto* s = client.tcp().connect(server_config.address, 5001, &tx);
  REQUIRE(s != nullptr);
  uint64_t forwarded = 0;
  // CPU time, not wall time: a loaded test machine should not change the figure much.
  std::clock_t start = std::clock();
  for (int rounds = 0; rounds < 5'000'000; ++rounds) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&client, &server}, std::pair{&server, &client}}) {
      auto& box = from->outbox();
      for (size_t i = 0; i < box.size(); ++i) {
        ++forwarded;
        if (drop_every > 0 && box.packet(i).size() > 1000 && forwarded % drop_every == 0) continue;
        to->receive(box.packet(i), now);
        moved = true;
      }
      box.clear();
    }
    if (rx.fin && server.tcp().connections().empty()) break;
    if (!moved) {
      // Idle: jump to the next timer (delayed ACK, RTO, TIME-WAIT).
      auto a = client.next_deadline(), b = server.next_deadline();
      if (!a && !b) break;
      now = std::max(now, std::min(a.value_or(Instant::max()), b.value_or(Instant::max())));
      client.advance(now);
      server.advance(now);
    }
  }
  if (cost) {
    cost->retransmissions = client.tcp().stats().retransmissions;
    cost->both_retransmissions = cost->retransmissions + server.tcp().stats().retransmissions;
    cost->virtual_time = now - Instant{seconds(1)};
  }
  double secs = std::max(1e-6, static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC);
  return static_cast<double>(bytes) / (1 << 20) / secs;
}

}  // namespace

TEST_CASE("tcp bulk: 16 MiB between two stacks arrives intact, then both sides close") {
  Receiver rx;
  Sender tx;
  double mbps = transfer(16 << 20, 0, rx, tx);
  CHECK(tx.connected);
  CHECK(rx.received == (16u << 20));
  CHECK_FALSE(rx.corrupt);
  CHECK(rx.fin);
  MESSAGE("in-memory throughput incl. test pattern checks (CPU time): " << static_cast<int>(mbps)
                                                                        << " MiB/s");
}

TEST_CASE("tcp bulk: 2 MiB over a link that loses every 50th data packet still arrives intact") {
  Receiver rx;
  Sender tx;
  transfer(2 << 20, 50, rx, tx);
  CHECK(rx.received == (2u << 20));
  CHECK_FALSE(rx.corrupt);
  CHECK(rx.fin);
}

TEST_CASE("tcp bulk: with several losses per window, SACK resends less than NewReno alone") {
  // Every 7th data packet is lost: windows lose several segments, which NewReno repairs one
  // per round trip (RFC 6582) and SACK recovery all in one (RFC 6675).
  Receiver rx_sack, rx_plain;
  Sender tx_sack, tx_plain;
  SenderCost with_sack, without_sack;
  transfer(2 << 20, 7, rx_sack, tx_sack, true, &with_sack);
  transfer(2 << 20, 7, rx_plain, tx_plain, false, &without_sack);
  CHECK(rx_sack.received == (2u << 20));
  CHECK(rx_plain.received == (2u << 20));
  CHECK_FALSE(rx_sack.corrupt);
  CHECK_FALSE(rx_plain.corrupt);
  CHECK(with_sack.retransmissions <= without_sack.retransmissions);
  CHECK(with_sack.virtual_time <= without_sack.virtual_time);
  // The trace marks exactly the segments the counters count, whatever their notes say ("fast
  // retransmit", "retransmission (SACK recovery)", ...): a trace reader counts what the exit
  // summary's "retransmissions N" counts.
  CHECK(with_sack.both_retransmissions > 0);
  CHECK(with_sack.traced_retransmissions == with_sack.both_retransmissions);
  CHECK(without_sack.traced_retransmissions == without_sack.both_retransmissions);
  CHECK(with_sack.notes.size() + without_sack.notes.size() > 2);
  auto ms = [](Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  MESSAGE("2 MiB, every 7th data packet lost: SACK " << with_sack.retransmissions << " segments resent, "
                                                     << ms(with_sack.virtual_time) << " ms; NewReno only "
                                                     << without_sack.retransmissions << " resent, "
                                                     << ms(without_sack.virtual_time) << " ms");
}

#include "stack/services/echo.hpp"

namespace {

// Sends `total` bytes and reads the echo back into `echoed`, pausing reads now and then.
struct EchoClient final : tcp::SocketHandler {
  Sender tx;
  uint64_t echoed = 0;
  bool corrupt = false, paused = false;
  std::vector<std::byte> buf = std::vector<std::byte>(4096);
  void on_connected(tcp::Socket& s) override { tx.pump(s); }
  void on_writable(tcp::Socket& s) override { tx.pump(s); }
  void on_readable(tcp::Socket& s) override {
    if (!paused) drain(s);
  }
  void drain(tcp::Socket& s) {
    while (size_t n = s.receive(buf)) {
      for (size_t i = 0; i < n; ++i) corrupt |= buf[i] != pattern(echoed + i);
      echoed += n;
    }
  }
};

}  // namespace

TEST_CASE("tcp bulk: echo to a client with a 2 KiB receive buffer that pauses reading") {
  trace::Tracer tracer;
  StackConfig server_config, client_config;
  client_config.address = wire::Ipv4Address{0xC0000201};
  client_config.tcp.receive_buffer = 2048;
  Stack server(server_config, tracer), client(client_config, tracer);
  services::EchoService echo(&server.tcp());
  REQUIRE(echo.listen(7));
  EchoClient app;
  app.tx.total = 4'000'000;
  app.tx.closed = true;  // keep the connection open: we only count the echo
  Instant now{seconds(1)};
  auto* s = client.tcp().connect(server_config.address, 7, &app);
  REQUIRE(s != nullptr);
  Instant resume{};
  uint64_t next_pause = 1'000'000;
  for (int rounds = 0; rounds < 2'000'000 && app.echoed < app.tx.total; ++rounds) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&client, &server}, std::pair{&server, &client}}) {
      auto& box = from->outbox();
      for (size_t i = 0; i < box.size(); ++i) to->receive(box.packet(i), now), moved = true;
      box.clear();
    }
    if (!app.paused && app.echoed >= next_pause) {
      app.paused = true;
      resume = now + milliseconds(300);
      next_pause += 1'000'000;
    }
    if (!moved) {
      auto a = client.next_deadline(), b = server.next_deadline();
      Instant next = std::min(a.value_or(Instant::max()), b.value_or(Instant::max()));
      if (app.paused) next = std::min(next, resume);
      if (next == Instant::max()) break;
      now = std::max(now, next);
      if (app.paused && now >= resume) {
        app.paused = false;
        app.drain(*s);
      }
      client.advance(now);
      server.advance(now);
    }
  }
  INFO("sent " << app.tx.sent << " echoed " << app.echoed);
  CHECK(app.echoed == app.tx.total);
  CHECK_FALSE(app.corrupt);
}

#include "stack/services/chargen.hpp"

TEST_CASE("tcp bulk: chargen keeps refilling the send buffer (on_writable after a short send)") {
  trace::Tracer tracer;
  StackConfig server_config, client_config;
  client_config.address = wire::Ipv4Address{0xC0000201};
  client_config.tcp.receive_buffer = 8192;  // a small window, as a Linux client starts with
  Stack server(server_config, tracer), client(client_config, tracer);
  services::ChargenService chargen(&server.tcp(), 0);
  REQUIRE(chargen.listen(19));
  EchoClient app;  // reads everything; sends nothing
  app.tx.closed = true;
  Instant now{seconds(1)};
  auto* s = client.tcp().connect(server_config.address, 19, &app);
  REQUIRE(s != nullptr);
  uint64_t got = 0;
  struct Counter final : tcp::SocketHandler {
    uint64_t* got;
    void on_readable(tcp::Socket& s) override {
      std::byte b[8192];
      while (size_t n = s.receive(b)) *got += n;
    }
  } counter;
  counter.got = &got;
  s->set_handler(&counter);
  for (int rounds = 0; rounds < 200000 && got < (4u << 20); ++rounds) {
    bool moved = false;
    for (auto [from, to] : {std::pair{&client, &server}, std::pair{&server, &client}}) {
      auto& box = from->outbox();
      for (size_t i = 0; i < box.size(); ++i) to->receive(box.packet(i), now), moved = true;
      box.clear();
    }
    if (!moved) {
      auto a = client.next_deadline(), b = server.next_deadline();
      Instant next = std::min(a.value_or(Instant::max()), b.value_or(Instant::max()));
      if (next == Instant::max()) break;
      now = std::max(now, next);
      client.advance(now);
      server.advance(now);
    }
  }
  CHECK(got >= (4u << 20));
}
