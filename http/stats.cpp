// Names and buckets for the HTTP counters.
#include "http/stats.hpp"

namespace tcplab::http {

std::string status_line(const ServerStats& s) {
  return "tcplab: http: connections " + std::to_string(s.connections_accepted) + " (open " +
         std::to_string(s.connections_open) + "), requests served " + std::to_string(s.requests_served) +
         " (bad " + std::to_string(s.bad_requests) + ", responses cut off " +
         std::to_string(s.responses_cut_off) + "); at --max-connections: refused " +
         std::to_string(s.refused_full) + " (every connection busy), idle ones closed to make room " +
         std::to_string(s.closed(CloseBy::Evicted)) + "\n";
}

std::string_view to_string(CloseBy by) {
  switch (by) {
    case CloseBy::Client:
      return "client";
    case CloseBy::Server:
      return "server";
    case CloseBy::Timeout:
      return "timeout";
    case CloseBy::HeaderTimeout:
      return "header-timeout";
    case CloseBy::MaxRequests:
      return "max-requests";
    case CloseBy::Error:
      return "error";
    case CloseBy::Shutdown:
      return "shutdown";
    case CloseBy::Reset:
      return "reset";
    case CloseBy::Evicted:
      return "evicted";
    case CloseBy::Count_:
      break;
  }
  return "?";
}

std::string_view close_by_meaning(CloseBy by) {
  switch (by) {
    case CloseBy::Client:
      return "the client's FIN came first while the connection was idle: a passive close for the server";
    case CloseBy::Server:
      return "Connection: close, HTTP/1.0 or --keepalive off: the server closed after the response";
    case CloseBy::Timeout:
      return "--keepalive-timeout: idle too long, the server closed first (and holds TIME-WAIT)";
    case CloseBy::HeaderTimeout:
      return "--header-timeout: no request, or not all of it, in time (408 if it had started)";
    case CloseBy::MaxRequests:
      return "--max-requests reached: the last response said Connection: close";
    case CloseBy::Error:
      return "a bad request (4xx/5xx), the client closing half-way through a request, or a response body "
             "the server could not finish (a file that shrank while it was sent)";
    case CloseBy::Shutdown:
      return "the server was stopping (SIGINT/SIGTERM)";
    case CloseBy::Reset:
      return "the client reset the connection, or TCP gave up retransmitting";
    case CloseBy::Evicted:
      return "--max-connections reached: the connection idle the longest was closed to make room";
    case CloseBy::Count_:
      break;
  }
  return "";
}

size_t requests_bucket(uint64_t r) {
  if (r <= 2) return static_cast<size_t>(r);
  if (r <= 5) return 3;
  if (r <= 10) return 4;
  if (r <= 20) return 5;
  if (r <= 50) return 6;
  if (r <= 100) return 7;
  return 8;
}

}  // namespace tcplab::http
