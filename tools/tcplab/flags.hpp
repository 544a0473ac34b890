// A small command-line flag table: each flag has a name, a value placeholder, a default
// shown in --help, a help text and a setter that checks the value. Usage errors are one line.
// Subcommands build their table from shared groups (tools/tcplab/stack_flags.hpp), so every
// command that runs the stack takes the same link, trace, pcap and TCP flags.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/time.hpp"

namespace tcplab::cli {

// A setter checks and stores a value (empty for switches); it returns an error text or nothing.
using FlagSetter = std::function<std::optional<std::string>(std::string_view)>;

struct Flag {
  std::string name;          // "--mtu"
  std::string value_name;    // "N"; empty for a switch like --trace
  std::string default_text;  // shown as "(default: ...)"
  std::string help;
  FlagSetter set;
  // A repeatable flag calls its setter once per occurrence ("--drop in:1% --drop out:5%");
  // any other flag given twice is a usage error naming both values (which one should win?).
  bool repeatable = false;
};

using FlagTable = std::vector<Flag>;

// Appends one flag; the shorthand every table uses.
void add_flag(FlagTable& flags, std::string name, std::string value_name, std::string default_text,
              std::string help, FlagSetter set, bool repeatable = false);

// What parse_flags found besides the flags.
// One flag as given on the command line ("--fault=drop in syn" gives "--fault", "drop in syn").
struct GivenFlag {
  std::string name;
  std::optional<std::string> value;  // nothing for a switch
};

struct ParsedArgs {
  bool help_requested = false;           // -h or --help
  std::vector<std::string> positionals;  // operands (files, URLs), in order; "--" ends the flags
  std::vector<GivenFlag> flags;          // every flag but -h, in order (to print a command again)
};

// Whether `name` was given on the command line (for flags that only mean something with another).
bool was_given(const ParsedArgs& parsed, std::string_view name);

// Parses argv[first..] against the table; "--name value" and "--name=value" both work.
// Operands are collected when `max_positionals` allows them (SIZE_MAX for any number).
// Returns an error line ("unknown flag '--x'") or nothing.
std::optional<std::string> parse_flags(const FlagTable& flags, int argc, char** argv, int first,
                                       ParsedArgs& parsed, size_t max_positionals = 0);

// The --help block for a table, one flag per entry, wrapped for an 80-column terminal.
std::string describe_flags(const FlagTable& flags);

// Whole-string unsigned integer in [min, max]; nothing on junk, sign, or out of range.
std::optional<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);
// Whole-string decimal number of seconds in [min, max] ("0.5", "30").
std::optional<double> parse_seconds(std::string_view text, double min, double max);

Duration from_seconds(double s);
// "5", "0.250": how --help shows a duration.
std::string seconds_text(Duration d);

// Setters that check a value and store it.
template <class T>
FlagSetter uint_into(T& target, uint64_t min, uint64_t max) {
  return [&target, min, max](std::string_view v) -> std::optional<std::string> {
    auto n = parse_uint(v, min, max);
    if (!n) return "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    target = static_cast<T>(*n);
    return std::nullopt;
  };
}
FlagSetter seconds_into(Duration& target, double min, double max);
FlagSetter switch_into(bool& target, bool value);
// A second output beside what the command prints on stdout (an SVG): a file name, never '-'.
FlagSetter side_file_into(std::string& target);
FlagSetter file_into(std::string& target);

}  // namespace tcplab::cli
