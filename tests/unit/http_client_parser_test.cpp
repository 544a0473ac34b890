// Tests for http/response_parser and http/client_request: the body framings of RFC 9112
// §6.3 (Content-Length, chunked, close-delimited, none), byte-by-byte splits, interim
// responses, every malformed input with its message, URLs, the request, and the client's
// keep-alive decision.
#include <doctest/doctest.h>

#include <string>

#include "http/client_request.hpp"
#include "http/response_parser.hpp"

using namespace tcplab;
using namespace tcplab::http;

namespace {

struct Parsed {
  ResponseParser parser;
  std::string body;
  size_t consumed = 0;
};

// Feeds `bytes` in pieces of `step` bytes (0: all at once) until complete or failed.
Parsed parse(std::string_view bytes, size_t step = 0, bool head_request = false) {
  Parsed p;
  p.parser.expect(head_request);
  auto sink = [&p](std::string_view piece) { p.body.append(piece); };
  if (step == 0) step = bytes.size() == 0 ? 1 : bytes.size();
  while (p.consumed < bytes.size() && p.parser.status() == ResponseParser::Status::NeedMore) {
    auto piece = bytes.substr(p.consumed, step);
    size_t used = p.parser.feed(piece, sink);
    p.consumed += used;
    if (used < piece.size()) break;
  }
  return p;
}

std::string error_of(std::string_view bytes) {
  auto p = parse(bytes);
  if (p.parser.status() == ResponseParser::Status::NeedMore) p.parser.eof();
  REQUIRE(p.parser.status() == ResponseParser::Status::Error);
  return p.parser.error();
}

}  // namespace

TEST_CASE("a Content-Length response: status line, fields, body, sizes") {
  const std::string r = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello";
  auto p = parse(r);
  REQUIRE(p.parser.status() == ResponseParser::Status::Complete);
  CHECK(p.parser.head().minor == 1);
  CHECK(p.parser.head().status == 200);
  CHECK(p.parser.head().reason == "OK");
  CHECK(p.parser.head().header("server") == "x");
  CHECK(p.parser.framing() == BodyFraming::Length);
  CHECK(p.body == "hello");
  CHECK(p.parser.body_bytes() == 5);
  CHECK(p.parser.header_bytes() == r.size() - 5);
  CHECK(p.consumed == r.size());
}

TEST_CASE("a response split at every byte gives the same head and body") {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n"
      "0\r\nTrailer-Field: y\r\n\r\n";
  for (size_t step : {1u, 2u, 3u, 7u, 64u}) {
    auto p = parse(r, step);
    REQUIRE(p.parser.status() == ResponseParser::Status::Complete);
    CHECK(p.parser.framing() == BodyFraming::Chunked);
    CHECK(p.body == "hello, world");
    CHECK(p.consumed == r.size());
  }
}

TEST_CASE("a chunk-size line with anything but chunk extensions after the size fails the response") {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(parse(head + "3 ;a=\"v\"\r\nabc\r\n0\r\n\r\n").parser.status() == ResponseParser::Status::Complete);
  for (const char* line : {"3 ", "3;\x01", "3 x"}) {
    INFO("line: '" << line << "'");
    CHECK(error_of(head + line + "\r\nabc\r\n0\r\n\r\n").starts_with("an invalid chunk-size line"));
  }
}

TEST_CASE("bytes after a complete response are not consumed (they belong to nothing)") {
  auto p = parse("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n");
  REQUIRE(p.parser.status() == ResponseParser::Status::Complete);
  CHECK(p.consumed == std::string("HTTP/1.1 204 No Content\r\n\r\n").size());
}

TEST_CASE("a response without framing runs until the server closes (RFC 9112 §6.3 rule 8)") {
  auto p = parse("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nsome bytes");
  CHECK(p.parser.status() == ResponseParser::Status::NeedMore);
  CHECK(p.parser.framing() == BodyFraming::UntilClose);
  p.parser.eof();
  CHECK(p.parser.status() == ResponseParser::Status::Complete);
  CHECK(p.body == "some bytes");
}

TEST_CASE("a Transfer-Encoding other than chunked also runs until the close") {
  auto p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcdef");
  CHECK(p.parser.framing() == BodyFraming::UntilClose);
  CHECK(p.body == "abcdef");
}

TEST_CASE("Transfer-Encoding with Content-Length is an error (RFC 9112 §6.3 rule 3)") {
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n") ==
        "both Transfer-Encoding and Content-Length: the body framing is ambiguous (RFC 9112 §6.3 rule 3)");
  // Rule 1 comes first: a 304 has no body, whatever its fields say.
  auto not_modified =
      parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(not_modified.parser.status() == ResponseParser::Status::Complete);
}

TEST_CASE("field values with control bytes are rejected (RFC 9110 §5.5), in trailers too") {
  CHECK(error_of(std::string("HTTP/1.1 200 OK\r\nConnection: close") + '\0' +
                 "\r\nContent-Length: 0\r\n\r\n") ==
        "a control character in a header field value (RFC 9110 §5.5): 'Connection: close\\x00'");
  CHECK(error_of("HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n").find("control character") != std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n").find("control character") != std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nX-A: a\r\n \x02\r\n\r\n").find("control character") !=
        std::string::npos);
  auto tab = parse("HTTP/1.1 200 OK\r\nX-A: a\tb\r\nContent-Length: 0\r\n\r\n");
  CHECK(tab.parser.status() == ResponseParser::Status::Complete);
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n";
  CHECK(error_of(chunked + "not a trailer\r\n\r\n") == "malformed trailer field line: 'not a trailer'");
  CHECK(error_of(chunked + "X-T : 1\r\n\r\n").find("malformed trailer field line") != std::string::npos);
  CHECK(error_of(chunked + "X-T: 1" + '\0' + "\r\n\r\n").find("control character in a trailer") !=
        std::string::npos);
  auto good = parse(chunked + "X-T: 1\r\nX-U: 2\r\n\r\n");
  CHECK(good.parser.status() == ResponseParser::Status::Complete);
}

TEST_CASE("a control byte in the reason phrase fails the response (RFC 9112 §4), HTAB aside") {
  CHECK(error_of("HTTP/1.1 200 O\x1b[31mK\r\nContent-Length: 0\r\n\r\n") ==
        "a control character in the reason phrase (RFC 9112 §4): 'HTTP/1.1 200 O\\x1b[31mK'");
  CHECK(error_of(std::string("HTTP/1.1 200 AB") + '\0' + "CD\r\nContent-Length: 0\r\n\r\n")
            .find("control character in the reason phrase") != std::string::npos);
  auto tab = parse("HTTP/1.1 200 O\tK \xc3\xa9\r\nContent-Length: 0\r\n\r\n");  // HTAB and obs-text
  CHECK(tab.parser.status() == ResponseParser::Status::Complete);
  CHECK(tab.parser.head().reason == "O\tK \xc3\xa9");
}

TEST_CASE("a chunk size may have leading zeros; its value is what is limited (RFC 9112 §7.1)") {
  auto zeros = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "0000000000000005\r\nhello\r\n0\r\n\r\n");
  CHECK(zeros.parser.status() == ResponseParser::Status::Complete);
  CHECK(zeros.body == "hello");
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n")
            .find("a chunk size too large") == 0);
}

TEST_CASE("HEAD, 204 and 304 responses have no body whatever Content-Length says") {
  auto head = parse("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0, true);
  CHECK(head.parser.status() == ResponseParser::Status::Complete);
  CHECK(head.parser.framing() == BodyFraming::None);
  auto not_modified = parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
  CHECK(not_modified.parser.status() == ResponseParser::Status::Complete);
  CHECK(not_modified.parser.body_bytes() == 0);
}

TEST_CASE("interim 1xx responses are skipped; the final response follows") {
  auto p = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(p.parser.status() == ResponseParser::Status::Complete);
  CHECK(p.parser.head().status == 200);
  CHECK(p.parser.interim_responses() == 1);
  CHECK(p.body == "ok");
  // The sizes are the final head's; the interim heads are counted apart.
  CHECK(p.parser.header_bytes() == 38);
  CHECK(p.parser.interim_bytes() == 25);
}

TEST_CASE("fields: obs-fold is unfolded, Connection tokens are lower-cased, LF alone ends a line") {
  auto p = parse("HTTP/1.1 200 OK\nX-Long: a\n  b\nConnection: Keep-Alive, Close\nContent-Length: 0\n\n");
  REQUIRE(p.parser.status() == ResponseParser::Status::Complete);
  CHECK(p.parser.head().header("x-long") == "a b");
  CHECK(p.parser.head().has_connection_token("close"));
  CHECK(p.parser.head().has_connection_token("keep-alive"));
}

TEST_CASE("equal Content-Length values in a list are one value (RFC 9110 §8.6)") {
  auto p = parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok");
  CHECK(p.parser.status() == ResponseParser::Status::Complete);
}

TEST_CASE("malformed responses fail with a message that says what is wrong") {
  CHECK(error_of("SSH-2.0-OpenSSH_9.6\r\n").find("not an HTTP/1.x status line: 'SSH-2.0-OpenSSH_9.6'") !=
        std::string::npos);
  CHECK(error_of("HTTP/2.0 200 OK\r\n\r\n").find("only HTTP/1.x") != std::string::npos);
  CHECK(error_of("HTTP/1.1 20x OK\r\n\r\n").find("three digits") != std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n").find("invalid Content-Length") !=
        std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").find("conflicting") !=
        std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n").find("malformed header field line") !=
        std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nName : v\r\n\r\n").find("malformed header field line") !=
        std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\n x: folded first\r\n\r\n").find("continuation line") !=
        std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").find("invalid chunk-size") !=
        std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n")
            .find("not followed by CRLF") != std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n")
            .find("too large") != std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\rX: y\r\n\r\n").find("bare CR") != std::string::npos);
  CHECK(error_of("HTTP/1.1 101 Switching Protocols\r\n\r\n").find("101") != std::string::npos);
  CHECK(error_of("HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'a') + "\r\n\r\n").find("longer than 8192") !=
        std::string::npos);
}

TEST_CASE("a close in the middle of a response is an error that says where") {
  CHECK(error_of("") == "the server closed the connection without sending a response");
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-") ==
        "the server closed the connection before the end of the response header");
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") ==
        "the server closed the connection after 3 of 10 body bytes");
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
            .find("inside the chunked") != std::string::npos);
  // The last chunk came, but not the empty line that ends the trailer section.
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n") ==
        "the server closed the connection after the last chunk but before the end of the trailer section "
        "(the empty line that ends a chunked body, RFC 9112 §7.1)");
}

TEST_CASE("expect() starts a fresh response on the same parser") {
  ResponseParser parser;
  parser.expect();
  parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", {});
  REQUIRE(parser.status() == ResponseParser::Status::Complete);
  parser.expect();
  CHECK(parser.status() == ResponseParser::Status::NeedMore);
  CHECK_FALSE(parser.started());
  parser.feed("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n", {});
  CHECK(parser.head().status == 404);
  CHECK(parser.head().minor == 0);
}

TEST_CASE("URLs: http://ADDR[:PORT]/path only, with a clear refusal otherwise") {
  std::string error;
  auto u = parse_url("http://192.0.2.1:8000/a/b.txt?x=1#frag", error);
  REQUIRE(u);
  CHECK(u->address.to_string() == "192.0.2.1");
  CHECK(u->port == 8000);
  CHECK(u->authority == "192.0.2.1:8000");
  CHECK(u->path == "/a/b.txt?x=1");
  auto bare = parse_url("http://192.0.2.1", error);
  REQUIRE(bare);
  CHECK(bare->port == 80);
  CHECK(bare->path == "/");
  CHECK(parse_url("HTTP://192.0.2.1/x", error));  // RFC 3986 §3.1: the scheme in any case
  CHECK_FALSE(parse_url("https://192.0.2.1/", error));
  CHECK(error.find("only http://") != std::string::npos);
  CHECK_FALSE(parse_url("HTTPS://192.0.2.1/", error));
  CHECK(error.find("(tcplab has no TLS)") != std::string::npos);
  CHECK_FALSE(parse_url("http://:80/", error));
  CHECK(error == "no host in 'http://:80/'");
  CHECK_FALSE(parse_url("http://example.com/", error));
  CHECK(error.find("no DNS") != std::string::npos);
  CHECK_FALSE(parse_url("http://192.0.2.1:0/", error));
  CHECK(error.find("bad port") != std::string::npos);
  CHECK_FALSE(parse_url("http://192.0.2.1:99999/", error));
  CHECK_FALSE(parse_url("192.0.2.1/", error));
  CHECK(error.find("not a URL") != std::string::npos);
  CHECK_FALSE(parse_url("http://user@192.0.2.1/", error));
  // An IPv6 literal is named as such, not mistaken for a host and a bad port.
  CHECK_FALSE(parse_url("http://[::1]/", error));
  CHECK(error.find("IPv6 addresses are not supported: tcplab is IPv4 only") == 0);
  CHECK(error.find("bad port") == std::string::npos);
  CHECK_FALSE(parse_url("http://[2001:db8::1]:8080/x", error));
  CHECK(error.find("IPv4 only") != std::string::npos);
}

TEST_CASE("-L: a Location resolves against the URL asked for (RFC 3986 §5.2)") {
  std::string error;
  const Url base = *parse_url("http://192.0.2.1:8000/a/b/c?q=1", error);
  auto resolved = [&](std::string_view location) {
    auto u = resolve_location(base, location, error);
    return u ? u->text : "error: " + error;
  };
  CHECK(resolved("http://198.51.100.7/x") == "http://198.51.100.7/x");
  CHECK(resolved("//198.51.100.7:81/y") == "http://198.51.100.7:81/y");
  CHECK(resolved("/d/") == "http://192.0.2.1:8000/d/");
  CHECK(resolved("/d/./e/../f?k=v#top") == "http://192.0.2.1:8000/d/f?k=v");
  CHECK(resolved("g") == "http://192.0.2.1:8000/a/b/g");
  CHECK(resolved("../g") == "http://192.0.2.1:8000/a/g");
  CHECK(resolved("../../../g") == "http://192.0.2.1:8000/g");
  CHECK(resolved("..") == "http://192.0.2.1:8000/a/");
  CHECK(resolved("?z") == "http://192.0.2.1:8000/a/b/c?z");
  CHECK(resolved("") == "http://192.0.2.1:8000/a/b/c?q=1");
  CHECK(resolved("https://192.0.2.1/") ==
        "error: only http:// URLs are supported, not 'https://' (tcplab has no TLS)");
  CHECK(resolved("http://example.com/").find("no DNS") != std::string::npos);
  // RFC 3986 §3.1: a scheme is any letters-first name before ':', in any case.
  CHECK(resolved("mailto:someone@example.com") == "error: only http:// URLs are supported, not 'mailto:'");
  CHECK(resolved("HTTP://198.51.100.7/x") == "http://198.51.100.7/x");
  // §5.2.2: an absolute reference's path loses its dot segments too; a space goes as %20.
  CHECK(resolved("http://198.51.100.7/a/./b/../c?x=/../y") == "http://198.51.100.7/a/c?x=/../y");
  CHECK(resolved("//198.51.100.7") == "http://198.51.100.7/");
  CHECK(resolved("/a b") == "http://192.0.2.1:8000/a%20b");
  // §5.2.2's non-strict reading drops a scheme that is the base's own (§5.4.2: "http:g" = "g").
  CHECK(resolved("http:") == "http://192.0.2.1:8000/a/b/c?q=1");
  CHECK(resolved("http:g") == "http://192.0.2.1:8000/a/b/g");
  CHECK(resolved("http:/g") == "http://192.0.2.1:8000/g");
  CHECK(resolved("http:?z") == "http://192.0.2.1:8000/a/b/c?z");
  CHECK(resolved("http:g//10.0.0.9/x") == "http://192.0.2.1:8000/a/b/g//10.0.0.9/x");  // not a host
  CHECK(resolved("?") == "http://192.0.2.1:8000/a/b/c?");
  CHECK(resolved("//10.0.0.1:8080") == "http://10.0.0.1:8080/");
  CHECK(resolved("http://10.0.0.1:8080?x") == "http://10.0.0.1:8080/?x");
  auto empty_port = resolve_location(base, "//10.0.0.1:/x", error);  // §3.2.3: the default port
  REQUIRE(empty_port);
  CHECK(empty_port->port == 80);
  CHECK(empty_port->authority == "10.0.0.1");
  CHECK(resolved("//") == "error: no host in 'http:///'");
  CHECK(resolved("HTTPS://x/") ==
        "error: only http:// URLs are supported, not 'HTTPS://' (tcplab has no TLS)");
  CHECK(is_followable_redirect(301));
  CHECK(is_followable_redirect(308));
  CHECK(is_followable_redirect(300));  // with a Location: the server's preferred choice
  CHECK_FALSE(is_followable_redirect(304));
  CHECK_FALSE(is_followable_redirect(200));
}

TEST_CASE("the request: version, Host, and the Connection field each mode sends") {
  auto u = *[] {
    std::string e;
    return parse_url("http://192.0.2.1:8000/x", e);
  }();
  CHECK(build_request(u, {1, true, "t"}) ==
        "GET /x HTTP/1.1\r\nHost: 192.0.2.1:8000\r\nUser-Agent: t\r\n"
        "Accept: */*\r\n\r\n");
  CHECK(build_request(u, {1, false, "t"}).find("\r\nConnection: close\r\n") != std::string::npos);
  auto v10 = build_request(u, {0, false, "t"});
  CHECK(v10.starts_with("GET /x HTTP/1.0\r\n"));
  CHECK(v10.find("Connection") == std::string::npos);
  CHECK(build_request(u, {0, true, "t"}).find("\r\nConnection: keep-alive\r\n") != std::string::npos);
}

TEST_CASE("the client's keep-alive decision (RFC 9112 §9.3)") {
  auto head = [](int minor, std::vector<std::string> connection) {
    ReceivedHead h;
    h.minor = minor;
    h.connection = std::move(connection);
    return h;
  };
  const RequestOptions v11{1, true, "t"}, v11_close{1, false, "t"}, v10{0, false, "t"}, v10_ka{0, true, "t"};
  CHECK(decide_persistence(v11, head(1, {}), BodyFraming::Length).keep_open);
  CHECK_FALSE(decide_persistence(v11, head(1, {"close"}), BodyFraming::Length).keep_open);
  CHECK_FALSE(decide_persistence(v11, head(1, {}), BodyFraming::UntilClose).keep_open);
  CHECK_FALSE(decide_persistence(v11_close, head(1, {}), BodyFraming::Length).keep_open);
  CHECK_FALSE(decide_persistence(v11, head(0, {}), BodyFraming::Length).keep_open);
  CHECK(decide_persistence(v11, head(0, {"keep-alive"}), BodyFraming::Length).keep_open);
  CHECK_FALSE(decide_persistence(v10, head(1, {}), BodyFraming::Length).keep_open);
  CHECK(decide_persistence(v10_ka, head(0, {"keep-alive"}), BodyFraming::Length).keep_open);
  CHECK(decide_persistence(v10_ka, head(1, {}), BodyFraming::Length).keep_open);
  CHECK_FALSE(decide_persistence(v10_ka, head(0, {}), BodyFraming::Length).keep_open);
  CHECK(decide_persistence(v11, head(1, {"close"}), BodyFraming::Length).why ==
        "the server sent Connection: close");
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing: used once, then closed,
  // even when the server offers keep-alive.
  auto chunked10 = head(0, {"keep-alive"});
  chunked10.transfer_encoding = true;
  auto faulty = decide_persistence(v11, chunked10, BodyFraming::Chunked);
  CHECK_FALSE(faulty.keep_open);
  CHECK(faulty.why == "HTTP/1.0 response with Transfer-Encoding: faulty framing (RFC 9112 §6.1)");
  auto parsed = parse(
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: "
      "keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  REQUIRE(parsed.parser.status() == ResponseParser::Status::Complete);
  CHECK(parsed.body == "hello");
  CHECK_FALSE(decide_persistence(v11, parsed.parser.head(), parsed.parser.framing()).keep_open);
}
