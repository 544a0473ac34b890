// The pure parts of `tcplab get`: which URLs it accepts, where a redirect's Location leads,
// the request it sends, and whether a connection may carry another request after a response
// (RFC 9112 §9.3), as functions of their inputs only, so tests state each case in one line.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/response_parser.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::http {

// http://ADDR[:PORT]/path: an IPv4 address in dotted form (the stack has no resolver).
struct Url {
  std::string text;  // as given
  wire::Ipv4Address address;
  uint16_t port = 80;
  std::string authority;  // "ADDR" or "ADDR:PORT", for the Host field (RFC 9110 §7.2)
  std::string path;       // origin-form target, "/" when the URL has none (RFC 9112 §3.2.1)
};

// The URL, or nothing with `error` saying what is wrong in one line.
std::optional<Url> parse_url(std::string_view text, std::string& error);

// RFC 9110 §15.4: the redirections `get -L` follows with a GET. A 300 (a choice among
// representations) only when it names the server's preferred one in a Location, which
// §15.4.1 lets a client follow automatically, as curl -L does. Not 304 (an answer to a
// conditional request).
bool is_followable_redirect(int status);

// RFC 9110 §10.2.2: a Location value is a URI reference, resolved against the URL that was
// asked for (RFC 3986 §5.2): an absolute http:// URL, a network-path reference ("//ADDR/p"),
// an absolute path ("/p") or a relative one ("p", "../p"). The URL, or nothing with `error`
// saying why it cannot be fetched (another scheme, a host name: tcplab has no TLS and no DNS).
std::optional<Url> resolve_location(const Url& base, std::string_view location, std::string& error);

struct RequestOptions {
  int minor = 1;          // --http1.0 sends HTTP/1.0
  bool keepalive = true;  // false: Connection: close; with HTTP/1.0, true asks for keep-alive
  std::string user_agent = "tcplab";
};

// "GET /path HTTP/1.1\r\nHost: ...\r\n...\r\n\r\n".
std::string build_request(const Url& url, const RequestOptions& options);

// May the connection carry the next request once this response is complete?
struct Persistence {
  bool keep_open = false;
  std::string why;  // one line for the output and the trace
};

Persistence decide_persistence(const RequestOptions& sent, const ReceivedHead& head, BodyFraming framing);

}  // namespace tcplab::http
