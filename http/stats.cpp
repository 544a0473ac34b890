// Names and buckets for the HTTP counters.
#include "http/stats.hpp"

namespace tcplab::http {

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
    case CloseBy::Count_:
      break;
  }
  return "?";
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
