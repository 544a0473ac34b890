// Tests for stack/tcp/time_wait.* (and the host's use of it): a connection in TIME-WAIT is
// held as a compact record of at most 256 bytes and its Connection is freed; the record
// answers every kind of segment exactly as the full connection does (same segments out, same
// trace lines, same counters), and expires after 2 MSL.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "stack/tcp/time_wait.hpp"
#include "stack/wire/icmp.hpp"
#include "tests/unit/tcp_peer.hpp"
#include "tests/unit/tcp_recorded_run.hpp"
#include "tests/unit/tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::State;

namespace {

StackConfig time_wait_config(bool compact) {
  auto config = default_stack_config();
  config.tcp.msl = seconds(1);
  config.tcp.compact_time_wait = compact;
  return config;
}

// One connection closed by our side first (FIN-WAIT-1, FIN-WAIT-2), then the peer's FIN:
// TIME-WAIT (request_reply_close, then the peer's ACK and FIN).
using Closed = OpenConnection;

Closed open_and_close_first(Peer& peer, uint16_t port, RecordingHandler& app) {
  Closed c = request_reply_close(peer, port, app);
  peer.inject(stamped(c, "."), 80);
  peer.inject(stamped(c, "F."), 80);
  c.peer_nxt += 1;
  peer.take();
  REQUIRE(app.closed == 1);  // on_closed comes with TIME-WAIT: the socket is gone
  return c;
}

// A new SYN far above the old RCV.NXT, which reopens the TIME-WAIT connection `c`; its sequence
// number, for the peer's answers to our SYN,ACK.
Seq send_reopening_syn(Peer& peer, const Closed& c) {
  const Seq syn_seq = c.peer_nxt + 100000;
  auto syn = Peer::make("S", syn_seq, Seq(0), 65535);
  syn.options.mss = 1460;
  peer.inject(syn, 80);
  return syn_seq;
}

// A SYN carrying a timestamp, sent to the TIME-WAIT connection's 4-tuple: the one segment the
// stack answers with (TIME-WAIT's ACK, or the SYN,ACK of a reopened connection).
auto answer_to_timestamped_syn(Peer& peer, Seq seq, uint32_t tsval) {
  auto syn = Peer::make("S", seq, Seq(0), 65535);
  syn.options.mss = 1460;
  syn.options.timestamps = wire::TcpTimestamps{tsval, 0};
  peer.inject(syn, 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  return out[0];
}

// One connection in TIME-WAIT, held as a compact record or as its full connection, with the
// listener still on port 80 (the record-or-not tests run each check both ways).
struct TimeWaitOf {
  explicit TimeWaitOf(bool compact) : peer(time_wait_config(compact)) {
    peer.tracer.add(&trace);
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
    c = open_and_close_first(peer, 40000, app);
    REQUIRE(peer.stack.tcp().stats().connections_time_wait == 1);
    REQUIRE(peer.stack.tcp().stats().time_wait_records == (compact ? 1u : 0u));
  }
  Peer peer;
  TraceRecorder trace;
  RecordingAccept acceptor;
  RecordingHandler app;
  Closed c;
};

// A whole run against one stack (tests/unit/tcp_recorded_run.hpp).
struct Run : RecordedRun {
  Run(bool compact, Seq peer_isn) : RecordedRun(time_wait_config(compact), peer_isn) {}
};

// Everything a TIME-WAIT connection can be sent, in one run, then one of three endings.
enum class Ending { Expires, ResetAtRcvNxt, RstFinAtRcvNxt, ReopenedBySyn };

void drive(Run& run, Ending ending) {
  Closed c = open_and_close_first(run.peer, 40000, run.app);
  uint32_t ts = c.peer_tsval + 1;
  run.advance(milliseconds(300));
  run.send("F.", c.peer_nxt - 1, c.our_nxt, {}, ts++);             // retransmitted FIN: ACK, 2 MSL again
  run.send(".", c.peer_nxt, c.our_nxt, {}, ts++);                  // in-window bare ACK: taken quietly
  run.send(".", c.peer_nxt - 2000, c.our_nxt, {}, ts++);           // old bare ACK: dup ACK
  run.send(".", c.peer_nxt - 2000, c.our_nxt, {}, ts++);           // again: rate-limited
  run.send("P.", c.peer_nxt - 10, c.our_nxt, "0123456789", ts++);  // old data: always answered
  run.send("P.", c.peer_nxt - 4, c.our_nxt, "01234567", ts++);     // overlaps RCV.NXT: trimmed
  run.send("P.", c.peer_nxt, c.our_nxt, "late data", ts++);        // in window: text ignored
  run.advance(milliseconds(600));
  run.send("R", c.peer_nxt + 100, Seq(0), {}, 0);         // RST in window: challenge
  run.send("R", c.peer_nxt + 0x7fffffff, Seq(0), {}, 0);  // RST outside: dropped
  run.send("RF", c.peer_nxt + 100, Seq(0), {}, 0);        // RST+FIN in window: a RST
  run.send("SR", c.peer_nxt + 200, Seq(0), {}, 0);        // SYN+RST in window: a RST too
  run.send(".", c.peer_nxt, c.our_nxt + 5, {}, ts++);     // ACK of unsent data
  run.advance(milliseconds(600));
  run.send(".", c.peer_nxt, c.our_nxt - 0x40000000, {}, ts++);  // ACK far too old
  run.send(".", c.peer_nxt, c.our_nxt, {}, 7);                  // PAWS: TSval went back
  // SYNs without timestamps: the sequence number decides whether they reopen (RFC 6191 §2).
  run.send("S", run.peer.isn, Seq(0), {}, 0);                   // old duplicate SYN: ACK
  run.send("S", c.peer_nxt, Seq(0), {}, 0);                     // SYN at RCV.NXT: challenge
  run.send("S", c.peer_nxt + 50, Seq(0), {}, 7);                // TSval went back: PAWS ACK
  run.send("SF", c.peer_nxt, Seq(0), {}, ts++);                 // SYN+FIN: challenge ACK
  run.send("P", c.peer_nxt, Seq(0), "no ack", ts++);            // no ACK bit: dropped
  auto sacked = Peer::make(".", c.peer_nxt, c.our_nxt, 1000);   // SACK blocks: ignored
  sacked.options.timestamps = wire::TcpTimestamps{ts++, 0};
  sacked.options.sack[0] = wire::SackBlock{c.our_nxt - 5, c.our_nxt};
  sacked.options.sack_blocks = 1;
  run.peer.inject(sacked, 80);
  run.collect();
  run.send("F.", c.peer_nxt - 1, c.our_nxt, {}, ts++);  // the FIN once more
  switch (ending) {
    case Ending::Expires:
      run.advance(milliseconds(1999));
      REQUIRE(run.peer.stack.tcp().connections().size() == 1);
      run.advance(milliseconds(1));
      break;
    case Ending::ResetAtRcvNxt:
      run.send("R", c.peer_nxt, Seq(0), {}, 0);
      break;
    case Ending::RstFinAtRcvNxt:  // RFC 9293 §3.10.7.4: the RST bit (second) before the FIN
      run.send("RF", c.peer_nxt, Seq(0), {}, 0);
      break;
    case Ending::ReopenedBySyn: {
      auto syn = Peer::make("S", c.peer_nxt + 100000, Seq(0), 65535);
      syn.options.mss = 1460;
      run.peer.inject(syn, 80);
      run.collect();
      break;
    }
  }
  run.advance(seconds(10));
}

}  // namespace

TEST_CASE("time-wait: a compact record is at most 256 bytes") {
  MESSAGE("sizeof(TimeWaitRecord) = " << sizeof(tcp::TimeWaitRecord));
  CHECK(sizeof(tcp::TimeWaitRecord) <= 256);
}

TEST_CASE("time-wait: N connections in TIME-WAIT hold N compact records and no Connection") {
  constexpr uint16_t kConnections = 50;
  Peer peer(time_wait_config(true));
  RecordingAccept acceptor;
  std::vector<RecordingHandler> apps(kConnections);
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  for (uint16_t i = 0; i < kConnections; ++i) open_and_close_first(peer, 40000 + i, apps[i]);
  INFO(peer.dump());
  const auto& stats = peer.stack.tcp().stats();
  CHECK(stats.connections_time_wait == kConnections);
  CHECK(stats.time_wait_records == kConnections);
  CHECK(stats.full_tcbs == 0);
  CHECK(stats.connections_current == 0);
  // Step mode's view of one of them: the 2 MSL timer is the only one.
  check_compact_records(peer, State::TimeWait, "time-wait", kConnections);
  // The event loop wakes for the first expiry, and 2 MSL later all are gone.
  REQUIRE(peer.stack.next_deadline().has_value());
  CHECK(*peer.stack.next_deadline() == peer.now + seconds(2));
  peer.advance(seconds(2));
  CHECK(stats.connections_time_wait == 0);
  CHECK(stats.time_wait_records == 0);
  CHECK(peer.stack.tcp().connections().empty());
  CHECK(peer.stack.next_deadline() == std::nullopt);
}

// Deviation (time-wait-cap): at --max-time-wait records the oldest TIME-WAIT ends early, so a
// server that closes first under a steady stream of new connections holds bounded memory.
TEST_CASE("time-wait: past --max-time-wait records the oldest ends early, counted and traced") {
  auto config = time_wait_config(true);
  config.tcp.max_time_wait = 3;
  Peer peer(config);
  TraceRecorder trace;
  peer.tracer.add(&trace);
  RecordingAccept acceptor;
  std::vector<RecordingHandler> apps(5);
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  for (uint16_t i = 0; i < 5; ++i) open_and_close_first(peer, 40000 + i, apps[i]);
  INFO(peer.dump());
  const auto& stats = peer.stack.tcp().stats();
  CHECK(stats.time_wait_records == 3);
  CHECK(stats.connections_time_wait == 3);
  CHECK(stats.time_wait_evicted == 2);
  // The two oldest went, the three newest stay.
  std::vector<uint16_t> held;
  for (const auto& info : peer.stack.tcp().connections()) held.push_back(info.tuple.remote_port);
  std::sort(held.begin(), held.end());
  CHECK(held == std::vector<uint16_t>{40002, 40003, 40004});
  size_t early = 0;
  for (const auto& line : trace.states)
    early += line == "TIME-WAIT -> CLOSED: --max-time-wait records held: the oldest TIME-WAIT ends early";
  CHECK(early == 2);
  // The rest expire as usual.
  peer.advance(seconds(2));
  CHECK(stats.time_wait_records == 0);
  CHECK(stats.time_wait_evicted == 2);
}

TEST_CASE("time-wait: ABORT deletes the TIME-WAIT connection, record or not, without a RST") {
  // RFC 9293 §3.10.5, TIME-WAIT: "delete the TCB, enter CLOSED state". on_closed came with
  // TIME-WAIT, so the application names the connection by its 4-tuple.
  for (bool compact : {true, false}) {
    CAPTURE(compact);
    TimeWaitOf t(compact);
    Peer& peer = t.peer;
    auto before = peer.stack.tcp().connections();
    REQUIRE(before.size() == 1);
    REQUIRE(before[0].state == State::TimeWait);
    const auto& stats = peer.stack.tcp().stats();
    REQUIRE(stats.time_wait_records == (compact ? 1u : 0u));
    CHECK(peer.stack.tcp().abort_time_wait(before[0].tuple, peer.now));
    INFO(peer.dump());
    CHECK(peer.take().empty());  // no RST in TIME-WAIT
    CHECK(peer.stack.tcp().connections().empty());
    CHECK(stats.time_wait_records == 0);
    CHECK(stats.connections_time_wait == 0);
    CHECK(stats.full_tcbs == 0);
    CHECK(t.app.closed == 1);  // no second on_closed
    CHECK_FALSE(peer.stack.tcp().abort_time_wait(before[0].tuple, peer.now));
  }
}

// An ICMP error of `type` and `code` from the peer quoting a segment of ours from port 80 to
// `port` with SEG.SEQ `seq`: the IPv4 header and the first 8 bytes of TCP, as a router quotes.
std::vector<std::byte> icmp_error_quoting(const Peer& peer, uint16_t port, Seq seq, uint8_t type,
                                          uint8_t code, uint32_t rest) {
  std::vector<std::byte> quote(28);
  wire::Ipv4Header ours;
  ours.protocol = static_cast<uint8_t>(wire::IpProtocol::Tcp);
  ours.source = peer.stack.config().address;
  ours.destination = peer.ip;
  wire::emit_ipv4_header(ours, 8, wire::MutableBytes(quote));
  wire::write_u16(wire::MutableBytes(quote), 20, 80);
  wire::write_u16(wire::MutableBytes(quote), 22, port);
  wire::write_u32(wire::MutableBytes(quote), 24, seq.raw());
  std::vector<std::byte> packet(20 + 8 + quote.size());
  wire::emit_icmp(type, code, rest, quote, wire::MutableBytes(packet).subspan(20));
  wire::Ipv4Header h;
  h.protocol = static_cast<uint8_t>(wire::IpProtocol::Icmp);
  h.source = peer.ip;
  h.destination = peer.stack.config().address;
  wire::emit_ipv4_header(h, 8 + quote.size(), wire::MutableBytes(packet));
  return packet;
}

TEST_CASE("time-wait: an ICMP error is dropped as not in flight, record or not (RFC 5927 §4.1)") {
  for (bool compact : {true, false}) {
    CAPTURE(compact);
    TimeWaitOf t(compact);
    Peer& peer = t.peer;
    const TraceRecorder& trace = t.trace;
    const Closed& c = t.c;
    Seq fin = c.our_nxt - 1;  // our FIN, acknowledged: nothing is in flight
    peer.stack.receive(icmp_error_quoting(peer, 40000, fin, 3, 4, 1200), peer.now);  // fragmentation needed
    peer.stack.receive(icmp_error_quoting(peer, 40000, fin, 3, 3, 0), peer.now);     // port unreachable
    INFO(peer.dump());
    CHECK(peer.take().empty());
    CHECK(peer.stack.drops().get(DropReason::IcmpSeqNotInFlight) == 2);
    CHECK(TraceRecorder::has(
        trace.drops, "fragmentation needed: quoted SEG.SEQ not in SND.UNA..SND.NXT (RFC 5927 §4.1)"));
    CHECK(TraceRecorder::has(
        trace.drops, "destination unreachable: quoted SEG.SEQ not in SND.UNA..SND.NXT (RFC 5927 §4.1)"));
    CHECK(peer.stack.tcp().connections().size() == 1);
    CHECK(peer.stack.tcp().connections()[0].state == State::TimeWait);
  }
}

TEST_CASE("time-wait: with compaction off the same connections stay full TCBs") {
  Peer peer(time_wait_config(false));
  RecordingAccept acceptor;
  RecordingHandler app;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  open_and_close_first(peer, 40000, app);
  CHECK(peer.stack.tcp().stats().connections_time_wait == 1);
  CHECK(peer.stack.tcp().stats().time_wait_records == 0);
  CHECK(peer.stack.tcp().stats().full_tcbs == 1);
}

TEST_CASE("time-wait: an active open skips a 4-tuple a record still holds") {
  Peer peer(time_wait_config(true));
  RecordingAccept acceptor;
  RecordingHandler app;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  open_and_close_first(peer, 40000, app);
  REQUIRE(peer.stack.tcp().stats().time_wait_records == 1);
  RecordingHandler client;
  CHECK(peer.stack.tcp().connect(peer.ip, 40000, &client, 80) == nullptr);
}

TEST_CASE("time-wait: the record answers every segment exactly as the full connection") {
  for (Ending ending :
       {Ending::Expires, Ending::ResetAtRcvNxt, Ending::RstFinAtRcvNxt, Ending::ReopenedBySyn}) {
    CAPTURE(static_cast<int>(ending));
    Seq isn = draw_peer_isn();
    Run full(false, isn);
    Run compact(true, isn);
    drive(full, ending);
    drive(compact, ending);
    CHECK(compact.peer.stack.tcp().stats().full_tcbs <= full.peer.stack.tcp().stats().full_tcbs);
    REQUIRE(full.sent.size() >= 8);  // the run did provoke answers (ACKs, challenge ACKs)
    CHECK(compact.sent == full.sent);
    CHECK(compact.counters() == full.counters());
    std::string full_trace = full.trace(), compact_trace = compact.trace();
    CHECK(full_trace.find("TIME-WAIT -> CLOSED") != std::string::npos);
    CHECK(compact_trace == full_trace);
    if (compact_trace != full_trace) MESSAGE("full:\n" << full_trace << "\ncompact:\n" << compact_trace);
  }
}

TEST_CASE("time-wait: a retransmitted FIN is traced as ACKed and 2 MSL restarted, in relative numbers") {
  // RFC 9293 §3.10.7.4: the FIN lies before RCV.NXT, so it is not acceptable: answered with an
  // ACK and dropped; the TIME-WAIT rule restarts 2 MSL. The drop line must say that, not "outside
  // the receive window", and show the segment as the In line above it does (lab 03).
  for (bool compact : {false, true}) {
    CAPTURE(compact);
    Run run(compact, draw_peer_isn());
    Closed c = open_and_close_first(run.peer, 40000, run.app);
    run.advance(milliseconds(300));
    size_t before = run.trace().size();
    run.send("F.", c.peer_nxt - 1, c.our_nxt, {}, c.peer_tsval + 1);
    std::string after = run.trace().substr(before);
    INFO(after);
    std::vector<std::string> lines;  // without their time
    for (size_t at = 0, end; (end = after.find('\n', at)) != std::string::npos; at = end + 1) {
      std::string line = after.substr(at, end - at);
      lines.push_back(line.substr(line.find(' ') + 1));
    }
    REQUIRE(lines.size() == 4);
    REQUIRE(lines[0].rfind("In  ", 0) == 0);
    CHECK(lines[1] == "timer 192.0.2.2:80 <> 192.0.2.1:40000 time-wait armed +2.000000");
    CHECK(lines[2].find("[ACK of retransmitted FIN]") != std::string::npos);
    CHECK(lines[3] == "drop tcp-unacceptable-segment retransmitted FIN, already received: ACKed again, "
                      "2 MSL restarted (RFC 9293 §3.10.7.4)  " + lines[0].substr(4));
  }
}

TEST_CASE("time-wait: a connection reopened by a SYN takes an ISS above the old SND.NXT, record or not") {
  // RFC 9293 §3.6.1 (MAY-2), condition (1). With no time passing the clock-driven ISN of the
  // same 4-tuple is the old ISS again, below the old SND.NXT (SYN, reply and FIN).
  for (bool compact : {true, false}) {
    CAPTURE(compact);
    TimeWaitOf t(compact);
    Peer& peer = t.peer;
    const Closed& c = t.c;
    const Seq old_snd_nxt = c.our_nxt + 1;  // our FIN took one
    send_reopening_syn(peer, c);
    auto out = peer.take();
    INFO(peer.dump());
    REQUIRE(out.size() == 1);
    CHECK(out[0].flags.to_string() == "S.");
    CHECK(out[0].seq > old_snd_nxt);
    CHECK(peer.stack.tcp().stats().connections_time_wait == 0);
  }
}

TEST_CASE("time-wait: with timestamps both ways, a SYN's TSval decides if it reopens, record or not") {
  // RFC 6191 §2: the old connection used timestamps and the new SYN carries one, so a TSval
  // older than TS.Recent marks an old duplicate whatever its sequence number, and a newer one
  // a new connection, even with a lower sequence number. An equal TSval cannot tell: the
  // sequence number does.
  for (bool compact : {true, false}) {
    CAPTURE(compact);
    TimeWaitOf older_newer(compact), equal(compact);
    Peer& p1 = older_newer.peer;
    Peer& p2 = equal.peer;
    INFO(p1.dump());
    INFO(p2.dump());
    const Closed& c = older_newer.c;
    // Far above RCV.NXT, but older than TS.Recent: TIME-WAIT's ACK, not a SYN,ACK.
    CHECK(answer_to_timestamped_syn(p1, c.peer_nxt + 100000, c.peer_tsval - 10).flags.to_string() == ".");
    CHECK(p1.stack.tcp().stats().connections_time_wait == 1);
    auto reopened = answer_to_timestamped_syn(p1, c.peer_nxt - 1000, c.peer_tsval + 10);
    CHECK(reopened.flags.to_string() == "S.");
    CHECK(reopened.ack == c.peer_nxt - 999);
    CHECK(p1.stack.tcp().stats().connections_time_wait == 0);
    // equal.c.peer_tsval is TS.Recent (the FIN's). At RCV.NXT, not above it: TIME-WAIT's ACK.
    const Closed& e = equal.c;
    CHECK(answer_to_timestamped_syn(p2, e.peer_nxt, e.peer_tsval).flags.to_string() == ".");
    CHECK(p2.stack.tcp().stats().connections_time_wait == 1);
    CHECK(answer_to_timestamped_syn(p2, e.peer_nxt + 1, e.peer_tsval).flags.to_string() == "S.");
    CHECK(p2.stack.tcp().stats().connections_time_wait == 0);
  }
}

TEST_CASE("time-wait: a reopening SYN answered by RST was an old duplicate: back to TIME-WAIT") {
  // RFC 9293 §3.6.1 (MAY-2), condition (2). The peer that is not opening a connection answers
  // our SYN,ACK with RST; the old connection's TIME-WAIT comes back, and its retransmitted FIN
  // is acknowledged again as before the SYN.
  for (bool compact : {true, false}) {
    CAPTURE(compact);
    TimeWaitOf t(compact);
    Peer& peer = t.peer;
    const Closed& c = t.c;
    const int accepted_before = t.acceptor.calls;
    const Seq syn_seq = send_reopening_syn(peer, c);
    REQUIRE(peer.take().size() == 1);  // SYN,ACK
    REQUIRE(peer.stack.tcp().stats().connections_time_wait == 0);
    peer.inject(Peer::make("R", syn_seq + 1, Seq(0), 0), 80);
    INFO(peer.dump());
    CHECK(peer.take().empty());
    CHECK(peer.stack.tcp().stats().connections_time_wait == 1);
    CHECK(TraceRecorder::has(t.trace.notes,
                             "the SYN was an old duplicate, back to TIME-WAIT (RFC 9293 §3.6.1)"));
    auto fin = Peer::make("F.", c.peer_nxt - 1, c.our_nxt, 65535);
    fin.options.timestamps = wire::TcpTimestamps{c.peer_tsval + 5, 0};
    peer.inject(fin, 80);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].flags.to_string() == ".");
    CHECK(out[0].ack == c.peer_nxt);
    CHECK(t.acceptor.calls == accepted_before);
  }
}

TEST_CASE("time-wait: a reopening SYN that completes its handshake leaves no TIME-WAIT behind") {
  TimeWaitOf t(true);
  Peer& peer = t.peer;
  const Closed& c = t.c;
  const int accepted_before = t.acceptor.calls;
  const Seq syn_seq = send_reopening_syn(peer, c);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  peer.inject(Peer::make(".", syn_seq + 1, out[0].seq + 1, 65535), 80);
  CHECK(t.acceptor.calls == accepted_before + 1);
  // A RST now resets the new connection; the old TIME-WAIT does not come back.
  peer.inject(Peer::make("R", syn_seq + 1, Seq(0), 0), 80);
  peer.take();
  CHECK(peer.stack.tcp().stats().connections_time_wait == 0);
}

TEST_CASE("time-wait: a SYN that reopens TIME-WAIT gets a TCB, not a cookie, even with cookies on") {
  // RFC 9293 §3.6.1 condition (1) asks for an ISS above the old SND.NXT, which a cookie's ISS
  // cannot promise, and condition (2) needs a TCB to go back to TIME-WAIT from.
  auto config = time_wait_config(true);
  config.tcp.syn_cookies = tcp::TcpConfig::SynCookieMode::Always;
  Peer peer(config);
  RecordingAccept acceptor;
  RecordingHandler app;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  Closed c = open_and_close_first(peer, 40000, app);
  REQUIRE(peer.stack.tcp().stats().time_wait_records == 1);
  const uint64_t cookies_before = peer.stack.tcp().stats().syn_cookies_sent;
  const Seq syn_seq = send_reopening_syn(peer, c);
  auto out = peer.take();
  INFO(peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(out[0].seq > c.our_nxt + 1);
  CHECK(peer.stack.tcp().stats().syn_cookies_sent == cookies_before);
  // ... and so it can go back to TIME-WAIT when the peer resets it.
  peer.inject(Peer::make("R", syn_seq + 1, Seq(0), 0), 80);
  CHECK(peer.stack.tcp().stats().time_wait_records == 1);
}

TEST_CASE("time-wait: a SYN that reopens TIME-WAIT never evicts a half-open connection") {
  // With SYN cookies off a full SYN queue drops its oldest half-open connection for a new SYN
  // (RFC 4987 §3.4); a reopening SYN goes past the queue instead, as on Linux: a burst of
  // clients reusing ports the server holds in TIME-WAIT must not reset each other's handshakes.
  auto config = time_wait_config(true);
  config.tcp.syn_cookies = tcp::TcpConfig::SynCookieMode::Never;
  config.tcp.syn_backlog = 1;
  Peer peer(config);
  RecordingAccept acceptor;
  RecordingHandler app;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  Closed c = open_and_close_first(peer, 40000, app);
  const int accepted_before = acceptor.calls;
  // A half-open connection from another port fills the SYN queue.
  auto other = Peer::make("S", Seq(5000), Seq(0), 65535);
  other.options.mss = 1460;
  peer.set_port(40001);
  peer.inject(other, 80);
  auto syn_ack = peer.take();
  REQUIRE(syn_ack.size() == 1);
  peer.set_port(40000);
  send_reopening_syn(peer, c);
  auto out = peer.take();
  INFO(peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(peer.stack.drops().get(DropReason::TcpSynQueueEvicted) == 0);
  // The half-open connection is still there: its ACK completes it.
  peer.set_port(40001);
  peer.inject(Peer::make(".", Seq(5001), syn_ack[0].seq + 1, 65535), 80);
  CHECK(acceptor.calls == accepted_before + 1);
}
