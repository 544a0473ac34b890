// Fuzz target for http/conditional and http/byte_range: the input is up to six lines, the
// values of Range, If-Range, If-None-Match, If-Modified-Since and If-Match, then a length. Any
// byte range found lies inside the representation, a 206 carries exactly the bytes its
// Content-Range names, the strong comparison never matches where the weak one does not, and
// a date read back prints and reads again as the same second.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/byte_range.hpp"
#include "http/conditional.hpp"
#include "http/response.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab::http;

namespace {

constexpr std::time_t kNow = 1795996800;  // 2026-11-30 00:00:00 UTC

std::vector<std::string_view> lines_of(std::string_view data, size_t most) {
  std::vector<std::string_view> lines;
  while (lines.size() + 1 < most) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) break;
    lines.push_back(data.substr(0, nl));
    data.remove_prefix(nl + 1);
  }
  lines.push_back(data);
  lines.resize(most);
  return lines;
}

std::string body_of(Response& r) {
  std::string out;
  char buf[333];
  while (r.body) {
    size_t n = r.body->read(std::span<char>(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const auto field = lines_of(data, 6);
  uint64_t length = 0;
  for (char c : field[5].substr(0, 6))
    if (c >= '0' && c <= '9') length = length * 10 + static_cast<uint64_t>(c - '0');

  const RangeAnswer answer = parse_range(field[0], length);
  if (const auto* range = std::get_if<ByteRange>(&answer)) {
    FUZZ_CHECK(range->first <= range->last);
    FUZZ_CHECK(range->last < length);
  }
  if (length == 0) FUZZ_CHECK(std::holds_alternative<IgnoreRange>(answer));

  for (std::string_view list : {field[1], field[2], field[4]}) {
    const bool strong = entity_tag_list_matches(list, "\"abc\"", false);
    const bool weak = entity_tag_list_matches(list, "\"abc\"", true);
    FUZZ_CHECK(!strong || weak);
  }

  if (auto t = parse_http_date(field[3], kNow)) {
    // Years 0-9999 print in IMF-fixdate's four digits and read back as the same second.
    if (*t >= -62167219200 && *t <= 253402300799)
      FUZZ_CHECK(parse_http_date(format_http_date(*t), kNow) == *t);
  }

  Request request;
  request.method = "GET";
  request.target = "/f";
  request.headers = {{"Range", std::string(field[0])},
                     {"If-Range", std::string(field[1])},
                     {"If-None-Match", std::string(field[2])},
                     {"If-Modified-Since", std::string(field[3])},
                     {"If-Match", std::string(field[4])}};
  Validators validators;
  validators.etag = "\"abc\"";
  validators.last_modified = kNow - 100;
  validators.last_modified_text = format_http_date(validators.last_modified);
  (void)evaluate_preconditions(request, &validators, kNow);
  (void)evaluate_preconditions(request, nullptr, kNow);

  // The representation: `length` bytes of a pattern, served with our validators.
  std::string whole(static_cast<size_t>(length), '\0');
  for (size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<char>('a' + i % 23);
  Response r = text_response(200, "text/plain", whole);
  r.byte_ranges = true;
  r.head.validators = std::make_shared<const Validators>(validators);  // as a file's 200 has them
  Response out = apply_range(request, std::move(r), kNow);
  const std::string got = body_of(out);
  if (out.head.status == 206) {
    const std::string content_range(out.head.field("Content-Range"));
    unsigned long long first = 0, last = 0, total = 0;
    FUZZ_CHECK(std::sscanf(content_range.c_str(), "bytes %llu-%llu/%llu", &first, &last, &total) == 3);
    FUZZ_CHECK(total == length && first <= last && last < length);
    FUZZ_CHECK(got == whole.substr(first, last - first + 1));
  } else if (out.head.status == 200) {
    FUZZ_CHECK(got == whole);
  } else {
    FUZZ_CHECK(out.head.status == 416);
  }
  return 0;
}
