// Range requests (RFC 9110 §14): a client that has part of a file (`curl -C -` resuming a
// download, a browser seeking in a video) asks for the rest with "Range: bytes=FIRST-" and
// gets 206 Partial Content with only those bytes. One range per request; a request for
// several is answered with the whole representation, which §14.2 allows.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>

#include "http/body_source.hpp"
#include "http/handler.hpp"
#include "http/request_parser.hpp"

namespace tcplab::http {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive, as Content-Range writes it
  bool operator==(const ByteRange&) const = default;
};
// Absent, unparsable, several ranges, or not "bytes": send the whole 200.
struct IgnoreRange {
  bool operator==(const IgnoreRange&) const = default;
};
// 416 with "Content-Range: bytes */LENGTH".
struct UnsatisfiableRange {
  bool operator==(const UnsatisfiableRange&) const = default;
};
using RangeAnswer = std::variant<IgnoreRange, UnsatisfiableRange, ByteRange>;

// Reads a Range field value against a representation of `length` bytes (RFC 9110 §14.1.2:
// "bytes=0-99", "bytes=100-", "bytes=-100"; a last position past the end is the end).
RangeAnswer parse_range(std::string_view field, uint64_t length);

// The part of `whole` from `first`, `length` bytes long.
class RangeBody final : public BodySource {
 public:
  RangeBody(std::unique_ptr<BodySource> whole, uint64_t first, uint64_t length);
  std::optional<uint64_t> length() const override { return length_; }
  size_t read(std::span<char> out) override;
  void skip(uint64_t n) override {
    n = std::min(n, length_ - sent_);
    whole_->skip(n);
    sent_ += n;
  }

 private:
  std::unique_ptr<BodySource> whole_;
  uint64_t length_;
  uint64_t sent_ = 0;
};

// A 200 for GET or HEAD whose byte_ranges is set gets "Accept-Ranges: bytes"; for a GET with
// a Range field (and an If-Range that still matches, §13.1.5) it becomes 206 or 416. `now`
// tells whether its Last-Modified is strong enough for an If-Range date (§8.8.2.2).
Response apply_range(const Request& request, Response whole, std::time_t now);

}  // namespace tcplab::http
