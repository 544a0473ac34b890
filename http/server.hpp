// The HTTP server over any TCP (tcplab's own, or kernel sockets), using only the Socket API and
// a SocketProvider for listen/accept and the /stats counters (architecture rule 7).
// It shows connection-per-request (HTTP/1.0, Connection: close, --keepalive off) against
// persistent connections (HTTP/1.1 keep-alive with an idle timeout).
#pragma once
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "stack/tcp/provider.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::http {

struct ServerConfig {
  uint16_t port = 80;
  bool keepalive = true;                    // --keepalive on|off
  Duration keepalive_timeout = seconds(5);  // --keepalive-timeout SECONDS
  uint32_t max_requests = 100;              // --max-requests N
  // --max-connections N: sessions held at once; at the limit the longest-idle keep-alive
  // connection is closed to make room. An idle session costs a few KB, not buffers.
  size_t max_connections = 100000;
  Duration header_timeout = seconds(10);  // --header-timeout SECONDS
  std::optional<std::string> root;        // --root DIR (default: built-in demo site)
  size_t max_body = 1 << 20;              // request bodies above this get 413
  // --linger SECONDS: a lingering close (request bytes still arriving after Connection: close
  // or an error, http/session_close.cpp) reads and discards this long, then sends RST.
  Duration linger = seconds(2);
  // Deviation (date-header-clock): wall-clock seconds for the Date header only (RFC 9110
  // §6.6.1), against "no clock in http/": Date needs calendar time, which the steady `now`
  // cannot give; this is the one place it is read, injected so tests fix it. Unset:
  // std::time() in server.cpp.
  std::function<std::time_t()> wall_clock;
  // The --root file cache's clock, which paces its checks of the disk (http/file_cache.hpp);
  // tests fix it so that no check falls in what they count.
  std::function<std::chrono::steady_clock::time_point()> file_cache_clock = &std::chrono::steady_clock::now;
};

struct ServerStats;

class Server final : public tcp::AcceptHandler {
 public:
  Server(tcp::SocketProvider& tcp, const ServerConfig& config);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens on config.port; false if the port is already taken or --root is not a
  // directory (error() says which).
  bool start();
  const std::string& error() const;
  // HTTP decisions (keep-alive or close and why, timeouts, who closes first) go to the
  // trace as notes. Optional; call before start().
  void set_tracer(trace::Tracer* tracer);
  const ServerStats& stats() const;
  size_t sessions() const;  // connections the server holds (including lingering ones)
  // Sessions that stopped writing a long response and wait for the next turn (at most one
  // entry each).
  size_t sessions_to_resume() const;
  // Idle, header and linger timers.
  void advance(Instant now);
  std::optional<Instant> next_deadline() const;
  // Graceful stop: answer with Connection: close from now on.
  void begin_shutdown();

  void on_acceptable(uint16_t port) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcplab::http
