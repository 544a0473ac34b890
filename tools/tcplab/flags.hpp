// A small command-line flag table: each flag has a name, a value placeholder, a default
// shown in --help, a help text and a setter that checks the value. Usage errors are one line.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcplab::cli {

struct Flag {
  std::string name;          // "--mtu"
  std::string value_name;    // "N"; empty for a switch like --trace
  std::string default_text;  // shown as "(default: ...)"
  std::string help;
  // Checks and stores the value (empty for switches); returns an error text or nothing.
  std::function<std::optional<std::string>(std::string_view)> set;
};

// Parses argv against the table; "--name value" and "--name=value" both work. Returns an
// error line ("unknown flag '--x'") or nothing; sets help_requested for -h/--help.
std::optional<std::string> parse_flags(const std::vector<Flag>& flags, int argc, char** argv, int first,
                                       bool& help_requested);

// The --help block for a table, one flag per entry, wrapped for an 80-column terminal.
std::string describe_flags(const std::vector<Flag>& flags);

// Whole-string unsigned integer in [min, max]; nothing on junk, sign, or out of range.
std::optional<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);
// Whole-string decimal number of seconds in [min, max] ("0.5", "30").
std::optional<double> parse_seconds(std::string_view text, double min, double max);

}  // namespace tcplab::cli
