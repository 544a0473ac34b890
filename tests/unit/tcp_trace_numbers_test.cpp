// Tests for Connection::trace_segment: the numbers a connection's segments are traced with,
// relative to both ISNs as soon as the segment itself shows them (docs/observability.md).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "stack/trace/json_sink.hpp"
#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

// A temporary file, closed after everything that writes to it (declare it first).
struct TemporaryFile {
  std::FILE* f = std::tmpfile();
  ~TemporaryFile() {
    if (f) std::fclose(f);
  }
};

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  for (int c; (c = std::fgetc(f)) != EOF;) out += static_cast<char>(c);
  return out;
}

}  // namespace

TEST_CASE("tcp trace: the SYN-ACK arriving in SYN-SENT reads S. 0:0(0) ack 1, relative (RFC 9293 §3.4)") {
  TemporaryFile json_file;
  REQUIRE(json_file.f != nullptr);
  trace::JsonSink json(json_file.f);
  TraceRecorder trace;
  Peer peer;
  peer.tracer.add(&trace);
  peer.tracer.add(&json);
  peer.stack.advance(peer.now);

  RecordingHandler app;
  REQUIRE(peer.stack.tcp().connect(peer.ip, 8000, &app) != nullptr);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  peer.set_port(8000);
  // The peer's SYN carries its ISN, so the SYN-ACK itself is what tells us the peer's ISN.
  auto synack = Peer::make("S.", peer.isn, out[0].seq + 1, 29200);
  synack.options.mss = 1460;
  peer.inject(synack, out[0].source_port);
  REQUIRE(peer.take().size() == 1);

  REQUIRE(trace.segments.size() == 3);
  CHECK(trace.segments[0].rfind("Out S 0:0(0) win", 0) == 0);
  CHECK(trace.segments[1].rfind("In S. 0:0(0) ack 1 win 29200", 0) == 0);
  CHECK(trace.segments[2].rfind("Out . 1:1(0) ack 1 win", 0) == 0);

  std::string lines = contents(json_file.f);
  auto synack_line = lines.find(R"("flags":"S.")");
  REQUIRE(synack_line != std::string::npos);
  std::string line = lines.substr(synack_line, lines.find('\n', synack_line) - synack_line);
  CHECK(line.find(R"("seq":0,"end":0,"len":0,"ack":1,"win":29200,"relative":true,)") != std::string::npos);
}
