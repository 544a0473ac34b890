// Writing response heads and chunks.
#include "http/response.hpp"

#include <cstdio>

namespace tcplab::http {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Unknown";
}

std::string format_http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kHttpDayNames[tm.tm_wday % 7].data(),
                tm.tm_mday, kHttpMonthNames[tm.tm_mon % 12].data(), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string_view ResponseHead::field(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  if (validators && name == "ETag") return validators->etag;
  if (validators && name == "Last-Modified") return validators->last_modified_text;
  return {};
}

std::string render_head(const ResponseHead& head, const KeepAliveDecision& decision, std::string_view date,
                        uint64_t keepalive_timeout_s) {
  std::string out;
  out.reserve(kTypicalHeadSize);
  append_head(out, head, decision, date, keepalive_timeout_s);
  return out;
}

void append_head(std::string& out, const ResponseHead& head, const KeepAliveDecision& decision,
                 std::string_view date, uint64_t keepalive_timeout_s) {
  // RFC 9110 §6.2: a server sends its own highest version (1.1) even to a 1.0 client.
  out += "HTTP/1.1 ";
  out += std::to_string(head.status);
  out += ' ';
  out += reason_phrase(head.status);
  out += "\r\n";
  if (!date.empty()) {
    out += "Date: ";
    out += date;
    out += "\r\n";
  }
  out += "Server: tcplab\r\n";
  if (!head.content_type.empty()) {
    out += "Content-Type: ";
    out += head.content_type;
    out += "\r\n";
  }
  if (head.status == 304) {
    // RFC 9110 §15.4.5: a 304 has no content, and its Content-Length would have to be the
    // length of the 200 it stands for (§8.6): none is sent.
  } else if (head.content_length) {
    out += "Content-Length: ";
    out += std::to_string(*head.content_length);
    out += "\r\n";
  } else if (!head.close_delimited) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (head.accept_ranges) out += "Accept-Ranges: bytes\r\n";
  if (head.validators) {
    out += "ETag: ";
    out += head.validators->etag;
    out += "\r\nLast-Modified: ";
    out += head.validators->last_modified_text;
    out += "\r\n";
  }
  for (const auto& [name, value] : head.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  switch (decision.header) {
    case ConnectionHeader::None:
      break;
    case ConnectionHeader::Close:
      out += "Connection: close\r\n";
      break;
    case ConnectionHeader::KeepAlive:
      out += "Connection: keep-alive\r\n";
      break;
  }
  if (decision.keep_alive_params) {
    // Keep-Alive: timeout=, max= (RFC 2068 §19.7.1.1, HTTP/1.0 keep-alive). An idle timeout
    // under a second has no whole number of seconds to announce: timeout=0 would read as "do
    // not reuse", so only max= is sent.
    out += "Keep-Alive: ";
    if (keepalive_timeout_s > 0) {
      out += "timeout=";
      out += std::to_string(keepalive_timeout_s);
      out += ", ";
    }
    out += "max=";
    out += std::to_string(decision.remaining);
    out += "\r\n";
  }
  out += "\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out += "\r\n";
}

}  // namespace tcplab::http
