// Field lines and chunk extensions as both HTTP parsers read them (RFC 9112 §5 and §7.1.1,
// RFC 9110 §5.5).
#include "http/syntax.hpp"

#include <algorithm>

namespace tcplab::http::syntax {

namespace {
// CTL except HTAB: 0x00-0x1F and 0x7F (RFC 5234 B.1), as a table (see ByteSet).
constexpr ByteSet kControlBytes = [] {
  ByteSet set{};
  for (int c = 0; c < 0x20; ++c) set[static_cast<size_t>(c)] = c != '\t';
  set[0x7f] = true;
  return set;
}();
}  // namespace

bool has_control_byte(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) { return in_set(kControlBytes, c); });
}

namespace {
// RFC 9110 §5.6.3: BWS = OWS, skipped from the front.
std::string_view skip_bws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}
// A token from the front; false if there is none.
bool take_token(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && is_tchar(s[n])) ++n;
  s.remove_prefix(n);
  return n > 0;
}
// RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, from the front.
bool take_quoted_string(std::string_view& s) {
  auto text = [](unsigned char c) { return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f); };
  if (s.empty() || s.front() != '"') return false;
  for (size_t i = 1; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      s.remove_prefix(i + 1);
      return true;
    }
    if (c == '\\') {
      if (++i == s.size() || !text(static_cast<unsigned char>(s[i]))) return false;
    } else if (!text(c)) {
      return false;
    }
  }
  return false;  // no closing quote
}
}  // namespace

bool is_chunk_ext(std::string_view rest) {
  while (!rest.empty()) {
    rest = skip_bws(rest);
    if (rest.empty() || rest.front() != ';') return false;
    rest = skip_bws(rest.substr(1));
    if (!take_token(rest)) return false;
    std::string_view after_name = skip_bws(rest);
    if (!after_name.empty() && after_name.front() == '=') {
      rest = skip_bws(after_name.substr(1));
      if (!take_token(rest) && !take_quoted_string(rest)) return false;
    }
  }
  return true;
}

const char* describe(FieldLineFault fault) {
  switch (fault) {
    case FieldLineFault::None:
      break;
    case FieldLineFault::ObsFold:
      return "obs-fold (line folding)";
    case FieldLineFault::NoColon:
      return "field line without colon";
    case FieldLineFault::BadName:
      return "bad field name";
    case FieldLineFault::ControlByte:
      return "control character in field value";
  }
  return "";
}

FieldLineFault split_field_line(std::string_view line, std::string_view& name, std::string_view& value) {
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) return FieldLineFault::ObsFold;
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return FieldLineFault::NoColon;
  name = line.substr(0, colon);
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) return FieldLineFault::BadName;
  value = trim_ows(line.substr(colon + 1));
  // obs-text (0x80-0xFF) is allowed; the recipient may reject or replace the controls, and we
  // reject: a value such as "close\0" must not be half-understood.
  if (has_control_byte(value)) return FieldLineFault::ControlByte;
  return FieldLineFault::None;
}

}  // namespace tcplab::http::syntax
