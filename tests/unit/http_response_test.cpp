// Tests for http/response and http/body_source: heads carry exactly the headers the policy
// chose, dates are IMF-fixdate, chunks are framed, bodies stream in pieces.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/body_source.hpp"
#include "http/response.hpp"

using namespace tcplab::http;

TEST_CASE("IMF-fixdate of known instants") {
  CHECK(format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7's example
  CHECK(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST_CASE("a head for HTTP/1.1 keep-alive has no Connection header") {
  ResponseHead h;
  h.content_type = "text/html";
  h.content_length = 12;
  KeepAliveDecision keep{true, ConnectionHeader::None, false, 99, CloseCause::None};
  auto s = render_head(h, keep, "Sun, 06 Nov 1994 08:49:37 GMT", 5);
  CHECK(s ==
        "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: tcplab\r\n"
        "Content-Type: text/html\r\nContent-Length: 12\r\n\r\n");
}

TEST_CASE("a file's validators are written after Accept-Ranges and before the extra fields") {
  // RFC 9110 §8.8: a file's 200 (and a 206 of it) carries its ETag and Last-Modified; they come
  // shared from the file cache, not as extra fields, and field() finds them all the same.
  ResponseHead h;
  h.status = 206;
  h.content_length = 4;
  h.accept_ranges = true;
  auto validators = std::make_shared<Validators>();
  validators->etag = "\"1-2-3\"";
  validators->last_modified_text = "Sun, 06 Nov 1994 08:49:37 GMT";
  h.validators = validators;
  h.headers = {{"Content-Range", "bytes 4-7/10"}};
  KeepAliveDecision keep{true, ConnectionHeader::None, false, 99, CloseCause::None};
  CHECK(render_head(h, keep, "", 5) ==
        "HTTP/1.1 206 Partial Content\r\nServer: tcplab\r\nContent-Length: 4\r\n"
        "Accept-Ranges: bytes\r\nETag: \"1-2-3\"\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        "Content-Range: bytes 4-7/10\r\n\r\n");
  CHECK(h.field("ETag") == "\"1-2-3\"");
  CHECK(h.field("Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(h.field("Content-Range") == "bytes 4-7/10");
  CHECK(h.field("Location").empty());
  h.validators = nullptr;
  CHECK(h.field("ETag").empty());
}

TEST_CASE("close and HTTP/1.0 keep-alive heads") {
  ResponseHead h;
  h.status = 405;
  h.content_length = 0;
  h.headers = {{"Allow", "GET, HEAD"}};
  auto closed = render_head(h, {false, ConnectionHeader::Close, false, 0, CloseCause::ClientClose}, "", 5);
  CHECK(closed.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(closed.find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(closed.find("Connection: close\r\n") != std::string::npos);
  CHECK(closed.find("Date:") == std::string::npos);
  CHECK(closed.find("Keep-Alive") == std::string::npos);
  auto ka = render_head(h, {true, ConnectionHeader::KeepAlive, true, 42, CloseCause::None}, "", 7);
  CHECK(ka.find("Connection: keep-alive\r\nKeep-Alive: timeout=7, max=42\r\n\r\n") != std::string::npos);
  // No whole second to announce: max= alone, never timeout=0.
  auto short_timeout = render_head(h, {true, ConnectionHeader::KeepAlive, true, 42, CloseCause::None}, "", 0);
  CHECK(short_timeout.find("Connection: keep-alive\r\nKeep-Alive: max=42\r\n\r\n") != std::string::npos);
}

TEST_CASE("unknown length is chunked, unless close-delimited") {
  ResponseHead h;
  h.content_length = std::nullopt;
  KeepAliveDecision keep{};
  CHECK(render_head(h, keep, "", 5).find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  h.close_delimited = true;
  auto s = render_head(h, keep, "", 5);
  CHECK(s.find("Transfer-Encoding") == std::string::npos);
  CHECK(s.find("Content-Length") == std::string::npos);
}

TEST_CASE("chunk framing") {
  std::string out;
  append_chunk(out, "hello world, this is 30 bytes!");
  CHECK(out == "1e\r\nhello world, this is 30 bytes!\r\n");
  CHECK(kLastChunk == "0\r\n\r\n");
}

TEST_CASE("PatternBody: byte i is i % 251, produced in pieces of any size") {
  PatternBody body(1000);
  CHECK(body.length() == 1000u);
  std::string got;
  char buf[97];
  for (int guard = 0; guard < 100; ++guard) {
    size_t n = body.read(std::span<char>(buf, sizeof buf));
    if (n == 0) break;
    got.append(buf, n);
  }
  REQUIRE(got.size() == 1000);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(static_cast<unsigned char>(got[i]) == i % 251);
  CHECK_FALSE(PatternBody(5, false).length().has_value());
}

TEST_CASE("PatternBody: reads longer than its internal table keep the pattern") {
  // A bulk sender reads 64 KiB at a time, more than the table read() copies from: each read
  // is several runs, and each read starts at the phase the last one ended at.
  const size_t total = 300000;
  PatternBody body(total);
  std::vector<char> buf(65536 + 3);
  size_t at = 0, wrong = 0;
  for (int guard = 0; guard < 100 && at < total; ++guard) {
    size_t n = body.read(std::span<char>(buf.data(), buf.size()));
    if (n == 0) break;
    for (size_t k = 0; k < n; ++k)
      if (static_cast<unsigned char>(buf[k]) != (at + k) % 251) ++wrong;
    at += n;
  }
  CHECK(at == total);
  CHECK(wrong == 0);
  CHECK(body.read(std::span<char>(buf.data(), buf.size())) == 0);
}

TEST_CASE("StringBody reads out its text once") {
  StringBody b("abcdef");
  char buf[4];
  CHECK(b.read(std::span<char>(buf, 4)) == 4);
  CHECK(std::string(buf, 4) == "abcd");
  CHECK(b.read(std::span<char>(buf, 4)) == 2);
  CHECK(b.read(std::span<char>(buf, 4)) == 0);
}
