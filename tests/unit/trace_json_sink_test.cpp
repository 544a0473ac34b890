// Tests for the JSON Lines trace (stack/trace/json_sink.*): exact objects per event kind,
// stable keys, and escaping that keeps every line valid JSON whatever the text holds.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "stack/trace/json_sink.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/unit/capture_test_files.hpp"

using namespace tcplab;
using namespace tcplab::trace;

namespace {

std::vector<std::string> run_sink(void (*fill)(JsonSink&)) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    JsonSink sink(f);
    fill(sink);
  }
  std::fflush(f);
  std::rewind(f);
  std::vector<std::string> lines;
  std::string cur;
  int c;
  while ((c = std::fgetc(f)) != EOF) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(c);
    }
  }
  std::fclose(f);
  if (!cur.empty()) lines.push_back(cur + "<no newline>");
  return lines;
}

const FourTuple kTuple{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40000};
const Instant t0 = Instant{} + seconds(50);

std::string escaped(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace

TEST_CASE("json trace: a segment with relative numbers, raw numbers and options") {
  auto lines = run_sink([](JsonSink& sink) {
    wire::TcpSegment syn;
    syn.source_port = 40000;
    syn.destination_port = 80;
    syn.seq = Seq(0xFFFFFFFF);  // the peer's ISN right at the wrap
    syn.flags.syn = true;
    syn.window = 64240;
    syn.options.mss = 1460;
    syn.options.sack_permitted = true;
    syn.options.timestamps = wire::TcpTimestamps{7, 0};
    syn.options.window_scale = 7;
    sink.segment(t0, SegmentEvent{Direction::In, kTuple, syn, true, Seq(1000), Seq(0xFFFFFFFF)});

    wire::TcpSegment synack;
    synack.source_port = 80;
    synack.destination_port = 40000;
    synack.seq = Seq(1000);
    synack.ack = Seq(0);  // irs + 1 wrapped
    synack.flags.syn = synack.flags.ack = true;
    synack.window = 65535;
    sink.segment(t0 + microseconds(250), SegmentEvent{Direction::Out, kTuple, synack, true, Seq(1000),
                                                      Seq(0xFFFFFFFF), "retransmission", true});
  });
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        R"({"t":0.000000,"event":"segment","dir":"in","src":"192.0.2.1:40000","dst":"192.0.2.2:80",)"
        R"("flags":"S","seq":0,"end":0,"len":0,"win":64240,"relative":true,"seq_raw":4294967295,)"
        R"("options":{"mss":1460,"wscale":7,"sack_permitted":true,"ts_val":7,"ts_ecr":0}})");
  CHECK(lines[1] ==
        R"({"t":0.000250,"event":"segment","dir":"out","src":"192.0.2.2:80","dst":"192.0.2.1:40000",)"
        R"("flags":"S.","seq":0,"end":0,"len":0,"ack":1,"win":65535,"relative":true,"seq_raw":1000,)"
        R"("ack_raw":0,"options":{},"note":"retransmission","retransmission":true})");
}

TEST_CASE("json trace: SACK blocks relative to the ISN they acknowledge (RFC 2018)") {
  auto lines = run_sink([](JsonSink& sink) {
    wire::TcpSegment ack;
    ack.source_port = 80;
    ack.destination_port = 40000;
    ack.seq = Seq(1001);
    ack.ack = Seq(100);  // the peer's ISN is 0xFFFFFFFF: relative 101
    ack.flags.ack = true;
    ack.window = 512;
    ack.options.sack_blocks = 2;
    ack.options.sack[0] = wire::SackBlock{Seq(1000), Seq(2000)};
    ack.options.sack[1] = wire::SackBlock{Seq(300), Seq(400)};
    sink.segment(t0, SegmentEvent{Direction::Out, kTuple, ack, true, Seq(1000), Seq(0xFFFFFFFF)});
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].ends_with(R"("options":{"sack_blocks":2,"sack":[[1001,2001],[301,401]]}})"));
}

TEST_CASE("json trace: numbers without known ISNs say relative false, except a SYN's own") {
  auto lines = run_sink([](JsonSink& sink) {
    wire::TcpSegment syn;
    syn.source_port = 40000;
    syn.destination_port = 80;
    syn.seq = Seq(123456);
    syn.flags.syn = true;
    syn.window = 1000;
    sink.segment(t0, SegmentEvent{Direction::In, kTuple, syn, false, Seq(), Seq()});
    wire::TcpSegment rst;
    rst.source_port = 80;
    rst.destination_port = 40000;
    rst.seq = Seq(0);
    rst.ack = Seq(123457);
    rst.flags.rst = rst.flags.ack = true;
    sink.segment(t0, SegmentEvent{Direction::Out, kTuple, rst, false, Seq(), Seq()});
  });
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        R"({"t":0.000000,"event":"segment","dir":"in","src":"192.0.2.1:40000","dst":"192.0.2.2:80",)"
        R"("flags":"S","seq":0,"end":0,"len":0,"win":1000,"relative":true,"seq_raw":123456,"options":{}})");
  CHECK(lines[1] ==
        R"({"t":0.000000,"event":"segment","dir":"out","src":"192.0.2.2:80","dst":"192.0.2.1:40000",)"
        R"("flags":"R.","seq":0,"end":0,"len":0,"ack":123457,"win":0,"relative":false,"seq_raw":0,)"
        R"("ack_raw":123457,"options":{}})");
}

TEST_CASE("json trace: state, timer, note and drop objects") {
  auto lines = run_sink([](JsonSink& sink) {
    sink.state_change(t0, kTuple, "LISTEN", "SYN-RECEIVED", "RFC 9293 §3.10.7.2");
    sink.timer(t0 + milliseconds(1), kTuple, "rto", TimerAction::Armed, t0 + milliseconds(201));
    sink.note(t0 + seconds(1), nullptr, "echo reply");
    sink.note(t0 + seconds(1), &kTuple, "accepted");
    std::vector<std::byte> tiny{std::byte{0x46}};
    sink.drop(t0 + seconds(2), DropReason::Ipv4Truncated, tiny, "1 < 20");
  });
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == R"({"t":0.000000,"event":"state","local":"192.0.2.2:80","remote":"192.0.2.1:40000",)"
                    R"("from":"LISTEN","to":"SYN-RECEIVED","rule":"RFC 9293 §3.10.7.2"})");
  CHECK(lines[1] == R"({"t":0.001000,"event":"timer","local":"192.0.2.2:80","remote":"192.0.2.1:40000",)"
                    R"("name":"rto","action":"armed","deadline":0.201000,"in":0.200000})");
  CHECK(lines[2] == R"({"t":1.000000,"event":"note","text":"echo reply"})");
  CHECK(
      lines[3] ==
      R"({"t":1.000000,"event":"note","local":"192.0.2.2:80","remote":"192.0.2.1:40000","text":"accepted"})");
  CHECK(lines[4] == R"({"t":2.000000,"event":"drop","reason":"ipv4-truncated","detail":"1 < 20","bytes":1,)"
                    R"("packet":"1 bytes: 46"})");
}

TEST_CASE("json trace: a fault on a TCP segment carries the segment's fields, others do not") {
  auto lines = run_sink([](JsonSink& sink) {
    auto segment = capture::test::ipv4_tcp({false, 40000, 0x18, 90001, 1001, 100, 512});
    sink.fault(t0, Direction::Out, "dropped (drop out data#1)", segment);
    std::vector<std::byte> tiny{std::byte{0x46}};
    sink.fault(t0, Direction::In, "dropped (drop in 1%)", tiny);
  });
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == R"x({"t":0.000000,"event":"fault","dir":"out","what":"dropped (drop out data#1)",)x"
                    R"x("bytes":140,"packet":"192.0.2.2:80 > 192.0.2.1:40000 P. seq 90001 ack 1001 win 512 )x"
                    R"x(len 100","src":"192.0.2.2:80","dst":"192.0.2.1:40000","flags":"P.","len":100,)x"
                    R"x("win":512,"seq_raw":90001,"ack_raw":1001})x");
  CHECK(lines[1] == R"x({"t":0.000000,"event":"fault","dir":"in","what":"dropped (drop in 1%)","bytes":1,)x"
                    R"x("packet":"1 bytes: 46"})x");
}

TEST_CASE("json escaping: quotes, backslashes, control characters") {
  CHECK(escaped("plain") == R"("plain")");
  CHECK(escaped("say \"hi\"") == R"("say \"hi\"")");
  CHECK(escaped("a\\b") == R"("a\\b")");
  CHECK(escaped("line1\nline2\r\t") == R"("line1\nline2\r\t")");
  CHECK(escaped(std::string_view("nul\0bell\x07"
                                 "del\x7f",
                                 13)) == R"("nul\u0000bell\u0007del\u007f")");
}

TEST_CASE("json escaping: valid UTF-8 passes, invalid bytes become U+FFFD") {
  CHECK(escaped("§3.10.7") == "\"§3.10.7\"");                             // 2-byte sequence
  CHECK(escaped("→ TIME-WAIT") == "\"→ TIME-WAIT\"");                     // 3-byte sequence
  CHECK(escaped("\xF0\x9F\x93\xA6") == "\"\xF0\x9F\x93\xA6\"");           // 4-byte sequence
  CHECK(escaped("a\xFFz") == R"("a\ufffdz")");                            // never valid
  CHECK(escaped("\xC0\xAF") == R"("\ufffd\ufffd")");                      // overlong '/'
  CHECK(escaped("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");            // a UTF-16 surrogate
  CHECK(escaped("cut \xE2\x86") == R"("cut \ufffd\ufffd")");              // truncated at the end
  CHECK(escaped("\xF4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // beyond U+10FFFF
}

namespace {
long long bytes_on_disk(std::FILE* f) {
  struct stat st {};
  REQUIRE(fstat(fileno(f), &st) == 0);
  return static_cast<long long>(st.st_size);
}
}  // namespace

TEST_CASE("json trace: a fully buffered file reaches the disk at the loop's next advance") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  std::vector<char> buffer(64 * 1024);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  {
    JsonSink sink(f);
    CHECK_FALSE(sink.next_deadline().has_value());  // nothing written, nothing to wake for
    sink.note(t0, nullptr, "first");
    sink.note(t0 + milliseconds(30), nullptr, "second");
    CHECK(bytes_on_disk(f) == 0);  // still in the buffer: no write() per event
    // Due at once, from the oldest unflushed event: the loop does not sleep on them.
    REQUIRE(sink.next_deadline().has_value());
    CHECK(*sink.next_deadline() == t0);
    sink.advance(t0 + milliseconds(30));
    auto flushed = bytes_on_disk(f);
    CHECK(flushed > 0);
    CHECK_FALSE(sink.next_deadline().has_value());
    sink.advance(t0 + milliseconds(40));  // nothing new: nothing written
    CHECK(bytes_on_disk(f) == flushed);
    sink.note(t0 + seconds(1), nullptr, "third");
    CHECK(*sink.next_deadline() == t0 + seconds(1));
    sink.flush();
    CHECK(bytes_on_disk(f) > flushed);
    CHECK_FALSE(sink.next_deadline().has_value());
  }
  std::fclose(f);
}

TEST_CASE("json trace: times print exactly as printf's %.6f of the seconds, ties included") {
  // Nanosecond offsets around every rounding case: ties (…500), just below and above them,
  // negative spans ("in" of a timer that fired late), and spans beyond the integer path.
  std::vector<int64_t> offsets{0,      1,          499,           500,           501,         1500,
                               2500,   999'999'499, 999'999'500,   999'999'501,  -1,          -500,
                               -1'500, -2'000'000,  1'234'567'890, 3'000'000'500, 86'400'000'000'999};
  offsets.push_back(int64_t{2'000'000} * 1'000'000'000 + 123'456'789);  // 2 million seconds
  uint64_t x = 0x9E3779B97F4A7C15u;  // a fixed xorshift sequence: the same cases every run
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    offsets.push_back(static_cast<int64_t>(x % 100'000'000'000'000) - 1'000'000'000'000);
  }
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    JsonSink sink(f);
    sink.note(t0, nullptr, "origin");
    for (int64_t ns : offsets)
      sink.timer(t0, kTuple, "rto", TimerAction::Armed, t0 + std::chrono::nanoseconds(ns));
  }
  std::rewind(f);
  std::vector<char> line(4096);
  REQUIRE(std::fgets(line.data(), static_cast<int>(line.size()), f) != nullptr);  // the origin note
  size_t mismatches = 0;
  for (int64_t ns : offsets) {
    REQUIRE(std::fgets(line.data(), static_cast<int>(line.size()), f) != nullptr);
    char want[64];
    std::snprintf(want, sizeof want, "%.6f", seconds_since(t0, t0 + std::chrono::nanoseconds(ns)));
    std::string got(line.data());
    std::string expect_deadline = std::string("\"deadline\":") + want + ",";
    std::string expect_in = std::string("\"in\":") + want + "}";
    if (got.find(expect_deadline) == std::string::npos || got.find(expect_in) == std::string::npos) {
      if (++mismatches <= 5) MESSAGE(got << " should have " << want);
    }
  }
  CHECK(mismatches == 0);
  std::fclose(f);
}
