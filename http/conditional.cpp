// Validators, HTTP-date parsing and the evaluation of preconditions (RFC 9110 §13).
#include "http/conditional.hpp"

#include <array>
#include <chrono>
#include <cstdio>

#include "http/response.hpp"
#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

// RFC 850's day names, in kHttpDayNames' order.
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

// Reads a fixed-width run of digits from the front of `s` and consumes it.
std::optional<int> take_digits(std::string_view& s, size_t width) {
  if (s.size() < width) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  s.remove_prefix(width);
  return value;
}

bool take(std::string_view& s, std::string_view literal) {
  if (!s.starts_with(literal)) return false;
  s.remove_prefix(literal.size());
  return true;
}

template <size_t N>
bool take_one_of(std::string_view& s, const std::array<std::string_view, N>& names, int* index = nullptr) {
  for (size_t i = 0; i < N; ++i)
    if (take(s, names[i])) {
      if (index) *index = static_cast<int>(i);
      return true;
    }
  return false;
}

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// time-of-day = hour ":" minute ":" second (RFC 9110 §5.6.7; second may be 60, a leap second).
bool take_time(std::string_view& s, Fields& f) {
  auto h = take_digits(s, 2);
  if (!h || !take(s, ":")) return false;
  auto m = take_digits(s, 2);
  if (!m || !take(s, ":")) return false;
  auto sec = take_digits(s, 2);
  if (!sec) return false;
  f.hour = *h;
  f.minute = *m;
  f.second = *sec;
  return f.hour <= 23 && f.minute <= 59 && f.second <= 60;
}

std::optional<std::time_t> to_epoch(const Fields& f) {
  using namespace std::chrono;
  const year_month_day date{year{f.year}, month{static_cast<unsigned>(f.month)},
                            day{static_cast<unsigned>(f.day)}};
  if (!date.ok()) return std::nullopt;  // 31 Feb and the like
  const auto days = sys_days(date).time_since_epoch().count();
  return static_cast<std::time_t>(days) * 86400 + f.hour * 3600 + f.minute * 60 + f.second;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::time_t> parse_imf_fixdate(std::string_view s) {
  Fields f;
  int month = 0;
  if (!take_one_of(s, kHttpDayNames) || !take(s, ", ")) return std::nullopt;
  auto d = take_digits(s, 2);
  if (!d || !take(s, " ") || !take_one_of(s, kHttpMonthNames, &month) || !take(s, " ")) return std::nullopt;
  auto y = take_digits(s, 4);
  if (!y || !take(s, " ") || !take_time(s, f) || s != " GMT") return std::nullopt;
  f.year = *y;
  f.month = month + 1;
  f.day = *d;
  return to_epoch(f);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<std::time_t> parse_rfc850(std::string_view s, std::time_t now) {
  Fields f;
  int month = 0;
  if (!take_one_of(s, kLongDays) || !take(s, ", ")) return std::nullopt;
  auto d = take_digits(s, 2);
  if (!d || !take(s, "-") || !take_one_of(s, kHttpMonthNames, &month) || !take(s, "-")) return std::nullopt;
  auto yy = take_digits(s, 2);
  if (!yy || !take(s, " ") || !take_time(s, f) || s != " GMT") return std::nullopt;
  // RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future is the
  // most recent past year with the same last two digits.
  std::tm today{};
  gmtime_r(&now, &today);
  const int this_year = today.tm_year + 1900;
  f.year = this_year / 100 * 100 + *yy;
  if (f.year > this_year + 50) f.year -= 100;
  f.month = month + 1;
  f.day = *d;
  return to_epoch(f);
}

// "Sun Nov  6 08:49:37 1994" (asctime: the day padded with a space, not a zero)
std::optional<std::time_t> parse_asctime(std::string_view s) {
  Fields f;
  int month = 0;
  if (!take_one_of(s, kHttpDayNames) || !take(s, " ") || !take_one_of(s, kHttpMonthNames, &month) ||
      !take(s, " "))
    return std::nullopt;
  std::optional<int> d;
  if (take(s, " "))
    d = take_digits(s, 1);
  else
    d = take_digits(s, 2);
  if (!d || !take(s, " ") || !take_time(s, f) || !take(s, " ")) return std::nullopt;
  auto y = take_digits(s, 4);
  if (!y || !s.empty()) return std::nullopt;
  f.year = *y;
  f.month = month + 1;
  f.day = *d;
  return to_epoch(f);
}

// etagc = "!" / %x23-7E / obs-text: anything visible but a double quote (RFC 9110 §8.8.3).
bool is_etagc(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u != 0x7f);
}

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // with its quotes
};

// One entity-tag from the front of `s`, consumed.
std::optional<EntityTag> take_entity_tag(std::string_view& s) {
  EntityTag tag;
  tag.weak = take(s, "W/");
  if (s.empty() || s.front() != '"') return std::nullopt;
  size_t end = 1;
  while (end < s.size() && is_etagc(s[end])) ++end;
  if (end >= s.size() || s[end] != '"') return std::nullopt;
  tag.opaque = s.substr(0, end + 1);
  s.remove_prefix(end + 1);
  return tag;
}

}  // namespace

Validators validators_for(const struct stat& st, std::time_t now) {
  Validators v;
  char tag[80];
  std::snprintf(tag, sizeof tag, "\"%llx-%llx-%llx.%lx\"", static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_mtim.tv_sec),
                static_cast<unsigned long>(st.st_mtim.tv_nsec));
  v.etag = tag;
  v.last_modified = st.st_mtim.tv_sec < now ? st.st_mtim.tv_sec : now;
  v.last_modified_text = format_http_date(v.last_modified);
  return v;
}

std::optional<std::time_t> parse_http_date(std::string_view text, std::time_t now) {
  if (auto t = parse_imf_fixdate(text)) return t;
  if (auto t = parse_rfc850(text, now)) return t;
  return parse_asctime(text);
}

bool entity_tag_list_matches(std::string_view field, std::string_view etag, bool weak) {
  if (syntax::trim_ows(field) == "*") return true;
  std::string_view ours = etag;
  const bool ours_weak = take(ours, "W/");
  bool matched = false;
  // RFC 9110 §5.6.1.2: a list may hold empty elements, which a recipient ignores.
  while (true) {
    field = syntax::trim_ows(field);
    while (take(field, ",")) field = syntax::trim_ows(field);
    if (field.empty()) return matched;
    auto tag = take_entity_tag(field);
    if (!tag) return false;
    if (tag->opaque == ours && (weak || (!tag->weak && !ours_weak))) matched = true;
    field = syntax::trim_ows(field);
    if (!field.empty() && !take(field, ",")) return false;
  }
}

Precondition evaluate_preconditions(const Request& request, const Validators* validators, std::time_t now) {
  // RFC 9110 §13.2.1: a method that neither selects nor modifies a representation (CONNECT,
  // OPTIONS, TRACE) ignores the conditional fields.
  if (request.method == "OPTIONS" || request.method == "CONNECT" || request.method == "TRACE")
    return Precondition::Serve;
  const bool get_or_head = request.method == "GET" || request.method == "HEAD";
  // No validators: no entity-tag (an empty one, which no quoted tag equals) and no date.
  const std::string_view etag = validators ? std::string_view(validators->etag) : std::string_view();
  // RFC 9110 §13.1.3, §13.1.4: a date that cannot be parsed is ignored, and so is one later than
  // now (§13.1.3; for If-Unmodified-Since such a date could only hold, ignored or not).
  auto valid_date = [&](const std::optional<std::string>& value) -> std::optional<std::time_t> {
    if (!validators || !value) return std::nullopt;
    auto t = parse_http_date(*value, now);
    if (!t || *t > now) return std::nullopt;
    return t;
  };
  // §13.2.2 step 1: If-Match uses the strong comparison (§13.1.1).
  if (auto if_match = request.field_list("If-Match")) {
    if (!entity_tag_list_matches(*if_match, etag, false)) return Precondition::Failed;
  } else if (auto since = valid_date(request.field_list("If-Unmodified-Since"))) {
    // Step 2 (§13.1.4): false when the file changed after the date.
    if (validators->last_modified > *since) return Precondition::Failed;
  }
  // Step 3: If-None-Match uses the weak comparison (§13.1.2); when it is present,
  // If-Modified-Since is not looked at.
  if (auto if_none_match = request.field_list("If-None-Match")) {
    if (entity_tag_list_matches(*if_none_match, etag, true))
      return get_or_head ? Precondition::NotModified : Precondition::Failed;
    return Precondition::Serve;
  }
  // Step 4 (§13.1.3): only for GET and HEAD; false when the file has not changed since.
  if (!get_or_head) return Precondition::Serve;
  if (auto since = valid_date(request.field_list("If-Modified-Since")))
    if (validators->last_modified <= *since) return Precondition::NotModified;
  return Precondition::Serve;
}

}  // namespace tcplab::http
