// The HTTP server with many connections, on the real sans-IO stack: at --max-connections the
// connection idle the longest makes room for a new client (FIN, not RST); a client is refused
// only when no connection is idle; and only sessions with an event or a due timer are visited.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>

#include "http/server.hpp"
#include "http/stats.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

// Several clients from one peer address, each on its own port.
struct Many {
  struct Client {
    Seq peer_nxt, our_nxt;
    std::vector<Sent> got;
  };

  explicit Many(http::ServerConfig http_config) : server(peer.stack.tcp(), http_config) {
    REQUIRE(server.start());
  }

  void deliver(uint16_t port, const std::string& flags, const std::string& data = {}) {
    Client& c = clients[port];
    peer.set_port(port);
    auto seg = Peer::make(flags, c.peer_nxt, c.our_nxt, 65535, bytes_of(data));
    peer.inject(seg, 80);
    c.peer_nxt += static_cast<uint32_t>(seg.length());
    server.advance(peer.now);
    collect();
  }
  // Files every segment the stack sent under the client it went to, acknowledging data.
  void collect() {
    for (auto& s : peer.take()) {
      Client& c = clients[s.destination_port];
      Seq end = s.seq + static_cast<uint32_t>(s.payload.size()) + (s.flags.syn || s.flags.fin ? 1u : 0u);
      if (s.flags.syn || c.our_nxt < end) c.our_nxt = end;
      c.got.push_back(s);
    }
  }
  void connect(uint16_t port) {
    Client& c = clients[port];
    c.peer_nxt = peer.isn + port;  // any ISN will do; one per client
    deliver(port, "S");
    REQUIRE(!c.got.empty());
    REQUIRE(c.got.back().flags.syn);
    deliver(port, ".");
  }
  bool got_flag(uint16_t port, char flag) {
    for (const auto& s : clients[port].got) {
      if ((flag == 'F' && s.flags.fin) || (flag == 'R' && s.flags.rst)) return true;
    }
    return false;
  }
  std::string payload(uint16_t port) {
    std::string all;
    for (const auto& s : clients[port].got) all += s.payload;
    return all;
  }

  Peer peer;
  http::Server server;
  std::map<uint16_t, Client> clients;
};

const std::string kGet = "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";

// A request and the ACK of its response, as a client's kernel would send.
void request(Many& lab, uint16_t port) {
  lab.deliver(port, "P.", kGet);
  lab.deliver(port, ".");
}

}  // namespace

TEST_CASE("http: at --max-connections the longest-idle keep-alive connection makes room") {
  http::ServerConfig config;
  config.max_connections = 2;
  Many lab(config);
  lab.connect(50001);
  request(lab, 50001);
  lab.peer.advance(seconds(1));
  lab.connect(50002);
  request(lab, 50002);
  REQUIRE(lab.payload(50001).starts_with("HTTP/1.1 200 OK"));
  REQUIRE(lab.server.sessions() == 2);

  // A third client: 50001 has been idle longest, so it gets a FIN and the newcomer is served.
  lab.connect(50003);
  request(lab, 50003);
  CHECK(lab.got_flag(50001, 'F'));
  CHECK_FALSE(lab.got_flag(50001, 'R'));
  CHECK_FALSE(lab.got_flag(50002, 'F'));
  CHECK(lab.payload(50003).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 1);
  CHECK(lab.server.stats().refused_full == 0);
}

TEST_CASE("http: a connection busy again since it first went idle is not the oldest idle one") {
  http::ServerConfig config;
  config.max_connections = 2;
  config.max_requests = 1000000;
  Many lab(config);
  lab.connect(50001);
  request(lab, 50001);
  lab.peer.advance(seconds(1));
  lab.connect(50002);
  request(lab, 50002);
  lab.peer.advance(seconds(1));
  // 50001 asks again (many times: stale entries pile up and must be skipped): it is now the
  // connection idle the shortest, so 50002 makes room for the newcomer.
  for (int i = 0; i < 3000; ++i) request(lab, 50001);
  lab.connect(50003);
  request(lab, 50003);
  CHECK(lab.got_flag(50002, 'F'));
  CHECK_FALSE(lab.got_flag(50001, 'F'));
  CHECK(lab.payload(50003).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 1);
}

TEST_CASE("http: a connection that never sent a request is idle too, and makes room") {
  http::ServerConfig config;
  config.max_connections = 2;
  Many lab(config);
  lab.connect(50001);  // silent: a preconnect, or a client that never speaks
  lab.peer.advance(seconds(1));
  lab.connect(50002);
  lab.connect(50003);
  request(lab, 50003);
  CHECK(lab.got_flag(50001, 'F'));
  CHECK_FALSE(lab.got_flag(50002, 'F'));
  CHECK_FALSE(lab.got_flag(50003, 'R'));
  CHECK(lab.payload(50003).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 1);
  CHECK(lab.server.stats().refused_full == 0);
}

TEST_CASE("http: a connection still delivering its response is busy, not the idle one to close") {
  http::ServerConfig config;
  config.max_connections = 2;
  Many lab(config);
  lab.connect(50001);
  lab.deliver(50001, "P.", kGet);  // answered, but the client has not acknowledged the response
  lab.peer.advance(seconds(1));
  lab.connect(50002);
  request(lab, 50002);  // answered and acknowledged: idle
  lab.connect(50003);
  request(lab, 50003);
  CHECK_FALSE(lab.got_flag(50001, 'F'));
  CHECK(lab.got_flag(50002, 'F'));
  CHECK(lab.payload(50003).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 1);
}

TEST_CASE("http: more than 256 connections still delivering do not hide the idle ones") {
  constexpr int kDelivering = 300;
  http::ServerConfig config;
  config.max_connections = kDelivering + 2;
  Many lab(config);
  for (int i = 0; i < kDelivering; ++i) {
    auto port = static_cast<uint16_t>(40000 + i);
    lab.connect(port);
    lab.deliver(port, "P.", kGet);  // answered, never acknowledged: delivering, the oldest entries
  }
  lab.peer.advance(seconds(1));
  lab.connect(50001);
  request(lab, 50001);  // idle, behind every delivering one
  lab.connect(50002);
  request(lab, 50002);
  // Two newcomers: each closes one idle connection, however many delivering ones come first.
  lab.connect(50003);
  request(lab, 50003);
  lab.connect(50004);
  request(lab, 50004);
  CHECK(lab.got_flag(50001, 'F'));
  CHECK(lab.got_flag(50002, 'F'));
  CHECK(lab.payload(50003).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.payload(50004).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 2);
  CHECK(lab.server.stats().refused_full == 0);
  for (int i = 0; i < kDelivering; ++i) CHECK_FALSE(lab.got_flag(static_cast<uint16_t>(40000 + i), 'F'));
  // 50003 and 50004 are idle now: the next two newcomers are served too, and only then, every
  // connection busy, is one refused.
  for (uint16_t port : {50005, 50006}) {
    lab.connect(port);
    lab.deliver(port, "P.", "GET / HTTP/1.1\r\n");  // a request still arriving: busy
  }
  lab.connect(50007);
  CHECK(lab.got_flag(50003, 'F'));
  CHECK(lab.got_flag(50004, 'F'));
  CHECK(lab.got_flag(50007, 'R'));
  CHECK(lab.server.stats().refused_full == 1);
}

TEST_CASE("http: a client is refused only when no connection is idle") {
  http::ServerConfig config;
  config.max_connections = 1;
  Many lab(config);
  lab.connect(50001);
  lab.deliver(50001, "P.", "GET / HTTP/1.1\r\n");  // a request still arriving: busy, not idle
  lab.connect(50002);
  CHECK(lab.got_flag(50002, 'R'));
  CHECK_FALSE(lab.got_flag(50001, 'F'));
  CHECK(lab.server.stats().refused_full == 1);
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 0);
}

TEST_CASE("http: the trace note of a refused client is never stamped before the segment that caused it") {
  struct Times final : trace::Sink {
    std::vector<std::pair<Instant, std::string>> notes;
    void note(Instant t, const FourTuple*, std::string_view text) override { notes.emplace_back(t, text); }
  } times;
  http::ServerConfig config;
  config.max_connections = 1;
  Many lab(config);
  lab.peer.tracer.add(&times);
  lab.server.set_tracer(&lab.peer.tracer);
  lab.connect(50001);
  lab.deliver(50001, "P.", "GET / HTTP/1.1\r\n");  // busy: the next client is refused
  lab.peer.set_port(50002);
  lab.clients[50002].peer_nxt = lab.peer.isn + 50002;
  lab.deliver(50002, "S");
  // The handshake's ACK comes later than the server's last advance: the refusal is decided
  // while that ACK is processed, so its note must carry the ACK's time, not the older one.
  lab.peer.advance(milliseconds(5));
  lab.deliver(50002, ".");
  REQUIRE(lab.got_flag(50002, 'R'));
  const auto refused = std::find_if(times.notes.begin(), times.notes.end(),
                                    [](const auto& n) { return n.second.starts_with("refused"); });
  REQUIRE(refused != times.notes.end());
  CHECK(refused->first == lab.peer.now);
}

TEST_CASE("http: idle timers still fire with many sessions, and only when due") {
  http::ServerConfig config;
  config.keepalive_timeout = seconds(5);
  Many lab(config);
  for (uint16_t port = 51000; port < 51200; ++port) {
    lab.connect(port);
    request(lab, port);
  }
  REQUIRE(lab.server.sessions() == 200);
  // Just before the idle timeout nothing closes; the next deadline is the first session's.
  lab.peer.advance(milliseconds(4990));
  lab.server.advance(lab.peer.now);
  lab.collect();
  CHECK_FALSE(lab.got_flag(51000, 'F'));
  auto next = lab.server.next_deadline();
  REQUIRE(next);
  CHECK(*next > lab.peer.now);
  CHECK(*next <= lab.peer.now + milliseconds(10));
  // At the timeout every one of them gets its FIN.
  lab.peer.advance(milliseconds(10));
  lab.server.advance(lab.peer.now);
  lab.collect();
  int fins = 0;
  for (uint16_t port = 51000; port < 51200; ++port) fins += lab.got_flag(port, 'F');
  CHECK(fins == 200);
  CHECK(lab.server.stats().closed(http::CloseBy::Timeout) == 200);
}

TEST_CASE("http: a newcomer looks at no more than 4,096 connections; the next one goes on from there") {
  // 4,200 connections still delivering are the oldest entries, one idle connection is behind
  // them: the first newcomer gives up after 4,096 looks (refused, at a bounded cost), the second
  // looks at the remaining 104 and then finds the idle one.
  constexpr int kDelivering = 4200;
  http::ServerConfig config;
  config.max_connections = kDelivering + 1;
  Many lab(config);
  for (int i = 0; i < kDelivering; ++i) {
    auto port = static_cast<uint16_t>(20000 + i);
    lab.connect(port);
    lab.deliver(port, "P.", kGet);  // answered, never acknowledged: delivering
  }
  lab.peer.advance(seconds(1));
  lab.connect(50001);
  request(lab, 50001);  // idle, behind every delivering one
  lab.connect(50002);
  CHECK(lab.got_flag(50002, 'R'));
  CHECK_FALSE(lab.got_flag(50001, 'F'));
  CHECK(lab.server.stats().refused_full == 1);
  lab.connect(50003);
  request(lab, 50003);
  CHECK(lab.got_flag(50001, 'F'));
  CHECK(lab.payload(50003).starts_with("HTTP/1.1 200 OK"));
  CHECK(lab.server.stats().closed(http::CloseBy::Evicted) == 1);
  CHECK(lab.server.stats().refused_full == 1);
}
