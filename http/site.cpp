// Routing, method rules (405 with Allow) and the built-in demo content.
#include "http/site.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include "http/byte_range.hpp"
#include "http/stats_page.hpp"
#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

// An absolute-form target (RFC 9112 §3.2.2) as its authority and what follows it ("/a?x=1",
// "?x=1" or ""); nothing for any other form. RFC 3986 §3.1: schemes are case-insensitive.
struct AbsoluteForm {
  std::string_view authority, rest;
};
std::optional<AbsoluteForm> absolute_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!syntax::starts_with_ci(target, scheme)) continue;
    target.remove_prefix(scheme.size());
    const size_t end = std::min(target.find_first_of("/?"), target.size());
    return AbsoluteForm{target.substr(0, end), target.substr(end)};
  }
  return std::nullopt;
}

constexpr std::string_view kHtml = "text/html; charset=utf-8";
// The methods each kind of target takes, as Allow names them (RFC 9110 §10.2.1): one text for
// OPTIONS and the 405s alike, so the two cannot drift apart.
constexpr std::string_view kAllowServer = "GET, HEAD, POST, OPTIONS";  // OPTIONS *, and /echo
constexpr std::string_view kAllowPage = "GET, HEAD, OPTIONS";          // every other path

// The address the client used, for the curl example a page prints: tcplab may run on another
// address than the usual 192.0.2.2. RFC 9112 §3.3: with an absolute-form target "the target
// URI is the same as the request-target", so its authority (without any userinfo) comes
// first; otherwise the Host header, which the parser has already refused unless it is
// uri-host [":" port] (400, RFC 9112 §3.2).
std::string example_host(const Request& request) {
  if (auto absolute = absolute_form(request.target)) {
    std::string_view authority = absolute->authority;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    if (!authority.empty()) return std::string(authority);
  }
  const std::string_view host = request.header("host");
  return host.empty() ? std::string("ADDR") : std::string(host);
}

Response method_not_allowed(std::string_view allow) {
  // RFC 9110 §15.5.6: 405 carries Allow with the methods the resource supports.
  auto r = text_response(405, "text/plain; charset=utf-8",
                         "405 Method Not Allowed (allowed: " + std::string(allow) + ")\n");
  r.head.headers.emplace_back("Allow", allow);
  return r;
}

// RFC 9110 §9.3.7: a successful answer to OPTIONS, for the server (OPTIONS *) or a resource:
// 200 with Allow, the methods it supports, and no content.
Response options_answer(std::string_view allow) {
  auto r = text_response(200, "", "");
  r.head.headers.emplace_back("Allow", allow);
  return r;
}

Response not_found() { return text_response(404, "text/plain; charset=utf-8", "404 Not Found\n"); }

Response not_modified(std::string etag) {
  // RFC 9110 §15.4.5: a 304 carries the ETag the 200 would have had, and no content.
  Response r;
  r.head.status = 304;
  if (!etag.empty()) r.head.headers.emplace_back("ETag", std::move(etag));
  return r;
}

Response precondition_failed() {
  return text_response(412, "text/plain; charset=utf-8", "412 Precondition Failed\n");
}

// A count in a URL (/bytes/N, /img/N.svg): at most 15 digits, so no value is near overflow.
std::optional<uint64_t> parse_count(std::string_view s) {
  if (s.size() > 15) return std::nullopt;
  return syntax::parse_decimal(s);
}

// RFC 9110 §13.2.2: a resource's preconditions (a file's evaluated before its content is
// read; `validators` null for the built-in pages). nullopt: serve it.
std::optional<Response> answer_preconditions(const Request& request, const Validators* validators,
                                             std::time_t now) {
  switch (evaluate_preconditions(request, validators, now)) {
    case Precondition::Serve:
      return std::nullopt;
    case Precondition::NotModified:
      return not_modified(validators ? validators->etag : std::string());
    case Precondition::Failed:
      return precondition_failed();
  }
  return std::nullopt;
}

// RFC 9110 §8.8: both validators go on every 200 for a file, so a cache can ask either way.
// Files also take Range requests (http/byte_range.hpp).
void add_validators(Response& r, std::shared_ptr<const Validators> validators) {
  r.head.validators = std::move(validators);
  r.byte_ranges = true;
  r.preconditions_evaluated = true;
}

}  // namespace

std::string_view origin_form(std::string_view target, std::string& storage) {
  auto absolute = absolute_form(target);
  if (!absolute) return target;
  if (!absolute->rest.empty() && absolute->rest.front() == '/') return absolute->rest;
  storage = "/" + std::string(absolute->rest);
  return storage;
}

namespace {

// The form of `path` the built-in pages are matched on (see respond), kept in `storage` when it
// differs; nullopt for a path the file lookup refuses.
std::optional<std::string_view> normal_route(std::string_view path, std::string& storage) {
  if (is_normal_path(path)) return path;
  auto normal = normalize_path(path);
  if (!normal) return std::nullopt;
  storage = std::move(*normal);
  return storage;
}

}  // namespace

Site::Site(std::optional<std::string> root, SiteHooks hooks, FileCache::Clock clock)
    : file_cache_(std::move(clock)), hooks_(std::move(hooks)) {
  if (root) root_.emplace(*root);
}

Response Site::respond(const Request& request) {
  std::string_view target = request.target;
  if (target == "*") {
    // RFC 9110 §9.3.7: OPTIONS * asks about the server itself: 200 with the methods it
    // supports and no content (the request parser lets only OPTIONS use the asterisk-form).
    if (request.method != "OPTIONS")
      return text_response(400, "text/plain; charset=utf-8", "400 Bad Request: * is only for OPTIONS\n");
    return options_answer(kAllowServer);
  }
  std::string rewritten;
  target = origin_form(target, rewritten);
  // RFC 9110 §9.3.6: CONNECT asks for a tunnel to an authority-form target (RFC 9112 §3.2.3,
  // checked by the request parser). This server is no proxy: the method is known but not
  // allowed, and Allow names what the server supports, as OPTIONS * does.
  if (request.method == "CONNECT" && !target.empty() && target.front() != '/')
    return method_not_allowed(kAllowServer);
  if (target.empty() || target.front() != '/')
    return text_response(400, "text/plain; charset=utf-8", "400 Bad Request: unsupported request target\n");
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  // Which page a path names is decided on the form the file lookup under --root reads it in
  // (normalize_path): RFC 3986 §6.2.2 makes "/%73tats" and "/stats" one URI, and the lookup
  // also reads "/./stats", "//stats" and "/%2fstats" as "/stats". Were the built-ins matched
  // on the path as sent, those spellings would reach a file named "stats", which the
  // built-in page hides. A path the lookup refuses (a ".." segment, a bad escape) is 400.
  std::string normal_storage;
  auto normal = normal_route(path, normal_storage);
  if (!normal) return text_response(400, "text/plain; charset=utf-8", "400 Bad Request: path not allowed\n");
  std::string_view route = *normal;
  const std::string& m = request.method;
  const std::time_t now = std::time(nullptr);
  if (route == "/echo") {
    if (m == "POST") {
      // RFC 9110 §13.2.1: the preconditions are evaluated before the method is performed; a
      // false one means 412 (for a method other than GET or HEAD, If-None-Match's too).
      if (evaluate_preconditions(request, nullptr, now) != Precondition::Serve) return precondition_failed();
      return text_response(200, "application/octet-stream", request.body);
    }
    if (m == "OPTIONS") return options_answer(kAllowServer);
    if (m != "GET" && m != "HEAD") return method_not_allowed(kAllowServer);
    return text_response(200, "text/plain; charset=utf-8",
                         "POST a body here and it comes back: curl --data-binary @file http://" +
                             example_host(request) + "/echo\n");
  }
  if (m == "OPTIONS") {
    // Only for a resource that is there: otherwise what a GET would get (404, 301, 400).
    Response as_for_get = respond_get(request, path, route, query, now);
    if (as_for_get.head.status / 100 != 2) return as_for_get;
    return options_answer(kAllowPage);
  }
  if (m != "GET" && m != "HEAD") return method_not_allowed(kAllowPage);
  Response r = respond_get(request, path, route, query, now);
  // RFC 9110 §13.2.1: preconditions count only where the answer would be 2xx. Files under
  // --root answered theirs against their validators; the built-in pages have none, so only
  // "*" means anything: "If-None-Match: *" on a page that exists is 304 with no content
  // (§15.4.5), and "If-Match" with anything but "*" is 412.
  if (r.head.status / 100 == 2 && !r.preconditions_evaluated)
    if (auto answered = answer_preconditions(request, nullptr, now)) return std::move(*answered);
  // §13.2.2 step 5: with the preconditions passed, a Range may ask for part of it.
  return apply_range(request, std::move(r), now);
}

bool Site::takes_body(const Request& head) {
  if (head.method != "POST") return false;
  std::string rewritten;
  std::string_view target = origin_form(head.target, rewritten);
  std::string normal_storage;
  auto route = normal_route(target.substr(0, target.find('?')), normal_storage);
  // A failing precondition is a 412 decided on the head alone (respond checks it first).
  return route && *route == "/echo" &&
         evaluate_preconditions(head, nullptr, std::time(nullptr)) == Precondition::Serve;
}

Response Site::respond_get(const Request& request, std::string_view path, std::string_view route,
                           std::string_view query, std::time_t now) {
  auto hook = [](const std::function<std::string()>& f, std::string_view type) {
    return f ? text_response(200, type, f()) : not_found();
  };
  if (route == "/stats") return hook(hooks_.stats_json, "application/json");
  if (route == "/stats.html") return hook(hooks_.stats_html, kHtml);
  if (route == "/tcp") return hook(hooks_.tcp_json, "application/json");
  if (route == "/tcp.html") return hook(hooks_.tcp_html, kHtml);
  // /bytes/N: N deterministic bytes, byte i = i % 251, streamed with Content-Length;
  // /stream/N: the same bytes as a stream of unknown length (chunked for 1.1).
  for (std::string_view prefix : {"/bytes/", "/stream/"}) {
    if (!route.starts_with(prefix)) continue;
    // RFC 3986 §2.3: "%31%30" is "10"; the route is decoded already, and decoded once only.
    auto n = parse_count(route.substr(prefix.size()));
    if (!n || *n > kMaxPatternBytes)
      return text_response(400, "text/plain; charset=utf-8",
                           "400 Bad Request: " + std::string(prefix) + "N needs 0 <= N <= 2^40\n");
    Response r;
    r.head.content_type = "application/octet-stream";
    r.body = std::make_unique<PatternBody>(*n, prefix == "/bytes/");
    r.byte_ranges = prefix == "/bytes/";
    return r;
  }
  if (root_) return file_response(request, path, route, query, now);
  if (route == "/" || route == "/index.html") return text_response(200, kHtml, demo_index_html());
  if (route == "/about.html") return text_response(200, kHtml, demo_about_html());
  if (route == "/style.css") return text_response(200, "text/css; charset=utf-8", demo_style_css());
  if (route == "/app.js") return text_response(200, "text/javascript; charset=utf-8", demo_app_js());
  if (route.starts_with("/img/") && route.ends_with(".svg")) {
    auto n = parse_count(route.substr(5, route.size() - 5 - 4));
    if (n && *n >= 1 && *n <= kDemoImages)
      return text_response(200, "image/svg+xml", demo_image_svg(static_cast<int>(*n)));
  }
  return not_found();
}

Response Site::file_response(const Request& request, std::string_view path, std::string_view route,
                             std::string_view query, std::time_t now) {
  // The cache key is the normalised path (respond() made it; a path already spelled so is its
  // own, with no decoded copy made per request).
  const std::string_view key = route;
  // "/sub%2f" normalises to "/sub/" but is redirected, not served: it bypasses the cache.
  const bool cacheable = !key.ends_with('/') || names_directory_as_sent(path);
  // A small file served in the last second comes from memory (http/file_cache.hpp).
  if (const CachedFile* cached = cacheable ? file_cache_.lookup(key) : nullptr) {
    if (auto answered = answer_preconditions(request, cached->validators.get(), now))
      return std::move(*answered);
    Response r;
    r.head.content_type = cached->content_type;
    r.body = std::make_unique<SharedBody>(cached->bytes);
    add_validators(r, cached->validators);
    return r;
  }
  // Not cached, or due for its check: resolve the URL and open the file again, so whatever
  // changed on disk (a symlink re-pointed or removed, permissions, the file) counts.
  auto resolved = root_->resolve(path);
  if (resolved.status != 200 && cacheable) file_cache_.forget(key);
  if (resolved.status == 400)
    return text_response(400, "text/plain; charset=utf-8", "400 Bad Request: path not allowed\n");
  if (resolved.status == 301) {
    // The query goes along: it belongs to the resource, whatever its path is spelled.
    std::string location = resolved.path + (query.empty() ? "" : "?" + std::string(query));
    Response r = text_response(301, "text/plain; charset=utf-8", "301 Moved Permanently: " + location + "\n");
    r.head.headers.emplace_back("Location", location);
    return r;
  }
  // A directory on the way the server may not enter: the answer a file it may not open gets.
  if (resolved.status == 403) return open_failed(OpenFailure::Forbidden);
  if (resolved.status != 200) return not_found();
  OpenedFile file = open_regular_file(resolved.path);
  if (file.failure != OpenFailure::None) {
    if (cacheable) file_cache_.forget(key);
    return open_failed(file.failure);
  }
  // The type comes from the name in the URL, as a browser expects ("page.html" may be a
  // symlink to "page"); a directory's is its index.html's.
  auto type = mime_type_for(key.ends_with('/') ? resolved.path : key);
  const Validators fresh = validators_for(file.st, now);
  const CachedFile* cached =
      cacheable ? file_cache_.store(key, resolved.path, type, file.fd, file.st, fresh) : nullptr;
  // The entry's own when it keeps the file: one copy for the file and all its responses.
  std::shared_ptr<const Validators> validators =
      cached ? cached->validators : std::make_shared<const Validators>(fresh);
  if (auto answered = answer_preconditions(request, validators.get(), now)) {
    ::close(file.fd);
    return std::move(*answered);
  }
  Response r;
  r.head.content_type = type;
  if (cached) {
    ::close(file.fd);
    r.body = std::make_unique<SharedBody>(cached->bytes);
  } else {
    r.body = std::make_unique<FileBody>(file.fd, static_cast<uint64_t>(file.st.st_size));
  }
  add_validators(r, std::move(validators));
  return r;
}

Response Site::open_failed(OpenFailure failure) {
  const int status = status_for(failure);
  std::string body = std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n";
  if (failure != OpenFailure::OutOfDescriptors)
    return status == 404 ? not_found() : text_response(status, "text/plain; charset=utf-8", body);
  // RFC 9110 §15.6.4: 503 for an overload expected to pass (connections holding descriptors
  // finish); Retry-After (§10.2.3) says when to try again. The operator needs to know too,
  // but a flood of requests must not flood the terminal: one line per kWarnEvery at most.
  ++out_of_descriptors_;
  if (hooks_.out_of_descriptors) hooks_.out_of_descriptors();
  const auto now = file_cache_.now();
  if (!warned_ || now - *warned_ >= kWarnEvery) {
    warned_ = now;
    std::string line =
        "tcplab: out of file descriptors (EMFILE/ENFILE) opening a file under --root: "
        "answered 503 Service Unavailable; 503s for this so far: " +
        std::to_string(out_of_descriptors_) + ". Raise `ulimit -n` or lower --max-connections.";
    if (hooks_.warn)
      hooks_.warn(line);
    else
      std::fprintf(stderr, "%s\n", line.c_str());
  }
  Response r = text_response(503, "text/plain; charset=utf-8",
                             "503 Service Unavailable: out of file "
                             "descriptors, try again\n");
  r.head.headers.emplace_back("Retry-After", "1");
  return r;
}

std::string demo_index_html() {
  std::string images;
  for (int i = 1; i <= kDemoImages; ++i)
    images += "  <img src=\"/img/" + std::to_string(i) + ".svg\" width=\"120\" height=\"90\" alt=\"asset " +
              std::to_string(i) + "\">\n";
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<title>tcplab: one page, many requests</title>\n"
         "<link rel=\"icon\" href=\"data:,\">\n"
         "<link rel=\"stylesheet\" href=\"/style.css\">\n"
         "<script src=\"/app.js\" defer></script>\n</head>\n<body>\n"
         "<h1>One page, " +
         std::to_string(kDemoImages + 3) +
         " requests</h1>\n"
         "<p>This HTML is the first response. The stylesheet, the script and the " +
         std::to_string(kDemoImages) +
         " images below are each one more HTTP request. With keep-alive they follow the HTML over the same "
         "TCP connection(s), with no new handshake; with <code>--keepalive off</code> or HTTP/1.0 every one "
         "of them "
         "costs a SYN, SYN-ACK, ACK and a close.</p>\n"
         "<div class=\"gallery\">\n" +
         images +
         "</div>\n"
         "<p id=\"status\">script not run yet</p>\n"
         "<p><a href=\"/about.html\">What to look at</a> · <a href=\"/stats.html\">/stats.html</a> · "
         "<a href=\"/tcp.html\">/tcp.html</a></p>\n</body>\n</html>\n";
}

std::string demo_about_html() {
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>tcplab: what to look "
         "at</title>\n"
         "<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n<body>\n<h1>What to look at</h1>\n<ol>\n"
         "<li><b>Handshakes per page.</b> Run <code>tcplab serve --trace</code> and load <a href=\"/\">the "
         "demo "
         "page</a>. Count the <code>S</code> (SYN) lines: with keep-alive, a handful (one per parallel "
         "browser "
         "connection); with <code>--keepalive off</code>, one per asset.</li>\n"
         "<li><b>The Connection header.</b> <code>curl -v http://ADDR/</code> (HTTP/1.1, ADDR being the "
         "address this page came from): no Connection "
         "header, "
         "the connection stays. <code>curl -v --http1.0 http://ADDR/</code>: <code>Connection: "
         "close</code> and "
         "the server closes. Add <code>-H 'Connection: keep-alive'</code> to the 1.0 request and the answer "
         "says "
         "<code>Connection: keep-alive</code> with <code>Keep-Alive: timeout=5, max=99</code> (with the "
         "default <code>--keepalive-timeout 5</code> and <code>--max-requests 100</code>).</li>\n"
         "<li><b>Current connections.</b> <a href=\"/stats.html\">/stats.html</a> shows the counter the "
         "article "
         "watched in IIS. It counts the open connections other than the one asking: 1 while another "
         "kept-alive connection waits, 0 right after each response when keep-alive is off.</li>\n"
         "<li><b>The idle timeout.</b> Leave a kept-alive connection idle: after "
         "<code>--keepalive-timeout</code> "
         "seconds the server sends FIN first. The server is the active closer, so the <em>server</em> holds "
         "TIME-WAIT (see <a href=\"/tcp.html\">/tcp.html</a>) once the client closes its side too; it waits "
         "for that in FIN-WAIT-2, at most <code>--fin-timeout</code> seconds. No RST. The next request needs "
         "a new handshake.</li>\n"
         "<li><b>Pipelining and limits.</b> <code>--max-requests N</code> closes after N requests; several "
         "requests "
         "in one segment are answered in order.</li>\n</ol>\n"
         "<p>Open the capture (<code>--pcap</code>) in Wireshark with relative sequence numbers: the "
         "handshake is "
         "seq 0, ack 1, exactly as in the article.</p>\n<p><a href=\"/\">back</a></p>\n</body>\n</html>\n";
}

std::string demo_style_css() {
  return "body { font-family: sans-serif; max-width: 50em; margin: 2em auto; line-height: 1.4; color: #222; "
         "}\n"
         "h1 { color: #1a4d7a; }\n"
         ".gallery { display: flex; flex-wrap: wrap; gap: 8px; margin: 1em 0; }\n"
         ".gallery img { border: 1px solid #ccc; }\n"
         "table { border-collapse: collapse; }\n"
         "th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }\n"
         "#status { font-style: italic; color: #555; }\n";
}

std::string demo_app_js() {
  return "// tcplab demo: proves the script arrived and ran, and counts what loaded.\n"
         "document.addEventListener('DOMContentLoaded', function () {\n"
         "  var imgs = document.querySelectorAll('.gallery img');\n"
         "  document.getElementById('status').textContent = 'script ran; ' + imgs.length + ' images on the "
         "page';\n"
         "});\n";
}

std::string demo_image_svg(int n) {
  static constexpr const char* kColors[] = {"#e4572e", "#29335c", "#f3a712", "#a8c686", "#669bbc", "#8e44ad"};
  std::string color = kColors[(n - 1) % 6];
  std::string num = std::to_string(n);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"90\" viewBox=\"0 0 120 90\">"
         "<rect width=\"120\" height=\"90\" fill=\"" +
         color +
         "\"/>"
         "<circle cx=\"60\" cy=\"40\" r=\"" +
         std::to_string(12 + 3 * n) +
         "\" fill=\"white\" fill-opacity=\"0.3\"/>"
         "<text x=\"60\" y=\"50\" font-size=\"28\" font-family=\"sans-serif\" text-anchor=\"middle\" "
         "fill=\"white\">" +
         num +
         "</text><text x=\"60\" y=\"80\" font-size=\"10\" font-family=\"sans-serif\" text-anchor=\"middle\" "
         "fill=\"white\">request " +
         std::to_string(n + 3) + "</text></svg>\n";
}

}  // namespace tcplab::http
