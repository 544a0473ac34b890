// The terminal ladder (see render.hpp). Layout of one row, columns fixed per connection:
//   | time | client state | |---- arrow with label ---->| server state |
#include <algorithm>
#include <cstdio>

#include "stack/ladder/render.hpp"
#include "stack/text/escape_unprintable.hpp"

namespace tcplab::ladder {

namespace {

constexpr size_t kTimeWidth = 11;
constexpr size_t kStateWidth = 13;  // "SYN-RECEIVED?"
constexpr size_t kMinArrowWidth = 40;

// At most `bytes` bytes of `s`, never ending inside a UTF-8 character (continuation bytes
// are 10xxxxxx, RFC 3629 §3).
std::string utf8_prefix(const std::string& s, size_t bytes) {
  if (bytes >= s.size()) return s;
  while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) --bytes;
  return s.substr(0, bytes);
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
std::string pad_right(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}
std::string centered(const std::string& s, size_t width, char fill) {
  if (s.size() >= width) return s.substr(0, width);
  size_t left = (width - s.size()) / 2;
  return std::string(left, fill) + s + std::string(width - s.size() - left, fill);
}

struct Columns {
  size_t left, arrow, right;
  size_t inner() const { return 1 + kTimeWidth + 1 + left + 2 + arrow + 2 + right + 1; }
};

std::string line(const Columns& k, const std::string& time, const std::string& left, char left_bar,
                 const std::string& arrow, char right_bar, const std::string& right) {
  std::string s = "| " + pad_left(time, kTimeWidth) + " " + pad_left(left, k.left) + " ";
  s += left_bar;
  s += pad_right(arrow, k.arrow);
  s += right_bar;
  s += " " + pad_right(right, k.right) + " |";
  return s;
}

// Text from the input (notes, comments, state names) as one cell shows it: a control byte as
// \xNN (escape_unprintable), a tab too, before the cell is measured and padded, so that a
// note's newline does not split its row and an escape does not widen it after the padding.
std::string cell(std::string_view raw) {
  const auto plain = [](char c) { return c >= ' ' && c <= '~'; };
  if (std::all_of(raw.begin(), raw.end(), plain)) return std::string(raw);
  std::string out;
  for (char c : text::escape_unprintable(raw)) {
    if (c == '\t')
      out += "\\x09";
    else
      out += c;
  }
  return out;
}

std::string cell(const StateCell& state) { return cell(state.text()); }

std::string arrow_text(const Row& r, const std::string& label, size_t width) {
  std::string body = centered(" " + label + " ", width - 1, '-');
  char head = r.lost ? 'x' : (r.to_server ? '>' : '<');
  return r.to_server ? body + head : head + body;
}

}  // namespace

std::string time_text(int64_t ns) {
  // Split the magnitude, not the signed value: C++ division truncates toward zero, so both
  // parts of -0.25 s would be negative ("0.-250000") or the sign would be lost. Times before
  // the first packet come from joined captures or a clock step, and print as tshark does.
  const bool negative = ns < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%llu.%06llu", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / 1'000'000'000),
                static_cast<unsigned long long>((magnitude % 1'000'000'000) / 1000));
  return buf;
}

std::string connection_title(const Connection& c) {
  std::string s = "connection " + std::to_string(c.number) + ": client " + c.client.to_string() +
                  " -> server " + c.server.to_string() + ", " + std::to_string(c.segments) +
                  (c.segments == 1 ? " segment" : " segments");
  if (!c.handshake_seen) s += " (no SYN in the input)";
  return s;
}

std::string summary_line(const Ladder& ladder) {
  uint64_t segments = 0;
  for (const auto& c : ladder.connections) segments += c.segments;
  size_t n = ladder.connections.size();
  std::string s = std::to_string(n) + (n == 1 ? " connection, " : " connections, ") +
                  std::to_string(segments) + (segments == 1 ? " segment" : " segments") + " from " +
                  ladder.source;
  // A header-only capture (tcpdump -s 96) still draws every segment, with its real length.
  if (ladder.truncated)
    s += " (" + std::to_string(ladder.truncated) +
         " truncated by the snap length: len is from the IPv4 header)";
  auto packets = [](uint64_t n) { return std::to_string(n) + (n == 1 ? " packet" : " packets"); };
  uint64_t other = ladder.skipped - ladder.header_cut - ladder.fragments - ladder.fragments_cut;
  for (const auto& [linktype, n] : ladder.unsupported_linktypes) {
    s += "; " + packets(n) + " skipped: " + capture::unsupported_linktype_text(linktype);
    other -= n;
  }
  if (ladder.header_cut)
    s += "; " + packets(ladder.header_cut) + " skipped (TCP/IP header cut by the snap length)";
  if (ladder.fragments) s += "; " + packets(ladder.fragments) + " skipped (IPv4 fragments, not reassembled)";
  if (ladder.fragments_cut)
    s += "; " + packets(ladder.fragments_cut) + " skipped (IPv4 fragments cut by the snap length)";
  if (other) s += "; " + packets(other) + " skipped (not TCP over IPv4)";
  return s;
}

std::string render_text(const Ladder& ladder) {
  // The summary names the input file, whose name may hold anything.
  std::string out = text::escape_unprintable(summary_line(ladder)) + "\n";
  for (const Connection& c : ladder.connections) {
    Columns k{kStateWidth, kMinArrowWidth, kStateWidth};
    k.left = std::max({k.left, c.client.to_string().size(), cell(c.client_initial).size()});
    k.right = std::max({k.right, c.server.to_string().size(), cell(c.server_initial).size()});
    for (const Row& r : c.rows) {
      if (r.kind == RowKind::Segment) k.arrow = std::max(k.arrow, cell(r.label).size() + 6);
      k.left = std::max(k.left, cell(r.client_state).size());
      k.right = std::max(k.right, cell(r.server_state).size());
    }
    // The title sits in the top border: a long one ("(no SYN in the input)", a wide address)
    // widens the arrow column, so that the border is as wide as the box and ends in "-+".
    std::string title = "+- " + connection_title(c) + " ";
    if (k.inner() < title.size()) k.arrow += title.size() - k.inner();
    out += "\n" + title + std::string(k.inner() + 1 - title.size(), '-') + "+\n";
    out += line(k, "time (s)", "client", ' ', "", ' ', "server") + "\n";
    out += line(k, "", c.client.to_string(), ' ', "", ' ', c.server.to_string()) + "\n";
    out += line(k, "", cell(c.client_initial), '|', "", '|', cell(c.server_initial)) + "\n";
    for (const Row& r : c.rows) {
      std::string time = time_text(r.time_ns);
      switch (r.kind) {
        case RowKind::Segment:
          out += line(k, time, cell(r.client_state), '|', arrow_text(r, cell(r.label), k.arrow), '|',
                      cell(r.server_state)) +
                 "\n";
          if (!r.notes.empty()) {
            std::string notes;
            for (const auto& n : r.notes) notes += (notes.empty() ? "" : "; ") + cell(n);
            std::string text = "^ " + notes;
            if (text.size() > k.arrow) text = utf8_prefix(text, k.arrow - 3) + "...";  // say it was cut
            out += line(k, "", "", '|', centered(text, k.arrow, ' '), '|', "") + "\n";
          }
          break;
        case RowKind::State:
          out += line(k, time, cell(r.client_state), '|', "", '|', cell(r.server_state)) + "\n";
          break;
        case RowKind::Note: {
          const std::string label = cell(r.label);
          std::string text = label.size() + 4 > k.arrow ? utf8_prefix(label, k.arrow - 7) + "..." : label;
          std::string shown = r.note_from_client ? " * " + text : pad_left(text + " * ", k.arrow);
          out += line(k, time, "", '|', shown, '|', "") + "\n";
          break;
        }
      }
    }
    out += "+" + std::string(k.inner(), '-') + "+\n";
  }
  if (ladder.any_inferred) out += std::string("\n") + kInferredLegend + "\n";
  return out;
}

}  // namespace tcplab::ladder
