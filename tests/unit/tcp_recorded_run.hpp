// One stack driven by a test peer, with everything it says recorded: each segment it sends
// as a line, its text trace, its counters. The compact-record tests (TIME-WAIT, FIN-WAIT-2)
// send the same segments to a record and to a full connection and compare all three.
#pragma once
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
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
    out += " challenge " + n(s.challenge_acks_sent) + "/" + n(s.challenge_acks_suppressed);
    out += " suppressed " + n(s.invalid_acks_suppressed);
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

// Where both sides of a test connection stand.
struct OpenConnection {
  tcp::Socket* socket = nullptr;
  Seq iss, peer_nxt, our_nxt;
  uint32_t peer_tsval = 5000;
  uint32_t our_tsval = 0;
};

// One connection from the peer's port `port` to port 80 (listening already), with timestamps,
// SACK and window scaling: a request, our 24-byte reply, and our FIN after it (the
// application closed), not yet acknowledged. The compact-record tests go on from there.
inline OpenConnection request_reply_close(Peer& peer, uint16_t port, RecordingHandler& app) {
  OpenConnection c;
  peer.set_port(port);
  auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
  syn.options.mss = 1460;
  syn.options.window_scale = 7;
  syn.options.sack_permitted = true;
  syn.options.timestamps = wire::TcpTimestamps{c.peer_tsval, 0};
  peer.inject(syn, 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  c.iss = out[0].seq;
  c.peer_nxt = peer.isn + 1;
  c.our_nxt = c.iss + 1;
  c.our_tsval = out[0].options.timestamps ? out[0].options.timestamps->value : 0;
  auto ack = Peer::make(".", c.peer_nxt, c.our_nxt, 1000);
  ack.options.timestamps = wire::TcpTimestamps{++c.peer_tsval, c.our_tsval};
  peer.inject(ack, 80);
  c.socket = peer.stack.tcp().accept(80);
  REQUIRE(c.socket != nullptr);
  c.socket->set_handler(&app);
  std::string request = "GET / HTTP/1.0\r\n\r\n";
  auto data = Peer::make("P.", c.peer_nxt, c.our_nxt, 1000, bytes_of(request));
  data.options.timestamps = wire::TcpTimestamps{++c.peer_tsval, c.our_tsval};
  peer.inject(data, 80);
  c.peer_nxt += static_cast<uint32_t>(request.size());
  std::string reply = "HTTP/1.0 200 OK\r\n\r\nhello";
  REQUIRE(c.socket->send(bytes_of(reply)) == reply.size());
  c.socket->close();
  c.our_nxt += static_cast<uint32_t>(reply.size()) + 1;  // the reply and our FIN
  return c;
}

// The peer's segment with `flags` at where it stands, carrying its next timestamp.
inline wire::TcpSegment stamped(OpenConnection& c, const char* flags) {
  auto s = Peer::make(flags, c.peer_nxt, c.our_nxt, 1000);
  s.options.timestamps = wire::TcpTimestamps{++c.peer_tsval, c.our_tsval};
  return s;
}

// Every connection in /tcp's table is a compact record in `state`: `count` of them, no
// buffer, the 24-byte reply still counted, and step mode sees one timer, `timer`.
inline void check_compact_records(Peer& peer, tcp::State state, std::string_view timer, size_t count) {
  auto table = peer.stack.tcp().connections();
  REQUIRE(table.size() == count);
  for (const auto& info : table) {
    CHECK(info.state == state);
    CHECK(info.buffer_bytes == 0);
    CHECK(info.bytes_sent == 24);  // the reply, kept for /tcp
  }
  auto snap = peer.stack.tcp().snapshot(table[0].tuple);
  REQUIRE(snap.has_value());
  CHECK(snap->state == state);
  REQUIRE(snap->timers.size() == 1);
  CHECK(snap->timers[0].name == timer);
}

}  // namespace tcplab::testing
