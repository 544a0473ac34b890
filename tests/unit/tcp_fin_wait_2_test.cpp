// Tests for FIN-WAIT-2: the --fin-timeout deviation (a silent drop, no RST, when the peer never
// sends its FIN), the usual way on to TIME-WAIT when it does, and the buffer memory a
// connection gives back once it has nothing left to send or deliver.
#include <doctest/doctest.h>

#include "stack/tcp/byte_ring.hpp"
#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

namespace {

StackConfig fin_timeout_config(Duration fin_timeout) {
  auto config = default_stack_config();
  config.tcp.fin_timeout = fin_timeout;
  config.tcp.msl = seconds(1);
  return config;
}

// Data both ways, then our FIN acknowledged: the connection sits in FIN-WAIT-2.
void exchange_then_close(Established& c) {
  c.peer_sends("P.", "request");
  std::string reply = "response";
  REQUIRE(c.socket->send(bytes_of(reply)) == reply.size());
  c.socket->close();
  auto out = c.peer.take();
  REQUIRE_FALSE(out.empty());
  CHECK(out.back().flags.fin);
  c.our_nxt += static_cast<uint32_t>(reply.size()) + 1;  // the data and our FIN
  c.peer_acks(c.our_nxt);
  REQUIRE(c.socket->state() == State::FinWait2);
}

}  // namespace

TEST_CASE("tcp: FIN-WAIT-2 let go of, without the peer's FIN, ends silently after --fin-timeout") {
  Established c(fin_timeout_config(seconds(60)));
  exchange_then_close(c);
  INFO(c.peer.dump());
  c.peer.advance(seconds(30));
  REQUIRE(c.socket->release());  // the application gives the socket up: the timeout starts now
  c.peer.advance(seconds(60) - milliseconds(1));
  REQUIRE(c.peer.stack.tcp().connections().size() == 1);
  CHECK(c.peer.stack.tcp().connections()[0].state == State::FinWait2);
  c.peer.advance(milliseconds(1));
  CHECK(c.peer.take().empty());  // no RST, no segment at all
  CHECK(c.app.closed == 0);      // released: no callback is owed
  CHECK(c.peer.stack.tcp().connections().empty());  // no TIME-WAIT either
  const auto& stats = c.peer.stack.tcp().stats();
  CHECK(stats.fin_timeouts == 1);
  CHECK(stats.resets_sent == 0);
  CHECK(stats.connections_current == 0);
  CHECK(stats.connections_time_wait == 0);
}

TEST_CASE("tcp: a half-closed socket its application still holds has no FIN-WAIT-2 timeout") {
  // Linux applies tcp_fin_timeout only to orphaned sockets: after shutdown(SHUT_WR) the peer
  // may go on sending for as long as it likes, and the application reading it decides.
  Established c(fin_timeout_config(seconds(60)));
  exchange_then_close(c);
  INFO(c.peer.dump());
  for (int minute = 0; minute < 3; ++minute) {
    c.peer.advance(seconds(59));
    REQUIRE(c.app.closed == 0);
    c.peer_sends("P.", "more");
  }
  c.peer.advance(seconds(300));  // and silence, longer than the --fin-timeout
  CHECK(c.socket->state() == State::FinWait2);
  CHECK(c.app.received == "requestmoremoremore");
  CHECK(c.app.closed == 0);
  CHECK(c.peer.stack.tcp().stats().fin_timeouts == 0);
  c.peer_sends("F.", "");
  CHECK(c.app.closed == 1);
  CHECK(c.app.reason == CloseReason::Normal);
}

TEST_CASE("tcp: the TCB snapshot (step mode, inspectors) lists the armed fin-wait-2 timer") {
  auto config = fin_timeout_config(seconds(60));
  config.tcp.compact_fin_wait_2 = false;  // the full connection, whose snapshot lists timers
  Established c(config);
  exchange_then_close(c);
  const auto tuple = c.socket->tuple();
  REQUIRE(c.socket->release());
  auto snap = c.peer.stack.tcp().snapshot(tuple);
  REQUIRE(snap);
  bool listed = false;
  for (const auto& t : snap->timers) listed = listed || t.name == std::string_view("fin-wait-2");
  CHECK(listed);
}

TEST_CASE("tcp: the peer's FIN in FIN-WAIT-2 cancels the fin-timeout: TIME-WAIT lasts 2 MSL") {
  Established c(fin_timeout_config(seconds(3)));
  exchange_then_close(c);
  INFO(c.peer.dump());
  c.peer.advance(seconds(3) - milliseconds(1));
  c.peer_sends("F.", "");
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  // on_closed came with TIME-WAIT, so the socket is gone: the host's table shows the state.
  REQUIRE(c.peer.stack.tcp().connections().size() == 1);
  CHECK(c.peer.stack.tcp().connections()[0].state == State::TimeWait);
  c.peer.advance(seconds(2) - milliseconds(1));  // past the fin-timeout, inside 2 MSL
  CHECK(c.peer.stack.tcp().connections().size() == 1);
  CHECK(c.peer.stack.tcp().connections()[0].state == State::TimeWait);
  c.peer.advance(milliseconds(1));
  CHECK(c.peer.stack.tcp().connections().empty());
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.tcp().stats().fin_timeouts == 0);
  CHECK(c.app.reason == CloseReason::Normal);
}

TEST_CASE("tcp: a connection in FIN-WAIT-2 or TIME-WAIT holds no buffer memory") {
  Established c(fin_timeout_config(seconds(60)));
  c.peer_sends("P.", "request");
  std::string reply = "response";
  REQUIRE(c.socket->send(bytes_of(reply)) == reply.size());
  // The request was read, so the receive ring gave its storage back; the reply waits for its
  // ACK in the send ring's first, small allocation (stack/tcp/byte_ring.hpp).
  CHECK(c.socket->info().buffer_bytes == tcp::ByteRing::kInitialStorage);
  c.socket->close();
  c.peer.take();
  c.our_nxt += static_cast<uint32_t>(reply.size()) + 1;
  c.peer_acks(c.our_nxt);
  REQUIRE(c.socket->state() == State::FinWait2);
  CHECK(c.socket->info().buffer_bytes == 0);
  // The peer may still send in FIN-WAIT-2: the receive buffer comes back for it, and goes
  // again once the application has read it...
  c.peer_sends("P.", "more");
  CHECK(c.app.received == "requestmore");
  CHECK(c.socket->info().buffer_bytes == 0);
  // ...and TIME-WAIT gives it back again.
  c.peer_sends("F.", "");
  CHECK(c.peer.stack.tcp().connections().at(0).state == State::TimeWait);
  CHECK(c.peer.stack.tcp().connections().at(0).buffer_bytes == 0);
}

TEST_CASE("tcp: unread bytes keep the receive buffer in FIN-WAIT-2") {
  Established c(fin_timeout_config(seconds(60)));
  c.app.read_on_readable = false;
  c.peer_sends("P.", "unread");
  c.socket->close();
  c.peer.take();
  c.our_nxt += 1;
  c.peer_acks(c.our_nxt);
  REQUIRE(c.socket->state() == State::FinWait2);
  CHECK(c.socket->info().buffer_bytes == tcp::ByteRing::kInitialStorage);
  std::byte buf[16];
  CHECK(c.socket->receive(buf) == 6);  // still readable: nothing was lost
}
