// /stats and /tcp rendered from plain counters (JSON for tools and tests, HTML for people).
// Pure functions: the server gathers the inputs from its SocketProvider (read-only) and
// ServerStats.
#pragma once
#include <string>
#include <vector>

#include "http/stats.hpp"
#include "stack/drop_reason.hpp"
#include "stack/time.hpp"
#include "stack/tcp/provider.hpp"
#include "stack/tcp/socket.hpp"

namespace tcplab::http {

struct StatsSnapshot {
  const ServerStats& http;
  const tcp::TcpStats& tcp;
  const DropCounters& drops;
  bool keepalive = true;
  // The idle timeout in force (/stats: keepalive_timeout_s, fractional when the flag is, 0.5).
  Duration keepalive_timeout = std::chrono::seconds(5);
  uint32_t max_requests = 100;
  // Connections the request for this page travels on and that tcp.connections_current
  // therefore counts: 1 when served over HTTP (the server's hooks), 0 for a bare snapshot.
  uint64_t asking_connections = 1;
  // False on kernel sockets: segment, retransmission, reset and drop counters are not ours to
  // see, so /stats marks them "not available" instead of showing zeros as if measured.
  bool tcp_internals = true;
  std::string tcp_name = "tcplab";  // which TCP carries the connections
};

// The article's "Current Connections": open TCP connections other than the one asking.
uint64_t current_connections_excluding_asker(const StatsSnapshot& s);

std::string stats_json(const StatsSnapshot& s);
std::string stats_html(const StatsSnapshot& s);
// The connection table. `tcp_internals` false (the kernel's TCP): the sequence numbers, the
// send window and the buffer memory are not shown to us, so they are null in JSON and
// "not available" in HTML, as in /stats, instead of zeros that look measured.
std::string tcp_json(const std::vector<tcp::ConnectionInfo>& connections, bool tcp_internals = true);
std::string tcp_html(const std::vector<tcp::ConnectionInfo>& connections, bool tcp_internals = true);

}  // namespace tcplab::http
