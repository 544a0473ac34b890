// Flag parsing and --help text for the tcplab subcommands.
#include "tools/tcplab/flags.hpp"

#include <charconv>
#include <cmath>

namespace tcplab::cli {

std::optional<std::string> parse_flags(const std::vector<Flag>& flags, int argc, char** argv, int first,
                                       bool& help_requested) {
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help_requested = true;
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const Flag* flag = nullptr;
    for (const auto& f : flags) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) {
      if (!arg.starts_with("-")) return "unexpected argument '" + std::string(arg) + "'";
      return "unknown flag '" + std::string(name) + "'";
    }
    std::string_view value;
    if (flag->value_name.empty()) {
      if (inline_value) return flag->name + " takes no value";
    } else if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= argc) return flag->name + " needs a value (" + flag->value_name + ")";
      value = argv[++i];
    }
    if (auto error = flag->set(value))
      return "bad value '" + std::string(value) + "' for " + flag->name + ": " + *error;
  }
  return std::nullopt;
}

std::string describe_flags(const std::vector<Flag>& flags) {
  std::string out;
  for (const auto& f : flags) {
    std::string head = "  " + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    out += head;
    std::string text = f.help;
    if (!f.default_text.empty()) text += " (default: " + f.default_text + ")";
    // The help text starts at column 28, wrapped at 96 columns.
    constexpr size_t kColumn = 28, kWidth = 96;
    size_t col = head.size();
    if (col + 1 >= kColumn) {
      out += "\n";
      col = 0;
    }
    out.append(kColumn - col, ' ');
    col = kColumn;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find(' ', pos);
      if (end == std::string::npos) end = text.size();
      std::string_view word(text.data() + pos, end - pos);
      if (col > kColumn && col + 1 + word.size() > kWidth) {
        out += "\n";
        out.append(kColumn, ' ');
        col = kColumn;
      } else if (col > kColumn) {
        out += ' ';
        ++col;
      }
      out += word;
      col += word.size();
      pos = end + 1;
    }
    out += "\n";
  }
  return out;
}

std::optional<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(std::string_view text, double min, double max) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value) || value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace tcplab::cli
