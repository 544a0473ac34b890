// The congestion window over time, read back from a JSON Lines trace (`--trace-json`): the
// "congestion" events the NewReno module reports (stack/tcp/congestion.hpp), grouped by
// connection, written as CSV or drawn as a standalone SVG line plot. `tcplab cwnd` is a thin
// wrapper around these functions.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcplab::trace {

struct CwndPoint {
  double t = 0;                      // seconds since the start of the trace
  uint64_t cwnd = 0;                 // bytes
  std::optional<uint64_t> ssthresh;  // bytes; nothing while it is not set (infinite)
  std::string rule;                  // "RFC 5681 §3.1 (slow start)"
};

struct CwndConnection {
  // "192.0.2.2:80", as the trace writes them; from a corrupted line, unprintable bytes as \xNN
  // and at most 48 bytes.
  std::string local, remote;
  std::vector<CwndPoint> points;
};

struct CwndTrace {
  std::vector<CwndConnection> connections;  // in order of their first congestion event
  size_t lines = 0;                         // lines read
  size_t malformed = 0;                     // congestion lines that could not be read
};

// Reads JSON Lines; lines that are not congestion events are skipped.
CwndTrace read_cwnd_trace(std::string_view text);

// "time,cwnd,ssthresh,rule" then one row per event; an unset ssthresh is an empty field.
std::string cwnd_csv(const CwndConnection& c);

// A standalone SVG (no scripts, no external files): cwnd and ssthresh as step lines over
// time, with axes labelled in seconds and bytes.
std::string cwnd_svg(const CwndConnection& c);

}  // namespace tcplab::trace
