// The keep-alive decision as one pure function (architecture rule 7, like h11's): does the
// connection stay open after this response, and which Connection/Keep-Alive headers say so.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tcplab::http {

struct KeepAliveInput {
  int http_minor = 1;                       // request version: 0 = HTTP/1.0, 1 = HTTP/1.1
  std::span<const std::string> connection;  // request Connection tokens, lower-cased
  bool server_keepalive = true;             // --keepalive on|off
  uint32_t requests_served = 1;             // on this connection, including this one
  uint32_t max_requests = 100;              // --max-requests
  bool shutting_down = false;               // Server::begin_shutdown() was called
};

// Which Connection header the response carries.
enum class ConnectionHeader { None, Close, KeepAlive };

// Why the connection closes (for /stats "closes by who" and the trace).
// Http10UnknownLength is the session's, not the policy's: a body whose length is not known
// before it is sent can only end at the close for an HTTP/1.0 client (RFC 9112 §6.1: no chunked).
enum class CloseCause {
  None,
  ClientClose,
  Http10Default,
  ServerOff,
  MaxRequests,
  ShuttingDown,
  Http10UnknownLength,
  BodyNotRead  // answered before an Expect: 100-continue body that was never asked for
};

std::string_view to_string(CloseCause cause);

struct KeepAliveDecision {
  bool keep_open = true;
  ConnectionHeader header = ConnectionHeader::None;
  // HTTP/1.0 keep-alive only: also send "Keep-Alive: timeout=N, max=M" (RFC 2068 §19.7.1.1).
  bool keep_alive_params = false;
  uint32_t remaining = 0;  // requests still allowed after this one (the M of max=M)
  CloseCause cause = CloseCause::None;
};

KeepAliveDecision decide_keep_alive(const KeepAliveInput& in);

}  // namespace tcplab::http
