// A long response is put into TCP's send buffer a few chunks per event-loop turn, not whole:
// nothing leaves before a turn ends, so a 1 MiB body made and copied whole delayed its first
// byte. The session yields (SessionEnv::yielded) and the server resumes it in the next turn;
// the whole body still arrives, byte for byte.
#include <doctest/doctest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "http/body_source.hpp"
#include "http/server.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

// A kernel-like client on the peer's side of an in-memory stack running the HTTP server; one
// deliver() is one turn of the event loop.
struct DownloadLab {
  DownloadLab() : server(peer.stack.tcp(), http::ServerConfig{}) { REQUIRE(server.start()); }

  void send(const std::string& flags, const std::string& data = {}) {
    peer.build_next(flags, client_nxt, server_nxt, data, 80, packet);
    peer.now += std::chrono::milliseconds(1);
    peer.stack.receive(packet, peer.now);
    server.advance(peer.now);
    peer.stack.advance(peer.now);
    peer.stack.finish_turn();
    most_to_resume = std::max(most_to_resume, server.sessions_to_resume());
    for (const Sent& s : peer.take()) {
      const uint32_t flags_len = s.flags.syn || s.flags.fin ? 1u : 0u;
      const Seq end = s.seq + static_cast<uint32_t>(s.payload.size()) + flags_len;
      if (s.flags.syn || server_nxt < end) server_nxt = end;
      CHECK_FALSE(s.flags.rst);
      received += s.payload;
    }
  }

  Peer peer;
  http::Server server;
  Seq client_nxt = peer.isn;
  Seq server_nxt;
  std::vector<std::byte> packet;
  std::string received;
  size_t most_to_resume = 0;  // the longest the server's list of yielded sessions was after a turn
};

}  // namespace

TEST_CASE("HTTP: a long body goes into TCP a turn at a time, and arrives whole") {
  DownloadLab lab;
  lab.send("S");
  lab.send(".");
  constexpr uint64_t kBody = 1 << 20;
  lab.send("P.", "GET /bytes/" + std::to_string(kBody) + " HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n");
  // The session stopped writing in the request's turn and waits for the next one: the server
  // asks to be advanced again at once. (Written whole, the body would have left it with only
  // its idle timer.)
  REQUIRE(lab.server.next_deadline().has_value());
  CHECK(*lab.server.next_deadline() == lab.peer.now);

  // The client acknowledges whatever came, a turn at a time, until the response is whole.
  const size_t head_end = [&] {
    for (int turn = 0; turn < 100 && lab.received.find("\r\n\r\n") == std::string::npos; ++turn)
      lab.send(".");
    return lab.received.find("\r\n\r\n");
  }();
  REQUIRE(head_end != std::string::npos);
  const size_t whole = head_end + 4 + kBody;
  for (int turn = 0; turn < 5000 && lab.received.size() < whole; ++turn) lab.send(".");
  INFO("head: " << lab.received.substr(0, head_end));
  CHECK(lab.received.substr(0, 15) == "HTTP/1.1 200 OK");
  REQUIRE(lab.received.size() == whole);
  std::string expected(kBody, '\0');
  http::PatternBody pattern(kBody);
  REQUIRE(pattern.read(std::span<char>(expected.data(), expected.size())) == kBody);
  CHECK(lab.received.compare(head_end + 4, kBody, expected) == 0);
  // Nothing left to resume once the body is in: only the connection's idle timer remains.
  REQUIRE(lab.server.next_deadline().has_value());
  CHECK(*lab.server.next_deadline() > lab.peer.now);
}

TEST_CASE("HTTP: pipelined long responses yield, are queued once, and arrive in order, each whole") {
  DownloadLab lab;
  lab.send("S");
  lab.send(".");
  // The first response yields; the second request arrives in the next packet, before the
  // server has resumed the first, so that event finishes the first response and the second
  // reaches the budget in the same write. It must stay queued once, not once per response.
  constexpr uint64_t kFirst = 200000, kSecond = 1 << 20;
  lab.send("P.", "GET /bytes/" + std::to_string(kFirst) + " HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n");
  CHECK(lab.server.sessions_to_resume() == 1);
  lab.send("P.", "GET /bytes/" + std::to_string(kSecond) + " HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n");
  auto head_of = [&](size_t from) { return lab.received.find("\r\n\r\n", from); };
  for (int turn = 0; turn < 100 && head_of(0) == std::string::npos; ++turn) lab.send(".");
  const size_t first_head = head_of(0);
  REQUIRE(first_head != std::string::npos);
  const size_t second_start = first_head + 4 + kFirst;
  for (int turn = 0; turn < 5000 && (lab.received.size() < second_start ||
                                     head_of(second_start) == std::string::npos);
       ++turn)
    lab.send(".");
  const size_t second_head = head_of(second_start);
  REQUIRE(second_head != std::string::npos);
  const size_t whole = second_head + 4 + kSecond;
  for (int turn = 0; turn < 5000 && lab.received.size() < whole; ++turn) lab.send(".");
  REQUIRE(lab.received.size() == whole);
  CHECK(lab.received.compare(second_start, 15, "HTTP/1.1 200 OK") == 0);
  std::string expected(kSecond, '\0');
  http::PatternBody pattern(kSecond);
  REQUIRE(pattern.read(std::span<char>(expected.data(), expected.size())) == kSecond);
  CHECK(lab.received.compare(first_head + 4, kFirst, expected, 0, kFirst) == 0);
  CHECK(lab.received.compare(second_head + 4, kSecond, expected) == 0);
  // One session, so one entry at most: queued twice, it would be resumed twice in a turn and
  // write twice the budget before the turn's packets leave.
  CHECK(lab.most_to_resume == 1);
  CHECK(lab.server.sessions_to_resume() == 0);
  REQUIRE(lab.server.next_deadline().has_value());
  CHECK(*lab.server.next_deadline() > lab.peer.now);
}
