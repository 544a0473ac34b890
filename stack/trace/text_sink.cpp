// Human-readable trace lines (see text_sink.hpp for the format).
#include "stack/trace/text_sink.hpp"

#include <string>

#include "stack/trace/format.hpp"

namespace tcplab::trace {

namespace {

// "192.0.2.2:80 <> 192.0.2.1:40000": a connection, local side first, no direction.
std::string connection(const FourTuple& c) {
  return c.local_ip.to_string() + ":" + std::to_string(c.local_port) + " <> " + c.remote_ip.to_string() +
         ":" + std::to_string(c.remote_port);
}

}  // namespace

TextSink::TextSink(std::FILE* out) : out_(out) {}

void TextSink::start_line(Instant t) {
  if (!origin_) origin_ = t;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f ", seconds_since(*origin_, t));
  line_ = buf;
}

void TextSink::finish_line() {
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), out_);
}

void TextSink::segment(Instant t, const SegmentEvent& e) {
  start_line(t);
  line_ += e.direction == Direction::In ? "In  " : "Out ";
  line_ += segment_endpoints(e.direction, e.tuple);
  line_ += "  ";
  line_ += segment_summary(e);
  if (!e.note.empty()) {
    line_ += " [";
    line_ += e.note;
    line_ += ']';
  }
  finish_line();
}

void TextSink::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                            std::string_view rule) {
  start_line(t);
  line_ += "state ";
  line_ += connection(c);
  line_ += ' ';
  line_ += from;
  line_ += " -> ";
  line_ += to;
  if (!rule.empty()) {
    line_ += " (";
    line_ += rule;
    line_ += ')';
  }
  finish_line();
}

void TextSink::timer(Instant t, const FourTuple& c, std::string_view name, TimerAction action,
                     Instant deadline) {
  start_line(t);
  line_ += "timer ";
  line_ += connection(c);
  line_ += ' ';
  line_ += name;
  line_ += ' ';
  line_ += to_string(action);
  if (action == TimerAction::Armed) {
    // When it will fire, relative to now: "rto armed +0.200000".
    char buf[32];
    std::snprintf(buf, sizeof buf, " +%.6f", seconds_since(t, deadline));
    line_ += buf;
  }
  finish_line();
}

void TextSink::drop(Instant t, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) {
  start_line(t);
  line_ += "drop ";
  line_ += tcplab::to_string(reason);
  if (!detail.empty()) {
    line_ += ' ';
    line_ += detail;
  }
  line_ += "  ";
  line_ += packet_summary(ipv4);
  finish_line();
}

void TextSink::congestion(Instant t, const FourTuple& c, uint64_t cwnd, uint64_t ssthresh,
                          std::string_view rule) {
  start_line(t);
  line_ += "cwnd ";
  line_ += connection(c);
  line_ += ' ';
  line_ += std::to_string(cwnd);
  line_ += " ssthresh ";
  line_ += ssthresh == UINT64_MAX ? std::string("inf") : std::to_string(ssthresh);
  line_ += " (";
  line_ += rule;
  line_ += ')';
  finish_line();
}

void TextSink::note(Instant t, const FourTuple* c, std::string_view text) {
  start_line(t);
  line_ += "note ";
  if (c) {
    line_ += connection(*c);
    line_ += ' ';
  }
  line_ += text;
  finish_line();
}

}  // namespace tcplab::trace
