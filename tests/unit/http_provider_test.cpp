// The HTTP server over any SocketProvider: it listens, accepts and fills /stats through the
// interface alone, and a TCP that keeps no counters of its own (the kernel's) is labelled so
// instead of showing zeros as if measured.
#include <doctest/doctest.h>

#include <deque>
#include <string>

#include "http/server.hpp"
#include "http/stats_page.hpp"
#include "tests/unit/fake_socket.hpp"

namespace tcplab {
namespace {

// A TCP that is only an interface: the test queues sockets to accept.
class FakeProvider final : public tcp::SocketProvider {
 public:
  bool listen(uint16_t port, tcp::AcceptHandler* handler) override {
    listened_port = port;
    acceptor = handler;
    return true;
  }
  tcp::Socket* accept(uint16_t port) override {
    if (port != listened_port || queue.empty()) return nullptr;
    tcp::Socket* s = queue.front();
    queue.pop_front();
    ++counters.passive_opens;
    return s;
  }
  std::vector<tcp::ConnectionInfo> connections() const override { return {}; }
  const tcp::TcpStats& stats() const override { return counters; }
  const DropCounters& drops() const override { return no_drops; }
  bool tcp_internals_available() const override { return false; }
  std::string_view tcp_name() const override { return "kernel"; }

  uint16_t listened_port = 0;
  tcp::AcceptHandler* acceptor = nullptr;
  std::deque<tcp::Socket*> queue;
  tcp::TcpStats counters;
  DropCounters no_drops;
};

TEST_CASE("the HTTP server runs on any SocketProvider and /stats says which TCP it is") {
  FakeProvider provider;
  http::ServerConfig config;
  config.port = 8080;
  config.wall_clock = [] { return std::time_t{0}; };
  http::Server server(provider, config);
  REQUIRE(server.start());
  CHECK(provider.listened_port == 8080);
  REQUIRE(provider.acceptor == &server);

  testing::FakeSocket socket;
  provider.queue.push_back(&socket);
  provider.acceptor->on_acceptable(8080);
  CHECK(server.sessions() == 1);
  socket.client_send("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
  server.advance(Instant{} + seconds(1));
  INFO(socket.sent);
  CHECK(socket.sent.starts_with("HTTP/1.1 200"));
  CHECK(socket.sent.find("\"tcp\": {\"name\": \"kernel\", \"internals_available\": false") !=
        std::string::npos);
  CHECK(socket.sent.find("\"segments_sent\": null") != std::string::npos);
  CHECK(socket.sent.find("\"drops\": null") != std::string::npos);
  CHECK(socket.sent.find("\"passive_opens\": 1") != std::string::npos);
}

TEST_CASE("/stats.html marks the counters a kernel TCP does not show as not available") {
  http::ServerStats http;
  tcp::TcpStats tcp;
  DropCounters drops;
  http::StatsSnapshot own{http, tcp, drops, true, std::chrono::seconds(5), 100};
  CHECK(http::stats_html(own).find("not available") == std::string::npos);
  CHECK(http::stats_json(own).find("\"name\": \"tcplab\", \"internals_available\": true") !=
        std::string::npos);
  http::StatsSnapshot kernel{http, tcp, drops, true, std::chrono::seconds(5), 100};
  kernel.tcp_internals = false;
  kernel.tcp_name = "kernel";
  auto html = http::stats_html(kernel);
  CHECK(html.find("not available") != std::string::npos);
  CHECK(html.find("TCP: kernel") != std::string::npos);
  CHECK(http::stats_json(kernel).find("null") != std::string::npos);
}

}  // namespace
}  // namespace tcplab
