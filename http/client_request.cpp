// URL parsing, resolving a redirect's Location, the GET request `tcplab get` sends, and the
// client's keep-alive decision.
#include "http/client_request.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

// The refusal of a URL whose scheme (the first `scheme_length` bytes of `text`) is not http.
std::string unsupported_scheme(std::string_view text, size_t scheme_length) {
  const bool slashes = text.substr(scheme_length + 1).starts_with("//");
  const std::string named(text.substr(0, scheme_length + (slashes ? 3 : 1)));
  return "only http:// URLs are supported, not '" + named + "'" +
         (syntax::starts_with_ci(text, "https:") ? " (tcplab has no TLS)" : "");
}

}  // namespace

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  // RFC 3986 §3.1: "schemes are case-insensitive" (HTTP:// is http://).
  if (!syntax::starts_with_ci(text, kScheme)) {
    auto colon = text.find("://");
    error = colon == std::string_view::npos
                ? "'" + std::string(text) + "' is not a URL; expected http://ADDR[:PORT]/path"
                : unsupported_scheme(text, colon);
    return std::nullopt;
  }
  Url url;
  url.text = std::string(text);
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    error = "user information in a URL is not supported: '" + std::string(text) + "'";
    return std::nullopt;
  }
  // RFC 3986 §3.2.2: an IPv6 literal is written in brackets ("[::1]"); its colons are not a port.
  if (authority.substr(0, 1) == "[") {
    error =
        "IPv6 addresses are not supported: tcplab is IPv4 only; expected http://ADDR[:PORT]/path with "
        "a dotted IPv4 address, not '" +
        std::string(text) + "'";
    return std::nullopt;
  }
  std::string_view host = authority;
  auto colon = authority.find(':');
  // RFC 3986 §3.2.3: an empty port ("ADDR:") is the scheme's default.
  if (colon != std::string_view::npos && colon + 1 == authority.size()) {
    host = authority.substr(0, colon);
    authority = host;
  } else if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    uint32_t n = 0;
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) n = static_cast<uint32_t>(std::stoul(std::string(port)));
    if (!digits || n == 0 || n > 65535) {
      error = "bad port '" + std::string(port) + "' in '" + std::string(text) + "' (expected 1-65535)";
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(n);
  }
  if (host.empty()) {
    error = "no host in '" + std::string(text) + "'";
    return std::nullopt;
  }
  auto address = wire::Ipv4Address::parse(host);
  if (!address) {
    error = "'" + std::string(host) + "' is not a dotted IPv4 address (tcplab has no DNS): '" +
            std::string(text) + "'";
    return std::nullopt;
  }
  url.address = *address;
  url.authority = std::string(authority);
  // The fragment is never sent (RFC 3986 §3.5); the query is part of the target.
  target = target.substr(0, target.find('#'));
  url.path = target.empty() ? "/" : (target.front() == '?' ? "/" : "") + std::string(target);
  for (char c : url.path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      error = "a space or control character in the path of '" + std::string(text) + "'";
      return std::nullopt;
    }
  }
  return url;
}

bool is_followable_redirect(int status) {
  return status == 300 || status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

namespace {

// RFC 3986 §5.2.4: remove_dot_segments, on a path that starts with '/'.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  size_t start = 1;
  bool ends_in_directory = false;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    ends_in_directory = segment == "." || segment == "..";
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (auto segment : kept) out += "/" + std::string(segment);
  if (out.empty() || ends_in_directory) out += "/";
  return out;
}

// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':', before any
// '/', '?' or '#'. Its length, or 0 if the reference has none (it is relative).
size_t scheme_length(std::string_view reference) {
  if (reference.empty() || !std::isalpha(static_cast<unsigned char>(reference[0]))) return 0;
  for (size_t i = 1; i < reference.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(reference[i]);
    if (c == ':') return i;
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

}  // namespace

std::optional<Url> resolve_location(const Url& base, std::string_view location, std::string& error) {
  // Browsers and curl send a space in a Location as %20 rather than refuse it (it is no URI
  // character, RFC 3986 §2); control bytes never get here (the response parser refuses them).
  std::string encoded;
  for (char c : location.substr(0, location.find('#'))) {
    if (c == ' ')
      encoded += "%20";
    else
      encoded += c;
  }
  std::string_view reference = encoded;
  if (const size_t scheme = scheme_length(reference); scheme > 0) {
    if (!syntax::starts_with_ci(reference, "http:")) {
      error = unsupported_scheme(reference, scheme);
      return std::nullopt;
    }
    // RFC 3986 §5.2.2, the non-strict reading: a scheme that is the base's own (http) is dropped
    // and the rest resolves as a reference without one ("http:g" as "g", §5.4.2).
    reference.remove_prefix(scheme + 1);
  }
  // The query and fragment are not paths: dot segments are removed before them only.
  const size_t path_end = std::min(reference.find('?'), reference.size());
  std::string_view path = reference.substr(0, path_end);
  std::string_view query = reference.substr(path_end);
  std::string absolute;
  if (reference.starts_with("//")) {
    // A network-path reference: its own authority, and RFC 3986 §5.2.2 removes its dot segments.
    std::string_view rest = reference.substr(2);
    const size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
    const size_t rest_path_end = std::min(rest.find('?'), rest.size());
    std::string_view rest_path = rest.substr(authority_end, rest_path_end - authority_end);
    absolute = "http://" + std::string(rest.substr(0, authority_end)) +
               (rest_path.empty() ? std::string("/") : remove_dot_segments(rest_path)) +
               std::string(rest.substr(rest_path_end));
  } else if (path.starts_with('/')) {
    absolute = "http://" + base.authority + remove_dot_segments(path) + std::string(query);
  } else {
    // A relative path merges with the base path up to its last '/' (RFC 3986 §5.2.3); an empty
    // one keeps the base path and takes the reference's query, if any.
    std::string_view base_path = std::string_view(base.path).substr(0, base.path.find('?'));
    std::string merged = path.empty() ? std::string(base_path)
                                      : std::string(base_path.substr(0, base_path.rfind('/') + 1)) +
                                            std::string(path);
    if (path.empty() && query.empty()) query = std::string_view(base.path).substr(base_path.size());
    absolute = "http://" + base.authority + remove_dot_segments(merged) + std::string(query);
  }
  return parse_url(absolute, error);
}

std::string build_request(const Url& url, const RequestOptions& options) {
  std::string r = "GET " + url.path + " HTTP/1." + std::to_string(options.minor) + "\r\n";
  r += "Host: " + url.authority + "\r\n";  // RFC 9112 §3.2: MUST send Host (1.1); harmless in 1.0
  r += "User-Agent: " + options.user_agent + "\r\n";
  r += "Accept: */*\r\n";
  if (options.minor >= 1 && !options.keepalive) r += "Connection: close\r\n";
  // RFC 9112 §C.2.2: an HTTP/1.0 client asks for a persistent connection with keep-alive.
  if (options.minor == 0 && options.keepalive) r += "Connection: keep-alive\r\n";
  r += "\r\n";
  return r;
}

// RFC 9112 §9.3, from the client's side: what we sent and what the server answered.
Persistence decide_persistence(const RequestOptions& sent, const ReceivedHead& head, BodyFraming framing) {
  if (framing == BodyFraming::UntilClose) return {false, "the body ran until the server closed"};
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty: the
  // message is processed, then the connection is closed.
  if (head.minor == 0 && head.transfer_encoding) {
    return {false, "HTTP/1.0 response with Transfer-Encoding: faulty framing (RFC 9112 §6.1)"};
  }
  if (head.has_connection_token("close")) return {false, "the server sent Connection: close"};
  if (sent.minor >= 1 && !sent.keepalive) return {false, "we sent Connection: close (--keepalive off)"};
  if (sent.minor == 0 && !sent.keepalive) {
    return {false, "HTTP/1.0 request without Connection: keep-alive closes after one response"};
  }
  if (head.minor == 0 && !head.has_connection_token("keep-alive")) {
    return {false, "HTTP/1.0 response without Connection: keep-alive"};
  }
  if (head.minor == 0) return {true, "keep-alive negotiated (HTTP/1.0 Connection: keep-alive)"};
  if (sent.minor == 0) return {true, "keep-alive negotiated (we asked; the server answered HTTP/1.1)"};
  return {true, "HTTP/1.1 default keep-alive"};
}

}  // namespace tcplab::http
