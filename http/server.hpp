// The HTTP server on tcplab's own TCP, using only the Socket API (architecture rule 7).
// It shows connection-per-request (HTTP/1.0, Connection: close, --keepalive off) against
// persistent connections (HTTP/1.1 keep-alive with an idle timeout).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "stack/stack.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/time.hpp"

namespace tcplab::http {

struct ServerConfig {
  uint16_t port = 80;
  bool keepalive = true;                         // --keepalive on|off
  Duration keepalive_timeout = seconds(5);       // --keepalive-timeout SECONDS
  uint32_t max_requests = 100;                   // --max-requests N
  Duration header_timeout = seconds(10);         // --header-timeout SECONDS
  std::optional<std::string> root;               // --root DIR (default: built-in demo site)
  size_t max_body = 1 << 20;                     // request bodies above this get 413
  Duration linger = seconds(2);                  // lingering close after Connection: close
};

class Server final : public tcp::AcceptHandler {
 public:
  Server(Stack& stack, const ServerConfig& config);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens on config.port; false if the port is already taken.
  bool start();
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
