// The HTTP server on the real sans-IO stack, driven by a scripted peer on a virtual clock:
// which way a connection ends on the wire. An idle timeout is a FIN, then FIN-WAIT-2 and
// TIME-WAIT (or a silent drop after --fin-timeout, never an RST); a lingering close after
// Connection: close resets only a client that keeps sending and never closes.
#include <doctest/doctest.h>

#include <list>
#include <memory>
#include <string>

#include "http/server.hpp"
#include "http/stats.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::State;

namespace {

// A TCP that cannot let go (as the kernel's): every socket it hands out forwards to the real
// connection but refuses release(), so the session keeps it to the end and does the
// lingering close itself - the path every Connection: close took before TCP could linger.
struct KeptSocket final : tcp::Socket {
  explicit KeptSocket(tcp::Socket& s) : inner(s) {}
  void set_handler(tcp::SocketHandler* h) override { inner.set_handler(h); }
  size_t send(std::span<const std::byte> d) override { return inner.send(d); }
  size_t send_space() const override { return inner.send_space(); }
  size_t send_queued() const override { return inner.send_queued(); }
  std::optional<Instant> last_acknowledged() const override { return inner.last_acknowledged(); }
  size_t receive(std::span<std::byte> out) override { return inner.receive(out); }
  size_t readable() const override { return inner.readable(); }
  bool peer_closed() const override { return inner.peer_closed(); }
  void push() override { inner.push(); }
  void close() override { inner.close(); }
  void abort() override { inner.abort(); }
  const FourTuple& tuple() const override { return inner.tuple(); }
  State state() const override { return inner.state(); }
  tcp::ConnectionInfo info() const override { return inner.info(); }
  tcp::Socket& inner;
};

struct KeepingProvider final : tcp::SocketProvider {
  explicit KeepingProvider(tcp::SocketProvider& p) : inner(p) {}
  bool listen(uint16_t port, tcp::AcceptHandler* h) override { return inner.listen(port, h); }
  tcp::Socket* accept(uint16_t port) override {
    tcp::Socket* s = inner.accept(port);
    if (!s) return nullptr;
    return kept.emplace_back(std::make_unique<KeptSocket>(*s)).get();
  }
  std::vector<tcp::ConnectionInfo> connections() const override { return inner.connections(); }
  const tcp::TcpStats& stats() const override { return inner.stats(); }
  const DropCounters& drops() const override { return inner.drops(); }
  tcp::SocketProvider& inner;
  std::list<std::unique_ptr<KeptSocket>> kept;  // outlive their connections: never used after on_closed
};

struct Lab {
  explicit Lab(http::ServerConfig http_config = {}, Duration fin_timeout = seconds(60), bool keep = false)
      : peer(config(fin_timeout)),
        keeper(peer.stack.tcp()),
        server(keep ? static_cast<tcp::SocketProvider&>(keeper) : peer.stack.tcp(), http_config) {
    REQUIRE(server.start());
    auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
    syn.options.mss = 1460;
    deliver(syn);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    our_nxt = out[0].seq + 1;
    peer_nxt = peer.isn + 1;
    deliver(Peer::make(".", peer_nxt, our_nxt, 65535));
    REQUIRE(server.sessions() == 1);
  }
  static StackConfig config(Duration fin_timeout) {
    auto c = default_stack_config();
    c.tcp.msl = seconds(1);
    c.tcp.fin_timeout = fin_timeout;
    return c;
  }
  // Like the event loop: a packet, then every timed client advanced with the same time.
  void deliver(wire::TcpSegment seg) {
    peer.inject(seg, 80);
    server.advance(peer.now);
  }
  void wait(Duration d) {
    peer.advance(d);
    server.advance(peer.now);
  }
  void send(const std::string& flags, const std::string& data) {
    auto seg = Peer::make(flags, peer_nxt, our_nxt, 65535, bytes_of(data));
    deliver(seg);
    peer_nxt += static_cast<uint32_t>(seg.length());
  }
  // Takes what the server sent, acknowledges all of it (and its FIN), returns it.
  std::vector<Sent> take_and_ack() {
    auto out = peer.take();
    for (const auto& s : out) {
      sent.push_back(s);
      Seq end = s.seq + static_cast<uint32_t>(s.payload.size()) + (s.flags.fin ? 1u : 0u);
      if (our_nxt < end) our_nxt = end;
    }
    if (!out.empty()) deliver(Peer::make(".", peer_nxt, our_nxt, 65535));
    return out;
  }
  bool any_rst() const {
    for (const auto& s : sent)
      if (s.flags.rst) return true;
    return false;
  }
  std::optional<State> state() {
    auto list = peer.stack.tcp().connections();
    if (list.empty()) return std::nullopt;
    return list[0].state;
  }

  Peer peer;
  KeepingProvider keeper;
  http::Server server;
  Seq peer_nxt, our_nxt;
  std::vector<Sent> sent;  // everything the server sent, in order
};

const std::string kGet = "GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

TEST_CASE("http close: idle timeout -> FIN, FIN-WAIT-2, client FIN -> TIME-WAIT -> CLOSED after 2 MSL") {
  Lab lab;
  INFO(lab.peer.dump());
  lab.send("P.", kGet);
  REQUIRE_FALSE(lab.take_and_ack().empty());  // the response
  lab.wait(seconds(5) - milliseconds(1));
  CHECK(lab.peer.take().empty());
  lab.wait(milliseconds(1));  // --keepalive-timeout 5 s
  auto fin = lab.take_and_ack();
  REQUIRE(fin.size() == 1);
  CHECK(fin[0].flags.to_string() == "F.");
  CHECK(lab.state() == State::FinWait2);
  // The server let go: no session, and TCP holds FIN-WAIT-2 as a compact record.
  CHECK(lab.server.sessions() == 0);
  CHECK(lab.server.stats().connections_open == 0);
  CHECK(lab.peer.stack.tcp().stats().fin_wait_2_records == 1);
  CHECK(lab.peer.stack.tcp().stats().full_tcbs == 0);
  lab.wait(seconds(10));  // far past the old 2 s linger: still waiting, nothing sent
  CHECK(lab.peer.take().empty());
  CHECK(lab.state() == State::FinWait2);
  lab.send("F.", "");
  CHECK(lab.state() == State::TimeWait);
  CHECK(lab.peer.stack.tcp().stats().fin_wait_2_records == 0);
  CHECK(lab.peer.stack.tcp().stats().time_wait_records == 1);
  lab.take_and_ack();  // the ACK of the client's FIN
  lab.wait(seconds(2) - milliseconds(1));
  CHECK(lab.state() == State::TimeWait);
  lab.wait(milliseconds(1));
  CHECK_FALSE(lab.state().has_value());
  CHECK_FALSE(lab.any_rst());
  CHECK(lab.server.sessions() == 0);
  CHECK(lab.server.stats().closed(http::CloseBy::Timeout) == 1);
  CHECK(lab.server.stats().lingering_aborts == 0);
}

TEST_CASE("http close: idle timeout, the client never closes -> dropped after --fin-timeout, no RST") {
  Lab lab({}, seconds(30));
  INFO(lab.peer.dump());
  lab.send("P.", kGet);
  lab.take_and_ack();
  lab.wait(seconds(5));
  REQUIRE(lab.take_and_ack().size() == 1);  // our FIN, acknowledged
  CHECK(lab.state() == State::FinWait2);
  lab.wait(seconds(30) - milliseconds(1));
  CHECK(lab.state() == State::FinWait2);
  lab.wait(milliseconds(1));
  CHECK_FALSE(lab.state().has_value());
  CHECK(lab.peer.take().empty());
  CHECK_FALSE(lab.any_rst());
  CHECK(lab.peer.stack.tcp().stats().fin_timeouts == 1);
  CHECK(lab.peer.stack.tcp().stats().resets_sent == 0);
  CHECK(lab.server.sessions() == 0);
}

TEST_CASE("http close: Connection: close with request bytes still arriving -> lingering close, then RST") {
  http::ServerConfig c;
  c.linger = seconds(2);
  Lab lab(c);
  INFO(lab.peer.dump());
  lab.send("P.", "GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto out = lab.take_and_ack();  // the response and our FIN, acknowledged: FIN-WAIT-2
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().flags.fin);
  CHECK(lab.state() == State::FinWait2);
  // Bytes after this FIN would start a lingering close, which TCP does for the server: the
  // session let go, and FIN-WAIT-2 is a compact record that lingers on data.
  CHECK(lab.server.sessions() == 0);
  CHECK(lab.peer.stack.tcp().stats().fin_wait_2_records == 1);
  CHECK(lab.peer.stack.tcp().stats().full_tcbs == 0);
  // The client keeps sending (a request it pipelined), never closes.
  lab.wait(milliseconds(500));
  lab.send("P.", "GET /more HTTP/1.1\r\n");
  auto acks = lab.take_and_ack();
  REQUIRE(acks.size() == 1);  // acknowledged at once, and discarded
  CHECK(acks[0].flags.to_string() == ".");
  CHECK(acks[0].ack == lab.peer_nxt);
  CHECK(lab.peer.stack.tcp().stats().lingering_closes == 1);
  lab.wait(milliseconds(500));
  lab.send("P.", "Host: x\r\n\r\n");
  lab.take_and_ack();
  CHECK_FALSE(lab.any_rst());
  lab.wait(seconds(2) - milliseconds(501));  // --linger from the first late bytes, less 1 ms
  CHECK(lab.peer.take().empty());
  lab.wait(milliseconds(1));
  auto rst = lab.peer.take();
  REQUIRE(rst.size() == 1);
  CHECK(rst[0].flags.to_string() == "R");
  CHECK(rst[0].seq == lab.our_nxt);
  CHECK_FALSE(lab.state().has_value());
  CHECK(lab.peer.stack.tcp().stats().lingering_resets == 1);
  CHECK(lab.peer.stack.tcp().stats().resets_sent == 1);
  CHECK(lab.peer.stack.tcp().stats().fin_wait_2_records == 0);
  CHECK(lab.peer.stack.tcp().stats().fin_timeouts == 0);
}

TEST_CASE("http close: Connection: close and nothing more from the client -> FIN, no RST after --linger") {
  http::ServerConfig c;
  c.linger = seconds(2);
  Lab lab(c, seconds(20));
  INFO(lab.peer.dump());
  lab.send("P.", "GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  lab.take_and_ack();
  CHECK(lab.state() == State::FinWait2);
  lab.wait(seconds(19));
  CHECK(lab.state() == State::FinWait2);
  lab.send("F.", "");
  lab.take_and_ack();
  CHECK(lab.state() == State::TimeWait);
  CHECK_FALSE(lab.any_rst());
  CHECK(lab.server.stats().lingering_closes == 0);
}

TEST_CASE("http close: a request crossing the idle-timeout FIN is acknowledged and discarded, no RST") {
  Lab lab({}, seconds(30));
  INFO(lab.peer.dump());
  lab.send("P.", kGet);
  lab.take_and_ack();
  lab.wait(seconds(5));
  REQUIRE(lab.take_and_ack().size() == 1);  // our FIN, acknowledged
  REQUIRE(lab.peer.stack.tcp().stats().fin_wait_2_records == 1);
  lab.send("P.", kGet);  // sent before the client saw our FIN
  auto out = lab.peer.take();
  REQUIRE(out.size() == 1);  // an ACK of the request, at once, and nothing else
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == lab.peer_nxt);
  CHECK(out[0].payload.empty());
  CHECK(lab.server.stats().lingering_closes == 0);
  CHECK(lab.peer.stack.tcp().stats().fin_wait_2_records == 1);
  lab.send("F.", "");
  CHECK(lab.state() == State::TimeWait);
  CHECK_FALSE(lab.any_rst());
  CHECK(lab.peer.stack.tcp().stats().resets_sent == 0);
  CHECK(lab.server.stats().requests_served == 1);
}

namespace {

// What the server does after Connection: close when the client keeps its side open and sends
// more, one line per segment out: when (ms since the response), flags, relative SEQ and ACK,
// window, length. `keep`: the session holds the socket and lingers itself (before); otherwise
// it lets go and TCP's FIN-WAIT-2 record lingers for it.
enum class Late { NeverCloses, FinBeforeLinger, ResetByPeer, ProbeAndOldSegment };

struct Replay {
  std::vector<long> at;  // ms since the response, per segment in `wire`
  std::vector<std::string> wire;
  tcp::TcpStats tcp;
  http::ServerStats http;
  bool compact = false;
  bool gone = false;
};

Replay replay(Late late, bool keep) {
  http::ServerConfig c;
  c.linger = seconds(2);
  Lab lab(c, seconds(60), keep);
  Replay r;
  Seq our_iss = lab.our_nxt - 1, peer_iss = lab.peer.isn;
  Instant start = lab.peer.now;
  auto collect = [&] {
    auto out = lab.peer.take();
    bool owed = false;  // the peer acknowledges what it got, as take_and_ack, but not a RST
    for (const auto& s : out) {
      Seq end = s.seq + static_cast<uint32_t>(s.payload.size()) + (s.flags.fin ? 1u : 0u);
      if (lab.our_nxt < end) lab.our_nxt = end;
      if (!s.flags.rst && (s.flags.fin || !s.payload.empty())) owed = true;
      auto ms = std::chrono::duration_cast<milliseconds>(lab.peer.now - start).count();
      r.at.push_back(static_cast<long>(ms));
      r.wire.push_back(s.flags.to_string() + " " +
                       std::to_string(seq_distance(our_iss, s.seq)) + " " +
                       std::to_string(s.flags.ack ? seq_distance(peer_iss, s.ack) : 0) + " win " +
                       std::to_string(s.window) + " len " + std::to_string(s.payload.size()));
    }
    if (owed) lab.deliver(Peer::make(".", lab.peer_nxt, lab.our_nxt, 65535));
  };
  auto wait = [&](Duration d) {
    for (Duration step = milliseconds(10); d > Duration::zero(); d -= step) {
      lab.wait(std::min(step, d));
      collect();
    }
  };
  lab.send("P.", "GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  collect();  // the response with our FIN, acknowledged: FIN-WAIT-2
  r.compact = lab.peer.stack.tcp().stats().fin_wait_2_records == 1;
  wait(milliseconds(300));
  lab.send("P.", "GET /never HTTP/1.1\r\n");
  collect();
  wait(milliseconds(300));
  lab.send("P.", "Host: x\r\n");
  collect();
  switch (late) {
    case Late::NeverCloses:
      break;
    case Late::FinBeforeLinger:
      wait(milliseconds(1000));
      lab.send("F.", "");
      collect();
      break;
    case Late::ResetByPeer:
      wait(milliseconds(500));
      lab.deliver(Peer::make("R", lab.peer_nxt, Seq(0), 0));
      collect();
      break;
    case Late::ProbeAndOldSegment:
      wait(milliseconds(200));
      lab.deliver(Peer::make(".", lab.peer_nxt - 1, lab.our_nxt, 65535));  // keep-alive probe
      collect();
      lab.deliver(Peer::make("P.", lab.peer_nxt - 40000, lab.our_nxt, 65535, bytes_of("old")));
      collect();
      break;
  }
  wait(seconds(5));
  r.tcp = lab.peer.stack.tcp().stats();
  r.http = lab.server.stats();
  r.gone = lab.peer.stack.tcp().connections().empty() && lab.server.sessions() == 0;
  return r;
}

}  // namespace

TEST_CASE("http close: the lingering FIN-WAIT-2 record answers as the session's lingering close did") {
  for (Late late : {Late::NeverCloses, Late::FinBeforeLinger, Late::ResetByPeer, Late::ProbeAndOldSegment}) {
    CAPTURE(static_cast<int>(late));
    Replay before = replay(late, true);
    Replay now = replay(late, false);
    CHECK_FALSE(before.compact);
    CHECK(now.compact);
    REQUIRE(before.wire.size() >= 3);  // the response and ACKs of the late bytes at least
    // The same segments, fields for fields.
    CHECK(now.wire == before.wire);
    // At the same times, but for one difference: a released connection acknowledges data at
    // once (nobody will answer, so no response can carry the ACK), where the session's
    // connection delayed it by the delayed-ACK timeout (200 ms, RFC 9293 §3.8.6.3).
    bool same_times = now.at.size() == before.at.size();
    for (size_t i = 0; same_times && i < now.at.size(); ++i) {
      long lag = before.at[i] - now.at[i];
      bool delayed_ack = now.wire[i].rfind(". ", 0) == 0 && (lag == 0 || lag == 200);
      if (lag != 0 && !delayed_ack) same_times = false;
    }
    CHECK(same_times);
    if (now.wire != before.wire || !same_times) {
      std::string a, b;
      for (size_t i = 0; i < before.wire.size(); ++i)
        a += std::to_string(before.at[i]) + " " + before.wire[i] + "\n";
      for (size_t i = 0; i < now.wire.size(); ++i) b += std::to_string(now.at[i]) + " " + now.wire[i] + "\n";
      MESSAGE("session lingering:\n" << a << "record lingering:\n" << b);
    }
    // The RST, where there is one, leaves at the same moment: --linger after the first late bytes.
    for (size_t i = 0; i < now.wire.size() && i < before.wire.size(); ++i)
      if (now.wire[i][0] == 'R') CHECK(now.at[i] == before.at[i]);
    for (size_t i = 0; i < now.wire.size(); ++i)
      if (now.wire[i][0] == 'R') CHECK(now.at[i] == 300 + 2000);
    CHECK(before.gone);
    CHECK(now.gone);
    // The same counts, whoever lingered: the session (HTTP) or TCP.
    CHECK(now.http.lingering_closes + now.tcp.lingering_closes ==
          before.http.lingering_closes + before.tcp.lingering_closes);
    CHECK(now.http.lingering_aborts + now.tcp.lingering_resets ==
          before.http.lingering_aborts + before.tcp.lingering_resets);
    CHECK(before.http.lingering_closes == 1);
    CHECK(before.tcp.lingering_closes == 0);
    CHECK(now.tcp.lingering_closes == 1);
    CHECK(now.tcp.resets_sent == before.tcp.resets_sent);
    CHECK(now.tcp.resets_sent == (late == Late::NeverCloses || late == Late::ProbeAndOldSegment ? 1 : 0));
    CHECK(now.http.requests_served == 1);
  }
}
