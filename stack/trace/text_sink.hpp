// Human-readable trace: one line per event in Wireshark/tcpdump/packetdrill terms, time in
// seconds since the first event, seq/ack relative to each side's ISN (docs/observability.md).
// Optionally coloured for a terminal (flags, state changes, drops) and with raw numbers.
#pragma once
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "stack/trace/trace.hpp"

namespace tcplab::trace {

class TextSink final : public Sink {
 public:
  // Writes to `out` (not owned; stdout, stderr or an open file). Each line is written with
  // one stdio call, so lines from the trace never interleave mid-line with other output.
  explicit TextSink(std::FILE* out);
  struct Options {
    bool colour = false;    // ANSI colours; the CLI decides (a terminal, and NO_COLOR unset)
    bool absolute = false;  // raw sequence numbers instead of relative to each side's ISN
  };
  TextSink(std::FILE* out, Options options);

  // Raw packets are not printed: segments come from segment events, drops from drop().
  void drop(Instant t, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) override;
  void segment(Instant t, const SegmentEvent& e) override;
  void state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                    std::string_view rule) override;
  void timer(Instant t, const FourTuple& c, std::string_view name, TimerAction action,
             Instant deadline) override;
  void congestion(Instant t, const FourTuple& c, uint64_t cwnd, uint64_t ssthresh,
                  std::string_view rule) override;
  void note(Instant t, const FourTuple* c, std::string_view text) override;
  void fault(Instant t, Direction direction, std::string_view what, std::span<const std::byte> ipv4) override;

  void flush() { std::fflush(out_); }
  // The errno of the first line that could not be written (a full disk, a closed pipe).
  std::optional<int> write_error() const { return write_error_; }
  // Times count from `origin` instead of the first event (a script's virtual time 0).
  void set_origin(Instant origin) { origin_ = origin; }

 private:
  // "0.000123": seconds since the first event this sink saw.
  void start_line(Instant t);
  void finish_line();
  // Appends `text`, wrapped in an ANSI colour when colour is on.
  void add(std::string_view text, const char* sgr);
  // Appends a packet that crossed the link `direction` (for drop and fault lines).
  void add_packet(Direction direction, std::span<const std::byte> ipv4);

  std::FILE* out_;
  Options options_;
  std::optional<Instant> origin_;
  std::string line_;  // reused between events
  std::optional<int> write_error_;
  // Each traced connection's ISNs (ours, the peer's), so that a fault line's segment counts
  // from them like the segment lines around it. Forgotten at CLOSED; bounded.
  std::unordered_map<FourTuple, std::pair<Seq, Seq>, FourTupleHash> isns_;
};

}  // namespace tcplab::trace
