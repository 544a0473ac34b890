// The congestion window series from a JSON trace, as CSV or SVG (see cwnd_series.hpp).
#include "stack/trace/cwnd_series.hpp"

#include "stack/text/escape_unprintable.hpp"
#include "stack/text/markup_escape.hpp"
#include "stack/trace/json_value.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace tcplab::trace {
namespace {

// "255.255.255.255:65535" is 21 bytes; a longer name comes from a corrupted line.
constexpr size_t kMaxEndpointName = 48;

// An endpoint name as the trace writes it, printed on stderr and in the SVG: a corrupted
// line's bytes stay visible as \xNN (never an escape sequence for the terminal, never invalid
// UTF-8 in the SVG) and a long one is cut and says so.
std::string endpoint_name(std::string_view raw) {
  if (raw.size() <= kMaxEndpointName) return text::escape_unprintable(raw);
  return text::escape_unprintable(raw.substr(0, kMaxEndpointName - 3)) + "...";
}

// Reads one congestion event; false if a field is missing or of the wrong kind.
bool to_point(const JsonValue& o, CwndPoint& p, std::string& local, std::string& remote) {
  using Type = JsonValue::Type;
  const JsonValue *t = o.find("t"), *cwnd = o.find("cwnd"), *ss = o.find("ssthresh"), *rule = o.find("rule"),
                  *l = o.find("local"), *r = o.find("remote");
  if (!t || !cwnd || !ss || !rule || rule->type != Type::String || !l || !r || l->type != Type::String ||
      r->type != Type::String)
    return false;
  auto time = t->as_double();
  auto c = cwnd->as_uint(UINT64_MAX);
  if (!time || !c) return false;
  p.t = *time;
  p.cwnd = *c;
  if (ss->type == Type::Null) {
    p.ssthresh.reset();
  } else {
    auto s = ss->as_uint(UINT64_MAX);
    if (!s) return false;
    p.ssthresh = *s;
  }
  p.rule = rule->text;
  local = endpoint_name(l->text);
  remote = endpoint_name(r->text);
  return true;
}

std::string csv_field(std::string_view s) {
  // RFC 4180 §2: quote fields with commas, quotes or line breaks; double inner quotes.
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over span.
double tick_step(double span, int count) {
  if (span <= 0) return 1;
  double raw = span / count;
  double p = 1;
  while (p * 10 <= raw) p *= 10;
  while (p > raw) p /= 10;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (p * m >= raw) return p * m;
  }
  return p * 10;
}

}  // namespace

CwndTrace read_cwnd_trace(std::string_view text) {
  CwndTrace out;
  std::map<std::pair<std::string, std::string>, size_t> index;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    ++out.lines;
    // Cheap test first: most lines are segments and timers.
    if (line.find("\"congestion\"") == std::string_view::npos) continue;
    std::string error;
    auto fields = parse_json(line, error);
    if (!fields || fields->type != JsonValue::Type::Object) {
      ++out.malformed;
      continue;
    }
    // A segment whose note happens to say "congestion" is not a congestion event.
    const JsonValue* ev = fields->find("event");
    if (!ev || ev->type != JsonValue::Type::String || ev->text != "congestion") continue;
    CwndPoint p;
    std::string local, remote;
    if (!to_point(*fields, p, local, remote)) {
      ++out.malformed;
      continue;
    }
    auto key = std::make_pair(local, remote);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, out.connections.size()).first;
      out.connections.push_back(CwndConnection{local, remote, {}});
    }
    out.connections[it->second].points.push_back(std::move(p));
  }
  return out;
}

std::string cwnd_csv(const CwndConnection& c) {
  std::string out = "time,cwnd,ssthresh,rule\n";
  for (const auto& p : c.points) {
    out += fixed(p.t, 6);
    out += ',';
    out += std::to_string(p.cwnd);
    out += ',';
    if (p.ssthresh) out += std::to_string(*p.ssthresh);
    out += ',';
    out += csv_field(p.rule);
    out += '\n';
  }
  return out;
}

std::string cwnd_svg(const CwndConnection& c) {
  constexpr double kWidth = 800, kHeight = 420, kLeft = 80, kRight = 20, kTop = 40, kBottom = 50;
  double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double t0 = c.points.empty() ? 0 : c.points.front().t;
  double t1 = c.points.empty() ? 1 : c.points.back().t;
  if (t1 <= t0) t1 = t0 + 1;
  double ymax = 1;
  for (const auto& p : c.points) {
    ymax = std::max(ymax, static_cast<double>(p.cwnd));
    if (p.ssthresh) ymax = std::max(ymax, static_cast<double>(*p.ssthresh));
  }
  double ystep = tick_step(ymax, 5);
  ymax = ystep * static_cast<int>(ymax / ystep + 1);
  auto x = [&](double t) { return kLeft + (t - t0) / (t1 - t0) * plot_w; };
  auto y = [&](double v) { return kTop + plot_h - v / ymax * plot_h; };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(kWidth, 0) + "\" height=\"" +
       fixed(kHeight, 0) + "\" viewBox=\"0 0 " + fixed(kWidth, 0) + " " + fixed(kHeight, 0) +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fixed(kLeft, 0) + "\" y=\"22\" font-size=\"14\">cwnd and ssthresh, " +
       text::markup_escape(c.local) + " &#8594; " + text::markup_escape(c.remote) + "</text>\n";
  // Axes and ticks.
  s += "<g stroke=\"black\" fill=\"none\"><path d=\"M" + fixed(kLeft, 1) + " " + fixed(kTop, 1) + " V" +
       fixed(kTop + plot_h, 1) + " H" + fixed(kLeft + plot_w, 1) + "\"/></g>\n";
  for (double v = 0; v <= ymax + ystep / 2; v += ystep) {
    s += "<line x1=\"" + fixed(kLeft - 4, 1) + "\" x2=\"" + fixed(kLeft + plot_w, 1) + "\" y1=\"" +
         fixed(y(v), 1) + "\" y2=\"" + fixed(y(v), 1) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + fixed(kLeft - 8, 1) + "\" y=\"" + fixed(y(v) + 4, 1) + "\" text-anchor=\"end\">" +
         fixed(v, 0) + "</text>\n";
  }
  double tstep = tick_step(t1 - t0, 8);
  int decimals = tstep >= 1 ? 0 : tstep >= 0.1 ? 1 : tstep >= 0.01 ? 2 : 3;
  for (double t = 0; t <= (t1 - t0) + tstep / 2; t += tstep) {
    s += "<line x1=\"" + fixed(x(t0 + t), 1) + "\" x2=\"" + fixed(x(t0 + t), 1) + "\" y1=\"" +
         fixed(kTop + plot_h, 1) + "\" y2=\"" + fixed(kTop + plot_h + 4, 1) + "\" stroke=\"black\"/>\n";
    s += "<text x=\"" + fixed(x(t0 + t), 1) + "\" y=\"" + fixed(kTop + plot_h + 18, 1) +
         "\" text-anchor=\"middle\">" + fixed(t0 + t, decimals) + "</text>\n";
  }
  s += "<text x=\"" + fixed(kLeft + plot_w / 2, 1) + "\" y=\"" + fixed(kHeight - 10, 1) +
       "\" text-anchor=\"middle\">time (s)</text>\n";
  s += "<text transform=\"translate(16 " + fixed(kTop + plot_h / 2, 1) +
       ") rotate(-90)\" text-anchor=\"middle\">bytes</text>\n";
  // Step lines: a value holds until the next event changes it.
  std::string cwnd_path, ss_path;
  bool ss_open = false;
  for (size_t i = 0; i < c.points.size(); ++i) {
    const auto& p = c.points[i];
    double px = x(p.t);
    cwnd_path += (i == 0 ? "M" : " H" + fixed(px, 1) + " V") + (i == 0 ? fixed(px, 1) + " " : "") +
                 fixed(y(static_cast<double>(p.cwnd)), 1);
    if (p.ssthresh) {
      double py = y(static_cast<double>(*p.ssthresh));
      ss_path +=
          ss_open ? " H" + fixed(px, 1) + " V" + fixed(py, 1) : " M" + fixed(px, 1) + " " + fixed(py, 1);
      ss_open = true;
    } else if (ss_open) {
      ss_path += " H" + fixed(px, 1);
      ss_open = false;
    }
  }
  if (!c.points.empty()) cwnd_path += " H" + fixed(x(t1), 1);
  if (ss_open) ss_path += " H" + fixed(x(t1), 1);
  if (!ss_path.empty())
    s += "<path d=\"" + ss_path +
         "\" fill=\"none\" stroke=\"#d95f02\" stroke-width=\"1.5\" "
         "stroke-dasharray=\"6 4\"/>\n";
  if (!cwnd_path.empty())
    s += "<path d=\"" + cwnd_path + "\" fill=\"none\" stroke=\"#1b63b5\" stroke-width=\"1.5\"/>\n";
  // Legend.
  double lx = kLeft + plot_w - 150;
  s += "<line x1=\"" + fixed(lx, 1) + "\" x2=\"" + fixed(lx + 24, 1) + "\" y1=\"" + fixed(kTop + 10, 1) +
       "\" y2=\"" + fixed(kTop + 10, 1) + "\" stroke=\"#1b63b5\" stroke-width=\"1.5\"/>\n";
  s += "<text x=\"" + fixed(lx + 30, 1) + "\" y=\"" + fixed(kTop + 14, 1) + "\">cwnd</text>\n";
  s += "<line x1=\"" + fixed(lx, 1) + "\" x2=\"" + fixed(lx + 24, 1) + "\" y1=\"" + fixed(kTop + 28, 1) +
       "\" y2=\"" + fixed(kTop + 28, 1) +
       "\" stroke=\"#d95f02\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n";
  s += "<text x=\"" + fixed(lx + 30, 1) + "\" y=\"" + fixed(kTop + 32, 1) + "\">ssthresh</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace tcplab::trace
