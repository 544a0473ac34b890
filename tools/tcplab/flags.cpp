// Flag parsing and --help text for the tcplab subcommands.
#include "tools/tcplab/flags.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tcplab::cli {

void add_flag(FlagTable& flags, std::string name, std::string value_name, std::string default_text,
              std::string help, FlagSetter set, bool repeatable) {
  flags.push_back(Flag{std::move(name), std::move(value_name), std::move(default_text), std::move(help),
                       std::move(set), repeatable});
}

bool was_given(const ParsedArgs& parsed, std::string_view name) {
  for (const auto& f : parsed.flags)
    if (f.name == name) return true;
  return false;
}

std::optional<std::string> parse_flags(const FlagTable& flags, int argc, char** argv, int first,
                                       ParsedArgs& parsed, size_t max_positionals) {
  bool only_operands = false;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    const bool looks_like_flag = arg.size() > 1 && arg.starts_with("-") && !only_operands;
    if (!looks_like_flag) {
      if (parsed.positionals.size() >= max_positionals) {
        return "unexpected argument '" + std::string(arg) + "'";
      }
      parsed.positionals.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_operands = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help_requested = true;
      continue;
    }
    if (arg.starts_with("--help=")) return "--help takes no value";
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
    if (flag == nullptr) return "unknown flag '" + std::string(name) + "'";
    std::string_view value;
    if (flag->value_name.empty()) {
      if (inline_value) return flag->name + " takes no value";
    } else if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= argc) return flag->name + " needs a value (" + flag->value_name + ")";
      value = argv[++i];
    }
    // A second value for a one-value flag is refused rather than silently winning: a student
    // who wrote `--echo 7 ... --echo 8` expects both, and the command line should say so.
    if (!flag->repeatable) {
      for (const auto& earlier : parsed.flags) {
        if (earlier.name != flag->name) continue;
        if (!earlier.value) return flag->name + " is given twice; give it once";
        return flag->name + " is given twice ('" + *earlier.value + "' and '" + std::string(value) +
               "'); give it once (only flags marked [repeatable] take several values)";
      }
    }
    if (auto error = flag->set(value)) {
      return "bad value '" + std::string(value) + "' for " + flag->name + ": " + *error;
    }
    parsed.flags.push_back(GivenFlag{flag->name, flag->value_name.empty()
                                                     ? std::nullopt
                                                     : std::optional<std::string>(value)});
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
    if (f.repeatable) text += " [repeatable]";
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
  out += "\nEach flag may be given once; only those marked [repeatable] may be given again.\n";
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

Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

std::string seconds_text(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms) / 1000.0);
  return buf;
}

FlagSetter seconds_into(Duration& target, double min, double max) {
  return [&target, min, max](std::string_view v) -> std::optional<std::string> {
    auto s = parse_seconds(v, min, max);
    if (!s) {
      std::string range = "expected seconds from " + seconds_text(from_seconds(min)) + " to " +
                          seconds_text(from_seconds(max));
      // "1e-3" is a number, but not one the flags read: say what is wrong with it.
      double scientific = 0;
      const char* last = v.data() + v.size();
      auto [end, ec] = std::from_chars(v.data(), last, scientific, std::chars_format::scientific);
      if (!v.empty() && ec == std::errc{} && end == last)
        range += ", in decimal notation (like 0.001, not 1e-3)";
      return range;
    }
    target = from_seconds(*s);
    return std::nullopt;
  };
}

FlagSetter switch_into(bool& target, bool value) {
  return [&target, value](std::string_view) -> std::optional<std::string> {
    target = value;
    return std::nullopt;
  };
}

FlagSetter side_file_into(std::string& target) {
  return [&target](std::string_view v) -> std::optional<std::string> {
    if (v.empty()) return std::string("expected a file name");
    if (v == "-")
      return std::string("'-' would be stdout, where the command's own output goes: give a file name");
    target = std::string(v);
    return std::nullopt;
  };
}

FlagSetter file_into(std::string& target) {
  return [&target](std::string_view v) -> std::optional<std::string> {
    if (v.empty()) return std::string("expected a file name");
    target = std::string(v);
    return std::nullopt;
  };
}

}  // namespace tcplab::cli
