// /stats and /tcp rendered from plain counters (JSON for tools and tests, HTML for people).
// Pure functions: the server gathers the inputs from the Stack (read-only) and ServerStats.
#pragma once
#include <string>
#include <vector>

#include "http/stats.hpp"
#include "stack/drop_reason.hpp"
#include "stack/tcp/host.hpp"
#include "stack/tcp/socket.hpp"

namespace tcplab::http {

struct StatsSnapshot {
  const ServerStats& http;
  const tcp::TcpStats& tcp;
  const DropCounters& drops;
  bool keepalive = true;
  uint64_t keepalive_timeout_s = 5;
  uint32_t max_requests = 100;
};

std::string stats_json(const StatsSnapshot& s);
std::string stats_html(const StatsSnapshot& s);
std::string tcp_json(const std::vector<tcp::ConnectionInfo>& connections);
std::string tcp_html(const std::vector<tcp::ConnectionInfo>& connections);

// Escapes &, <, >, " for HTML text and attributes.
std::string html_escape(std::string_view text);

}  // namespace tcplab::http
