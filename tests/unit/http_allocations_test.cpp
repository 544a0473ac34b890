// "No allocation per packet or per request": a keep-alive request for /bytes/N or for a small
// file under --root, once the connection and the server's spare buffers have warmed up, costs
// the whole path (IPv4 input, TCP, the HTTP parse and response, TCP output, timers) no heap
// allocation. The client's packets are built outside the counted part; what is counted is what
// the stack and the server do with them. Counting needs the replaced operator new, so not
// under ASan.
#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "tests/unit/allocation_counter.hpp"
#include "tests/unit/http_site_fixture.hpp"
#include "tests/unit/tcp_peer.hpp"

#if !TCPLAB_TEST_ASAN
using namespace tcplab;
using namespace tcplab::testing;

namespace {

// One kernel-like client on the peer's side of an in-memory stack running the HTTP server.
struct KeepAliveLab {
  explicit KeepAliveLab(http::ServerConfig config) : server(peer.stack.tcp(), config) {
    REQUIRE(server.start());
  }

  // Builds the client's next segment into `packet` (nothing of this is counted).
  void build(const std::string& flags, const std::string& data = {}) {
    peer.build_next(flags, client_nxt, server_nxt, data, 80, packet);
  }
  // What an event loop does with a packet: the stack takes it, the server and the timers get
  // their turn, the turn ends. This is the counted part.
  void deliver() {
    peer.now += std::chrono::milliseconds(1);
    peer.stack.receive(packet, peer.now);
    server.advance(peer.now);
    peer.stack.advance(peer.now);
    peer.stack.finish_turn();
  }
  // Reads what the stack sent (not counted): the payload bytes, and where the server's
  // sequence space now ends.
  size_t collect() {
    size_t bytes = 0;
    for (const Sent& s : peer.take()) {
      const uint32_t flags = s.flags.syn || s.flags.fin ? 1u : 0u;
      const Seq end = s.seq + static_cast<uint32_t>(s.payload.size()) + flags;
      if (s.flags.syn || server_nxt < end) server_nxt = end;
      bytes += s.payload.size();
      CHECK_FALSE(s.flags.rst);
      CHECK_FALSE(s.flags.fin);
    }
    return bytes;
  }

  Peer peer;
  http::Server server;
  Seq client_nxt = peer.isn;
  Seq server_nxt;
  std::vector<std::byte> packet;
};

// Opens a connection to a server with `config`, sends `get` on it 1,500 times to warm up, then
// 1,500 times more, and returns the allocations counted in those (each response checked).
size_t allocations_in_warm_requests(http::ServerConfig config, const std::string& get) {
  config.max_requests = 100000;
  config.keepalive_timeout = std::chrono::seconds(1);
  // Date needs the calendar; a fixed one keeps its once-a-second text out of the count.
  config.wall_clock = [] { return std::time_t{784111777}; };
  KeepAliveLab lab(config);
  lab.build("S");
  lab.deliver();
  lab.collect();
  lab.build(".");
  lab.deliver();
  lab.collect();
  auto one_request = [&](size_t& allocations) {
    lab.build("P.", get);
    {
      AllocationScope scope;
      lab.deliver();
      allocations += scope.made();
    }
    const size_t response = lab.collect();
    CHECK(response > 1024);
    lab.build(".");  // the client's ACK of the response
    {
      AllocationScope scope;
      lab.deliver();
      allocations += scope.made();
    }
    lab.collect();
  };
  // Warm-up, long enough for every queue and spare buffer to reach its size: the server's
  // queue of idle connections is compacted about every thousand requests, and its idle timer
  // (1 s here, 2 ms of virtual time per request) starts firing after 500.
  size_t warm_up = 0;
  constexpr int kRequests = 1500;
  for (int i = 0; i < kRequests; ++i) one_request(warm_up);
  size_t counted = 0;
  for (int i = 0; i < kRequests; ++i) one_request(counted);
  return counted;  // in kRequests requests after as many of warm-up
}

}  // namespace

TEST_CASE("HTTP keep-alive: a request on a warm connection allocates nothing, stack and server") {
  CHECK(allocations_in_warm_requests({}, "GET /bytes/1024 HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n") == 0);
}

// A small file under --root comes from the file cache: its bytes and its validators (ETag,
// Last-Modified) are shared with the response, not copied into it. The cache's clock stands
// still, so the once-a-second check against the disk (which does allocate) stays out of it.
TEST_CASE("HTTP keep-alive: a cached file from --root allocates nothing per request either") {
  TempRoot root;
  root.write("f1k.txt", std::string(1024, 'x'));
  http::ServerConfig config;
  config.root = root.dir;
  const auto fixed = std::chrono::steady_clock::now();
  config.file_cache_clock = [fixed] { return fixed; };
  CHECK(allocations_in_warm_requests(config, "GET /f1k.txt HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n") == 0);
}
#endif
