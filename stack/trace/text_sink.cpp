// Human-readable trace lines (see text_sink.hpp for the format).
#include "stack/trace/text_sink.hpp"

#include <cerrno>
#include <optional>
#include <string>

#include "stack/trace/format.hpp"
#include "stack/wire/tcp_in_ipv4.hpp"

namespace tcplab::trace {

namespace {

// "192.0.2.2:80 <> 192.0.2.1:40000": a connection, local side first, no direction.
std::string connection(const FourTuple& c) {
  return c.local_ip.to_string() + ":" + std::to_string(c.local_port) + " <> " + c.remote_ip.to_string() +
         ":" + std::to_string(c.remote_port);
}

// ANSI SGR codes (ECMA-48 §8.3.117), chosen to read on dark and light terminals.
constexpr const char* kIn = "36";       // cyan
constexpr const char* kOut = "32";      // green
constexpr const char* kSyn = "1;32";    // bold green
constexpr const char* kFin = "1;34";    // bold blue
constexpr const char* kRst = "1;31";    // bold red
constexpr const char* kState = "1;35";  // bold magenta
constexpr const char* kDrop = "31";     // red
constexpr const char* kNote = "33";     // yellow: [retransmission], [challenge ACK], ...

struct SeenSegment {
  FourTuple tuple;  // from the stack's side, like a segment event's
  wire::TcpSegment segment;
};

// The TCP segment in an IPv4 packet crossing the link `direction`, with its connection seen
// from the stack's side.
std::optional<SeenSegment> tcp_segment_of(std::span<const std::byte> ipv4, Direction direction) {
  auto seen = wire::tcp_in_ipv4(ipv4);
  if (!seen) return std::nullopt;
  const auto& h = seen->ip;
  const auto& tcp = seen->tcp;
  if (direction == Direction::Out)
    return SeenSegment{{h.source, tcp.source_port, h.destination, tcp.destination_port}, tcp};
  return SeenSegment{{h.destination, tcp.destination_port, h.source, tcp.source_port}, tcp};
}

}  // namespace

TextSink::TextSink(std::FILE* out) : out_(out) {}
TextSink::TextSink(std::FILE* out, Options options) : out_(out), options_(options) {}

void TextSink::add(std::string_view text, const char* sgr) {
  if (!options_.colour || sgr == nullptr) {
    line_ += text;
    return;
  }
  line_ += "\033[";
  line_ += sgr;
  line_ += 'm';
  line_ += text;
  line_ += "\033[0m";
}

void TextSink::start_line(Instant t) {
  if (!origin_) origin_ = t;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f ", seconds_since(*origin_, t));
  line_ = buf;
}

void TextSink::finish_line() {
  line_ += '\n';
  // The first failure's errno is kept now: by the time the caller looks, other calls (the
  // event loop's non-blocking reads) have overwritten errno.
  if ((std::fwrite(line_.data(), 1, line_.size(), out_) != line_.size() || std::ferror(out_)) &&
      !write_error_) {
    write_error_ = errno != 0 ? errno : EIO;
  }
}

void TextSink::segment(Instant t, const SegmentEvent& e) {
  // Our SYN in SYN-SENT is relative to our ISN only: the peer's is not known yet.
  const bool peer_isn_known = e.direction == Direction::In || e.segment.flags.ack;
  if (e.relative && peer_isn_known && !options_.absolute) {
    constexpr size_t kRememberedConnections = 65536;
    if (isns_.size() >= kRememberedConnections && !isns_.contains(e.tuple)) isns_.clear();
    isns_[e.tuple] = {e.iss, e.irs};
  }
  start_line(t);
  add(e.direction == Direction::In ? "In " : "Out", e.direction == Direction::In ? kIn : kOut);
  line_ += ' ';
  line_ += segment_endpoints(e.direction, e.tuple);
  line_ += "  ";
  std::string summary = segment_summary(e, options_.absolute);
  // The flags are the first word ("S.", "FP.", "R"): the part a reader scans for.
  size_t flags_end = summary.find(' ');
  const auto& f = e.segment.flags;
  add(std::string_view(summary).substr(0, flags_end), f.rst ? kRst : f.syn ? kSyn : f.fin ? kFin : nullptr);
  if (flags_end != std::string::npos) line_ += std::string_view(summary).substr(flags_end);
  if (!e.note.empty()) {
    line_ += ' ';
    add("[" + std::string(e.note) + "]", kNote);
  }
  finish_line();
}

void TextSink::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                            std::string_view rule) {
  start_line(t);
  if (to == "CLOSED") isns_.erase(c);
  line_ += "state ";
  line_ += connection(c);
  line_ += ' ';
  add(std::string(from) + " -> " + std::string(to), kState);
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
  add("drop " + std::string(tcplab::to_string(reason)), kDrop);
  if (!detail.empty()) {
    line_ += ' ';
    line_ += detail;
  }
  line_ += "  ";
  // The stack drops what arrives: the packet crossed the link inwards.
  add_packet(Direction::In, ipv4);
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

namespace tcplab::trace {

// "fault out dropped (drop out data#3)  192.0.2.2:80 > 192.0.2.1:40000 tcp P. seq ... len 1460"
void TextSink::fault(Instant t, Direction direction, std::string_view what, std::span<const std::byte> ipv4) {
  start_line(t);
  line_ += "fault ";
  line_ += to_string(direction);
  line_ += ' ';
  line_ += what;
  line_ += "  ";
  add_packet(direction, ipv4);
  finish_line();
}

// A segment of a traced connection reads like the segment lines around it (relative numbers,
// "192.0.2.1:40000 > 192.0.2.2:80  F. 1:1(0) ack 2 win 1000"); anything else, or everything
// under --absolute, as a raw packet ("... tcp F. seq 221124944 ack 4065794060 ... len 0").
void TextSink::add_packet(Direction direction, std::span<const std::byte> ipv4) {
  if (auto seen = tcp_segment_of(ipv4, direction)) {
    if (auto known = isns_.find(seen->tuple); known != isns_.end()) {
      SegmentEvent e{direction, seen->tuple, seen->segment, true, known->second.first, known->second.second};
      line_ += segment_endpoints(direction, seen->tuple);
      line_ += "  ";
      line_ += segment_summary(e, /*absolute=*/false);
      return;
    }
  }
  line_ += packet_summary(ipv4);
}

}  // namespace tcplab::trace
