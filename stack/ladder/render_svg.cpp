// The SVG ladder (see render.hpp): the same rows as the text diagram, laid out in pixels.
// Only inline attributes and generic font families, so the file renders the same anywhere.
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "stack/ladder/render.hpp"
#include "stack/text/markup_escape.hpp"

namespace tcplab::ladder {

namespace {

constexpr double kCharWidth = 7.3;  // monospace at 12px, generously
constexpr double kMargin = 12;
constexpr double kTimeColumn = 90;
constexpr double kStateColumn = 120;
constexpr double kRowHeight = 26;
constexpr double kNoteHeight = 16;
constexpr double kTitleHeight = 30;
constexpr double kMinArrowWidth = 360;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

class Svg {
 public:
  // `tooltip`, if any, becomes a <title> child: viewers show it on hover.
  void text(double x, double y, std::string_view s, const char* anchor, const char* style = "",
            std::string_view tooltip = {}) {
    body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"" + style + ">" +
             text::markup_escape(s);
    if (!tooltip.empty()) body_ += "<title>" + text::markup_escape(tooltip) + "</title>";
    body_ += "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* style) {
    body_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) +
             "\" " + style + "/>\n";
  }
  void raw(const std::string& s) { body_ += s; }
  std::string document(double width, double height) const {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
           num(width) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
           "\" font-family=\"monospace\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
           "fill=\"white\"/>\n" +
           body_ + "</svg>\n";
  }

 private:
  std::string body_;
};

// Splits text into lines of at most `width` characters, at spaces where possible.
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string_view rest = text;
  while (rest.size() > width) {
    size_t cut = rest.rfind(' ', width);
    if (cut == std::string_view::npos || cut == 0) cut = width;
    lines.emplace_back(rest.substr(0, cut));
    rest.remove_prefix(cut);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  if (!rest.empty() || lines.empty()) lines.emplace_back(rest);
  return lines;
}

const char* state_style(const StateCell& s) {
  return s.inferred ? " fill=\"#666666\" font-style=\"italic\"" : " fill=\"#006400\" font-weight=\"bold\"";
}

}  // namespace

std::string render_svg(const Ladder& ladder) {
  double arrow_width = kMinArrowWidth;
  for (const auto& c : ladder.connections)
    for (const auto& r : c.rows)
      if (r.kind == RowKind::Segment)
        arrow_width = std::max(arrow_width, static_cast<double>(r.label.size()) * kCharWidth + 40);
  const double left = kMargin + kTimeColumn + kStateColumn;
  const double right = left + arrow_width;
  const double width = right + kStateColumn + 2 * kMargin;
  // Notes wrap between the lifelines; arrows set the width.
  const size_t line_chars = static_cast<size_t>((arrow_width - 20) / kCharWidth);
  Svg svg;
  double y = kMargin + 14;
  svg.text(kMargin, y, summary_line(ladder), "start", " font-weight=\"bold\"");
  y += 12;
  for (const Connection& c : ladder.connections) {
    double top = y + 8;
    y = top + kTitleHeight - 10;
    svg.text(kMargin + 8, y, connection_title(c), "start", " font-weight=\"bold\"");
    y += kRowHeight;
    svg.text(kMargin + 8, y, "time (s)", "start", " fill=\"#444444\"");
    svg.text(left, y, "client " + c.client.to_string(), "middle", " font-weight=\"bold\"");
    svg.text(right, y, "server " + c.server.to_string(), "middle", " font-weight=\"bold\"");
    y += kRowHeight;
    double lifeline_top = y - 12;
    svg.text(left - 8, y, c.client_initial.text(), "end", state_style(c.client_initial));
    svg.text(right + 8, y, c.server_initial.text(), "start", state_style(c.server_initial));
    for (const Row& r : c.rows) {
      y += kRowHeight;
      svg.text(kMargin + 8, y, time_text(r.time_ns), "start", " fill=\"#444444\"");
      if (!r.client_state.empty())
        svg.text(left - 8, y, r.client_state.text(), "end", state_style(r.client_state), r.client_state.rule);
      if (!r.server_state.empty())
        svg.text(right + 8, y, r.server_state.text(), "start", state_style(r.server_state),
                 r.server_state.rule);
      if (r.kind == RowKind::Note) {
        auto lines = wrap(r.label, line_chars);
        for (size_t i = 0; i < lines.size(); ++i) {
          if (i) y += kNoteHeight;
          svg.text(r.note_from_client ? left + 10 : right - 10, y, lines[i],
                   r.note_from_client ? "start" : "end", " fill=\"#7a4b00\" font-style=\"italic\"");
        }
      }
      if (r.kind != RowKind::Segment) continue;
      const char* colour = r.lost ? "#b00000" : (r.to_server ? "#000000" : "#1f4e99");
      std::string stroke = std::string("stroke=\"") + colour + "\" stroke-width=\"1.5\"";
      double from = r.to_server ? left : right;
      double to = r.to_server ? right : left;
      double tip = r.lost ? from + (to - from) * 0.8 : to;
      double label_y = y - 5, line_y = y + 2;
      svg.text((left + right) / 2, label_y, r.label, "middle",
               (std::string(" fill=\"") + colour + "\"").c_str());
      svg.line(from, line_y, tip, line_y, stroke.c_str());
      if (r.lost) {
        svg.text(tip, line_y + 4, "x", "middle", " fill=\"#b00000\" font-weight=\"bold\" font-size=\"14\"");
      } else {
        double back = r.to_server ? -8 : 8;
        svg.raw("<polygon points=\"" + num(tip) + "," + num(line_y) + " " + num(tip + back) + "," +
                num(line_y - 4) + " " + num(tip + back) + "," + num(line_y + 4) + "\" fill=\"" + colour +
                "\"/>\n");
      }
      if (!r.notes.empty()) {
        std::string notes;
        for (const auto& n : r.notes) notes += (notes.empty() ? "" : "; ") + n;
        for (const auto& line : wrap(notes, line_chars)) {
          y += kNoteHeight;
          svg.text((left + right) / 2, y, line, "middle", " fill=\"#b00000\" font-style=\"italic\"");
        }
      }
    }
    y += 12;
    svg.line(left, lifeline_top, left, y, "stroke=\"#888888\" stroke-width=\"1\"");
    svg.line(right, lifeline_top, right, y, "stroke=\"#888888\" stroke-width=\"1\"");
    y += 8;
    svg.raw("<rect x=\"" + num(kMargin) + "\" y=\"" + num(top) + "\" width=\"" + num(width - 2 * kMargin) +
            "\" height=\"" + num(y - top) + "\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n");
  }
  if (ladder.any_inferred) {
    y += 20;
    svg.text(kMargin, y, kInferredLegend, "start", " fill=\"#666666\" font-style=\"italic\"");
  }
  return svg.document(width, y + kMargin);
}

}  // namespace tcplab::ladder
