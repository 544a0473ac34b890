// Range parsing, the 206 and 416 answers, and If-Range (RFC 9110 §13.1.5, §14, §15.3.7).
#include "http/byte_range.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "http/conditional.hpp"
#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

// RFC 9110 §13.1.5: the Range applies only if the client's copy is the one we have now.
bool if_range_holds(std::string_view if_range, const ResponseHead& head, std::time_t now) {
  // Only a file has validators; a resource without them never matches (§13.1.5: the whole
  // representation goes).
  const Validators* ours = head.validators.get();
  if (ours == nullptr) return false;
  if_range = syntax::trim_ows(if_range);
  if (if_range.starts_with('"') || if_range.starts_with("W/")) {
    // An entity-tag, compared strongly: ours are strong, so a weak one never matches.
    return if_range == ours->etag;
  }
  // A date matches only if it names the second of the Last-Modified we would send (§13.1.5's
  // "exactly matches", compared as times: §5.6.7 has recipients accept all three date forms, so
  // the RFC 850 or asctime spelling of that second matches too), and that one is strong: at
  // least a second before now (§8.8.2.2), so no later edit in the same second hides.
  const auto asked = parse_http_date(if_range, now);
  return asked && *asked == ours->last_modified && ours->last_modified < now;
}

// §14.1.1: a position is 1*DIGIT of any length. One past what 64 bits hold lies past the end
// of every representation, so it is kept as the largest value instead of making the whole
// field invalid ("bytes=0-99999999999999999999" is the whole, as "bytes=0-" is).
std::optional<uint64_t> parse_position(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), syntax::is_digit)) return std::nullopt;
  return syntax::parse_decimal(text).value_or(UINT64_MAX);
}

// Whether the number `a` is smaller than `b`, both 1*DIGIT of any length: two positions that
// both overflow are kept as the same largest value, and their order is still the digits'.
bool digits_less(std::string_view a, std::string_view b) {
  auto significant = [](std::string_view d) {
    while (d.size() > 1 && d.front() == '0') d.remove_prefix(1);
    return d;
  };
  a = significant(a);
  b = significant(b);
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

RangeAnswer parse_range(std::string_view field, uint64_t length) {
  field = syntax::trim_ows(field);
  // §14.1: the range unit is case-insensitive; any unit but bytes is ignored (§14.2).
  constexpr std::string_view kUnit = "bytes=";
  if (!syntax::starts_with_ci(field, kUnit)) return IgnoreRange{};
  std::string_view spec = syntax::trim_ows(field.substr(kUnit.size()));
  // One range only: a list (a comma anywhere) is answered with the whole representation.
  if (spec.find(',') != std::string_view::npos) return IgnoreRange{};
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return IgnoreRange{};
  const std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  // §14.1.1: with zero length only a suffix range could be satisfied, and it would hold no
  // bytes; the whole (empty) representation says as much.
  if (length == 0) return IgnoreRange{};
  if (first_text.empty()) {
    // suffix-range "-N": the last N bytes; "-0" asks for nothing and cannot be satisfied.
    auto suffix = parse_position(last_text);
    if (!suffix) return IgnoreRange{};
    if (*suffix == 0) return UnsatisfiableRange{};
    return ByteRange{length - std::min(*suffix, length), length - 1};
  }
  auto first = parse_position(first_text);
  if (!first) return IgnoreRange{};
  uint64_t last = length - 1;
  if (!last_text.empty()) {
    auto given = parse_position(last_text);
    // §14.1.1: a last position before the first is invalid, not unsatisfiable.
    if (!given || digits_less(last_text, first_text)) return IgnoreRange{};
    last = std::min(*given, length - 1);
  }
  if (*first >= length) return UnsatisfiableRange{};
  return ByteRange{*first, last};
}

RangeBody::RangeBody(std::unique_ptr<BodySource> whole, uint64_t first, uint64_t length)
    : whole_(std::move(whole)), length_(length) {
  whole_->skip(first);
}

size_t RangeBody::read(std::span<char> out) {
  const uint64_t left = length_ - sent_;
  if (left == 0) return 0;
  const size_t n = whole_->read(out.first(static_cast<size_t>(std::min<uint64_t>(out.size(), left))));
  sent_ += n;
  return n;
}

Response apply_range(const Request& request, Response whole, std::time_t now) {
  if (!whole.byte_ranges || whole.head.status != 200 || !whole.body) return whole;
  const auto length = whole.body->length();
  if (!length) return whole;
  whole.head.accept_ranges = true;
  // §14.2: GET is the only method with range handling; the field is ignored on the others.
  if (request.method != "GET") return whole;
  // Several Range or If-Range lines join into a list (RFC 9110 §5.3), which neither reads as
  // one range or one validator: the whole representation goes.
  const auto range_field = request.field_list("Range");
  if (!range_field) return whole;
  if (auto if_range = request.field_list("If-Range"); if_range && !if_range_holds(*if_range, whole.head, now))
    return whole;
  const RangeAnswer answer = parse_range(*range_field, *length);
  if (std::holds_alternative<IgnoreRange>(answer)) return whole;
  const std::string total = std::to_string(*length);
  if (std::holds_alternative<UnsatisfiableRange>(answer)) {
    // §15.5.17: 416 says how long the representation is, so the client can ask again.
    Response r = text_response(416, "text/plain; charset=utf-8",
                               "416 Range Not Satisfiable: the representation is " + total + " bytes\n");
    r.head.headers.emplace_back("Content-Range", "bytes */" + total);
    return r;
  }
  const auto range = std::get<ByteRange>(answer);
  // §15.3.7: 206 keeps the 200's ETag, Last-Modified and type, and says which bytes it holds.
  whole.head.status = 206;
  whole.head.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                       std::to_string(range.last) + "/" + total);
  whole.body = std::make_unique<RangeBody>(std::move(whole.body), range.first, range.last - range.first + 1);
  return whole;
}

}  // namespace tcplab::http
