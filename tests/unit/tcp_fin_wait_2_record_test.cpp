// Tests for a FIN-WAIT-2 connection whose application let go of it (Socket::release): the
// host holds it as a compact record (stack/tcp/time_wait.*) and frees the Connection; the
// record answers every kind of segment exactly as the full connection does (same segments
// out, same trace lines, same counters), goes on to TIME-WAIT on the peer's FIN, and is
// dropped after --fin-timeout.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "stack/tcp/time_wait.hpp"
#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_recorded_run.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::State;

namespace {

StackConfig fin_wait_2_config(bool compact) {
  auto config = default_stack_config();
  config.tcp.msl = seconds(1);
  config.tcp.fin_timeout = seconds(5);
  config.tcp.compact_time_wait = compact;
  config.tcp.compact_fin_wait_2 = compact;
  return config;
}

// A plain passive open (no options) from port 40000 to 80: the accepted socket, handled by
// `app`, with where our next byte and the peer's next byte go.
struct Accepted {
  tcp::Socket* socket;
  Seq ours;
  Seq theirs;
};
Accepted accept_plain(Peer& peer, RecordingAccept& acceptor, RecordingHandler& app) {
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.set_port(40000);
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  Accepted a{nullptr, out[0].seq + 1, peer.isn + 1};
  peer.inject(Peer::make(".", a.theirs, a.ours, 65535), 80);
  a.socket = peer.stack.tcp().accept(80);
  REQUIRE(a.socket != nullptr);
  a.socket->set_handler(&app);
  return a;
}

// Where both sides stand once our FIN is acknowledged.
using Open = OpenConnection;

// request_reply_close, then the application lets go and the peer acknowledges everything:
// FIN-WAIT-2, the peer's side still open.
Open open_to_fin_wait_2(Peer& peer, uint16_t port, RecordingHandler& app,
                        std::optional<Duration> linger = std::nullopt) {
  Open c = request_reply_close(peer, port, app);
  REQUIRE(c.socket->release(linger));  // the application is done: no read, no callback from now on
  peer.inject(stamped(c, "."), 80);
  peer.take();
  REQUIRE(app.closed == 0);  // let go: on_closed is not owed any more
  return c;
}

// A whole run against one stack (tests/unit/tcp_recorded_run.hpp).
struct Run : RecordedRun {
  Run(bool compact, Seq peer_isn, std::optional<Duration> linger_on_data = std::nullopt)
      : RecordedRun(fin_wait_2_config(compact), peer_isn), linger(linger_on_data) {}
  bool held_compactly = false;     // in FIN-WAIT-2: a record and no Connection
  std::optional<Duration> linger;  // released with linger_on_data
};

// Everything a released FIN-WAIT-2 connection can be sent, in one run, then one ending.
enum class Ending { FinThenTimeWait, FinTimeout, ResetAtRcvNxt };

void drive(Run& run, Ending ending) {
  Open c = open_to_fin_wait_2(run.peer, 40000, run.app, run.linger);
  const auto& stats = run.peer.stack.tcp().stats();
  run.held_compactly = stats.fin_wait_2_records == 1 && stats.full_tcbs == 0;
  Seq rcv = c.peer_nxt;  // where the peer's next byte goes (RCV.NXT)
  uint32_t ts = c.peer_tsval + 1;
  run.advance(milliseconds(300));
  run.send(".", rcv, c.our_nxt, {}, ts++);                       // bare ACK: taken quietly
  run.send("P.", rcv, c.our_nxt, "late request", ts++);          // data: ACKed and discarded
  rcv += 12;
  run.send("P.", rcv - 12, c.our_nxt, "late request", ts++);     // the same again: D-SACK
  run.send("P.", rcv - 4, c.our_nxt, "uestMORE", ts++);          // overlaps RCV.NXT: trimmed
  rcv += 4;
  run.send("P.", rcv + 100, c.our_nxt, "beyond a hole", ts++);   // out of order: not kept
  run.send("F.", rcv + 200, c.our_nxt, {}, ts++);                // FIN beyond a hole: dup ACK
  run.send(".", rcv - 1, c.our_nxt, {}, ts++);                   // keep-alive probe: ACK
  run.send(".", rcv - 2000, c.our_nxt, {}, ts++);                // old bare ACK: dup ACK
  run.send(".", rcv - 2000, c.our_nxt, {}, ts++);                // again: rate-limited
  run.advance(milliseconds(600));
  run.send("R", rcv + 100, Seq(0), {}, 0);                       // RST in window: challenge
  run.send("R", rcv + 0x7fffffff, Seq(0), {}, 0);                // RST outside: dropped
  run.send(".", rcv, c.our_nxt + 5, {}, ts++);                   // ACK of unsent data
  run.advance(milliseconds(600));
  run.send(".", rcv, c.our_nxt - 0x40000000, {}, ts++);          // ACK far too old
  run.send(".", rcv, c.our_nxt, {}, 7);                          // PAWS: TSval went back
  run.send("P.", rcv, c.our_nxt, "paws", 8);                     // PAWS with data
  run.send("S", run.peer.isn, Seq(0), {}, ts++);                 // old duplicate SYN
  run.send("S", rcv + 100000, Seq(0), {}, ts++);                 // new SYN: challenge, no reopen
  run.send("SF", rcv, Seq(0), {}, ts++);                         // SYN+FIN: challenge ACK
  run.send("P", rcv, Seq(0), "no ack", ts++);                    // no ACK bit: dropped
  auto sacked = Peer::make(".", rcv, c.our_nxt, 2000);           // SACK block, new window
  sacked.options.timestamps = wire::TcpTimestamps{ts++, 0};
  sacked.options.sack[0] = wire::SackBlock{c.our_nxt - 5, c.our_nxt};
  sacked.options.sack_blocks = 1;
  run.peer.inject(sacked, 80);
  run.collect();
  run.send("F.", rcv - 1, c.our_nxt, {}, ts++);                  // a FIN below RCV.NXT: dup ACK
  run.send("P.", rcv, c.our_nxt, std::string(3000, 'x'), ts++);  // a larger write: discarded
  rcv += 3000;
  switch (ending) {
    case Ending::FinThenTimeWait:
      run.send("FP.", rcv, c.our_nxt, "bye", ts++);  // data and FIN: TIME-WAIT
      rcv += 4;
      run.advance(milliseconds(500));
      run.send("F.", rcv - 1, c.our_nxt, {}, ts++);  // retransmitted FIN: 2 MSL again
      run.send("P.", rcv, c.our_nxt, "after", ts++);  // text in TIME-WAIT: ignored
      run.advance(milliseconds(1999));
      REQUIRE(run.peer.stack.tcp().connections().size() == 1);
      run.advance(milliseconds(1));
      break;
    case Ending::FinTimeout:
      run.advance(seconds(3));
      // Lingering on data: reset at 2.3 s (--linger after the first late bytes), not kept.
      REQUIRE(run.peer.stack.tcp().connections().size() == (run.linger ? 0u : 1u));
      run.advance(seconds(2));
      break;
    case Ending::ResetAtRcvNxt:
      run.send("R", rcv, Seq(0), {}, 0);
      break;
  }
  run.advance(seconds(10));
}

}  // namespace

TEST_CASE("fin-wait-2 record: at most 256 bytes with its share of the table") {
  // A FIFO node (two pointers around the record), an index node (next pointer, the FIFO
  // iterator, the cached hash) and one bucket pointer at load factor <= 1.
  size_t per_connection = sizeof(tcp::TimeWaitRecord) + 2 * sizeof(void*) + 3 * sizeof(void*) + sizeof(void*);
  MESSAGE("sizeof(TimeWaitRecord) = " << sizeof(tcp::TimeWaitRecord) << ", with the table's share about "
                                      << per_connection);
  CHECK(per_connection <= 256);
}

TEST_CASE("fin-wait-2 record: N released connections hold N compact records and no Connection") {
  constexpr uint16_t kConnections = 50;
  Peer peer(fin_wait_2_config(true));
  RecordingAccept acceptor;
  std::vector<RecordingHandler> apps(kConnections);
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  for (uint16_t i = 0; i < kConnections; ++i) open_to_fin_wait_2(peer, 40000 + i, apps[i]);
  INFO(peer.dump());
  const auto& stats = peer.stack.tcp().stats();
  CHECK(stats.fin_wait_2_records == kConnections);
  CHECK(stats.full_tcbs == 0);
  CHECK(stats.connections_current == kConnections);
  CHECK(stats.connections_time_wait == 0);
  check_compact_records(peer, State::FinWait2, "fin-wait-2", kConnections);
  // The event loop wakes for the first --fin-timeout; then all are gone, silently.
  REQUIRE(peer.stack.next_deadline().has_value());
  CHECK(*peer.stack.next_deadline() == peer.now + seconds(5));
  peer.advance(seconds(5));
  CHECK(peer.take().empty());
  CHECK(stats.fin_wait_2_records == 0);
  CHECK(stats.fin_timeouts == kConnections);
  CHECK(stats.connections_current == 0);
  CHECK(peer.stack.tcp().connections().empty());
}

TEST_CASE("fin-wait-2 record: a connection the application did not let go stays whole") {
  Peer peer(fin_wait_2_config(true));
  RecordingAccept acceptor;
  RecordingHandler app;
  auto [socket, ours, theirs] = accept_plain(peer, acceptor, app);
  CHECK_FALSE(socket->release());  // not closed yet: nothing to let go of
  socket->close();
  peer.inject(Peer::make(".", theirs, ours + 1, 65535), 80);
  REQUIRE(socket->state() == State::FinWait2);
  CHECK(peer.stack.tcp().stats().fin_wait_2_records == 0);
  CHECK(peer.stack.tcp().stats().full_tcbs == 1);
  // It still reads: the peer's bytes reach the application.
  peer.inject(Peer::make("P.", theirs, ours + 1, 65535, bytes_of("hi")), 80);
  CHECK(app.received == "hi");
}

TEST_CASE("fin-wait-2 record: answers every segment exactly as the full connection") {
  for (Ending ending : {Ending::FinThenTimeWait, Ending::FinTimeout, Ending::ResetAtRcvNxt}) {
    CAPTURE(static_cast<int>(ending));
    Seq isn = draw_peer_isn();
    Run full(false, isn);
    Run compact(true, isn);
    drive(full, ending);
    drive(compact, ending);
    CHECK_FALSE(full.held_compactly);
    CHECK(compact.held_compactly);
    REQUIRE(full.sent.size() >= 12);  // the run did provoke answers (ACKs, challenge ACKs)
    CHECK(compact.sent == full.sent);
    CHECK(compact.counters() == full.counters());
    std::string full_trace = full.trace(), compact_trace = compact.trace();
    CHECK(full_trace.find("acknowledged and discarded") != std::string::npos);
    if (ending == Ending::FinThenTimeWait) {
      CHECK(full_trace.find("FIN-WAIT-2 -> TIME-WAIT") != std::string::npos);
      CHECK(full_trace.find("TIME-WAIT -> CLOSED") != std::string::npos);
    } else {
      CHECK(full_trace.find("FIN-WAIT-2 -> CLOSED") != std::string::npos);
    }
    CHECK(compact_trace == full_trace);
    if (compact_trace != full_trace) MESSAGE("full:\n" << full_trace << "\ncompact:\n" << compact_trace);
  }
}

TEST_CASE("fin-wait-2 record: bytes held beyond a hole at release are discarded once it fills") {
  Peer peer(fin_wait_2_config(true));
  RecordingAccept acceptor;
  RecordingHandler app;
  auto [socket, ours, theirs] = accept_plain(peer, acceptor, app);
  peer.inject(Peer::make("P.", theirs + 10, ours, 65535, bytes_of("later")), 80);  // beyond a hole
  socket->close();
  REQUIRE(socket->release());
  peer.inject(Peer::make(".", theirs, ours + 1, 65535), 80);  // our FIN acknowledged
  const auto& stats = peer.stack.tcp().stats();
  CHECK(stats.fin_wait_2_records == 0);  // the out-of-order bytes keep it whole
  CHECK(stats.full_tcbs == 1);
  peer.take();
  peer.inject(Peer::make("P.", theirs, ours + 1, 65535, bytes_of("0123456789")), 80);  // the hole
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == theirs + 15);  // everything taken, at once
  CHECK(app.readable == 0);          // and nobody told
  CHECK(app.received.empty());
  CHECK(stats.fin_wait_2_records == 1);
  CHECK(stats.full_tcbs == 0);
}

TEST_CASE("fin-wait-2 record: TCP keep-alive on does not keep a released connection whole") {
  // The keep-alive timer armed in ESTABLISHED has nothing to do in FIN-WAIT-2; left armed it
  // would stop the connection from becoming a record for the whole idle time.
  auto config = fin_wait_2_config(true);
  config.tcp.keepalive = tcp::TcpConfig::KeepAlive{seconds(30), seconds(5), 3};
  Peer peer(config);
  RecordingAccept acceptor;
  RecordingHandler app;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  open_to_fin_wait_2(peer, 40000, app);
  INFO(peer.dump());
  CHECK(peer.stack.tcp().stats().fin_wait_2_records == 1);
  CHECK(peer.stack.tcp().stats().full_tcbs == 0);
}

TEST_CASE("fin-wait-2 record: released with linger on data, answers exactly as the full connection") {
  // --linger 2 s from the first late bytes (at 300 ms): the FIN at about 1.5 s comes in time
  // (TIME-WAIT, no RST); a peer that never closes is reset at 2.3 s, before the 5 s
  // --fin-timeout; a RST from the peer ends it first.
  for (Ending ending : {Ending::FinThenTimeWait, Ending::FinTimeout, Ending::ResetAtRcvNxt}) {
    CAPTURE(static_cast<int>(ending));
    Seq isn = draw_peer_isn();
    Run full(false, isn, seconds(2));
    Run compact(true, isn, seconds(2));
    drive(full, ending);
    drive(compact, ending);
    CHECK_FALSE(full.held_compactly);
    CHECK(compact.held_compactly);
    REQUIRE(full.sent.size() >= 12);
    CHECK(compact.sent == full.sent);
    CHECK(compact.counters() == full.counters());
    const auto& stats = compact.peer.stack.tcp().stats();
    CHECK(stats.lingering_closes == 1);
    CHECK(full.peer.stack.tcp().stats().lingering_closes == 1);
    bool reset = ending == Ending::FinTimeout;
    CHECK(stats.lingering_resets == (reset ? 1u : 0u));
    CHECK(full.peer.stack.tcp().stats().lingering_resets == (reset ? 1u : 0u));
    CHECK(stats.fin_timeouts == 0);  // the linger ran out first
    if (reset) {
      REQUIRE_FALSE(compact.sent.empty());
      CHECK(compact.sent.back().rfind("R ", 0) == 0);  // the last segment: our RST
    }
    std::string full_trace = full.trace(), compact_trace = compact.trace();
    CHECK(full_trace.find(std::string(tcp::kLingerStartNote)) != std::string::npos);
    CHECK((full_trace.find(std::string(tcp::kLingerOverNote)) != std::string::npos) == reset);
    CHECK(compact_trace == full_trace);
    if (compact_trace != full_trace) MESSAGE("full:\n" << full_trace << "\ncompact:\n" << compact_trace);
  }
}

TEST_CASE("fin-wait-2 record: a lingering record is reset exactly --linger after the first late bytes") {
  Peer peer(fin_wait_2_config(true));
  RecordingAccept acceptor;
  RecordingHandler app;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  Open c = open_to_fin_wait_2(peer, 40000, app, milliseconds(1500));
  const auto& stats = peer.stack.tcp().stats();
  REQUIRE(stats.fin_wait_2_records == 1);
  CHECK(*peer.stack.next_deadline() == peer.now + seconds(5));  // the --fin-timeout, nothing else yet
  const std::string more = "more", again_text = "again";  // outlive the segments' payload views
  auto late = Peer::make("P.", c.peer_nxt, c.our_nxt, 1000, bytes_of(more));
  peer.inject(late, 80);
  REQUIRE(peer.take().size() == 1);  // the ACK
  CHECK(stats.fin_wait_2_records == 1);
  CHECK(*peer.stack.next_deadline() == peer.now + milliseconds(1500));
  auto snap = peer.stack.tcp().snapshot(peer.stack.tcp().connections()[0].tuple);
  REQUIRE(snap.has_value());
  REQUIRE(snap->timers.size() == 2);
  CHECK(snap->timers[1].name == "linger");
  peer.advance(milliseconds(1000));
  auto again = Peer::make("P.", c.peer_nxt + 4, c.our_nxt, 1000, bytes_of(again_text));
  peer.inject(again, 80);  // later bytes do not move the deadline
  REQUIRE(peer.take().size() == 1);
  peer.advance(milliseconds(499));
  CHECK(peer.take().empty());
  peer.advance(milliseconds(1));
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(stats.fin_wait_2_records == 0);
  CHECK(stats.connections_current == 0);
  CHECK(stats.lingering_resets == 1);
  CHECK(peer.stack.tcp().connections().empty());
}
