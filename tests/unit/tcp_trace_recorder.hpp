// A trace sink for TCP tests that keeps what a student reads in the trace as text: notes,
// state changes with their rule, drops with their reason and detail, and segments as summarized.
#pragma once
#include <string>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/trace/format.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::testing {

struct TraceRecorder final : trace::Sink {
  std::vector<std::string> notes;
  std::vector<std::string> states;  // "FROM -> TO: rule"
  std::vector<std::string> drops;   // "reason: detail"
  std::vector<std::string> segments;  // "In S. 0:0(0) ack 1 win ...", relative as the text trace

  void note(Instant, const FourTuple*, std::string_view text) override { notes.emplace_back(text); }
  void state_change(Instant, const FourTuple&, std::string_view from, std::string_view to,
                    std::string_view rule) override {
    states.push_back(std::string(from) + " -> " + std::string(to) + ": " + std::string(rule));
  }
  void drop(Instant, DropReason reason, std::span<const std::byte>, std::string_view detail) override {
    drops.push_back(std::string(to_string(reason)) + ": " + std::string(detail));
  }

  void segment(Instant, const trace::SegmentEvent& e) override {
    segments.push_back((e.direction == trace::Direction::In ? "In " : "Out ") + trace::segment_summary(e));
  }

  static bool has(const std::vector<std::string>& lines, std::string_view text) {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

}  // namespace tcplab::testing
