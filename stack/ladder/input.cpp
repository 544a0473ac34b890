// Reading ladder input (see input.hpp): captures through stack/wire, and the JSON trace.
#include "stack/ladder/input.hpp"

#include <cmath>

#include "stack/ladder/captured_tcp.hpp"
#include "stack/trace/json_value.hpp"
#include "stack/tcp/state.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::ladder {

using trace::JsonValue;
using trace::parse_json;

namespace {

bool is_state_name(std::string_view name) {
  for (int s = 0; s <= static_cast<int>(tcp::State::TimeWait); ++s)
    if (tcp::to_string(static_cast<tcp::State>(s)) == name) return true;
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "[192.0.2.2:80] FROM -> TO [(rule)]" -> state change; anything else is not one.
std::optional<StateComment> parse_state_comment(std::string_view text) {
  // "->" or the Unicode arrow U+2192 "→".
  size_t arrow_length = 4;
  auto arrow = text.find(" -> ");
  if (arrow == std::string_view::npos) {
    arrow = text.find(" \u2192 ");
    arrow_length = 5;
  }
  if (arrow == std::string_view::npos) return std::nullopt;
  std::string_view left = trim(text.substr(0, arrow)), right = trim(text.substr(arrow + arrow_length));
  auto space = left.rfind(' ');
  std::string_view from = space == std::string_view::npos ? left : left.substr(space + 1);
  auto end = right.find(' ');
  std::string_view to = right.substr(0, end);
  if (!is_state_name(from) || !is_state_name(to)) return std::nullopt;
  std::string_view rule = end == std::string_view::npos ? std::string_view{} : trim(right.substr(end));
  if (rule.size() >= 2 && rule.front() == '(' && rule.back() == ')') rule = rule.substr(1, rule.size() - 2);
  return StateComment{std::string(from), std::string(to), std::string(rule)};
}

// A JSON trace line's field, checked: the reader names the line and the key when it is off.
struct Line {
  const JsonValue& object;
  std::string& error;
  int number;

  bool bad(const std::string& what) {
    if (error.empty()) error = "line " + std::to_string(number) + ": " + what;
    return false;
  }
  const JsonValue* need(const char* key, JsonValue::Type type) {
    const JsonValue* v = object.find(key);
    if (!v || v->type != type) {
      bad(std::string("missing or mistyped \"") + key + "\"");
      return nullptr;
    }
    return v;
  }
  bool text(const char* key, std::string& out) {
    auto* v = need(key, JsonValue::Type::String);
    if (v) out = v->text;
    return v != nullptr;
  }
  bool endpoint(const char* key, Endpoint& out) {
    std::string t;
    if (!text(key, t)) return false;
    auto e = Endpoint::parse(t);
    if (!e) return bad(std::string("\"") + key + "\" is not ip:port");
    out = *e;
    return true;
  }
  bool uint(const char* key, uint64_t max, uint64_t& out) {
    auto* v = need(key, JsonValue::Type::Number);
    if (!v) return false;
    auto n = v->as_uint(max);
    if (!n) return bad(std::string("\"") + key + "\" out of range");
    out = *n;
    return true;
  }
};

std::optional<wire::TcpFlags> parse_flags(std::string_view letters) {
  wire::TcpFlags f;
  if (letters == "none") return f;
  for (char c : letters) {
    switch (c) {
      case 'F':
        f.fin = true;
        break;
      case 'S':
        f.syn = true;
        break;
      case 'R':
        f.rst = true;
        break;
      case 'P':
        f.psh = true;
        break;
      case '.':
        f.ack = true;
        break;
      case 'U':
        f.urg = true;
        break;
      case 'E':
        f.ece = true;
        break;
      case 'W':
        f.cwr = true;
        break;
      default:
        return std::nullopt;
    }
  }
  return f;
}

// The fields a segment event and a TCP fault event share.
std::optional<SegmentInput> read_segment_fields(Line& line, int64_t t) {
  SegmentInput s;
  s.time_ns = t;
  std::string flags;
  uint64_t seq, len, window, ack = 0;
  if (!line.endpoint("src", s.src) || !line.endpoint("dst", s.dst) || !line.text("flags", flags) ||
      !line.uint("seq_raw", UINT32_MAX, seq) || !line.uint("len", UINT32_MAX, len) ||
      !line.uint("win", UINT16_MAX, window))
    return std::nullopt;
  auto f = parse_flags(flags);
  if (!f) {
    line.bad("unknown flags \"" + flags + "\"");
    return std::nullopt;
  }
  s.flags = *f;
  if (s.flags.ack && !line.uint("ack_raw", UINT32_MAX, ack)) return std::nullopt;
  s.seq = Seq(static_cast<uint32_t>(seq));
  s.ack = Seq(static_cast<uint32_t>(ack));
  s.payload_length = static_cast<uint32_t>(len);
  s.window = static_cast<uint16_t>(window);
  return s;
}

bool same_segment(const SegmentInput& a, const SegmentInput& b) {
  return a.src == b.src && a.dst == b.dst && a.seq == b.seq && a.payload_length == b.payload_length &&
         a.flags.to_string() == b.flags.to_string() && (!a.flags.ack || a.ack == b.ack);
}

// Notes of inbound faults (duplicated, delayed, reordered) wait for the segment event that
// the stack writes when the packet reaches it.
struct PendingFaultNote {
  SegmentInput segment;
  std::string note;
};

// Puts `note` under the segment event among the last `window` events that is `s` (at the same
// instant, when `same_instant`); else draws `s` itself as an arrow with the note.
void note_segment(Input& input, SegmentInput s, std::string note, size_t window, bool same_instant) {
  size_t looked = 0;
  for (auto e = input.events.rbegin(); e != input.events.rend() && looked < window; ++e, ++looked) {
    auto* earlier = std::get_if<SegmentInput>(&*e);
    if (earlier && (!same_instant || earlier->time_ns == s.time_ns) && same_segment(*earlier, s)) {
      earlier->notes.push_back(std::move(note));
      return;
    }
  }
  s.notes.push_back(std::move(note));
  input.events.push_back(std::move(s));
}

// A "drop" event about a TCP segment: worded as tcplab's pcapng comment is. A segment refused
// after its connection saw it (an RST out of the window) has a segment event just before, in
// the same instant; one refused earlier (a bad checksum) has none, and the drop is its arrow.
// Other refused packets are not part of a ladder, and are counted as skipped.
bool read_drop(Line& line, int64_t t, Input& input) {
  if (!line.object.find("src")) {
    ++input.skipped;
    return true;
  }
  std::string reason, detail;
  if (!line.text("reason", reason)) return false;
  if (auto* d = line.object.find("detail"); d && d->type == JsonValue::Type::String) detail = d->text;
  auto s = read_segment_fields(line, t);
  if (!s) return false;
  std::string note = "dropped by the stack: " + reason + (detail.empty() ? "" : " (" + detail + ")");
  // Refused while it was read (a bad checksum, a malformed header): no connection saw it, so
  // no segment event is its own, however alike an earlier one (the copies of a corrupted ACK
  // look like the valid ACK before them in every field but the one the flipped bit hit).
  const bool refused_when_read = reason == "tcp-bad-checksum" || reason == "tcp-truncated" ||
                                 reason == "tcp-bad-data-offset" || reason == "tcp-bad-option";
  note_segment(input, std::move(*s), std::move(note), refused_when_read ? 0 : 16, /*same_instant=*/true);
  return true;
}

bool read_segment(Line& line, int64_t t, Input& input, std::vector<PendingFaultNote>& pending) {
  auto s = read_segment_fields(line, t);
  if (!s) return false;
  if (auto* note = line.object.find("note"); note && note->type == JsonValue::Type::String)
    s->notes.push_back(note->text);
  for (auto p = pending.begin(); p != pending.end(); ++p) {
    if (same_segment(p->segment, *s)) {
      s->notes.push_back(std::move(p->note));
      pending.erase(p);
      break;
    }
  }
  input.events.push_back(std::move(*s));
  return true;
}

// A "fault" event about a TCP segment marks that segment's arrow, worded as tcplab's pcapng
// comment is, so both inputs draw the same ladder. An outbound segment was traced before the
// link harmed it; an inbound one dropped never becomes a segment event, so the fault event is
// its arrow (a corrupted packet's event carries no segment fields: its header may be the
// flipped part). Faults on other packets, and
// traces older than the fault's TCP fields, are not part of a ladder.
bool read_fault(Line& line, int64_t t, Input& input, std::vector<PendingFaultNote>& pending) {
  if (!line.object.find("src")) return true;
  std::string dir, what;
  if (!line.text("dir", dir) || !line.text("what", what)) return false;
  auto s = read_segment_fields(line, t);
  if (!s) return false;
  std::string note = "fault injector: " + what;
  if (dir == "in" && what.starts_with("duplicated")) {
    // Both copies reach the stack, each a segment event: numbered as the pcapng comments are.
    pending.push_back({*s, note + ", copy 1 of 2"});
    pending.push_back({*s, note + ", copy 2 of 2"});
    if (pending.size() > 256) pending.erase(pending.begin(), pending.begin() + 2);
    return true;
  }
  if (dir == "in" && !what.starts_with("dropped")) {
    pending.push_back({*s, std::move(note)});
    if (pending.size() > 256) pending.erase(pending.begin());
    return true;
  }
  // Outbound: traced in the same batch, a few events back (bounded); an inbound drop: its own
  // arrow.
  note_segment(input, std::move(*s), std::move(note), dir == "out" ? 256 : 0, /*same_instant=*/false);
  return true;
}

}  // namespace

std::string Endpoint::to_string() const { return ip.to_string() + ":" + std::to_string(port); }

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto ip = wire::Ipv4Address::parse(text.substr(0, colon));
  auto port = text.substr(colon + 1);
  if (!ip || port.empty() || port.size() > 5) return std::nullopt;
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535) return std::nullopt;
  return Endpoint{*ip, static_cast<uint16_t>(p)};
}

void classify_comment(std::string_view comment, std::vector<StateComment>& states,
                      std::vector<std::string>& notes) {
  while (!comment.empty()) {
    size_t cut = comment.find_first_of("\n;");
    std::string_view piece = trim(comment.substr(0, cut));
    comment = cut == std::string_view::npos ? std::string_view{} : comment.substr(cut + 1);
    if (piece.empty()) continue;
    if (auto state = parse_state_comment(piece))
      states.push_back(*state);
    else
      notes.emplace_back(piece);
  }
}

Input from_capture(const capture::Capture& capture) {
  Input input;
  input.source = capture.format == capture::Format::Pcapng ? "pcapng" : "pcap";
  CapturedTcpReader reader;
  for (const auto& packet : capture.packets) {
    auto bytes = capture::ipv4_in_frame(packet.linktype, packet.data);
    if (!bytes) {
      ++input.skipped;
      if (!capture::linktype_supported(packet.linktype)) ++input.unsupported_linktypes[packet.linktype];
      continue;
    }
    const bool cut = packet.original_length > packet.data.size();
    auto seen = reader.add(*bytes, packet.time_ns, cut);
    if (!seen) continue;
    const auto* tcp = &seen->tcp;
    SegmentInput s;
    s.time_ns = packet.time_ns;
    s.src = Endpoint{seen->ip.source, tcp->source_port};
    s.dst = Endpoint{seen->ip.destination, tcp->destination_port};
    s.flags = tcp->flags;
    s.seq = tcp->seq;
    s.ack = tcp->ack;
    s.payload_length = seen->payload_length;
    s.window = tcp->window;
    if (seen->captured_payload < seen->payload_length) {
      ++input.truncated;
      // Short enough for the narrowest arrow column: the first line explains the snap length.
      s.notes.push_back("truncated: " + std::to_string(seen->captured_payload) + " of " +
                        std::to_string(seen->payload_length) + " bytes captured");
    }
    if (seen->fragments > 0)
      s.notes.push_back("reassembled from " + std::to_string(seen->fragments) + " IPv4 fragments");
    for (const auto& c : packet.comments) classify_comment(c, s.state_comments, s.notes);
    input.events.push_back(std::move(s));
  }
  reader.finish();
  input.skipped += reader.skipped().total();
  input.header_cut = reader.skipped().header_cut;
  input.fragments = reader.skipped().fragments;
  input.fragments_cut = reader.skipped().fragments_cut;
  return input;
}

bool looks_like_json_trace(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

std::optional<Input> from_json_trace(std::string_view text, std::string& error) {
  Input input;
  input.source = "JSON trace";
  std::vector<PendingFaultNote> pending;
  int number = 0;
  while (!text.empty()) {
    auto cut = text.find('\n');
    std::string_view raw = text.substr(0, cut);
    text = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
    ++number;
    if (trim(raw).empty()) continue;
    std::string parse_error;
    auto value = parse_json(raw, parse_error);
    if (!value || value->type != JsonValue::Type::Object) {
      error = "line " + std::to_string(number) + ": not a JSON object" +
              (parse_error.empty() ? "" : " (" + parse_error + ")");
      return std::nullopt;
    }
    Line line{*value, error, number};
    std::string event;
    auto* t = line.need("t", JsonValue::Type::Number);
    if (!t || !line.text("event", event)) return std::nullopt;
    auto seconds = t->as_double();
    if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 1e9) {
      line.bad("\"t\" out of range");
      return std::nullopt;
    }
    auto time_ns = static_cast<int64_t>(std::llround(*seconds * 1e9));
    if (event == "segment") {
      if (!read_segment(line, time_ns, input, pending)) return std::nullopt;
    } else if (event == "fault") {
      if (!read_fault(line, time_ns, input, pending)) return std::nullopt;
    } else if (event == "state") {
      StateInput s;
      s.time_ns = time_ns;
      if (!line.endpoint("local", s.local) || !line.endpoint("remote", s.remote) ||
          !line.text("from", s.from) || !line.text("to", s.to) || !line.text("rule", s.rule))
        return std::nullopt;
      input.events.push_back(std::move(s));
    } else if (event == "note" && value->find("local")) {
      NoteInput n;
      n.time_ns = time_ns;
      if (!line.endpoint("local", n.local) || !line.endpoint("remote", n.remote) ||
          !line.text("text", n.text))
        return std::nullopt;
      input.events.push_back(std::move(n));
    } else if (event == "drop") {
      if (!read_drop(line, time_ns, input)) return std::nullopt;
    }
    // timers and connection-less notes are not part of a ladder
  }
  return input;
}

}  // namespace tcplab::ladder

namespace tcplab::ladder {

std::optional<Input> read_input(std::span<const std::byte> file, std::string& error) {
  if (capture::looks_like_pcapng(file) || capture::looks_like_pcap(file)) {
    auto result = capture::parse_capture(file);
    if (!result.capture) {
      error = result.error;
      return std::nullopt;
    }
    return from_capture(*result.capture);
  }
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  if (looks_like_json_trace(text)) return from_json_trace(text, error);
  error = file.empty() ? "empty file" : "not a pcap, pcapng or tcplab JSON trace (--trace-json) file";
  return std::nullopt;
}

}  // namespace tcplab::ladder
