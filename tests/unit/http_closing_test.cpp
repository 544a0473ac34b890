// The HTTP server on the real sans-IO stack, driven by a scripted peer on a virtual clock:
// which way a connection ends on the wire. An idle timeout is a FIN, then FIN-WAIT-2 and
// TIME-WAIT (or a silent drop after --fin-timeout, never an RST); a lingering close after
// Connection: close resets only a client that keeps sending and never closes.
#include <doctest/doctest.h>

#include <string>

#include "http/server.hpp"
#include "http/stats.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::State;

namespace {

struct Lab {
  explicit Lab(http::ServerConfig http_config = {}, Duration fin_timeout = seconds(60))
      : peer(config(fin_timeout)), server(peer.stack.tcp(), http_config) {
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
  // Bytes after this FIN would start a lingering close: the server keeps the socket.
  CHECK(lab.server.sessions() == 1);
  CHECK(lab.peer.stack.tcp().stats().fin_wait_2_records == 0);
  // The client keeps sending (a request it pipelined), never closes.
  lab.wait(milliseconds(500));
  lab.send("P.", "GET /more HTTP/1.1\r\n");
  lab.take_and_ack();
  CHECK(lab.server.stats().lingering_closes == 1);
  lab.wait(milliseconds(500));
  lab.send("P.", "Host: x\r\n\r\n");
  lab.take_and_ack();
  CHECK_FALSE(lab.any_rst());
  lab.wait(seconds(2));  // --linger after the lingering close began
  lab.take_and_ack();
  CHECK(lab.any_rst());
  CHECK_FALSE(lab.state().has_value());
  CHECK(lab.server.stats().lingering_aborts == 1);
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
