// JSON Lines trace (see json_sink.hpp).
#include "stack/trace/json_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "stack/trace/format.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/tcp_in_ipv4.hpp"

namespace tcplab::trace {

namespace {

// Appends a number in decimal without a temporary string (one event per segment adds up).
void append_number(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// "192.0.2.2:80" as a JSON string: digits, dots and a colon need no escaping.
void append_endpoint(std::string& out, wire::Ipv4Address ip, uint16_t port) {
  out += '"';
  for (int shift = 24; shift >= 0; shift -= 8) {
    append_number(out, (ip.value >> shift) & 0xff);
    out += shift > 0 ? '.' : ':';
  }
  append_number(out, port);
  out += '"';
}

// The seconds from `from` to `to` with 6 decimals, exactly as printf's "%.6f" prints the
// double seconds_since(from, to), but from the integer nanoseconds: rounding to the
// microsecond can only differ from the double's when the nanoseconds end in exactly 500
// (a tie), so that case, negative times and huge ones go through snprintf.
void append_seconds(std::string& out, Instant from, Instant to) {
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
  constexpr int64_t kLimit = int64_t{1000000} * 1000000000;  // 10^6 s: the double is exact enough
  if (ns < 0 || ns % 1000 == 500 || ns >= kLimit) {
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%.6f", seconds_since(from, to));
    out.append(buf, n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof buf - 1));
    return;
  }
  const auto us = static_cast<uint64_t>((ns + 500) / 1000);
  append_number(out, us / 1000000);
  out += '.';
  char frac[6];
  uint64_t rest = us % 1000000;
  for (int i = 5; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  out.append(frac, sizeof frac);
}

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629 §4), or 0 if invalid.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (size_t i = 0; i < text.size();) {
    // Printable ASCII other than '"' and '\\' goes through as it is, a run at a time.
    size_t run = i;
    while (run < text.size()) {
      auto r = static_cast<unsigned char>(text[run]);
      if (r < 0x20 || r >= 0x7F || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(text.substr(i, run - i));
      i = run;
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", unsigned{c});
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  out += '"';
}

JsonSink::JsonSink(std::FILE* out) : out_(out) {}

void JsonSink::begin(Instant t, const char* event) {
  if (!origin_) origin_ = t;
  event_time_ = t;
  line_ = "{";
  seconds_field("t", *origin_, t);
  string_field("event", event);
}

void JsonSink::key(const char* name) {
  if (line_.size() > 1) line_ += ',';
  line_ += '"';
  line_ += name;
  line_ += "\":";
}

void JsonSink::string_field(const char* name, std::string_view value) {
  key(name);
  append_json_string(line_, value);
}

void JsonSink::number_field(const char* name, uint64_t value) {
  key(name);
  append_number(line_, value);
}

void JsonSink::seconds_field(const char* name, Instant from, Instant to) {
  key(name);
  append_seconds(line_, from, to);
}

void JsonSink::endpoint_field(const char* name, wire::Ipv4Address ip, uint16_t port) {
  key(name);
  append_endpoint(line_, ip, port);
}

void JsonSink::bool_field(const char* name, bool value) {
  key(name);
  line_ += value ? "true" : "false";
}

void JsonSink::connection_fields(const FourTuple& c) {
  endpoint_field("local", c.local_ip, c.local_port);
  endpoint_field("remote", c.remote_ip, c.remote_port);
}

void JsonSink::end() {
  line_ += "}\n";
  if (write_error_) return;  // no half lines after a gap: the trace ends at the first failure
  if (std::fwrite(line_.data(), 1, line_.size(), out_) != line_.size()) stop_after_failure(errno);
  if (!unflushed_since_) unflushed_since_ = event_time_;
}

void JsonSink::flush() {
  if (std::fflush(out_) != 0 && !write_error_) stop_after_failure(errno);
  unflushed_since_.reset();
}

void JsonSink::stop_after_failure(int error) {
  write_error_ = error;
  // stdio wrote what fit of its buffer, which may end mid-line. A regular file is cut back to
  // its last newline so that every line in it parses (tcplab ladder reads what was recorded),
  // and the descriptor then points at /dev/null: the rest of the buffer, flushed at exit, goes
  // nowhere instead of past the cut. A pipe or terminal is left as it is.
  const int fd = ::fileno(out_);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  cut_at_last_newline(fd, st.st_size);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) return;
  ::dup2(null_fd, fd);
  ::close(null_fd);
}

void JsonSink::cut_at_last_newline(int fd, off_t size) {
  // The descriptor is write-only (a FIFO must not be opened for reading too, and a shell's `>`
  // opens that way): read the file back through a descriptor of our own.
  const int reader = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0) return;
  off_t end = size;
  char chunk[4096];
  while (end > 0) {
    const off_t from = end > static_cast<off_t>(sizeof chunk) ? end - static_cast<off_t>(sizeof chunk) : 0;
    const ssize_t n = ::pread(reader, chunk, static_cast<size_t>(end - from), from);
    if (n != end - from) {  // cannot read it back: leave the file alone
      ::close(reader);
      return;
    }
    ssize_t i = n;
    while (i > 0 && chunk[i - 1] != '\n') --i;
    if (i > 0) {
      end = from + i;
      break;
    }
    end = from;
  }
  ::close(reader);
  if (::ftruncate(fd, end) != 0) return;
}

std::optional<Instant> JsonSink::next_deadline() const { return unflushed_since_; }

void JsonSink::advance(Instant) {
  if (unflushed_since_) flush();
}

void JsonSink::segment(Instant t, const SegmentEvent& e) {
  const auto& s = e.segment;
  const auto& c = e.tuple;
  auto n = segment_numbers(e);
  begin(t, "segment");
  string_field("dir", to_string(e.direction));
  bool in = e.direction == Direction::In;
  endpoint_field("src", in ? c.remote_ip : c.local_ip, in ? c.remote_port : c.local_port);
  endpoint_field("dst", in ? c.local_ip : c.remote_ip, in ? c.local_port : c.remote_port);
  string_field("flags", s.flags.to_string());
  number_field("seq", n.seq);
  number_field("end", n.end);
  number_field("len", n.len);
  if (s.flags.ack) number_field("ack", n.ack);
  number_field("win", s.window);
  // True when every number shown counts from an ISN; seq_raw/ack_raw are always absolute.
  bool_field("relative", n.relative_seq && (n.relative_ack || !s.flags.ack));
  // The numbers as on the wire, for matching against a pcap.
  number_field("seq_raw", s.seq.raw());
  if (s.flags.ack) number_field("ack_raw", s.ack.raw());
  if (s.flags.urg) number_field("urg", s.urgent_pointer);
  // Options as an object: only the options present appear (mss, wscale, sack_permitted,
  // ts_val/ts_ecr, sack_blocks); the text trace shows the same in packetdrill form.
  key("options");
  line_ += '{';
  size_t open = line_.size();
  auto sub = [&](const char* name) {
    if (line_.size() > open) line_ += ',';
    line_ += '"';
    line_ += name;
    line_ += "\":";
  };
  const auto& o = s.options;
  if (o.mss) {
    sub("mss");
    append_number(line_, *o.mss);
  }
  if (o.window_scale) {
    sub("wscale");
    append_number(line_, *o.window_scale);
  }
  if (o.sack_permitted) {
    sub("sack_permitted");
    line_ += "true";
  }
  if (o.timestamps) {
    sub("ts_val");
    append_number(line_, o.timestamps->value);
    sub("ts_ecr");
    append_number(line_, o.timestamps->echo_reply);
  }
  if (o.sack_blocks) {
    sub("sack_blocks");
    append_number(line_, o.sack_blocks);
    // RFC 2018 blocks count in the acknowledging side's sequence space, like the ACK.
    Seq base = e.relative ? (e.direction == Direction::Out ? e.irs : e.iss) : Seq(0);
    sub("sack");
    line_ += '[';
    for (size_t b = 0; b < std::min<size_t>(o.sack_blocks, wire::kMaxSackBlocks); ++b) {
      if (b > 0) line_ += ',';
      line_ += '[' + std::to_string(seq_distance(base, o.sack[b].left)) + ',' +
               std::to_string(seq_distance(base, o.sack[b].right)) + ']';
    }
    line_ += ']';
  }
  line_ += '}';
  if (!e.note.empty()) string_field("note", e.note);
  // Only when true, so that `select(.retransmission)` counts what the exit summary counts.
  if (e.retransmission) bool_field("retransmission", true);
  end();
}

void JsonSink::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                            std::string_view rule) {
  begin(t, "state");
  connection_fields(c);
  string_field("from", from);
  string_field("to", to);
  string_field("rule", rule);
  end();
}

void JsonSink::timer(Instant t, const FourTuple& c, std::string_view name, TimerAction action,
                     Instant deadline) {
  begin(t, "timer");
  connection_fields(c);
  string_field("name", name);
  string_field("action", to_string(action));
  // Same clock as "t"; "in" is how long from now, in seconds.
  seconds_field("deadline", *origin_, deadline);
  seconds_field("in", t, deadline);
  end();
}

void JsonSink::drop(Instant t, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) {
  begin(t, "drop");
  string_field("reason", tcplab::to_string(reason));
  if (!detail.empty()) string_field("detail", detail);
  number_field("bytes", ipv4.size());
  string_field("packet", packet_summary(ipv4));
  tcp_segment_fields(ipv4);  // for a ladder: the segment the stack refused, as it arrived
  end();
}

void JsonSink::congestion(Instant t, const FourTuple& c, uint64_t cwnd, uint64_t ssthresh,
                          std::string_view rule) {
  begin(t, "congestion");
  connection_fields(c);
  number_field("cwnd", cwnd);
  // An ssthresh not yet set (RFC 5681 §3.1: "arbitrarily high") is null, not 2^64 - 1.
  if (ssthresh == UINT64_MAX) {
    key("ssthresh");
    line_ += "null";
  } else {
    number_field("ssthresh", ssthresh);
  }
  string_field("rule", rule);
  end();
}

void JsonSink::note(Instant t, const FourTuple* c, std::string_view text) {
  begin(t, "note");
  if (c) connection_fields(*c);
  string_field("text", text);
  end();
}

}  // namespace tcplab::trace

namespace tcplab::trace {

void JsonSink::fault(Instant t, Direction direction, std::string_view what, std::span<const std::byte> ipv4) {
  begin(t, "fault");
  string_field("dir", to_string(direction));
  string_field("what", what);
  number_field("bytes", ipv4.size());
  string_field("packet", packet_summary(ipv4));
  // So that a ladder drawn from this trace can mark the arrow the fault hit (an inbound drop
  // has no segment event at all). Not for a corrupted packet: the flipped bit may be in the
  // very fields that would say which segment it was.
  if (!what.starts_with("corrupted")) tcp_segment_fields(ipv4);
  end();
}

void JsonSink::tcp_segment_fields(std::span<const std::byte> ipv4) {
  auto seen = wire::tcp_in_ipv4(ipv4);
  if (!seen) return;
  const auto* tcp = &seen->tcp;
  endpoint_field("src", seen->ip.source, tcp->source_port);
  endpoint_field("dst", seen->ip.destination, tcp->destination_port);
  string_field("flags", tcp->flags.to_string());
  number_field("len", tcp->payload.size());
  number_field("win", tcp->window);
  number_field("seq_raw", tcp->seq.raw());
  if (tcp->flags.ack) number_field("ack_raw", tcp->ack.raw());
}

}  // namespace tcplab::trace
