// Fuzz target for http/request_parser: the input's first 8 bytes seed where the rest is
// split; the requests (or the error) parsed from the split feed must equal those parsed
// from one whole feed, limits must hold, and errors must carry one of the statuses the limits map to.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab::http;

namespace {

struct Outcome {
  std::vector<std::string> requests;  // method, target, minor, body, chunked, tokens flattened
  int error = 0;
  bool operator==(const Outcome&) const = default;
};

std::string describe(const Request& r) {
  std::string s =
      r.method + ' ' + r.target + ' ' + std::to_string(r.minor) + ' ' + (r.chunked ? "c" : "-") + ' ';
  for (const auto& t : r.connection) s += t + ',';
  s += '|' + std::to_string(r.headers.size()) + '|' + r.body;
  return s;
}

constexpr ParserLimits kLimits{.max_request_line = 256,
                               .max_header_bytes = 1024,
                               .max_fields = 16,
                               .max_body = 4096,
                               .max_chunk_line = 64,
                               .max_leading_empty_lines = 4};

Outcome run(std::string_view data, const std::vector<size_t>& cuts) {
  RequestParser p(kLimits);
  Outcome o;
  std::string pending;
  size_t prev = 0;
  for (size_t cut : cuts) {
    pending.append(data.substr(prev, cut - prev));
    prev = cut;
    for (int guard = 0; guard < 10000; ++guard) {
      size_t used = p.feed(pending);
      FUZZ_CHECK(used <= pending.size());
      pending.erase(0, used);
      if (p.status() == RequestParser::Status::Complete) {
        Request r = p.take();
        FUZZ_CHECK(r.body.size() <= kLimits.max_body);
        FUZZ_CHECK(r.headers.size() <= kLimits.max_fields);
        FUZZ_CHECK(r.minor == 0 || r.minor == 1);
        FUZZ_CHECK(is_known_method(r.method));
        o.requests.push_back(describe(r));
        continue;
      }
      if (p.status() == RequestParser::Status::Error) {
        int e = p.error_status();
        FUZZ_CHECK(e == 400 || e == 413 || e == 414 || e == 431 || e == 501 || e == 505);
        o.error = e;
        return o;
      }
      break;
    }
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed = seed << 8 | data[i];
  std::string_view text(reinterpret_cast<const char*>(data + 8), size - 8);
  Outcome whole = run(text, {text.size()});
  // Splits at pseudo-random points (xorshift from the seed), and one byte at a time.
  std::vector<size_t> cuts;
  uint64_t x = seed | 1;
  for (size_t pos = 0; pos < text.size();) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    pos += 1 + x % 97;
    cuts.push_back(pos < text.size() ? pos : text.size());
  }
  if (cuts.empty()) cuts.push_back(0);
  Outcome split = run(text, cuts);
  FUZZ_CHECK(split == whole);
  if (text.size() <= 512) {
    std::vector<size_t> bytewise;
    for (size_t i = 1; i <= text.size(); ++i) bytewise.push_back(i);
    FUZZ_CHECK(run(text, bytewise) == whole);
  }
  return 0;
}
