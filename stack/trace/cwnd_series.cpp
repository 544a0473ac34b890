// The congestion window series from a JSON trace, as CSV or SVG (see cwnd_series.hpp).
#include "stack/trace/cwnd_series.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace tcplab::trace {
namespace {

// One value of a flat JSON object: the congestion events have no nesting.
struct JsonValue {
  enum class Kind { String, Number, Null, Bool } kind = Kind::Null;
  std::string text;  // the string, or the number as written
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class FlatObjectReader {
 public:
  explicit FlatObjectReader(std::string_view s) : s_(s) {}

  // Fills `out`; false if the line is not a flat JSON object.
  bool read(std::map<std::string, JsonValue>& out) {
    skip_space();
    if (!take('{')) return false;
    skip_space();
    if (take('}')) return at_end();
    while (true) {
      std::string key;
      skip_space();
      if (!string(key)) return false;
      skip_space();
      if (!take(':')) return false;
      skip_space();
      JsonValue v;
      if (!value(v)) return false;
      out[key] = std::move(v);
      skip_space();
      if (take('}')) return at_end();
      if (!take(',')) return false;
    }
  }

 private:
  bool at_end() {
    skip_space();
    return i_ == s_.size();
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }
  bool take(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  bool string(std::string& out) {
    if (!take('"')) return false;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t low;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool value(JsonValue& v) {
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') {
      v.kind = JsonValue::Kind::String;
      return string(v.text);
    }
    if (word("null")) {
      v.kind = JsonValue::Kind::Null;
      return true;
    }
    if (word("true") || word("false")) {
      v.kind = JsonValue::Kind::Bool;
      return true;
    }
    size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))
      ++i_;
    if (i_ == start) return false;  // an object or array: not a congestion event
    v.kind = JsonValue::Kind::Number;
    v.text = std::string(s_.substr(start, i_ - start));
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

std::optional<uint64_t> whole_number(const JsonValue& v) {
  if (v.kind != JsonValue::Kind::Number || v.text.empty() ||
      v.text.find_first_not_of("0123456789") != std::string::npos || v.text.size() > 19)
    return std::nullopt;
  return std::strtoull(v.text.c_str(), nullptr, 10);
}

// Reads one congestion event; false if a field is missing or of the wrong kind.
bool to_point(const std::map<std::string, JsonValue>& o, CwndPoint& p, std::string& local,
              std::string& remote) {
  auto field = [&](const char* k) -> const JsonValue* {
    auto it = o.find(k);
    return it == o.end() ? nullptr : &it->second;
  };
  const JsonValue *t = field("t"), *cwnd = field("cwnd"), *ss = field("ssthresh"), *rule = field("rule"),
                  *l = field("local"), *r = field("remote");
  if (!t || t->kind != JsonValue::Kind::Number || !cwnd || !ss || !rule ||
      rule->kind != JsonValue::Kind::String || !l || !r || l->kind != JsonValue::Kind::String ||
      r->kind != JsonValue::Kind::String)
    return false;
  char* end = nullptr;
  p.t = std::strtod(t->text.c_str(), &end);
  if (end == t->text.c_str() || *end != '\0') return false;
  auto c = whole_number(*cwnd);
  if (!c) return false;
  p.cwnd = *c;
  if (ss->kind == JsonValue::Kind::Null) {
    p.ssthresh.reset();
  } else {
    auto s = whole_number(*ss);
    if (!s) return false;
    p.ssthresh = *s;
  }
  p.rule = rule->text;
  local = l->text;
  remote = r->text;
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

std::string xml_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
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
    std::map<std::string, JsonValue> fields;
    if (!FlatObjectReader(line).read(fields)) {
      // A segment whose note happens to say "congestion" has nested options: not ours.
      continue;
    }
    auto ev = fields.find("event");
    if (ev == fields.end() || ev->second.kind != JsonValue::Kind::String || ev->second.text != "congestion")
      continue;
    CwndPoint p;
    std::string local, remote;
    if (!to_point(fields, p, local, remote)) {
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
       xml_text(c.local) + " &#8594; " + xml_text(c.remote) + "</text>\n";
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
