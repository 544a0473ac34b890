// One stack driven by a test peer, with everything it says recorded: each segment it sends
// as a line, its text trace, its counters. The compact-record tests (TIME-WAIT, FIN-WAIT-2)
// send the same segments to a record and to a full connection and compare all three.
#pragma once
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "stack/trace/text_sink.hpp"
#include "tests/unit/tcp_peer.hpp"

namespace tcplab::testing {

struct RecordedRun {
  // A stack with `config`, listening on port 80, the peer's ISN `peer_isn`.
  RecordedRun(const StackConfig& config, Seq peer_isn) : peer(config) {
    peer.isn = peer_isn;
    trace_file = open_memstream(&trace_text, &trace_size);
    REQUIRE(trace_file != nullptr);
    sink = std::make_unique<trace::TextSink>(trace_file);
    peer.tracer.add(sink.get());
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  }
  ~RecordedRun() {
    peer.tracer.clear();
    if (trace_file) std::fclose(trace_file);
    std::free(trace_text);
  }
  RecordedRun(const RecordedRun&) = delete;
  RecordedRun& operator=(const RecordedRun&) = delete;

  std::string trace() {
    std::fflush(trace_file);
    return std::string(trace_text, trace_size);
  }
  // Sends from the peer, with a TSval unless `tsval` is 0, and records what came back.
  void send(const std::string& flags, Seq seq, Seq ack, const std::string& data = {}, uint32_t tsval = 1) {
    auto seg = Peer::make(flags, seq, ack, 1000, bytes_of(data));
    if (tsval != 0) seg.options.timestamps = wire::TcpTimestamps{tsval, 0};
    peer.inject(seg, 80);
    collect();
  }
  void advance(Duration d) {
    peer.advance(d);
    collect();
  }
  void collect() {
    for (const auto& s : peer.take()) {
      std::string line = s.flags.to_string() + " " + std::to_string(s.seq.raw()) + " " +
                         std::to_string(s.ack.raw()) + " win " + std::to_string(s.window);
      if (s.options.timestamps)
        line += " ts " + std::to_string(s.options.timestamps->value) + "/" +
                std::to_string(s.options.timestamps->echo_reply);
      line += " sack " + std::to_string(s.options.sack_blocks);
      for (size_t i = 0; i < s.options.sack_blocks; ++i)
        line += " " + std::to_string(s.options.sack[i].left.raw()) + "-" +
                std::to_string(s.options.sack[i].right.raw());
      sent.push_back(line);
    }
  }
  // The counters a record and a full connection must move alike.
  std::string counters() {
    const auto& s = peer.stack.tcp().stats();
    auto n = [](uint64_t v) { return std::to_string(v); };
    std::string out = "segments " + n(s.segments_received) + "/" + n(s.segments_sent);
    out += " resets " + n(s.resets_sent) + "/" + n(s.resets_received);
    out += " challenge " + n(s.challenge_acks_sent) + " suppressed " + n(s.invalid_acks_suppressed);
    out += " current " + n(s.connections_current) + " time-wait " + n(s.connections_time_wait);
    out += " fin-timeouts " + n(s.fin_timeouts) + " drops";
    for (size_t i = 0; i < kDropReasonCount; ++i)
      out += " " + std::to_string(peer.stack.tcp().drops().get(static_cast<DropReason>(i)));
    return out;
  }

  Peer peer;
  RecordingAccept acceptor;
  RecordingHandler app;
  char* trace_text = nullptr;
  size_t trace_size = 0;
  std::FILE* trace_file = nullptr;
  std::unique_ptr<trace::TextSink> sink;
  std::vector<std::string> sent;
};

}  // namespace tcplab::testing
