// Test helpers for http/: the shared FakeSocket (fake_socket.hpp), a tiny client-side
// response reader, and a responder with a few fixed routes, so sessions run without TCP.
#pragma once
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http/handler.hpp"
#include "stack/tcp/socket.hpp"
#include "tests/unit/fake_socket.hpp"

namespace tcplab::http::testing {

using tcplab::testing::FakeSocket;

// One parsed response from the server's byte stream.
struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has(const std::string& name) const { return headers.count(name) != 0; }
};

// Splits `stream` into responses. head_only: the requests were HEAD (no bodies).
// A response without length or chunked runs to the end of the stream (close-delimited).
inline std::vector<ParsedResponse> parse_responses(std::string_view stream, bool head_only = false) {
  std::vector<ParsedResponse> out;
  while (!stream.empty()) {
    auto end = stream.find("\r\n\r\n");
    if (end == std::string_view::npos) break;
    ParsedResponse r;
    auto head = stream.substr(0, end);
    stream.remove_prefix(end + 4);
    auto eol = head.find("\r\n");
    auto status_line = head.substr(0, eol);
    if (status_line.size() < 12) break;
    r.status = std::stoi(std::string(status_line.substr(9, 3)));
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    while (!head.empty()) {
      auto e = head.find("\r\n");
      auto line = head.substr(0, e);
      auto colon = line.find(':');
      std::string name(line.substr(0, colon));
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers[name] = std::string(value);
      head.remove_prefix(e == std::string_view::npos ? head.size() : e + 2);
    }
    if (r.status == 100) {
      out.push_back(r);
      continue;
    }
    if (!head_only) {
      if (r.has("content-length")) {
        size_t n = std::stoul(r.header("content-length"));
        r.body = std::string(stream.substr(0, n));
        stream.remove_prefix(std::min(n, stream.size()));
      } else if (r.header("transfer-encoding") == "chunked") {
        while (true) {
          auto e = stream.find("\r\n");
          if (e == std::string_view::npos) break;
          size_t n = std::stoul(std::string(stream.substr(0, e)), nullptr, 16);
          stream.remove_prefix(e + 2);
          if (n == 0) {
            stream.remove_prefix(std::min<size_t>(2, stream.size()));
            break;
          }
          r.body += stream.substr(0, n);
          stream.remove_prefix(std::min(n + 2, stream.size()));
        }
      } else {
        r.body = std::string(stream);
        stream = {};
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

inline std::string pattern(uint64_t n) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

// A body that promises `promised` pattern bytes and ends after `given` of them: a source that
// fails half-way, as a file that shrinks while it is sent.
class ShortBody final : public BodySource {
 public:
  ShortBody(uint64_t promised, uint64_t given) : promised_(promised), given_(given) {}
  std::optional<uint64_t> length() const override { return promised_; }
  size_t read(std::span<char> out) override { return given_.read(out); }
  void skip(uint64_t n) override { given_.skip(n); }

 private:
  uint64_t promised_;
  PatternBody given_;
};

// Routes: GET /hello -> "hello <target>", /big/N -> N pattern bytes (known length),
// /stream/N -> N pattern bytes (unknown length), /short/N -> N bytes promised and N/2 given,
// POST /echo -> the body.
class TestResponder final : public Responder {
 public:
  Response respond(const Request& req) override {
    std::string_view t = req.target;
    if (t.starts_with("/short/")) {
      uint64_t n = std::stoull(std::string(t.substr(7)));
      Response r;
      r.head.content_type = "application/octet-stream";
      r.body = std::make_unique<ShortBody>(n, n / 2);
      return r;
    }
    if (req.method == "POST" && t == "/echo") return text_response(200, "application/octet-stream", req.body);
    if (t.starts_with("/big/") || t.starts_with("/stream/")) {
      bool known = t.starts_with("/big/");
      uint64_t n = std::stoull(std::string(t.substr(known ? 5 : 8)));
      Response r;
      r.head.content_type = "application/octet-stream";
      r.body = std::make_unique<PatternBody>(n, known);
      return r;
    }
    return text_response(200, "text/plain", "hello " + req.target);
  }
  bool takes_body(const Request& head) override { return head.method == "POST" && head.target == "/echo"; }
};

}  // namespace tcplab::http::testing
