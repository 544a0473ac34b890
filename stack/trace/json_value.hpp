// A small JSON (RFC 8259) reader for tcplab's own JSON trace lines, which tcplab ladder and
// tcplab cwnd read back: objects, arrays, strings, numbers (kept as text), true/false/null.
// Total: bad input is an error text, nesting is bounded so hostile input cannot exhaust the
// stack.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcplab::trace {

struct JsonValue {
  enum class Type { Null, Bool, Number, String, Object, Array };
  Type type = Type::Null;
  bool boolean = false;
  std::string text;  // a string's value, or a number as written
  // An object's members as two parallel lists: a std::pair with the still incomplete
  // JsonValue would not compile with libc++/clang (the fuzz build).
  std::vector<std::string> keys;
  std::vector<JsonValue> values;
  std::vector<JsonValue> items;

  // The member named `key` of an object, or null.
  const JsonValue* find(std::string_view key) const;
  // Whole non-negative integer <= max, or nothing (for numbers only).
  std::optional<uint64_t> as_uint(uint64_t max) const;
  std::optional<double> as_double() const;
};

// Parses exactly one value (surrounding whitespace allowed).
std::optional<JsonValue> parse_json(std::string_view text, std::string& error);

}  // namespace tcplab::trace
