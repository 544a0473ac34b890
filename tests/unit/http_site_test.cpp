// Tests for http/site, http/static_root and http/stats_page: routing and 405 + Allow, the
// demo page's assets, /bytes/N, percent-decoding, and no way out of --root.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "http/site.hpp"
#include "http/static_root.hpp"
#include "http/stats_page.hpp"

using namespace tcplab;
using namespace tcplab::http;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

Request req(std::string method, std::string target, std::string body = {}) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

std::string body_of(Response& r) {
  std::string out;
  if (!r.body) return out;
  char buf[4096];
  for (int i = 0; i < 100000; ++i) {
    size_t n = r.body->read(std::span<char>(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

// A temporary tree: ROOT/site/{index.html, sub/a.txt, dir/index.html, link-out -> ../secret,
// etc-link -> /etc, link-in -> sub/a.txt}, ROOT/secret.txt. Removed at the end.
struct TempTree {
  std::string top;
  TempTree() {
    char tmpl[] = "/tmp/tcplab-site-XXXXXX";
    top = ::mkdtemp(tmpl);
    mkdir((top + "/site").c_str(), 0755);
    mkdir((top + "/site/sub").c_str(), 0755);
    mkdir((top + "/site/dir").c_str(), 0755);
    mkdir((top + "/site/empty").c_str(), 0755);
    write(top + "/secret.txt", "top secret");
    write(top + "/site/index.html", "root index");
    write(top + "/site/sub/a.txt", "sub file");
    write(top + "/site/sub/sp ace.css", "body{}");
    write(top + "/site/dir/index.html", "dir index");
    CHECK(::symlink((top + "/secret.txt").c_str(), (top + "/site/link-out").c_str()) == 0);
    CHECK(::symlink("/etc", (top + "/site/etc-link").c_str()) == 0);
    CHECK(::symlink("sub/a.txt", (top + "/site/link-in").c_str()) == 0);
  }
  ~TempTree() { std::system(("rm -rf '" + top + "'").c_str()); }
  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  std::string site() const { return top + "/site"; }
};

}  // namespace

TEST_CASE("percent-decoding, including malformed escapes and encoded NUL") {
  CHECK(percent_decode("/a%20b") == "/a b");
  CHECK(percent_decode("/%2e%2E") == "/..");
  CHECK(percent_decode("/plain") == "/plain");
  CHECK_FALSE(percent_decode("/bad%2").has_value());
  CHECK_FALSE(percent_decode("/bad%zz").has_value());
  CHECK_FALSE(percent_decode("/nul%00x").has_value());
  // Raw bytes above 0x7F (a UTF-8 name curl sent unescaped) name what their escapes name.
  CHECK(normalize_path("/caf\xC3\xA9.txt") == std::optional<std::string>("/caf\xC3\xA9.txt"));
  CHECK(normalize_path("/caf%C3%A9.txt") == normalize_path("/caf\xC3\xA9.txt"));
}

TEST_CASE("MIME types by extension") {
  CHECK(mime_type_for("/a/index.html") == "text/html; charset=utf-8");
  CHECK(mime_type_for("/s.CSS") == "text/css; charset=utf-8");
  CHECK(mime_type_for("/x.svg") == "image/svg+xml");
  CHECK(mime_type_for("/x.png") == "image/png");
  CHECK(mime_type_for("/noext") == "application/octet-stream");
  CHECK(mime_type_for("/dir.d/noext") == "application/octet-stream");
}

TEST_CASE("StaticRoot serves inside the root and never outside it") {
  TempTree t;
  StaticRoot root(t.site());
  REQUIRE(root.valid());
  auto ok = [&](std::string_view p, std::string_view suffix) {
    auto r = root.resolve(p);
    INFO(p);
    CHECK(r.status == 200);
    CHECK(r.path.ends_with(suffix));
  };
  ok("/", "/site/index.html");
  ok("/dir/", "/site/dir/index.html");
  ok("/dir/.", "/site/dir/index.html");
  // A directory named without its slash: its page's relative links would resolve from "/",
  // so the client is sent to the name with the slash.
  auto redirect = root.resolve("/dir");
  CHECK(redirect.status == 301);
  CHECK(redirect.path == "/dir/");
  CHECK(root.resolve("//dir").path == "/dir/");  // not "//dir/", which would name a host
  // A file named as if it were a directory is not there.
  CHECK(root.resolve("/sub/a.txt/").status == 404);
  CHECK(root.resolve("/sub/a.txt/.").status == 404);
  ok("/sub/a.txt", "/site/sub/a.txt");
  ok("/%73ub/a.txt", "/site/sub/a.txt");
  ok("/sub/sp%20ace.css", "/site/sub/sp ace.css");
  ok("/./sub//a.txt", "/site/sub/a.txt");
  ok("/link-in", "/site/sub/a.txt");
  // Attempts to leave: 400 for "..", 404 for what resolves outside or does not exist.
  const char* outside[] = {"/../secret.txt",
                           "/%2e%2e/secret.txt",
                           "/%2E%2e/secret.txt",
                           "/sub/../../secret.txt",
                           "/sub/%2e%2e/%2e%2e/secret.txt",
                           "/..%2fsecret.txt",
                           "/sub/..%2f..%2fsecret.txt",
                           "/link-out",
                           "/etc-link/passwd",
                           "//etc/passwd",
                           "/%2fetc%2fpasswd",
                           "/nul%00",
                           "/.%2e/secret.txt",
                           "/empty",
                           "/missing",
                           "relative",
                           ""};
  for (const char* p : outside) {
    auto r = root.resolve(p);
    INFO(p);
    CHECK((r.status == 400 || r.status == 404));
    CHECK(r.path.empty());
  }
  CHECK(root.resolve("/../secret.txt").status == 400);
  CHECK(root.resolve("/link-out").status == 404);
  CHECK_FALSE(StaticRoot(t.top + "/missing").valid());
  CHECK_FALSE(StaticRoot(t.top + "/secret.txt").valid());
}

TEST_CASE("Site with --root serves files with their type, and 404s the rest") {
  TempTree t;
  Site site(t.site(), {});
  REQUIRE(site.root_ok());
  auto r = site.respond(req("GET", "/sub/a.txt?x=1"));
  CHECK(r.head.status == 200);
  CHECK(r.head.content_type == "text/plain; charset=utf-8");
  CHECK(body_of(r) == "sub file");
  auto abs = site.respond(req("GET", "http://192.0.2.2/dir/"));
  CHECK(body_of(abs) == "dir index");
  auto out = site.respond(req("GET", "http://x/../secret.txt"));
  CHECK(out.head.status == 400);
  CHECK(body_of(out).find("secret") == std::string::npos);
  CHECK(site.respond(req("GET", "/link-out")).head.status == 404);
  auto moved = site.respond(req("GET", "/dir"));
  CHECK(moved.head.status == 301);
  CHECK(moved.head.headers == std::vector<std::pair<std::string, std::string>>{{"Location", "/dir/"}});
  auto with_query = site.respond(req("GET", "/dir?x=1&y=2"));
  CHECK(with_query.head.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Location", "/dir/?x=1&y=2"}});
  CHECK_FALSE(Site(std::string("/nonexistent/dir"), {}).root_ok());
}

TEST_CASE("the demo page references its assets, and each asset is served") {
  Site site(std::nullopt, {});
  auto index = site.respond(req("GET", "/"));
  CHECK(index.head.status == 200);
  CHECK(index.head.content_type == "text/html; charset=utf-8");
  std::string html = body_of(index);
  for (std::string asset : {"/style.css", "/app.js", "/about.html"}) {
    CHECK(html.find("\"" + asset + "\"") != std::string::npos);
    CHECK(site.respond(req("GET", asset)).head.status == 200);
  }
  for (int i = 1; i <= kDemoImages; ++i) {
    std::string img = "/img/" + std::to_string(i) + ".svg";
    CHECK(html.find(img) != std::string::npos);
    auto r = site.respond(req("GET", img));
    CHECK(r.head.status == 200);
    CHECK(r.head.content_type == "image/svg+xml");
    CHECK(body_of(r).starts_with("<svg"));
  }
  CHECK(site.respond(req("GET", "/img/0.svg")).head.status == 404);
  CHECK(site.respond(req("GET", "/img/7.svg")).head.status == 404);
  CHECK(site.respond(req("GET", "/nope")).head.status == 404);
  CHECK(site.respond(req("GET", "/stats")).head.status == 404);  // no hooks in this test
}

TEST_CASE("GET /echo shows a curl example with the address the client used") {
  // An invalid Host never gets here: the parser answers it with 400 ("invalid Host").
  Site site(std::nullopt, {});
  auto example = [&](std::optional<std::string> host) {
    Request r = req("GET", "/echo");
    if (host) r.headers.push_back({"Host", *host});
    auto response = site.respond(r);
    return body_of(response);
  };
  CHECK(example("10.7.0.2:8080") == "POST a body here and it comes back: curl --data-binary @file "
                                    "http://10.7.0.2:8080/echo\n");
  CHECK(example("[fd00::2]").find("http://[fd00::2]/echo") != std::string::npos);
  CHECK(example(std::nullopt).find("http://ADDR/echo") != std::string::npos);
  // RFC 9112 §3.3: an absolute-form target names the server, whatever Host says.
  auto absolute = [&](std::string target) {
    Request r = req("GET", std::move(target));
    r.headers.push_back({"Host", "b.example"});
    auto response = site.respond(r);
    return body_of(response);
  };
  CHECK(absolute("http://a.example:8080/echo").find("http://a.example:8080/echo\n") != std::string::npos);
  CHECK(absolute("HTTP://a.example/echo?x=1").find("http://a.example/echo\n") != std::string::npos);
  CHECK(absolute("http://user@a.example/echo").find("http://a.example/echo\n") != std::string::npos);
}

TEST_CASE("methods: GET/HEAD/OPTIONS everywhere, POST only on /echo, others 405 with Allow") {
  Site site(std::nullopt, {});
  auto echo = site.respond(req("POST", "/echo", "abc"));
  CHECK(echo.head.status == 200);
  CHECK(body_of(echo) == "abc");
  auto post = site.respond(req("POST", "/"));
  CHECK(post.head.status == 405);
  REQUIRE(post.head.headers.size() == 1);
  CHECK(post.head.headers[0] == std::pair<std::string, std::string>{"Allow", "GET, HEAD, OPTIONS"});
  auto del = site.respond(req("DELETE", "/echo"));
  CHECK(del.head.status == 405);
  CHECK(del.head.headers[0].second == "GET, HEAD, POST, OPTIONS");
  CHECK(site.respond(req("HEAD", "/")).head.status == 200);
}

TEST_CASE("only POST /echo reads a request's content, whatever spelling its target has") {
  Site site(std::nullopt, {});
  CHECK(site.takes_body(req("POST", "/echo")));
  CHECK(site.takes_body(req("POST", "/echo?x=1")));
  CHECK(site.takes_body(req("POST", "/%65cho")));
  CHECK(site.takes_body(req("POST", "http://h/echo")));
  CHECK_FALSE(site.takes_body(req("PUT", "/echo")));
  CHECK_FALSE(site.takes_body(req("GET", "/echo")));
  CHECK_FALSE(site.takes_body(req("POST", "/")));
  CHECK_FALSE(site.takes_body(req("POST", "/echo/more")));
  CHECK_FALSE(site.takes_body(req("POST", "/../echo")));
  CHECK_FALSE(site.takes_body(req("POST", "*")));
  // A failing precondition is 412 whatever the body: decided on the head (RFC 9110 §13.2.1).
  Request conditional = req("POST", "/echo");
  conditional.headers = {{"If-Match", "\"x\""}};
  CHECK_FALSE(site.takes_body(conditional));
  CHECK(site.respond(conditional).head.status == 412);
  conditional.headers = {{"If-Match", "*"}};
  CHECK(site.takes_body(conditional));
}

TEST_CASE(
    "OPTIONS on a resource: 200 with its Allow and no content; a missing one is 404 (RFC 9110 "
    "§9.3.7)") {
  Site site(std::nullopt, {});
  auto page = site.respond(req("OPTIONS", "/"));
  CHECK(page.head.status == 200);
  CHECK(page.head.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Allow", "GET, HEAD, OPTIONS"}});
  CHECK(page.head.content_type.empty());
  CHECK(body_of(page).empty());
  auto echo = site.respond(req("OPTIONS", "/echo"));
  CHECK(echo.head.status == 200);
  CHECK(echo.head.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Allow", "GET, HEAD, POST, OPTIONS"}});
  CHECK(body_of(echo).empty());
  CHECK(site.respond(req("OPTIONS", "/bytes/10")).head.status == 200);
  CHECK(site.respond(req("OPTIONS", "/nope")).head.status == 404);
  CHECK(site.respond(req("OPTIONS", "/bytes/x")).head.status == 400);
  TempTree t;
  Site files(t.site(), {});
  auto moved = files.respond(req("OPTIONS", "/dir"));
  CHECK(moved.head.status == 301);
  CHECK(files.respond(req("OPTIONS", "/sub/a.txt")).head.status == 200);
  // RFC 9110 §13.2.1: the conditional fields mean nothing to OPTIONS, a file's included.
  Request conditional = req("OPTIONS", "/sub/a.txt");
  conditional.headers = {{"If-Match", "\"x\""}, {"If-None-Match", "*"}};
  CHECK(files.respond(conditional).head.status == 200);
  CHECK(files.respond(req("OPTIONS", "/missing.txt")).head.status == 404);
}

TEST_CASE("OPTIONS *: 200 with Allow listing the server's methods and no content (RFC 9110 §9.3.7)") {
  Site site(std::nullopt, {});
  auto r = site.respond(req("OPTIONS", "*"));
  CHECK(r.head.status == 200);
  REQUIRE(r.head.headers.size() == 1);
  CHECK(r.head.headers[0] == std::pair<std::string, std::string>{"Allow", "GET, HEAD, POST, OPTIONS"});
  CHECK(r.head.content_type.empty());
  CHECK(body_of(r).empty());
  CHECK(site.respond(req("GET", "*")).head.status == 400);
}

TEST_CASE("absolute-form targets route by their path whatever the scheme's case") {
  Site site(std::nullopt, {});
  auto upper = site.respond(req("POST", "HTTP://192.0.2.2/echo", "x"));
  CHECK(body_of(upper) == "x");
  auto mixed = site.respond(req("POST", "hTTp://192.0.2.2/echo", "y"));
  CHECK(body_of(mixed) == "y");
  CHECK(site.respond(req("GET", "HTTPS://h/style.css")).head.status == 200);
}

TEST_CASE("absolute-form becomes origin-form with its query; other targets stay as they are") {
  std::string storage;
  CHECK(origin_form("http://h/a?x=1", storage) == "/a?x=1");
  CHECK(origin_form("http://foo?x=1", storage) == "/?x=1");
  CHECK(origin_form("HTTPS://foo", storage) == "/");
  CHECK(origin_form("http://foo:8080", storage) == "/");
  CHECK(origin_form("/b?y", storage) == "/b?y");
  CHECK(origin_form("example.com:443", storage) == "example.com:443");
  TempTree t;
  Site site(t.site(), {});
  auto moved = site.respond(req("GET", "http://h/dir?x=1"));
  CHECK(moved.head.headers == std::vector<std::pair<std::string, std::string>>{{"Location", "/dir/?x=1"}});
}

TEST_CASE("CONNECT: authority-form gets 405 with Allow, like any method the site does not allow") {
  Site site(std::nullopt, {});
  auto tunnel = site.respond(req("CONNECT", "example.com:443"));
  CHECK(tunnel.head.status == 405);
  REQUIRE(tunnel.head.headers.size() == 1);
  CHECK(tunnel.head.headers[0] == std::pair<std::string, std::string>{"Allow", "GET, HEAD, POST, OPTIONS"});
  CHECK(site.respond(req("CONNECT", "/")).head.status == 405);
}

TEST_CASE("/bytes/N and /stream/N: N pattern bytes; bad N is 400") {
  Site site(std::nullopt, {});
  auto r = site.respond(req("GET", "/bytes/1000"));
  REQUIRE(r.body);
  CHECK(r.body->length() == 1000u);
  std::string b = body_of(r);
  REQUIRE(b.size() == 1000);
  CHECK(static_cast<unsigned char>(b[250]) == 250);
  CHECK(static_cast<unsigned char>(b[251]) == 0);
  auto s = site.respond(req("GET", "/stream/10"));
  CHECK_FALSE(s.body->length().has_value());
  CHECK(site.respond(req("GET", "/bytes/0")).body->length() == 0u);
  CHECK(site.respond(req("GET", "/bytes/abc")).head.status == 400);
  CHECK(site.respond(req("GET", "/bytes/-1")).head.status == 400);
  CHECK(site.respond(req("GET", "/bytes/99999999999999999999")).head.status == 400);
}

TEST_CASE("a built-in page is found by its path's normal form, and hides a file of that name") {
  TempTree t;
  TempTree::write(t.site() + "/stats", "FILE stats");
  TempTree::write(t.site() + "/echo", "FILE echo");
  mkdir((t.site() + "/bytes").c_str(), 0755);
  TempTree::write(t.site() + "/bytes/10", "FILE bytes");
  SiteHooks hooks;
  hooks.stats_json = [] { return std::string("{\"built-in\": true}"); };
  for (bool with_root : {true, false}) {
    INFO("with --root: " << with_root);
    Site site(with_root ? std::optional<std::string>(t.site()) : std::nullopt, hooks);
    // RFC 3986 §6.2.2: "%73" is "s"; the file lookup reads "/./", "//" and "%2f" as "/".
    for (const char* spelling : {"/stats", "/%73tats", "/./stats", "//stats", "/%2fstats"}) {
      INFO(spelling);
      auto r = site.respond(req("GET", spelling));
      CHECK(r.head.status == 200);
      CHECK(body_of(r) == "{\"built-in\": true}");
    }
    for (const char* spelling :
         {"/%62ytes/10", "//bytes/10", "/./bytes/10", "/bytes%2f10", "/bytes/%31%30"}) {
      INFO(spelling);
      auto r = site.respond(req("GET", spelling));
      CHECK(r.head.status == 200);
      CHECK(body_of(r).size() == 10);
    }
    auto echo = site.respond(req("GET", "/%65cho"));
    CHECK(body_of(echo).find("POST a body here") != std::string::npos);
    // Decoded once: "%2531" is "%31", which is no count.
    CHECK(site.respond(req("GET", "/bytes/%2531")).head.status == 400);
    // A path the file lookup refuses is refused the same way with or without --root.
    CHECK(site.respond(req("GET", "/%zz")).head.status == 400);
    CHECK(site.respond(req("GET", "/a/../stats")).head.status == 400);
  }
  Site demo(std::nullopt, {});
  auto about = demo.respond(req("GET", "/about.html"));
  auto about_escaped = demo.respond(req("GET", "/%61bout.html"));
  CHECK(body_of(about_escaped) == body_of(about));
}

TEST_CASE("/stats JSON carries the issue's counters") {
  ServerStats http;
  http.connections_accepted = 3;
  http.connections_used = 2;
  http.requests_served = 7;
  http.responses_cut_off = 2;
  http.count_close(CloseBy::Timeout);
  http.requests_per_connection[requests_bucket(4)] = 1;
  http.responses_by_class[2] = 7;
  http.lingering_closes = 4;
  http.lingering_aborts = 1;
  tcp::TcpStats tcp;
  tcp.connections_current = 3;  // the connection asking and two others
  tcp.fin_timeouts = 6;
  tcp.handshakes_completed = 3;
  tcp.connections_time_wait = 2;
  tcp.time_wait_records = 1;
  tcp.fin_wait_2_records = 8;
  tcp.full_tcbs = 4;
  tcp.resets_received = 5;
  DropCounters drops;
  drops.count(DropReason::Ipv4BadChecksum);
  auto json = stats_json(StatsSnapshot{http, tcp, drops, true, seconds(5), 100});
  for (const char* expected :
       {"\"current_connections\": 2", "\"current_connections_including_this\": 3", "\"lingering_closes\": 4",
        "\"lingering_aborts\": 1", "\"fin_timeouts\": 6", "\"connections_accepted\": 3",
        "\"connections_used\": 2", "\"requests_served\": 7", "\"handshakes_completed\": 3",
        "\"connections_time_wait\": 2", "\"timeout\": 1", "\"3-5\": 1", "\"received\": 5",
        "\"ipv4-bad-checksum\": 1", "\"2xx\": 7", "\"keepalive\": true", "\"time_wait_records\": 1",
        "\"fin_wait_2_records\": 8", "\"full_tcbs\": 4", "\"responses_cut_off\": 2"}) {
    INFO(expected);
    CHECK(json.find(expected) != std::string::npos);
  }
  auto html = stats_html(StatsSnapshot{http, tcp, drops, false, seconds(5), 100});
  CHECK(html.find("Current connections") != std::string::npos);
  CHECK(html.find("Keep-alive off") != std::string::npos);
  CHECK(html.find("Responses cut off") != std::string::npos);
  // What TCP counts in connections_current (counts_as_current), said the same way as keepalive.md.
  CHECK(html.find("any state but LISTEN, TIME-WAIT and CLOSED") != std::string::npos);
}

TEST_CASE("/stats counts the 503s sent out of file descriptors, in the JSON and on the HTML page") {
  ServerStats http;
  http.out_of_descriptors = 4;
  tcp::TcpStats tcp;
  DropCounters drops;
  StatsSnapshot snap{http, tcp, drops, true, seconds(5), 100};
  const std::string json = stats_json(snap);
  CHECK(json.find("\"out_of_descriptors\": 4,") != std::string::npos);
  // A new key: the ones before it keep their names and places.
  CHECK(json.find("\"refused_full\": 0, \"out_of_descriptors\": 4, \"responses\": {") != std::string::npos);
  const std::string html = stats_html(snap);
  CHECK(html.find("Out of file descriptors <code>[out_of_descriptors]</code></th><td>4</td>") !=
        std::string::npos);
}

TEST_CASE("/stats shows the idle timeout in force, a fractional one too") {
  ServerStats http;
  tcp::TcpStats tcp;
  DropCounters drops;
  CHECK(stats_json(StatsSnapshot{http, tcp, drops, true, seconds(5), 100})
            .find("\"keepalive_timeout_s\": 5,") != std::string::npos);
  const StatsSnapshot half{http, tcp, drops, true, milliseconds(500), 100};  // --keepalive-timeout 0.5
  CHECK(stats_json(half).find("\"keepalive_timeout_s\": 0.5,") != std::string::npos);
  CHECK(stats_html(half).find("timeout 0.5 s") != std::string::npos);
  CHECK(stats_json(StatsSnapshot{http, tcp, drops, true, milliseconds(1), 100})
            .find("\"keepalive_timeout_s\": 0.001,") != std::string::npos);
}

TEST_CASE("/stats current_connections leaves out the connection asking, and never goes below 0") {
  ServerStats http;
  tcp::TcpStats tcp;
  DropCounters drops;
  tcp.connections_current = 1;  // keep-alive off, right after a response: only the asker is open
  auto json = stats_json(StatsSnapshot{http, tcp, drops, false, seconds(5), 100});
  CHECK(json.find("\"current_connections\": 0,") != std::string::npos);
  CHECK(json.find("\"current_connections_including_this\": 1,") != std::string::npos);
  tcp.connections_current = 0;  // a snapshot that claims an asker TCP does not count
  CHECK(stats_json(StatsSnapshot{http, tcp, drops, false, seconds(5), 100})
            .find("\"current_connections\": 0,") != std::string::npos);
  tcp.connections_current = 2;  // one other idle keep-alive connection
  StatsSnapshot bare{http, tcp, drops, true, seconds(5), 100};
  bare.asking_connections = 0;  // not asked over a connection: every one counts
  CHECK(stats_json(bare).find("\"current_connections\": 2,") != std::string::npos);
}

TEST_CASE("/stats.html explains every counter the JSON shows, under the JSON name") {
  ServerStats http;
  tcp::TcpStats tcp;
  DropCounters drops;
  StatsSnapshot snap{http, tcp, drops, true, seconds(5), 100};
  std::string json = stats_json(snap), html = stats_html(snap);
  // Every number in the JSON by its path ("current_connections", "closes.timeout", ...) and
  // every object ("responses", "drops", ...). A number at the top level or inside closes,
  // resets and tcp has a row named [path]; the groups have a heading named [group].
  std::vector<std::string> path;
  std::vector<std::string> numbers, groups;
  for (size_t i = 1; i < json.size(); ++i) {
    if (json[i] == '}') {
      if (!path.empty()) path.pop_back();
    } else if (json[i] == '"') {
      size_t close = json.find('"', i + 1);
      std::string key = json.substr(i + 1, close - i - 1);
      size_t value = json.find_first_not_of(": ", close + 1);
      std::string full = path.empty() ? key : path.back() + "." + key;
      if (json[value] == '{') {
        if (path.empty()) groups.push_back(key);
        path.push_back(key);
      } else if (path.size() <= 1) {
        numbers.push_back(full);
      }
      i = value;
      if (json[value] == '"') i = json.find('"', value + 1);  // a string value: skip it whole
      if (json[value] == '{') continue;
    }
  }
  size_t checked = 0;
  for (const auto& group : groups) {
    if (group == "closes" || group == "resets" || group == "tcp") continue;  // a row per counter
    INFO(group);
    CHECK(html.find("[" + group + "]") != std::string::npos);
  }
  for (const auto& key : numbers) {
    bool grouped = key.find('.') != std::string::npos;
    std::string group = grouped ? key.substr(0, key.find('.')) : "";
    if (grouped && group != "closes" && group != "resets" && group != "tcp") continue;
    INFO(key);
    CHECK(html.find("[" + key + "]") != std::string::npos);
    ++checked;
  }
  CHECK(checked > 25);
  CHECK(html.find("Lingering aborts") != std::string::npos);
}

TEST_CASE("/tcp lists connections with relative numbers") {
  tcp::ConnectionInfo c;
  c.tuple.local_ip = wire::Ipv4Address{0xC0000202};
  c.tuple.local_port = 80;
  c.tuple.remote_ip = wire::Ipv4Address{0xC0000201};
  c.tuple.remote_port = 40000;
  c.state = tcp::State::TimeWait;
  c.snd_nxt = 1234;
  auto json = tcp_json({c});
  CHECK(json.find("\"remote\": \"192.0.2.1:40000\", \"state\": \"TIME-WAIT\"") != std::string::npos);
  CHECK(json.find("\"snd_nxt\": 1234") != std::string::npos);
  CHECK(tcp_html({c}).find("TIME-WAIT") != std::string::npos);
}

TEST_CASE("/tcp on the kernel's TCP: the numbers it does not show us are null, not 0") {
  tcp::ConnectionInfo c;
  c.state = tcp::State::Established;
  c.rcv_wnd = 65535;
  auto json = tcp_json({c}, false);
  for (const char* name : {"snd_una", "snd_nxt", "rcv_nxt", "snd_wnd", "buffer_bytes"})
    CHECK(json.find("\"" + std::string(name) + "\": null") != std::string::npos);
  CHECK(json.find("\"rcv_wnd\": 65535") != std::string::npos);
  auto html = tcp_html({c}, false);
  CHECK(html.find("not available") != std::string::npos);
  CHECK(html.find("Sequence numbers are relative") == std::string::npos);
}

TEST_CASE("static root: a path already in normal form is recognised, so it needs no decoded copy") {
  for (const char* normal : {"/", "/a.txt", "/sub/", "/sub/a.txt", "/a..b", "/.hidden"}) {
    CAPTURE(normal);
    CHECK(is_normal_path(normal));
    CHECK(normalize_path(normal) == std::optional<std::string>(normal));
  }
  for (const char* other : {"", "a", "//a", "/./a", "/a/.", "/a/..", "/%61", "/a//b", "/../a"}) {
    CAPTURE(other);
    CHECK_FALSE(is_normal_path(other));
  }
}
