// The keep-alive demo's plan and its report.
#include "http/keepalive_demo.hpp"

#include <algorithm>
#include <cstdio>

namespace tcplab::http::demo {

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::Http10Close:
      return "http1.0-close";
    case Mode::KeepAlive:
      return "http1.1-keepalive";
    case Mode::IdleTimeout:
      return "keepalive-idle-timeout";
    case Mode::MaxRequests:
      return "keepalive-max-requests";
  }
  return "?";
}

std::vector<std::string> page_paths(int assets) {
  std::vector<std::string> paths{"/"};
  const int n = std::clamp(assets, 0, kMaxAssets);
  if (n >= 1) paths.push_back("/style.css");
  if (n >= 2) paths.push_back("/app.js");
  for (int i = 1; i <= n - 2; ++i) paths.push_back("/img/" + std::to_string(i) + ".svg");
  return paths;
}

Plan make_plan(Mode mode, const PlanOptions& options) {
  Plan plan;
  plan.mode = mode;
  for (auto& path : page_paths(options.assets)) plan.requests.push_back(Request{std::move(path)});
  switch (mode) {
    case Mode::Http10Close:
      plan.http10 = true;
      break;
    case Mode::KeepAlive:
      break;
    case Mode::IdleTimeout: {
      // The page once more after the server's idle timeout has closed the connection: the
      // margin covers the server's FIN crossing the emulated link, so the client sees it.
      const Duration margin = std::max<Duration>(milliseconds(500), 4 * options.one_way_delay);
      plan.requests.push_back(Request{"/", options.keepalive_timeout + margin});
      break;
    }
    case Mode::MaxRequests:
      plan.max_requests = options.max_requests;
      break;
  }
  return plan;
}

namespace {
std::string number(uint64_t n) { return std::to_string(n); }
std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
}  // namespace

std::string format_table(const std::vector<Row>& rows) {
  const char* heads[] = {"mode",     "delay",     "requests", "conns",    "handshakes",
                         "segments", "hdr bytes", "seconds",  "TIME-WAIT"};
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    std::string time_wait = "server " + number(r.time_wait_server) + ", client " + number(r.time_wait_client);
    cells.push_back({r.mode, number(r.delay_ms) + " ms", number(r.requests), number(r.connections),
                     number(r.handshakes), number(r.segments), number(r.header_bytes), fixed(r.seconds, 3),
                     time_wait});
  }
  std::vector<size_t> width;
  for (auto* h : heads) width.push_back(std::string_view(h).size());
  for (const auto& row : cells)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  auto line = [&](const std::vector<std::string>& row) {
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
      // Text left-aligned, figures right-aligned, as a reader scans them.
      const bool left = i == 0 || i + 1 == row.size();
      const std::string pad(width[i] - row[i].size(), ' ');
      out += left ? row[i] + pad : pad + row[i];
      if (i + 1 < row.size()) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(std::vector<std::string>(std::begin(heads), std::end(heads)));
  for (const auto& row : cells) out += line(row);
  return out;
}

std::string format_json(const std::vector<Row>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out += i == 0 ? "\n" : ",\n";
    // Mode names are fixed identifiers (mode_name), so they need no escaping.
    out += "  {\"mode\": \"" + r.mode + "\", \"delay_ms\": " + number(r.delay_ms) +
           ", \"requests\": " + number(r.requests) + ", \"connections\": " + number(r.connections) +
           ", \"handshakes\": " + number(r.handshakes) + ", \"segments\": " + number(r.segments) +
           ", \"header_bytes\": " + number(r.header_bytes) + ", \"seconds\": " + fixed(r.seconds, 6) +
           ", \"time_wait_server\": " + number(r.time_wait_server) +
           ", \"time_wait_client\": " + number(r.time_wait_client) + "}";
  }
  out += rows.empty() ? "]\n" : "\n]\n";
  return out;
}

}  // namespace tcplab::http::demo
