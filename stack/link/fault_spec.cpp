// Parsers and names for fault specs (see fault_spec.hpp).
#include "stack/link/fault_spec.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tcplab::link {

namespace {

constexpr std::array<const char*, kSegmentKindCount> kKindNames = {
    "syn", "synack", "ack", "ack-of-synack", "ack-of-fin", "data", "fin", "rst", "any"};

// A whole-string non-negative decimal number ("20", "0.5"); nothing on junk or a sign.
std::optional<double> parse_decimal(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Milliseconds, whole or fractional, up to a minute: longer is surely a typo.
std::optional<Duration> parse_millis(std::string_view text) {
  auto v = parse_decimal(text);
  if (!v || *v > 60000) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(*v));
}

std::string percent_text(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", p * 100);
  return buf;
}

std::string millis_text(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

const char* action_name(FaultAction a) {
  switch (a) {
    case FaultAction::Drop:
      return "drop";
    case FaultAction::Dup:
      return "dup";
    case FaultAction::Delay:
      return "delay";
    case FaultAction::Corrupt:
      return "corrupt";
  }
  return "?";
}

void describe_direction(std::string& out, const char* name, const RandomFaults& r) {
  if (!r.any()) return;
  if (!out.empty()) out += ", ";
  out += name;
  std::string parts;
  auto add = [&](const char* what, double p) {
    if (p > 0) parts += std::string(" ") + what + " " + percent_text(p);
  };
  add("drop", r.drop);
  add("dup", r.dup);
  add("reorder", r.reorder);
  add("corrupt", r.corrupt);
  if (r.delay > Duration::zero() || r.jitter > Duration::zero()) {
    parts += " delay " + millis_text(r.delay) + " ms";
    if (r.jitter > Duration::zero()) parts += " +/- " + millis_text(r.jitter) + " ms";
  }
  out += parts;
}

}  // namespace

const char* to_string(SegmentKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

std::optional<SegmentKind> parse_segment_kind(std::string_view text) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (text == kKindNames[i]) return static_cast<SegmentKind>(i);
  }
  return std::nullopt;
}

std::optional<double> parse_probability(std::string_view text) {
  bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  auto v = parse_decimal(text);
  if (!v) return std::nullopt;
  double p = percent ? *v / 100 : *v;
  if (p > 1) return std::nullopt;
  return p;
}

std::optional<std::string> apply_random_fault(FaultOptions& options, RandomFaultKind kind,
                                              std::string_view value) {
  bool in = true, out = true;
  if (value.starts_with("in:")) {
    out = false;
    value.remove_prefix(3);
  } else if (value.starts_with("out:")) {
    in = false;
    value.remove_prefix(4);
  }
  // The flag is repeatable for its two directions, not for a second value in one of them:
  // which of two values counted would depend on their order.
  constexpr uint8_t kIn = 1, kOut = 2;
  const uint8_t directions = (in ? kIn : 0) | (out ? kOut : 0);
  uint8_t& given = options.random_given[static_cast<size_t>(kind)];
  if (const uint8_t again = given & directions; again != 0) {
    const char* which = again == (kIn | kOut) ? "both directions already have"
                        : again == kIn        ? "the in direction already has"
                                              : "the out direction already has";
    return std::string(which) + " a value from an earlier use of this flag; give each direction " +
           "one value (in:VALUE and out:VALUE for two different ones)";
  }
  auto set = [&](auto&& assign) {
    if (in) assign(options.in);
    if (out) assign(options.out);
  };
  if (kind == RandomFaultKind::Delay) {
    std::string_view base = value, jitter_text;
    if (auto colon = value.find(':'); colon != std::string_view::npos) {
      base = value.substr(0, colon);
      jitter_text = value.substr(colon + 1);
    }
    auto delay = parse_millis(base);
    std::optional<Duration> jitter = Duration::zero();
    if (!jitter_text.empty() || value.find(':') != std::string_view::npos) jitter = parse_millis(jitter_text);
    if (!delay || !jitter)
      return std::string(
          "expected [in:|out:]MS[:JITTER] in milliseconds (at most 60000), like 20 or out:20:5");
    set([&](RandomFaults& r) {
      r.delay = *delay;
      r.jitter = *jitter;
    });
    given |= directions;
    return std::nullopt;
  }
  auto p = parse_probability(value);
  if (!p)
    return std::string("expected [in:|out:]PROBABILITY from 0 to 1 or 0% to 100%, like 0.05, 5% or in:1%");
  set([&](RandomFaults& r) {
    switch (kind) {
      case RandomFaultKind::Drop:
        r.drop = *p;
        break;
      case RandomFaultKind::Dup:
        r.dup = *p;
        break;
      case RandomFaultKind::Reorder:
        r.reorder = *p;
        break;
      case RandomFaultKind::Corrupt:
        r.corrupt = *p;
        break;
      case RandomFaultKind::Delay:
        break;
    }
  });
  given |= directions;
  return std::nullopt;
}

std::optional<TargetedFault> parse_targeted_fault(std::string_view text, std::string& error) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  const std::string usage =
      "expected 'ACTION DIRECTION KIND[#N] [MS]' like 'drop out data#3' or 'delay in syn 2000' "
      "(actions drop dup delay corrupt; directions in out; kinds syn synack ack ack-of-synack "
      "ack-of-fin data fin rst any)";
  if (words.size() < 3) {
    error = usage;
    return std::nullopt;
  }
  TargetedFault f;
  const std::string_view action = words[0];
  if (action == "drop") {
    f.action = FaultAction::Drop;
  } else if (action == "dup") {
    f.action = FaultAction::Dup;
  } else if (action == "delay") {
    f.action = FaultAction::Delay;
  } else if (action == "corrupt") {
    f.action = FaultAction::Corrupt;
  } else {
    error = "unknown action '" + std::string(action) + "'; " + usage;
    return std::nullopt;
  }
  if (words[1] == "in") {
    f.direction = trace::Direction::In;
  } else if (words[1] == "out") {
    f.direction = trace::Direction::Out;
  } else {
    error = "unknown direction '" + std::string(words[1]) + "' (in or out); " + usage;
    return std::nullopt;
  }
  std::string_view kind_text = words[2];
  if (auto hash = kind_text.find('#'); hash != std::string_view::npos) {
    std::string_view n = kind_text.substr(hash + 1);
    kind_text = kind_text.substr(0, hash);
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), value);
    if (n.empty() || ec != std::errc() || end != n.data() + n.size() || value == 0) {
      error = "'#" + std::string(n) + "' must be a count from 1, like data#3";
      return std::nullopt;
    }
    f.nth = value;
  }
  auto kind = parse_segment_kind(kind_text);
  if (!kind) {
    error = "unknown segment kind '" + std::string(kind_text) + "'; " + usage;
    return std::nullopt;
  }
  f.kind = *kind;
  if (f.action == FaultAction::Delay) {
    if (words.size() != 4) {
      error = words.size() < 4 ? "delay needs milliseconds, like 'delay in syn 2000'"
                               : "delay takes one number of milliseconds, not '" + std::string(words[3]) +
                                     " " + std::string(words[4]) + (words.size() > 5 ? " ...'" : "'") +
                                     ", like 'delay in syn 2000'";
      return std::nullopt;
    }
    auto ms = parse_millis(words[3]);
    if (!ms) {
      error = "'" + std::string(words[3]) + "' is not a delay in milliseconds from 0 to 60000";
      return std::nullopt;
    }
    f.delay = *ms;
  } else if (words.size() != 3) {
    error = std::string(action) + " takes no argument; " + usage;
    return std::nullopt;
  }
  f.text = std::string(action_name(f.action)) + (f.direction == trace::Direction::In ? " in " : " out ") +
           to_string(f.kind) + "#" + std::to_string(f.nth);
  if (f.action == FaultAction::Delay) f.text += " " + millis_text(f.delay);
  return f;
}

std::string describe(const FaultOptions& options) {
  std::string out;
  describe_direction(out, "in", options.in);
  describe_direction(out, "out", options.out);
  for (const auto& f : options.targeted) {
    if (!out.empty()) out += ", ";
    out += "'" + f.text + "'";
  }
  if (out.empty()) return "faults: none";
  return "faults: " + out + "; seed " + std::to_string(options.seed);
}

}  // namespace tcplab::link
