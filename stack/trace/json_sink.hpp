// Machine-readable trace: JSON Lines, one object per event with stable keys, for tools and
// tests (key list in docs/observability.md). Same relative numbers as the text trace.
#pragma once
#include <sys/types.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "stack/trace/trace.hpp"

namespace tcplab::trace {

class JsonSink final : public Sink {
 public:
  // Writes to `out` (not owned). One fwrite per event, so lines never interleave. How the
  // lines reach the file is the FILE's buffering; with a fully buffered FILE the event loop
  // flushes it through advance() once per wakeup, after the stack and before the packets of
  // that wakeup are written: a line is on disk before the peer can see what it describes.
  explicit JsonSink(std::FILE* out);

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

  // "t" counts from `origin` instead of the first event: `tcplab script` sets a script's
  // virtual time 0, as for the text trace, so both show the same times.
  void set_origin(Instant origin) { origin_ = origin; }

  void flush();
  // The errno of the first write that failed (a full disk): the trace stops there, a file
  // ending at its last whole line, and the command says so on exit. Nothing while every line was written.
  std::optional<int> write_error() const { return write_error_; }
  // For loop::TimedAdapter: events not yet flushed are due at once (nullopt when there are
  // none), and advance() flushes them.
  std::optional<Instant> next_deadline() const;
  void advance(Instant now);

 private:
  void begin(Instant t, const char* event);
  void key(const char* name);
  void string_field(const char* name, std::string_view value);
  void number_field(const char* name, uint64_t value);
  void seconds_field(const char* name, Instant from, Instant to);  // seconds, 6 decimals
  void endpoint_field(const char* name, wire::Ipv4Address ip, uint16_t port);
  // A TCP segment's fields named as in a segment event (src, dst, flags, len, win, seq_raw,
  // ack_raw), when `ipv4` holds one; nothing otherwise.
  void tcp_segment_fields(std::span<const std::byte> ipv4);
  void bool_field(const char* name, bool value);
  void connection_fields(const FourTuple& c);
  void end();
  // Records the first failed write and leaves a file ending at its last whole line.
  void stop_after_failure(int error);
  // Truncates a regular file at its last whole line (read back through /proc/self/fd).
  static void cut_at_last_newline(int fd, off_t size);

  std::FILE* out_;
  std::optional<Instant> origin_;
  Instant event_time_;                      // of the event being built
  std::optional<Instant> unflushed_since_;  // the oldest event written since the last flush
  std::optional<int> write_error_;
  std::string line_;  // reused between events
};

// Appends `text` to `out` as a JSON string literal with quotes. Control characters, quotes
// and backslashes are escaped; bytes that are not valid UTF-8 become U+FFFD, so the output
// is always valid JSON whatever a note or detail contains.
void append_json_string(std::string& out, std::string_view text);

}  // namespace tcplab::trace
