// Exact-text tests of `tcplab ladder`'s diagram: a scenario script is played on the virtual
// clock with a PcapWriter and a JsonSink attached to the runner (RunOptions::sink), so the
// capture and the trace are the same on every run, and the rendered ladders are compared
// with golden files in tests/ladder/. After a deliberate change to the drawing, regenerate
// them with TCPLAB_UPDATE_GOLDEN=1 build/unit-tests -tc='ladder golden*' and review the diff.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "stack/ladder/input.hpp"
#include "stack/ladder/ladder.hpp"
#include "stack/ladder/render.hpp"
#include "stack/link/pcap_writer.hpp"
#include "stack/script/runner.hpp"
#include "stack/script/script.hpp"
#include "stack/trace/json_sink.hpp"

using namespace tcplab;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::byte> read_bytes(const std::string& path) {
  std::string s = read_text(path);
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = std::byte(static_cast<unsigned char>(s[i]));
  return out;
}

// Plays tests/scenarios/NAME.pkt with both sinks; returns the capture and the JSON trace.
struct Recorded {
  std::vector<std::byte> pcap;
  std::string json;
};

Recorded record(const std::string& name) {
  std::string path = "tests/scenarios/" + name + ".pkt";
  std::string text = read_text(path);
  REQUIRE_MESSAGE(!text.empty(), "cannot read " << path << " (run the unit tests from the repository root)");
  auto parsed = scenario::parse_script(path, text);
  REQUIRE(parsed.script);
  char pcap_path[] = "/tmp/tcplab-ladder-XXXXXX";
  int fd = mkstemp(pcap_path);
  REQUIRE(fd >= 0);
  close(fd);
  char* json_buffer = nullptr;
  size_t json_size = 0;
  std::FILE* json_file = open_memstream(&json_buffer, &json_size);
  REQUIRE(json_file);
  Recorded r;
  {
    link::PcapWriter pcap(pcap_path);
    REQUIRE(pcap.ok());
    pcap.set_origin(Instant{}, std::chrono::system_clock::time_point{} + std::chrono::seconds(1700000000));
    trace::JsonSink json(json_file);
    // Both sinks on one tracer via a fan-out sink, as RunOptions takes one.
    struct Both final : trace::Sink {
      trace::Sink* a;
      trace::Sink* b;
      Both(trace::Sink* x, trace::Sink* y) : a(x), b(y) {}
      void packet(Instant t, trace::Direction d, std::span<const std::byte> p) override {
        a->packet(t, d, p);
        b->packet(t, d, p);
      }
      void drop(Instant t, DropReason why, std::span<const std::byte> p, std::string_view d) override {
        a->drop(t, why, p, d);
        b->drop(t, why, p, d);
      }
      void segment(Instant t, const trace::SegmentEvent& e) override {
        a->segment(t, e);
        b->segment(t, e);
      }
      void state_change(Instant t, const FourTuple& c, std::string_view f, std::string_view to,
                        std::string_view rule) override {
        a->state_change(t, c, f, to, rule);
        b->state_change(t, c, f, to, rule);
      }
      void note(Instant t, const FourTuple* c, std::string_view text) override {
        a->note(t, c, text);
        b->note(t, c, text);
      }
    } both(&pcap, &json);
    scenario::RunOptions options;
    options.sinks.push_back(&both);
    auto result = scenario::run_script(*parsed.script, options);
    REQUIRE(result.passed);
  }
  std::fclose(json_file);
  r.json.assign(json_buffer, json_size);
  std::free(json_buffer);
  r.pcap = read_bytes(pcap_path);
  std::remove(pcap_path);
  return r;
}

void compare_with_golden(const std::string& actual, const std::string& golden_path) {
  if (const char* update = std::getenv("TCPLAB_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(golden_path, std::ios::binary) << actual;
  }
  std::string expected = read_text(golden_path);
  REQUIRE_MESSAGE(!expected.empty(), "missing golden file " << golden_path);
  CHECK_MESSAGE(actual == expected, "ladder differs from " << golden_path << ":\n" << actual);
}

std::string ladder_of(std::span<const std::byte> file, ladder::LadderOptions options = {}) {
  std::string error;
  auto input = ladder::read_input(file, error);
  REQUIRE_MESSAGE(input, error);
  return ladder::render_text(ladder::build_ladder(*input, options));
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("ladder golden: passive close from the pcap (states inferred)") {
  auto r = record("passive-close");
  compare_with_golden(ladder_of(r.pcap), "tests/ladder/passive-close.pcap.txt");
}

TEST_CASE("ladder golden: passive close from the JSON trace (states exact)") {
  auto r = record("passive-close");
  compare_with_golden(ladder_of(as_bytes(r.json)), "tests/ladder/passive-close.json.txt");
}

TEST_CASE("ladder golden: passive open with absolute numbers") {
  auto r = record("passive-open");
  compare_with_golden(ladder_of(r.pcap, {true}), "tests/ladder/passive-open-absolute.txt");
}
