// The HTTP server's own counters for /stats: connections, requests, requests per
// connection, and who closed each connection. TCP and IP counters come from the Stack.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tcplab::http {

// Who ended a connection, counted once per connection.
enum class CloseBy {
  Client,         // the client's FIN came first (we were idle): passive close for us
  Server,         // Connection: close / HTTP/1.0 / --keepalive off: we close after the response
  Timeout,        // --keepalive-timeout expired on an idle persistent connection
  HeaderTimeout,  // --header-timeout: a request that never finished arriving (408)
  MaxRequests,    // --max-requests reached
  Error,          // a bad request (4xx/5xx from the parser), or a body we could not finish
  Shutdown,       // the server is stopping
  Reset,          // the client reset the connection (RST), or it timed out in TCP
  Evicted,        // --max-connections reached: the longest-idle keep-alive connection made room
  Count_
};
std::string_view to_string(CloseBy by);
// One line for /stats.html saying what a close counted under `by` means.
std::string_view close_by_meaning(CloseBy by);

// Histogram buckets of requests per connection: 0, 1, 2, 3-5, 6-10, 11-20, 21-50, 51-100, >100.
inline constexpr std::array<std::string_view, 9> kRequestsPerConnectionBuckets = {
    "0", "1", "2", "3-5", "6-10", "11-20", "21-50", "51-100", ">100"};
size_t requests_bucket(uint64_t requests);

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;  // sessions the server holds right now
  // Connections that carried at least one request. ab, browsers and curl sometimes open a
  // connection they never use (ab opens a few spare ones at the end of a run).
  uint64_t connections_used = 0;
  uint64_t requests_served = 0;                  // responses completed (all statuses)
  // Responses started (so counted in responses_by_class) whose connection ended before the
  // whole response was written: a client that stopped reading, reset, or timed out, or a body
  // the server could not finish (a file that shrank while it was sent).
  uint64_t responses_cut_off = 0;
  uint64_t keepalive_reuses = 0;                 // requests that arrived on an already used connection
  uint64_t bad_requests = 0;                     // 4xx/5xx produced by the parser
  std::array<uint64_t, 6> responses_by_class{};  // [2] counts 2xx responses, [4] 4xx, ...
  std::array<uint64_t, static_cast<size_t>(CloseBy::Count_)> closes{};
  std::array<uint64_t, kRequestsPerConnectionBuckets.size()> requests_per_connection{};
  // Closes that took the lingering path (request bytes still arriving after Connection: close
  // or an error, see http/session_close.cpp), and those of them that ended with RST because
  // the client had not closed within --linger.
  uint64_t lingering_closes = 0;
  uint64_t lingering_aborts = 0;
  // At --max-connections: new clients refused because every connection was busy (none idle).
  uint64_t refused_full = 0;
  // 503 Service Unavailable answers because open() of a file under --root hit EMFILE or ENFILE.
  uint64_t out_of_descriptors = 0;

  void count_close(CloseBy by) { ++closes[static_cast<size_t>(by)]; }
  uint64_t closed(CloseBy by) const { return closes[static_cast<size_t>(by)]; }
};

// One line for the SIGUSR1/exit report: sessions, requests, and every connection the server
// refused or closed to make room, so that a RST a client saw has its reason here too.
std::string status_line(const ServerStats& s);

}  // namespace tcplab::http
