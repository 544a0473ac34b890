// Tests for http/request_parser: every limit and malformed case gets its status, and a
// request parses the same whatever way its bytes are split.
#include <doctest/doctest.h>

#include <string>

#include "http/request_parser.hpp"

using namespace tcplab::http;

namespace {

Request parse_next(RequestParser& p, std::string_view bytes) {
  REQUIRE(p.feed(bytes) == bytes.size());
  REQUIRE(p.status() == RequestParser::Status::Complete);
  Request copy = p.request();
  p.next();
  return copy;
}

struct Outcome {
  RequestParser::Status status;
  int error = 0;
  std::string detail;
  size_t consumed = 0;
};

Outcome parse_all(std::string_view bytes, ParserLimits limits = {}) {
  RequestParser p(limits);
  size_t used = p.feed(bytes);
  return {p.status(), p.error_status(), std::string(p.error_detail()), used};
}

int status_of(std::string_view bytes, ParserLimits limits = {}) {
  auto o = parse_all(bytes, limits);
  if (o.status == RequestParser::Status::Error) return o.error;
  if (o.status == RequestParser::Status::Complete) return 200;
  return 0;  // still waiting
}

// Feeds `bytes` split at the given points and returns the requests it produced.
std::vector<Request> parse_split(std::string_view bytes, std::vector<size_t> cuts,
                                 RequestParser::Status* last = nullptr) {
  RequestParser p;
  std::vector<Request> out;
  std::string pending;
  size_t prev = 0;
  cuts.push_back(bytes.size());
  for (size_t cut : cuts) {
    pending.append(bytes.substr(prev, cut - prev));
    prev = cut;
    while (!pending.empty()) {
      size_t used = p.feed(pending);
      pending.erase(0, used);
      if (p.status() == RequestParser::Status::Complete) {
        out.push_back(p.take());
        continue;
      }
      break;
    }
  }
  if (last) *last = p.status();
  return out;
}

}  // namespace

TEST_CASE("a simple GET parses into method, target, version and fields") {
  RequestParser p;
  std::string req = "GET /index.html HTTP/1.1\r\nHost: 192.0.2.2\r\nConnection: Keep-Alive, Foo\r\n\r\nextra";
  size_t used = p.feed(req);
  REQUIRE(p.status() == RequestParser::Status::Complete);
  CHECK(used == req.size() - 5);  // "extra" belongs to the next request
  auto r = p.take();
  CHECK(r.method == "GET");
  CHECK(r.target == "/index.html");
  CHECK(r.minor == 1);
  CHECK(r.header("host") == "192.0.2.2");
  CHECK(r.header("HOST") == "192.0.2.2");
  CHECK(r.has_connection_token("keep-alive"));
  CHECK(r.has_connection_token("foo"));
  CHECK_FALSE(r.has_connection_token("close"));
  CHECK(p.status() == RequestParser::Status::NeedMore);
  CHECK_FALSE(p.in_progress());
}

TEST_CASE("HTTP/1.0 needs no Host; HTTP/1.1 needs exactly one") {
  CHECK(status_of("GET / HTTP/1.0\r\n\r\n") == 200);
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
}

TEST_CASE("a request split at every byte position parses identically") {
  std::string req =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n "
      "world\r\n0\r\nTrailer: t\r\n\r\n"
      "GET /last HTTP/1.0\r\n\r\n";
  auto whole = parse_split(req, {});
  REQUIRE(whole.size() == 3);
  CHECK(whole[0].body == "hello world");
  CHECK(whole[1].body == "hello world");
  CHECK(whole[1].chunked);
  CHECK(whole[2].target == "/last");
  for (size_t i = 1; i < req.size(); ++i) {
    RequestParser::Status last;
    auto got = parse_split(req, {i}, &last);
    INFO("split at " << i);
    REQUIRE(got.size() == 3);
    CHECK(got[0].body == "hello world");
    CHECK(got[1].body == "hello world");
    CHECK(got[2].method == "GET");
    CHECK(last == RequestParser::Status::NeedMore);
  }
  // And one byte at a time.
  std::vector<size_t> every;
  for (size_t i = 1; i < req.size(); ++i) every.push_back(i);
  auto bytewise = parse_split(req, every);
  REQUIRE(bytewise.size() == 3);
  CHECK(bytewise[1].body == "hello world");
}

TEST_CASE("pipelined requests in one buffer come out one by one, in order") {
  std::string many;
  for (int i = 0; i < 20; ++i) many += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  auto got = parse_split(many, {});
  REQUIRE(got.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(got[i].target == "/r" + std::to_string(i));
}

TEST_CASE("request line limit: 8 KiB is accepted, one byte more is 414") {
  auto line_of = [](size_t total) {
    std::string prefix = "GET /", suffix = " HTTP/1.1";
    return prefix + std::string(total - prefix.size() - suffix.size(), 'a') + suffix;
  };
  CHECK(status_of(line_of(8192) + "\r\nHost: h\r\n\r\n") == 200);
  CHECK(status_of(line_of(8193) + "\r\nHost: h\r\n\r\n") == 414);
  // Refused as soon as the limit is passed, without waiting for the end of the line.
  auto o = parse_all("GET /" + std::string(9000, 'a'));
  CHECK(o.status == RequestParser::Status::Error);
  CHECK(o.error == 414);
}

TEST_CASE("header limits: more than 32 KiB or more than 100 fields is 431") {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
  std::string big = "X-Big: " + std::string(32 * 1024, 'v') + "\r\n";
  CHECK(status_of(head + big + "\r\n") == 431);
  std::string fields;
  for (int i = 0; i < 99; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  CHECK(status_of(head + fields + "\r\n") == 200);  // 99 + Host = 100 fields
  CHECK(status_of(head + fields + "X-One-More: v\r\n\r\n") == 431);
  // Just under the byte limit passes: total field bytes (with CRLFs) 32768 exactly.
  ParserLimits small;
  small.max_header_bytes = 64;
  std::string exact = "GET / HTTP/1.1\r\nHost: h\r\n";                  // "Host: h\r\n" = 9 bytes
  std::string pad = "X: " + std::string(64 - 9 - 2 - 5, 'p') + "\r\n";  // + 2 for the empty line
  CHECK(status_of(exact + pad + "\r\n", small) == 200);
  std::string pad2 = "X: " + std::string(64 - 9 - 2 - 5 + 1, 'p') + "\r\n";
  CHECK(status_of(exact + pad2 + "\r\n", small) == 431);
}

TEST_CASE("malformed input gets 400") {
  const char* bad[] = {
      "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",    // obs-fold
      "GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n",   // obs-fold with HTAB
      "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",         // bare CR in a field
      "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n",             // bare CR in the request line
      "GET / HTTP/1.1\r\nHost h\r\n\r\n",                // no colon
      "GET / HTTP/1.1\r\nHost : h\r\n\r\n",              // space before colon (RFC 9112 §5.1)
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n",  // control character
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",              // two spaces
      "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",              // trailing space
      "GET /\r\n\r\n",                                   // HTTP/0.9 style, no version
      "GET / HTTP/1\r\nHost: h\r\n\r\n",                 // malformed version
      "GET / HTTX/1.1\r\nHost: h\r\n\r\n",
      "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n",  // not origin-form
      "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",           // method is not a token
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",  // chunked not final
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",          // TE in 1.0
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  // bad chunk size
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n",
  };
  for (const char* req : bad) {
    auto o = parse_all(req);
    INFO("request: " << req << " detail: " << o.detail);
    CHECK(o.status == RequestParser::Status::Error);
    CHECK(o.error == 400);
  }
}

TEST_CASE("identical Content-Length values are one length (RFC 9110 §8.6)") {
  RequestParser p;
  p.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc");
  REQUIRE(p.status() == RequestParser::Status::Complete);
  CHECK(p.request().body == "abc");
}

TEST_CASE("versions: 2.0, 3.0 and 0.9 are 505; 1.x above 1.1 is treated as 1.1") {
  CHECK(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/3.0\r\nHost: h\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/0.9\r\n\r\n") == 505);
  RequestParser p;
  p.feed("GET / HTTP/1.7\r\nHost: h\r\n\r\n");
  REQUIRE(p.status() == RequestParser::Status::Complete);
  CHECK(p.request().minor == 1);
}

TEST_CASE("unknown methods are 501, unknown transfer codings are 501") {
  CHECK(status_of("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n") == 501);
  CHECK(status_of("get / HTTP/1.1\r\nHost: h\r\n\r\n") == 501);  // methods are case-sensitive
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(status_of("PUT / HTTP/1.1\r\nHost: h\r\n\r\n") == 200);  // known: 405 is the site's job
}

TEST_CASE("bodies above the limit are 413, at the limit accepted") {
  ParserLimits l;
  l.max_body = 10;
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", l) == 200);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", l) == 413);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
                  "chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
                  l) == 200);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n", l) ==
        413);
}

TEST_CASE("empty lines before a request are ignored (RFC 9112 §2.2), but not forever") {
  RequestParser p;
  p.feed("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(p.status() == RequestParser::Status::Complete);
  CHECK(status_of(std::string(20, '\n') + "GET / HTTP/1.0\r\n\r\n") == 400);
}

TEST_CASE("bare LF line endings are accepted; in_progress tracks a started request") {
  RequestParser p;
  CHECK_FALSE(p.in_progress());
  p.feed("GET / HT");
  CHECK(p.in_progress());
  CHECK(p.status() == RequestParser::Status::NeedMore);
  p.feed("TP/1.1\nHost: h\n\n");
  CHECK(p.status() == RequestParser::Status::Complete);
}

TEST_CASE("Expect: 100-continue is found as a member of a list, in any case (RFC 9110 §10.1.1)") {
  for (const char* value : {"100-Continue", "100-continue, foo", "foo=1, 100-continue", " 100-continue "}) {
    CAPTURE(value);
    RequestParser p;
    p.feed(std::string("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: ") + value +
           "\r\nContent-Length: 4\r\n\r\n");
    CHECK(p.request().expect_continue);
  }
  RequestParser other;
  other.feed("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue-later\r\nContent-Length: 4\r\n\r\n");
  CHECK_FALSE(other.request().expect_continue);
}

TEST_CASE("Expect: 100-continue is noticed while the body is awaited") {
  RequestParser p;
  p.feed("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  CHECK(p.status() == RequestParser::Status::NeedMore);
  CHECK(p.awaiting_body());
  CHECK(p.request().expect_continue);
  p.feed("body");
  CHECK(p.status() == RequestParser::Status::Complete);
}

TEST_CASE("after an error the parser consumes nothing more") {
  RequestParser p;
  p.feed("GET / HTTP/2.0\r\n");
  REQUIRE(p.status() == RequestParser::Status::Error);
  CHECK(p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == 0);
  CHECK(p.error_status() == 505);
}

namespace {

// The status a parser reaches when fed one byte at a time.
int status_bytewise(std::string_view bytes, ParserLimits limits) {
  RequestParser p(limits);
  std::string pending;
  for (char c : bytes) {
    pending += c;
    pending.erase(0, p.feed(pending));
    if (p.status() == RequestParser::Status::Error) return p.error_status();
    if (p.status() == RequestParser::Status::Complete) return 200;
  }
  return 0;
}

}  // namespace

// Both found by the fuzzer: the verdict on an over-long line must not depend on the split.
TEST_CASE("a bare CR before the line limit is 400 whether the line arrives whole or bytewise") {
  ParserLimits limits;
  limits.max_request_line = 32;
  std::string line = "GET /a\rb" + std::string(40, 'x') + "\r\n";
  CHECK(status_of(line, limits) == 400);
  CHECK(status_bytewise(line, limits) == 400);
}

TEST_CASE("CR CR at the line limit: the same verdict whole or bytewise (found by the fuzzer)") {
  // The second CR, as a possible start of CRLF, does not count towards the limit, so fed a
  // byte at a time it is taken and the first CR is seen to be bare; fed whole the verdict
  // must be the same, not 414.
  ParserLimits limits;
  limits.max_request_line = 16;
  for (size_t before : {14u, 15u, 16u}) {
    std::string line = "GET /" + std::string(before - 5, 'a') + "\r\r\x06\n";
    INFO("bytes before the first CR: " << before);
    CHECK(status_of(line, limits) == status_bytewise(line, limits));
  }
}

TEST_CASE("a CR exactly at the line limit is not counted before its LF arrives") {
  ParserLimits limits;
  limits.max_request_line = 16;
  std::string line = "GET /" + std::string(16 - 5 - 9, 'a') + " HTTP/1.1";  // 16 bytes
  REQUIRE(line.size() == 16);
  std::string request = line + "\r\nHost: x\r\n\r\n";
  CHECK(status_of(request, limits) == 200);
  CHECK(status_bytewise(request, limits) == 200);
  std::string too_long = "GET /" + std::string(3, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";  // 17 bytes
  CHECK(status_of(too_long, limits) == 414);
  CHECK(status_bytewise(too_long, limits) == 414);
}

TEST_CASE("a request line too long before its first space is a method too long: 501") {
  ParserLimits limits;
  limits.max_request_line = 16;
  // The method fills the limit: 501 (RFC 9112 §3), whole or fed a byte at a time, even when a
  // space follows later in the line.
  for (std::string line : {std::string(17, 'A') + " / HTTP/1.1", std::string(16, 'A') + " / HTTP/1.1",
                           std::string(40, 'A')}) {
    INFO(line);
    CHECK(status_of(line + "\r\nHost: x\r\n\r\n", limits) == 501);
    CHECK(status_bytewise(line + "\r\nHost: x\r\n\r\n", limits) == 501);
  }
  // A space inside the limit: the method ended, the target is what is too long.
  std::string long_target = "GET /" + std::string(30, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(status_of(long_target, limits) == 414);
  CHECK(status_bytewise(long_target, limits) == 414);
  // At the default 8 KiB limit, as a client would send it.
  CHECK(status_of(std::string(9000, 'A') + " / HTTP/1.1\r\nHost: h\r\n\r\n") == 501);
}

TEST_CASE("Host must be a valid uri-host[:port] (RFC 9112 §3.2, RFC 3986 §3.2.2)") {
  auto with_host = [](std::string value) { return "GET / HTTP/1.1\r\nHost: " + value + "\r\n\r\n"; };
  const char* good[] = {"h",           "example.com",           "example.com:8080", "192.0.2.2:80", "[::1]",
                        "[::1]:8080",  "[2001:db8::192.0.2.2]", "a%41b.c",          "h:",           "",
                        "[v1.x:y]:80", "x-y_z~!$&'()*+,;="};
  for (const char* v : good) {
    INFO("Host: '" << v << "'");
    CHECK(status_of(with_host(v)) == 200);
  }
  const char* bad[] = {"user@h", "user:pw@h:80", "h h", "h:8o",   "h:80:90", "h:-1", "[::1",
                       "[::1]x", "[::1]:8x",     "[]",  "[g::1]", "h/x",     "h?x",  "a%4",
                       "a%zzb",  "h\"",          "<h>", "[v1]",   "h\\x"};
  for (const char* v : bad) {
    auto o = parse_all(with_host(v));
    INFO("Host: '" << v << "' detail: " << o.detail);
    CHECK(o.status == RequestParser::Status::Error);
    CHECK(o.error == 400);
    CHECK(o.detail == "invalid Host");
  }
  // HTTP/1.0 needs no Host, but one it sends is checked all the same.
  CHECK(status_of("GET / HTTP/1.0\r\nHost: a b\r\n\r\n") == 400);
}

TEST_CASE("a fragment in the request-target is 400 (RFC 9112 §3.2: no form has one)") {
  for (const char* target : {"/#frag", "/?a#frag", "/stats#x", "http://h/p#f"}) {
    auto o = parse_all(std::string("GET ") + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
    INFO("target: " << target << " detail: " << o.detail);
    CHECK(o.status == RequestParser::Status::Error);
    CHECK(o.error == 400);
    CHECK(o.detail == "fragment (#) in request target");
  }
  CHECK(status_of("GET /%23 HTTP/1.1\r\nHost: h\r\n\r\n") == 200);  // an escaped # is a name
}

TEST_CASE("bytes above 0x7F in a target are taken as they are; control bytes are 400") {
  auto requests = parse_split("GET /caf\xC3\xA9.txt HTTP/1.1\r\nHost: h\r\n\r\n", {});
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == "/caf\xC3\xA9.txt");
  CHECK(status_of("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
  CHECK(status_of("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
}

TEST_CASE("a chunk-size line with anything but chunk extensions after the size is 400 (RFC 9112 §7.1.1)") {
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(status_of(head + "3 ;name=\"v\"\r\nabc\r\n0\r\n\r\n") == 200);
  for (const char* line : {"3 ", "3;\x01", "3 x", "3;"}) {
    auto o = parse_all(head + line + "\r\nabc\r\n0\r\n\r\n");
    INFO("line: '" << line << "' detail: " << o.detail);
    CHECK(o.status == RequestParser::Status::Error);
    CHECK(o.error == 400);
    CHECK(o.detail == "bad chunk size line");
  }
}

TEST_CASE("a chunk-size line over its limit is 400 \"chunk line too long\", not a header error") {
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto o = parse_all(head + "3;ext=" + std::string(2000, 'x') + "\r\nabc\r\n0\r\n\r\n");
  CHECK(o.status == RequestParser::Status::Error);
  CHECK(o.error == 400);
  CHECK(o.detail == "chunk line too long");
}

TEST_CASE("a bare LF in chunked framing is 400 (RFC 9112 §7.1), wherever it is") {
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(status_of(head + "3\r\nabc\r\n0\r\n\r\n") == 200);  // the CRLF original
  const char* framing[] = {
      "3\nabc\r\n0\r\n\r\n",          // after the chunk size
      "3;ext=1\nabc\r\n0\r\n\r\n",    // after an extension
      "3\r\nabc\n0\r\n\r\n",          // after the chunk data
      "3\r\nabc\r\n0\n\r\n",          // after the last chunk
      "3\r\nabc\r\n0\r\nT: v\n\r\n",  // after a trailer field
      "3\r\nabc\r\n0\r\n\n",          // the final empty line
  };
  for (const char* body : framing) {
    auto o = parse_all(head + body);
    INFO("body: " << body << " detail: " << o.detail);
    CHECK(o.status == RequestParser::Status::Error);
    CHECK(o.error == 400);
    CHECK(o.detail == "bare LF in chunked framing");
    // The verdict does not depend on how the bytes arrive.
    RequestParser::Status last{};
    std::string all = head + body;
    std::vector<size_t> cuts;
    for (size_t i = 1; i < all.size(); ++i) cuts.push_back(i);
    CHECK(parse_split(all, cuts, &last).empty());
    CHECK(last == RequestParser::Status::Error);
  }
}

TEST_CASE("absolute-form: the scheme is case-insensitive (RFC 3986 §3.1)") {
  for (const char* target : {"http://h/x", "HTTP://h/x", "Http://h/x", "HTTPS://h/x"}) {
    INFO(target);
    CHECK(status_of(std::string("GET ") + target + " HTTP/1.1\r\nHost: h\r\n\r\n") == 200);
  }
  CHECK(status_of("GET HTTX://h/x HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
}

TEST_CASE("asterisk-form is for OPTIONS only (RFC 9112 §3.2.4)") {
  auto ok = parse_split("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", {});
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].method == "OPTIONS");
  CHECK(ok[0].target == "*");
  CHECK(status_of("GET * HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
  CHECK(status_of("POST * HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") == 400);
}

TEST_CASE("leading zeros: the value is limited, not the digits (RFC 9110 §8.6, RFC 9112 §7.1)") {
  RequestParser p;
  p.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0000000000000000005\r\n\r\nhello");
  REQUIRE(p.status() == RequestParser::Status::Complete);
  CHECK(p.request().content_length == 5u);
  CHECK(p.request().body == "hello");
  RequestParser c;
  c.feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "00000000000000005\r\nhello\r\n00000000000000000000\r\n\r\n");
  REQUIRE(c.status() == RequestParser::Status::Complete);
  CHECK(c.request().body == "hello");
  // What would overflow is still refused, leading zeros or not.
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0001234567890123456789\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "0001234567890abcdef\r\n") == 400);
}

TEST_CASE("trailer fields are checked like header fields (RFC 9112 §7.1.2)") {
  const std::string head =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n";
  CHECK(status_of(head + "Checksum: 900150983cd24fb0\r\n\r\n") == 200);
  for (const char* trailer : {"Bad Name: \x01\r\n", "Name: a\x01z\r\n", "Name : v\r\n", "Name: a\x7f\r\n",
                              " folded\r\n", "no colon\r\n"}) {
    auto o = parse_all(head + trailer + "\r\n");
    INFO("trailer: " << trailer << " detail: " << o.detail);
    CHECK(o.status == RequestParser::Status::Error);
    CHECK(o.error == 400);
  }
  std::string with_nul = head + "Bad Name: ";
  with_nul += '\x01';
  with_nul += '\0';
  with_nul += "\r\n\r\n";
  CHECK(status_of(with_nul) == 400);
}

TEST_CASE("the version is checked before the target: the HTTP/2 preface gets 505") {
  CHECK(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == 505);
  CHECK(status_of("GET * HTTP/3.0\r\n\r\n") == 505);
}

TEST_CASE("CONNECT with an authority-form target is well-formed; other forms of it are not") {
  for (const char* target : {"example.com:443", "192.0.2.1:80", "[2001:db8::1]:443", "/"}) {
    INFO(target);
    CHECK(status_of(std::string("CONNECT ") + target + " HTTP/1.1\r\nHost: h\r\n\r\n") == 200);
  }
  for (const char* target : {"example.com", "example.com:", ":443", "user@example.com:443", "[::1]",
                             "example.com:44x"}) {
    INFO(target);
    CHECK(status_of(std::string("CONNECT ") + target + " HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
  }
  CHECK(status_of("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n") == 400);  // CONNECT only
}

TEST_CASE("absolute-form: userinfo and an empty host are 400 (RFC 9110 §4.2.1, §4.2.4)") {
  for (const char* target : {"http://user:pw@x/bytes/2", "http://user@x/", "https://@x/", "http:///x",
                             "http://:80/x", "http://x y/"}) {
    INFO(target);
    CHECK(status_of(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  }
  for (const char* target : {"http://x?a=@", "http://x/p@q", "http://x:8080/", "http://[::1]/"}) {
    INFO(target);
    CHECK(status_of(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n") == 200);
  }
}

TEST_CASE("the method of a refused request line is known (an error to HEAD has no content)") {
  RequestParser p;
  p.feed("HEAD * HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(p.status() == RequestParser::Status::Error);
  CHECK(p.request().method == "HEAD");
}

TEST_CASE("next(): the parser reused keeps nothing of the request before") {
  RequestParser p;
  auto first = parse_next(p, "POST /form HTTP/1.0\r\nHost: a\r\nConnection: close, Foo\r\n"
                             "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(first.method == "POST");
  CHECK(first.minor == 0);
  CHECK(first.body == "hello");
  CHECK(first.content_length == 5);
  CHECK(first.connection == std::vector<std::string>{"close", "foo"});
  CHECK(first.expect_continue);
  auto second = parse_next(p, "GET /x HTTP/1.1\r\nHost: b\r\n\r\n");
  CHECK(second.method == "GET");
  CHECK(second.target == "/x");
  CHECK(second.minor == 1);
  REQUIRE(second.headers.size() == 1);
  CHECK(second.header("host") == "b");
  CHECK(second.body.empty());
  CHECK_FALSE(second.content_length);
  CHECK(second.connection.empty());
  CHECK_FALSE(second.expect_continue);
  CHECK_FALSE(second.chunked);
  auto third = parse_next(p, "PUT /c HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "3\r\nabc\r\n0\r\n\r\n");
  CHECK(third.chunked);
  CHECK(third.body == "abc");
  CHECK(parse_next(p, "GET / HTTP/1.1\r\nHost: d\r\n\r\n").body.empty());
}
