// The small pieces of HTTP syntax both the request and the response parsers need: ASCII
// case-insensitive comparison (field names and tokens are case-insensitive, RFC 9110 §5.1)
// and the token characters of RFC 9110 §5.6.2.
#pragma once
#include <cstring>
#include <string_view>

namespace tcplab::http::syntax {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
inline bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace tcplab::http::syntax
