// The keep-alive demo's plan and report (`tcplab demo keepalive`): which requests each mode
// makes, and the table / JSON of what the stack counted. The article's comparison in four
// runs: HTTP/1.0 with one connection per request, HTTP/1.1 keep-alive on one connection,
// keep-alive with a pause past the server's idle timeout, keep-alive with --max-requests.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stack/time.hpp"

namespace tcplab::http::demo {

enum class Mode { Http10Close, KeepAlive, IdleTimeout, MaxRequests };
inline constexpr Mode kAllModes[] = {Mode::Http10Close, Mode::KeepAlive, Mode::IdleTimeout,
                                     Mode::MaxRequests};

// The stable names of the JSON output's `mode` key.
std::string_view mode_name(Mode mode);

// The demo page's assets in the order a browser asks for them: style, script, images.
inline constexpr int kMaxAssets = 8;
std::vector<std::string> page_paths(int assets);

struct PlanOptions {
  int assets = kMaxAssets;
  Duration keepalive_timeout = seconds(2);  // the server's idle timeout in every mode
  uint32_t max_requests = 3;                // the server's --max-requests in that mode
  Duration one_way_delay{};                 // emulated, per direction
};

struct Request {
  std::string path;
  Duration pause_before{};  // the client waits this long before sending it
};

struct Plan {
  Mode mode = Mode::KeepAlive;
  bool http10 = false;        // HTTP/1.0 without keep-alive: the server closes after each response
  uint32_t max_requests = 0;  // the server's --max-requests for this run (0: its default)
  std::vector<Request> requests;
};

Plan make_plan(Mode mode, const PlanOptions& options);

// One run's figures, all counted by the stack (the client's TIME-WAIT by the kernel).
struct Row {
  std::string mode;
  uint32_t delay_ms = 0;  // one way
  uint64_t requests = 0;
  uint64_t connections = 0;   // TCP connections the server accepted
  uint64_t handshakes = 0;    // three-way handshakes completed
  uint64_t segments = 0;      // both directions
  uint64_t header_bytes = 0;  // IPv4 + TCP headers, both directions
  double seconds = 0;         // the client's time from its first connect to its last response
  uint64_t time_wait_server = 0;
  uint64_t time_wait_client = 0;
};

std::string format_table(const std::vector<Row>& rows);
// A JSON array of objects with exactly the keys of Row, in that order.
std::string format_json(const std::vector<Row>& rows);

}  // namespace tcplab::http::demo
