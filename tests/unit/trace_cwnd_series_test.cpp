// Tests for stack/trace/cwnd_series.*: reading congestion events back from a JSON trace the
// JSON sink wrote, the CSV rows, and the SVG's structure.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "stack/trace/cwnd_series.hpp"
#include "stack/trace/json_sink.hpp"

using namespace tcplab;
using namespace tcplab::trace;

namespace {

const FourTuple kA{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40000};
const FourTuple kB{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40001};

// What the JSON sink writes for a few congestion events and other events around them.
std::string sample_trace() {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    JsonSink sink(f);
    Instant t0 = Instant{} + seconds(7);
    sink.note(t0, &kA, "an unrelated note mentioning \"congestion\"");
    sink.congestion(t0 + milliseconds(100), kA, 14600, UINT64_MAX, "RFC 6928 §2 (initial window)");
    sink.congestion(t0 + milliseconds(150), kB, 2920, UINT64_MAX, "RFC 6928 §2 (initial window)");
    sink.congestion(t0 + milliseconds(200), kA, 16060, UINT64_MAX, "RFC 5681 §3.1 (slow start)");
    sink.congestion(t0 + milliseconds(300), kA, 11680, 8030, "RFC 5681 §3.2 (fast retransmit, \"quoted\")");
  }
  std::fflush(f);
  std::rewind(f);
  std::string text;
  int c;
  while ((c = std::fgetc(f)) != EOF) text += static_cast<char>(c);
  std::fclose(f);
  return text;
}

}  // namespace

TEST_CASE("cwnd series: the JSON sink writes cwnd, ssthresh (null when unset) and rule") {
  std::string text = sample_trace();
  CHECK(text.find("\"event\":\"congestion\",\"local\":\"192.0.2.2:80\",\"remote\":\"192.0.2.1:40000\","
                  "\"cwnd\":14600,\"ssthresh\":null,\"rule\":\"RFC 6928 §2 (initial window)\"}") !=
        std::string::npos);
  CHECK(text.find("\"cwnd\":11680,\"ssthresh\":8030,") != std::string::npos);
}

TEST_CASE("cwnd series: events are grouped by connection in order of appearance") {
  CwndTrace t = read_cwnd_trace(sample_trace());
  CHECK(t.lines == 5);
  CHECK(t.malformed == 0);
  REQUIRE(t.connections.size() == 2);
  CHECK(t.connections[0].remote == "192.0.2.1:40000");
  CHECK(t.connections[1].remote == "192.0.2.1:40001");
  REQUIRE(t.connections[0].points.size() == 3);
  const auto& p = t.connections[0].points;
  CHECK(p[0].t == doctest::Approx(0.1));
  CHECK(p[0].cwnd == 14600);
  CHECK_FALSE(p[0].ssthresh.has_value());
  CHECK(p[2].ssthresh == 8030u);
  CHECK(p[2].rule == "RFC 5681 §3.2 (fast retransmit, \"quoted\")");
}

TEST_CASE("cwnd series: CSV rows, empty ssthresh while unset, RFC 4180 quoting") {
  CwndTrace t = read_cwnd_trace(sample_trace());
  REQUIRE(!t.connections.empty());
  CHECK(cwnd_csv(t.connections[0]) ==
        "time,cwnd,ssthresh,rule\n"
        "0.100000,14600,,RFC 6928 §2 (initial window)\n"
        "0.200000,16060,,RFC 5681 §3.1 (slow start)\n"
        "0.300000,11680,8030,\"RFC 5681 §3.2 (fast retransmit, \"\"quoted\"\")\"\n");
}

TEST_CASE("cwnd series: malformed congestion lines are counted, not fatal") {
  std::string text =
      "{\"t\":0.1,\"event\":\"congestion\",\"local\":\"a\",\"remote\":\"b\",\"cwnd\":\"x\",\"ssthresh\":null,"
      "\"rule\":\"r\"}\n"
      "{\"t\":0.2,\"event\":\"congestion\",\"local\":\"a\",\"remote\":\"b\",\"cwnd\":10,\"ssthresh\":null,"
      "\"rule\":\"r\"}\n"
      "not json at all \"congestion\"\n"
      "{\"t\":0.3,\"event\":\"congestion\",\"local\":\"a\"}\n";
  CwndTrace t = read_cwnd_trace(text);
  // The bad cwnd, the line that is not JSON and the event without its fields.
  CHECK(t.malformed == 3);
  REQUIRE(t.connections.size() == 1);
  CHECK(t.connections[0].points.size() == 1);
  CHECK(t.connections[0].points[0].cwnd == 10);
}

TEST_CASE("cwnd series: the SVG is standalone and draws both lines") {
  CwndTrace t = read_cwnd_trace(sample_trace());
  REQUIRE(!t.connections.empty());
  std::string svg = cwnd_svg(t.connections[0]);
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(svg.ends_with("</svg>\n"));
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("stroke=\"#1b63b5\"") != std::string::npos);          // cwnd
  CHECK(svg.find("stroke-dasharray=\"6 4\"/>") != std::string::npos);  // ssthresh
  CHECK(svg.find("192.0.2.1:40000") != std::string::npos);
  // The y axis reaches above the largest value (16060): ticks of 5000 up to 20000.
  CHECK(svg.find(">20000</text>") != std::string::npos);
  // An empty series still gives a valid drawing.
  CwndConnection empty;
  CHECK(cwnd_svg(empty).ends_with("</svg>\n"));
}

TEST_CASE("cwnd series: endpoint names from a corrupted line are shown escaped and bounded") {
  std::string long_name(200, '7');
  std::string text =
      "{\"t\":0.1,\"event\":\"congestion\",\"local\":\"1.2.3.4:\\u001b[31m\xff\",\"remote\":\"" + long_name +
      "\",\"cwnd\":10,\"ssthresh\":null,\"rule\":\"r\"}\n";
  CwndTrace t = read_cwnd_trace(text);
  REQUIRE(t.connections.size() == 1);
  CHECK(t.connections[0].local == "1.2.3.4:\\x1b[31m\\xff");
  CHECK(t.connections[0].remote == std::string(45, '7') + "...");
}
