// The keep-alive table of the article and RFC 9112 §9.3, in one place.
#include "http/keepalive_policy.hpp"

#include <algorithm>

namespace tcplab::http {

std::string_view to_string(CloseCause cause) {
  switch (cause) {
    case CloseCause::None:
      return "keep-alive";
    case CloseCause::ClientClose:
      return "client sent Connection: close";
    case CloseCause::Http10Default:
      return "HTTP/1.0 without Connection: keep-alive";
    case CloseCause::ServerOff:
      return "server keep-alive is off";
    case CloseCause::MaxRequests:
      return "max requests reached";
    case CloseCause::ShuttingDown:
      return "server shutting down";
    case CloseCause::Http10UnknownLength:
      return "HTTP/1.0 response of unknown length: it ends at the close";
    case CloseCause::BodyNotRead:
      return "answered without the request's body (no 100 Continue), which may still come";
  }
  return "?";
}

// The decision, first matching row wins:
//
//  | # | condition                                   | connection | response header              |
//  |---|---------------------------------------------|------------|------------------------------|
//  | 1 | server shutting down                        | close      | Connection: close            |
//  | 2 | --keepalive off (IIS "keep-alive disabled") | close      | Connection: close            |
//  | 3 | request says Connection: close (any version)| close      | Connection: close            |
//  | 4 | HTTP/1.0 without Connection: keep-alive     | close      | Connection: close            |
//  | 5 | this is request number --max-requests       | close      | Connection: close            |
//  | 6 | HTTP/1.0 with Connection: keep-alive        | keep open  | Connection: keep-alive +     |
//  |   |                                             |            | Keep-Alive: timeout=N, max=M |
//  | 7 | HTTP/1.1 otherwise                          | keep open  | none (persistence is default)|
//
// Sources:
// - RFC 9112 §9.3: HTTP/1.1 connections persist unless "close" is among the Connection
//   options; an HTTP/1.0 connection persists only if the client sent "keep-alive" and the
//   server agrees (rows 3, 4, 6, 7).
// - RFC 9112 §9.6: a server that will close SHOULD send "Connection: close" in its final
//   response, and MUST close after a response to a request carrying "close" (rows 1-5).
// - RFC 1945 (HTTP/1.0) has no persistence at all: one request, one connection (row 4).
// - RFC 2068 §19.7.1 / RFC 7230 §A.1.2: the HTTP/1.0 "keep-alive" extension; the server
//   answers "Connection: keep-alive" and may send Keep-Alive parameters (row 6).
// - The article (the 2014 Korean keep-alive blog post): IIS with keep-alive off answers
//   "Connection: close" and its Current Connections drops to 0 after each response (row 2);
//   with keep-alive on it sends no Connection header to 1.1 clients and the connection
//   stays (row 7).
KeepAliveDecision decide_keep_alive(const KeepAliveInput& in) {
  auto has = [&](std::string_view token) {
    return std::find(in.connection.begin(), in.connection.end(), token) != in.connection.end();
  };
  auto close = [](CloseCause cause) {
    return KeepAliveDecision{false, ConnectionHeader::Close, false, 0, cause};
  };
  if (in.shutting_down) return close(CloseCause::ShuttingDown);
  if (!in.server_keepalive) return close(CloseCause::ServerOff);
  if (has("close")) return close(CloseCause::ClientClose);
  if (in.http_minor == 0 && !has("keep-alive")) return close(CloseCause::Http10Default);
  if (in.requests_served >= in.max_requests) return close(CloseCause::MaxRequests);
  uint32_t remaining = in.max_requests - in.requests_served;
  if (in.http_minor == 0)
    return KeepAliveDecision{true, ConnectionHeader::KeepAlive, true, remaining, CloseCause::None};
  return KeepAliveDecision{true, ConnectionHeader::None, false, remaining, CloseCause::None};
}

}  // namespace tcplab::http
