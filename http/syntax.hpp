// The small pieces of HTTP syntax both the request and the response parsers need: ASCII
// case-insensitive comparison (field names and tokens are case-insensitive, RFC 9110 §5.1),
// the token characters of RFC 9110 §5.6.2, and the split of a field line into name and value.
#pragma once
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tcplab::http::syntax {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Whether `s` begins with `prefix`, ASCII case ignored (schemes, RFC 3986 §3.1; range units).
inline bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// 1*DIGIT, all of `s`, as a number; nullopt for anything else (signs, spaces) or past 2^64 - 1.
inline std::optional<uint64_t> parse_decimal(std::string_view s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// A set of byte values as a table of all 256, built at compile time: ALPHA and DIGIT plus
// `punctuation`. Every byte of a request's names and values is checked against such a set,
// and a search of a punctuation list per byte showed in the profile.
using ByteSet = std::array<bool, 256>;
constexpr ByteSet alnum_and(std::string_view punctuation) {
  ByteSet set{};
  for (int c = '0'; c <= '9'; ++c) set[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) set[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) set[static_cast<size_t>(c)] = true;
  for (char c : punctuation) set[static_cast<unsigned char>(c)] = true;
  return set;
}
inline bool in_set(const ByteSet& set, char c) { return set[static_cast<unsigned char>(c)]; }

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
inline constexpr ByteSet kTchar = alnum_and("!#$%&'*+-.^_`|~");
inline bool is_tchar(char c) { return in_set(kTchar, c); }

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 9110 §5.6.3: OWS = *( SP / HTAB ), trimmed from both ends.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.5: a field value holds no CR, LF, NUL or other control byte (HTAB aside).
bool has_control_byte(std::string_view value);

// What follows the chunk size on its line, by RFC 9112 §7.1.1: nothing, or chunk-ext =
// *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), a name being a token and a
// value a token or a quoted-string. Whitespace with no ";" after it, a control byte or an
// unclosed quote is refused: two parsers that read such a line differently are how a
// request is smuggled past one of them.
bool is_chunk_ext(std::string_view rest);

// What is wrong with a field line, in the order split_field_line() checks it.
enum class FieldLineFault {
  None,
  ObsFold,      // starts with whitespace: line folding (RFC 9112 §5.2)
  NoColon,      // no ":" at all
  BadName,      // the name is empty or not a token, e.g. whitespace before the colon (RFC 9112 §5.1)
  ControlByte,  // a control byte in the value (RFC 9110 §5.5)
};
// A few words naming the fault, for a 400's detail.
const char* describe(FieldLineFault fault);

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, the same in the header and in
// the trailer section (RFC 9112 §7.1.2) and in requests and responses. Sets `name` and the
// OWS-trimmed `value`, or says what is wrong with the line.
FieldLineFault split_field_line(std::string_view line, std::string_view& name, std::string_view& value);

}  // namespace tcplab::http::syntax
