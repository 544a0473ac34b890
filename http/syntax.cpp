// Field lines as both HTTP parsers read them (RFC 9112 §5, RFC 9110 §5.5).
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
