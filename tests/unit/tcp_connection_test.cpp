// Tests for stack/tcp/connection*.cpp and host.cpp through a whole Stack: a scripted peer with
// a random ISN injects segments, each test asserts the exact segments the stack answers with.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

TEST_CASE("tcp: passive open answers SYN with SYN-ACK carrying MSS and window scale") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = Peer::make("S", peer.isn, Seq(0), 64240);
  syn.options.mss = 1400;
  syn.options.window_scale = 7;
  peer.inject(syn, 80);
  auto out = peer.take();
  INFO(peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(out[0].ack == peer.isn + 1);
  CHECK(out[0].options.mss == 1460);
  CHECK(out[0].options.window_scale == 5);  // 1 MiB buffer needs a shift of 5
  CHECK(out[0].window == 65535);            // never scaled in a SYN (RFC 7323 §2.2)
  CHECK(out[0].source_port == 80);
  CHECK(out[0].destination_port == 40000);
  CHECK(peer.stack.tcp().stats().connections_current == 1);
  CHECK(acceptor.calls == 0);
  CHECK(peer.stack.tcp().accept(80) == nullptr);  // not ESTABLISHED yet

  peer.inject(Peer::make(".", peer.isn + 1, out[0].seq + 1, 502), 80);
  CHECK(peer.take().empty());
  CHECK(acceptor.calls == 1);
  auto* s = peer.stack.tcp().accept(80);
  REQUIRE(s != nullptr);
  CHECK(s->state() == State::Established);
  CHECK(s->info().snd_wnd == 502u << 7);
  CHECK(peer.stack.tcp().stats().handshakes_completed == 1);
}

TEST_CASE("tcp: a window scale above 14 is traced as sent and taken as 14, with a note (RFC 7323 §2.3)") {
  struct Seen : trace::Sink {
    std::vector<std::string> in_options, notes;
    void segment(Instant, const trace::SegmentEvent& e) override {
      if (e.direction == trace::Direction::In) in_options.push_back(e.segment.options.to_string());
    }
    void note(Instant, const FourTuple*, std::string_view text) override { notes.emplace_back(text); }
  };
  for (uint8_t shift : {15, 255}) {
    CAPTURE(int{shift});
    Peer peer;
    Seen seen;
    peer.tracer.add(&seen);
    RecordingAccept acceptor;
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
    auto syn = Peer::make("S", peer.isn, Seq(0), 64240);
    syn.options.window_scale = shift;
    peer.inject(syn, 80);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    REQUIRE(seen.in_options.size() == 1);
    CHECK(seen.in_options[0] == "<nop,wscale " + std::to_string(shift) + ">");
    std::string expected =
        "window scale " + std::to_string(shift) + " above 14: taken as 14 (RFC 7323 §2.3)";
    CHECK(std::count(seen.notes.begin(), seen.notes.end(), expected) == 1);
    peer.inject(Peer::make(".", peer.isn + 1, out[0].seq + 1, 3), 80);
    auto* s = peer.stack.tcp().accept(80);
    REQUIRE(s != nullptr);
    CHECK(s->info().snd_wnd == 3u << 14);
  }
}

TEST_CASE("tcp: no window scale option from the peer means none from us") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 8192), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].options.window_scale.has_value());
  CHECK(out[0].options.mss == 1460);
}

TEST_CASE("tcp: in-order data is delivered and ACKed after the delayed-ACK timeout") {
  Established c;
  // A full-sized segment: a short one the application has read is ACKed at once (quick ACK).
  const std::string full(1460, 'h');
  c.peer_sends(".", full);
  INFO(c.peer.dump());
  CHECK(c.app.received == full);
  CHECK(c.peer.take().empty());  // ACK is delayed
  c.peer.advance(milliseconds(199));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].seq == c.our_nxt);
}

TEST_CASE("tcp: every second full-sized segment is ACKed, at the end of the turn that read it") {
  // Each peer_sends() here is a turn of its own (take() ends it); tcp_turn_ack_test.cpp has
  // several segments in one turn.
  Established c;
  std::string full(1460, 'a');
  c.peer_sends(".", full);
  CHECK(c.peer.take().empty());
  c.peer_sends(".", full);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.received.size() == 2920);
}

TEST_CASE("tcp: application data goes out with PSH and is retired by the ACK") {
  Established c;
  CHECK(c.socket->send(bytes_of("response")) == 8);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "P.");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].payload == "response");
  c.peer_acks(c.our_nxt + 8);
  CHECK(c.peer.take().empty());
  CHECK(c.socket->info().snd_una == 9);
  CHECK(c.peer.stack.next_deadline() == std::nullopt);  // nothing outstanding, no timer
}

TEST_CASE("tcp: passive close: FIN -> ACK, CLOSE-WAIT; close -> FIN, LAST-ACK; ACK -> closed") {
  Established c;
  c.peer_sends("F.", "");
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.socket->state() == State::CloseWait);
  CHECK(c.app.peer_fin == 1);
  CHECK(c.socket->peer_closed());
  c.socket->close();
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "F.");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(c.socket->state() == State::LastAck);
  c.peer_acks(c.our_nxt + 1);
  CHECK(c.app.closed == 1);
  CHECK(c.app.reason == CloseReason::Normal);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);
  CHECK(c.peer.stack.tcp().connections().empty());
}

TEST_CASE("tcp: active close goes through FIN-WAIT-1, FIN-WAIT-2 and TIME-WAIT for 2 MSL") {
  auto config = default_stack_config();
  config.tcp.msl = seconds(1);
  Established c(config);
  c.socket->close();
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "F.");
  CHECK(c.socket->state() == State::FinWait1);
  c.peer_acks(c.our_nxt + 1);
  CHECK(c.socket->state() == State::FinWait2);
  c.our_nxt += 1;
  c.peer_sends("F.", "");
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.closed == 1);
  CHECK(c.app.reason == CloseReason::Normal);
  CHECK(c.peer.stack.tcp().stats().connections_time_wait == 1);
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);

  // A retransmitted FIN is ACKed again and restarts the 2 MSL timer.
  c.peer.advance(milliseconds(1500));
  c.peer.inject(Peer::make("F.", c.peer_nxt - 1, c.our_nxt, 65535), c.port);
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  c.peer.advance(milliseconds(1999));
  CHECK(c.peer.stack.tcp().connections().size() == 1);
  c.peer.advance(milliseconds(1));
  CHECK(c.peer.stack.tcp().connections().empty());
  CHECK(c.peer.stack.tcp().stats().connections_time_wait == 0);
}

TEST_CASE("tcp: half-close: after the peer's FIN we keep sending") {
  Established c;
  c.peer_sends("F.", "");
  c.peer.take();
  CHECK(c.socket->send(bytes_of("more")) == 4);
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "more");
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp: RST to a closed port uses the RFC's sequence numbers") {
  Peer peer;
  // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 81);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R.");
  CHECK(out[0].seq == Seq(0));
  CHECK(out[0].ack == peer.isn + 1);
  // With ACK: <SEQ=SEG.ACK><CTL=RST>
  peer.inject(Peer::make(".", peer.isn, Seq(12345), 1000), 81);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == Seq(12345));
  // A RST is never answered.
  peer.inject(Peer::make("R", peer.isn, Seq(0), 0), 81);
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpNoConnection) == 3);
}

TEST_CASE("tcp: LISTEN answers an ACK with RST and ignores a RST") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make(".", peer.isn, Seq(777), 1000), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == Seq(777));
  peer.inject(Peer::make("R", peer.isn, Seq(0), 0), 80);
  CHECK(peer.take().empty());
  CHECK(peer.stack.tcp().connections().empty());
}

TEST_CASE("tcp: bad checksum is dropped without an answer") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80, /*corrupt=*/true);
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpBadChecksum) == 1);
}

TEST_CASE("tcp: SYN-ACK retransmission backs off 1 s, 2 s, 4 s and gives up quietly") {
  auto config = default_stack_config();
  config.tcp.max_syn_retransmissions = 2;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80);
  auto first = peer.take();
  REQUIRE(first.size() == 1);
  peer.advance(milliseconds(999));
  CHECK(peer.take().empty());
  peer.advance(milliseconds(1));
  auto out = peer.take();
  INFO(peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(out[0].seq == first[0].seq);
  peer.advance(milliseconds(1999));
  CHECK(peer.take().empty());
  peer.advance(milliseconds(1));
  CHECK(peer.take().size() == 1);
  peer.advance(milliseconds(4000));  // third expiry: give up, no RST for a half-open entry
  CHECK(peer.take().empty());
  CHECK(peer.stack.tcp().connections().empty());
  CHECK(peer.stack.tcp().stats().connections_current == 0);
}

TEST_CASE("tcp: a SYN-ACK resent for a duplicate SYN is a retransmission, not a timeout: no RTT sample, IW") {
  struct Resent : trace::Sink {
    std::vector<std::string> out;  // each SYN-ACK sent: its note, and whether it is flagged resent
    void segment(Instant, const trace::SegmentEvent& e) override {
      if (e.direction == trace::Direction::Out)
        out.push_back(std::string(e.note) + (e.retransmission ? " [counted]" : ""));
    }
  };
  Peer peer;
  Resent resent;
  peer.tracer.add(&resent);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
  auto first = peer.take();
  REQUIRE(first.size() == 1);
  // The SYN-ACK was lost: the client's SYN comes again, and the SYN-ACK is resent at once.
  peer.advance(milliseconds(300));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
  auto again = peer.take();
  REQUIRE(again.size() == 1);
  CHECK(again[0].flags.to_string() == "S.");
  CHECK(again[0].seq == first[0].seq);
  CHECK(resent.out == std::vector<std::string>{"", "retransmission (duplicate SYN) [counted]"});
  CHECK(peer.stack.tcp().stats().retransmissions == 1);
  // RFC 6298 §3 (Karn): the ACK may answer either SYN-ACK, so it gives no RTT sample.
  peer.advance(milliseconds(10));
  peer.inject(Peer::make(".", peer.isn + 1, first[0].seq + 1, 65535), 80);
  auto* socket = peer.stack.tcp().accept(80);
  REQUIRE(socket != nullptr);
  CHECK(socket->info().retransmissions == 1);
  CHECK(socket->info().srtt == Duration::zero());  // no sample taken
  // No timer expired, and the SYN may have been duplicated with nothing lost: neither RFC 6298
  // §5.7's 3 s RTO nor RFC 5681 §3.1's one-segment initial window, which a timeout brings.
  CHECK(socket->info().rto == seconds(1));
  const std::string data(4 * 536, 'x');  // four segments of the peer's default MSS
  REQUIRE(socket->send(bytes_of(data)) == data.size());
  peer.stack.finish_turn();
  CHECK(peer.take().size() == 4);
}

TEST_CASE("tcp: each SYN-ACK and SYN retransmission arms the retransmission timer once, as traced") {
  // Lab 04 has students read these timer lines: one "armed" per (re)transmission, as for data.
  struct Armed : trace::Sink {
    std::vector<Duration> after;  // how far ahead each arming of the retransmission timer was
    void timer(Instant t, const FourTuple&, std::string_view name, trace::TimerAction action,
               Instant deadline) override {
      if (name == "retransmission" && action == trace::TimerAction::Armed) after.push_back(deadline - t);
    }
  };
  SUBCASE("SYN-ACK (passive open)") {
    Peer peer;
    Armed armed;
    peer.tracer.add(&armed);
    RecordingAccept acceptor;
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
    peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80);
    peer.advance(seconds(1));
    peer.advance(seconds(2));
    REQUIRE(peer.take().size() == 3);  // the SYN-ACK and two retransmissions
    CHECK(armed.after == std::vector<Duration>{seconds(1), seconds(2), seconds(4)});
  }
  SUBCASE("SYN (active open)") {
    Peer peer;
    Armed armed;
    peer.tracer.add(&armed);
    RecordingHandler app;
    REQUIRE(peer.stack.tcp().connect(peer.ip, 40000, &app, 80) != nullptr);
    peer.advance(seconds(1));
    REQUIRE(peer.take().size() == 2);  // the SYN and one retransmission
    CHECK(armed.after == std::vector<Duration>{seconds(1), seconds(2)});
  }
}

TEST_CASE("tcp: data retransmission: RTO boundary, back-off, Karn, give-up with RST") {
  auto config = default_stack_config();
  config.tcp.max_retransmissions = 2;
  Established c(config);
  c.socket->send(bytes_of("abc"));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  // The handshake took no virtual time: SRTT = 0, so RTO is the 200 ms minimum.
  CHECK(c.socket->info().rto == milliseconds(200));
  c.peer.advance(milliseconds(199));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));
  out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].payload == "abc");
  c.peer.advance(milliseconds(399));  // backed off to 400 ms
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));
  CHECK(c.peer.take().size() == 1);
  c.peer.advance(milliseconds(799));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));  // third expiry: give up
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == c.our_nxt + 3);
  CHECK(c.app.reason == CloseReason::TimedOut);
  CHECK(c.peer.stack.tcp().stats().timeouts == 1);
}

TEST_CASE("tcp: an RTT sample from a never-retransmitted segment sets the RTO") {
  Established c;  // handshake sample: R = 0
  c.socket->send(bytes_of("abc"));
  c.peer.take();
  c.peer.advance(milliseconds(100));
  c.peer_acks(c.our_nxt + 3);
  c.our_nxt += 3;
  // RTTVAR = 3/4*0 + 1/4*100 = 25 ms; SRTT = 7/8*0 + 1/8*100 = 12.5 ms;
  // RTO = 12.5 + 4*25 = 112.5 ms, raised to the 200 ms minimum.
  CHECK(c.socket->info().srtt == microseconds(12500));
  CHECK(c.socket->info().rto == milliseconds(200));
  c.socket->send(bytes_of("d"));
  c.peer.take();
  c.peer.advance(microseconds(199999));
  CHECK(c.peer.take().empty());
  c.peer.advance(microseconds(1));
  CHECK(c.peer.take().size() == 1);
  // Karn: the ACK of a retransmitted segment gives no sample.
  c.peer.advance(milliseconds(50));
  c.peer_acks(c.our_nxt + 1);
  CHECK(c.socket->info().srtt == microseconds(12500));
}

TEST_CASE("tcp: RST at exactly RCV.NXT resets; in window -> challenge ACK; outside -> ignored") {
  Established c;
  c.peer.inject(Peer::make("R", c.peer_nxt + 100, Seq(0), 0), c.port);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_sent == 1);
  c.peer.inject(Peer::make("R", c.peer_nxt + 2000000, Seq(0), 0), c.port);
  CHECK(c.peer.take().empty());
  CHECK(c.peer.stack.drops().get(DropReason::TcpRstIgnored) == 2);
  CHECK(c.socket->state() == State::Established);
  c.peer.inject(Peer::make("R", c.peer_nxt, Seq(0), 0), c.port);
  CHECK(c.peer.take().empty());
  CHECK(c.app.reason == CloseReason::ResetByPeer);
  CHECK(c.peer.stack.tcp().stats().resets_received == 1);
}

TEST_CASE("tcp: SYN in ESTABLISHED gets a challenge ACK; challenge ACKs are rate-limited") {
  auto config = default_stack_config();
  config.tcp.challenge_ack_interval = seconds(1);
  Established c(config);
  for (int i = 0; i < 3; ++i) c.peer.inject(Peer::make("S", c.peer.isn + 5000, Seq(0), 1000), c.port);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  CHECK(out.size() == 1);
  for (auto& s : out) CHECK(s.ack == c.peer_nxt);
  CHECK(c.peer.stack.tcp().stats().challenge_acks_suppressed == 2);
  c.peer.advance(seconds(1));
  c.peer.inject(Peer::make("S", c.peer.isn + 5000, Seq(0), 1000), c.port);
  CHECK(c.peer.take().size() == 1);
  CHECK(c.socket->state() == State::Established);
}

TEST_CASE("tcp: out-of-order data is ACKed at once and delivered when the hole fills") {
  Established c;
  c.peer.inject(Peer::make(".", c.peer_nxt + 5, c.our_nxt, 65535, bytes_of("world")), c.port);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);  // dup ACK
  CHECK(c.app.received.empty());
  c.peer.inject(Peer::make(".", c.peer_nxt, c.our_nxt, 65535, bytes_of("hello")), c.port);
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt + 10);
  CHECK(c.app.received == "helloworld");
}

TEST_CASE("tcp: a duplicate segment is answered with an immediate ACK") {
  Established c;
  c.peer_sends("P.", "abc");
  c.peer.advance(milliseconds(200));
  c.peer.take();
  c.peer.inject(Peer::make("P.", c.peer_nxt - 3, c.our_nxt, 65535, bytes_of("abc")), c.port);
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.received == "abc");
}

TEST_CASE("tcp: zero window: persist probes back off, window update resumes sending") {
  Established c;
  c.peer_acks(c.our_nxt, 0);
  CHECK(c.socket->send(bytes_of("data")) == 4);
  CHECK(c.peer.take().empty());  // window closed
  c.peer.advance(milliseconds(199));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));  // first probe after one RTO (200 ms)
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "d");
  CHECK(out[0].seq == c.our_nxt);
  c.peer_acks(c.our_nxt, 0);  // probe refused
  c.peer.advance(milliseconds(399));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));  // backed off to 400 ms
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "d");
  c.peer_acks(c.our_nxt, 1000);  // window opens
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == c.our_nxt);
  CHECK(out[0].payload == "data");
}

TEST_CASE("tcp: reading frees window and sends a window update") {
  auto config = default_stack_config();
  config.tcp.receive_buffer = 4096;
  Established c(config);
  c.app.read_on_readable = false;
  c.peer_sends(".", std::string(1460, 'a'));
  c.peer_sends(".", std::string(1460, 'b'));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 4096 - 2920);
  c.peer_sends(".", std::string(1176, 'c'));
  c.peer.advance(milliseconds(200));
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 0);
  std::byte buf[4096];
  CHECK(c.socket->receive(buf) == 4096);
  out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 4096);
}

// Reads the request and answers from inside on_readable, as the HTTP server does.
struct ReplyingHandler : RecordingHandler {
  std::string reply;
  void on_readable(tcp::Socket& s) override {
    RecordingHandler::on_readable(s);
    if (!reply.empty()) s.send(bytes_of(reply));
  }
};

TEST_CASE("tcp: a window update owed by a read in a callback rides on the data sent from it") {
  // The SYN,ACK's window is unscaled (65535), so the first read opens the window a lot: a
  // window update is owed. Sent as its own pure ACK it would precede the reply (RFC 9293
  // §3.8.6.3: piggyback ACKs on data where possible).
  Established c(default_stack_config(), 65535, uint8_t{7});
  ReplyingHandler app;
  app.reply = "response";
  c.socket->set_handler(&app);
  c.peer_sends("P.", "request");
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "response");
  CHECK(out[0].ack == c.peer_nxt);
  size_t window = size_t{out[0].window} << c.synack.options.window_scale.value_or(0);
  CHECK(window > 65535);
}

// Answers and closes from inside on_readable, as the HTTP server does after a response
// with Connection: close: several sends and the close, then the callback returns.
struct ReplyAndCloseHandler : RecordingHandler {
  void on_readable(tcp::Socket& s) override {
    RecordingHandler::on_readable(s);
    s.send(bytes_of(std::string("HTTP/1.0 200 OK\r\n\r\n")));
    s.send(bytes_of(std::string("body")));
    s.push();
    s.close();
  }
};

TEST_CASE("tcp: sends and a close inside one callback leave as one segment with the FIN") {
  // RFC 9293 §3.10.4: the FIN follows the queued data; output waits for the callback to
  // return, so the FIN rides on the last data segment instead of a segment of its own.
  Established c;
  ReplyAndCloseHandler app;
  c.socket->set_handler(&app);
  c.peer_sends("P.", "GET / HTTP/1.0\r\n\r\n");
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "HTTP/1.0 200 OK\r\n\r\nbody");
  CHECK(out[0].flags.fin);
  CHECK(out[0].flags.psh);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.socket->state() == tcp::State::FinWait1);
}

TEST_CASE("tcp: a window update owed by a read in a callback still leaves without a reply") {
  Established c(default_stack_config(), 65535, uint8_t{7});
  c.peer_sends("P.", "request");  // the default handler reads in on_readable, sends nothing
  CHECK(c.app.received == "request");
  auto out = c.peer.take();  // at once, not after the delayed-ACK timeout
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.empty());
  CHECK(out[0].ack == c.peer_nxt);
  size_t window = size_t{out[0].window} << c.synack.options.window_scale.value_or(0);
  CHECK(window > 65535);
}

TEST_CASE("tcp: the host's next deadline follows re-armed and cancelled timers exactly") {
  // The host keeps a heap of deadlines with stale entries; next_deadline() must still be the
  // earliest live timer, never an old one (the event loop would wake for nothing).
  Established c;
  CHECK_FALSE(c.peer.stack.next_deadline().has_value());
  std::string data(1460 * 4, 'x');
  CHECK(c.socket->send(bytes_of(data)) == data.size());
  c.peer.take();
  auto first = c.peer.stack.next_deadline();
  REQUIRE(first.has_value());
  CHECK(*first > c.peer.now);
  c.peer.advance(milliseconds(50));
  c.peer_acks(c.our_nxt + 1460);  // RFC 6298 §5.3: restart the timer on new data ACKed
  auto second = c.peer.stack.next_deadline();
  REQUIRE(second.has_value());
  CHECK(*second > *first);
  CHECK(*second > c.peer.now);
  c.peer.advance(milliseconds(50));
  c.peer_acks(c.our_nxt + static_cast<uint32_t>(data.size()));  // all ACKed: timer off
  CHECK_FALSE(c.peer.stack.next_deadline().has_value());
  // Many connections' worth of stale entries do not matter either: re-arm repeatedly.
  for (int i = 0; i < 100; ++i) {
    c.our_nxt += static_cast<uint32_t>(data.size());
    CHECK(c.socket->send(bytes_of(data)) == data.size());
    c.peer.take();
    c.peer.advance(milliseconds(1));
    c.peer_acks(c.our_nxt + static_cast<uint32_t>(data.size()));
  }
  CHECK_FALSE(c.peer.stack.next_deadline().has_value());
}

TEST_CASE("tcp: three duplicate ACKs trigger fast retransmit") {
  Established c;
  std::string data(1460 * 5, 'x');
  CHECK(c.socket->send(bytes_of(data)) == data.size());
  auto out = c.peer.take();
  REQUIRE(out.size() == 5);
  c.peer_acks(c.our_nxt + 1460);
  c.peer_acks(c.our_nxt + 1460);
  c.peer_acks(c.our_nxt + 1460);
  CHECK(c.peer.take().empty());
  c.peer_acks(c.our_nxt + 1460);
  out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == c.our_nxt + 1460);
  CHECK(out[0].payload.size() == 1460);
}

TEST_CASE("tcp: Nagle holds a small segment while data is unacknowledged") {
  Established c;
  c.socket->send(bytes_of("a"));
  CHECK(c.peer.take().size() == 1);
  c.socket->send(bytes_of("b"));
  c.socket->send(bytes_of("c"));
  CHECK(c.peer.take().empty());
  c.peer_acks(c.our_nxt + 1);
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "bc");
}

TEST_CASE("tcp: with Nagle off small segments go at once") {
  auto config = default_stack_config();
  config.tcp.nagle = false;
  Established c(config);
  c.socket->send(bytes_of("a"));
  c.socket->send(bytes_of("b"));
  CHECK(c.peer.take().size() == 2);
}

TEST_CASE("tcp: window scaling is applied to the peer's window and to ours") {
  Established c(default_stack_config(), 100, uint8_t{3});
  CHECK(c.synack.options.window_scale == 5);
  c.peer_acks(c.our_nxt, 100);
  CHECK(c.socket->info().snd_wnd == 800);
  c.peer_sends(".", std::string(1460, 'a'));
  c.peer_sends(".", std::string(1460, 'a'));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == ((1u << 20) >> 5));  // free space again after the app read it
}

TEST_CASE("tcp: MSS is min(peer's, ours) and send() respects the buffer") {
  auto config = default_stack_config();
  config.tcp.send_buffer = 3000;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
  syn.options.mss = 500;
  peer.inject(syn, 80);
  Seq iss = peer.take()[0].seq;
  peer.inject(Peer::make(".", peer.isn + 1, iss + 1, 65535), 80);
  auto* s = peer.stack.tcp().accept(80);
  REQUIRE(s);
  RecordingHandler app;
  s->set_handler(&app);
  std::string data(4000, 'z');
  CHECK(s->send(bytes_of(data)) == 3000);
  auto out = peer.take();
  REQUIRE(out.size() == 6);
  for (auto& seg : out) CHECK(seg.payload.size() == 500);
  peer.inject(Peer::make(".", peer.isn + 1, iss + 1 + 1000, 65535), 80);
  CHECK(app.writable == 1);
  CHECK(s->send_space() == 1000);
}

TEST_CASE("tcp: full accept queue drops new SYNs; full SYN queue evicts the oldest half-open") {
  auto config = default_stack_config();
  config.tcp.syn_backlog = 2;
  // Eviction is what a full SYN queue does without SYN cookies (tcp_syn_cookie_test.cpp).
  config.tcp.syn_cookies = tcp::TcpConfig::SynCookieMode::Never;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor, 1));
  // One established, unaccepted connection fills the accept queue (backlog 1).
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80);
  Seq iss = peer.take()[0].seq;
  peer.inject(Peer::make(".", peer.isn + 1, iss + 1, 1000), 80);
  peer.set_port(40001);
  peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80);
  CHECK(peer.take().empty());
  CHECK(peer.stack.drops().get(DropReason::TcpListenQueueFull) == 1);
  // Accept it; now three SYNs from different ports overflow the SYN queue of 2.
  REQUIRE(peer.stack.tcp().accept(80) != nullptr);
  for (uint16_t p = 41000; p < 41003; ++p) {
    peer.set_port(p);
    peer.inject(Peer::make("S", peer.isn, Seq(0), 1000), 80);
  }
  CHECK(peer.take().size() == 3);
  CHECK(peer.stack.drops().get(DropReason::TcpSynQueueEvicted) == 1);
  peer.advance(milliseconds(1));
  CHECK(peer.stack.tcp().connections().size() == 3);  // 1 established + 2 half-open
}

TEST_CASE("tcp: active open, data, and refusal by RST") {
  Peer peer;
  RecordingHandler app;
  auto* s = peer.stack.tcp().connect(peer.ip, 7, &app);
  REQUIRE(s != nullptr);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S");
  CHECK(out[0].options.window_scale == 5);
  uint16_t local = out[0].source_port;
  CHECK(local >= 49152);
  peer.set_port(7);
  Seq iss = out[0].seq;
  auto synack = Peer::make("S.", peer.isn, iss + 1, 29200);
  synack.options.mss = 1460;
  synack.options.window_scale = 7;
  peer.inject(synack, local);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].ack == peer.isn + 1);
  CHECK(app.connected == 1);
  CHECK(s->state() == State::Established);
  s->send(bytes_of("ping"));
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "ping");

  RecordingHandler app2;
  auto* s2 = peer.stack.tcp().connect(peer.ip, 9, &app2);
  REQUIRE(s2 != nullptr);
  out = peer.take();
  REQUIRE(out.size() == 1);
  peer.set_port(9);
  peer.inject(Peer::make("R.", Seq(0), out[0].seq + 1, 0), out[0].source_port);
  CHECK(app2.reason == CloseReason::Refused);
}

TEST_CASE("tcp: simultaneous close passes through CLOSING to TIME-WAIT") {
  Established c;
  c.socket->close();
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  // The peer's FIN crosses ours: it does not ACK our FIN.
  c.peer_sends("F.", "");
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.socket->state() == State::Closing);
  c.peer_acks(c.our_nxt + 1);
  CHECK(c.app.reason == CloseReason::Normal);
  CHECK(c.peer.stack.tcp().stats().connections_time_wait == 1);
}

TEST_CASE("tcp: sequence numbers wrap at 2^32") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.isn = Seq(0xFFFFFFF0u);
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
  Seq iss = peer.take()[0].seq;
  peer.inject(Peer::make(".", peer.isn + 1, iss + 1, 65535), 80);
  auto* s = peer.stack.tcp().accept(80);
  RecordingHandler app;
  s->set_handler(&app);
  std::string data(40, 'w');
  peer.inject(Peer::make(".", peer.isn + 1, iss + 1, 65535, bytes_of(data)), 80);
  CHECK(app.received == data);
  CHECK(s->info().rcv_nxt == 41);
}

TEST_CASE("tcp: TIME-WAIT is reopened by a SYN above RCV.NXT") {
  Established c;
  c.socket->close();
  c.peer.take();
  c.peer_acks(c.our_nxt + 1);
  c.our_nxt += 1;
  c.peer_sends("F.", "");
  c.peer.take();
  REQUIRE(c.peer.stack.tcp().stats().connections_time_wait == 1);
  c.peer.inject(Peer::make("S", c.peer_nxt + 100000, Seq(0), 1000), c.port);
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(out[0].ack == c.peer_nxt + 100001);
  CHECK(c.peer.stack.tcp().stats().connections_time_wait == 0);
}

TEST_CASE("tcp: abort sends RST and reports Aborted") {
  Established c;
  c.socket->abort();
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == c.our_nxt);
  CHECK(c.app.reason == CloseReason::Aborted);
  c.peer.advance(milliseconds(1));
  CHECK(c.peer.stack.tcp().connections().empty());
}

TEST_CASE("tcp: abort's RST goes at the peer's window edge when the peer shut its window after we sent") {
  // The peer acknowledged 1,000 of 3,000 bytes with a zero window and dropped the rest: it takes
  // a RST only at its RCV.NXT (RFC 9293 §3.10.7.4), which is our SND.UNA, not SND.NXT.
  Established c;
  c.socket->send(bytes_of(std::string(3000, 'd')));
  c.peer.take();
  c.peer_acks(c.our_nxt + 1000, 0);
  c.peer.take();
  c.socket->abort();
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(out[0].seq == c.our_nxt + 1000);
}

TEST_CASE("tcp: SWS override timeout sends into a window smaller than SWS avoidance wants") {
  Established c;  // the peer once offered 65535
  c.peer_acks(c.our_nxt, 500);
  std::string data(3000, 'q');
  c.socket->send(bytes_of(data));
  CHECK(c.peer.take().empty());  // 500 < min(MSS, max window / 2): hold it
  c.peer.advance(milliseconds(199));
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(1));  // override timeout (RFC 9293 §3.8.6.2.1)
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == 500);
  CHECK(out[0].seq == c.our_nxt);
}

TEST_CASE("tcp: after 2^32 - 1 bytes SND.UNA is ISS again, and the SYN is not counted a second time") {
  // RFC 9293 §3.4: sequence numbers wrap. Our SYN took ISS; once the peer has acknowledged
  // 2^32 - 1 bytes of data more, SND.UNA is ISS again although the SYN was acknowledged long
  // ago. The send buffer must not take that for an unacknowledged SYN (one byte off).
  JumboEstablished c;
  for (uint64_t left = (uint64_t{1} << 32) - 1; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, c.segment.size()));
    c.send_one_and_ack(n);
    left -= n;
  }
  REQUIRE(c.our_nxt == c.iss);
  for (const std::string word : {"after", "the wrap"}) {
    REQUIRE(c.socket->send(bytes_of(word)) == word.size());
    auto out = c.peer.take();
    INFO(c.peer.dump());
    REQUIRE(out.size() == 1);
    CHECK(out[0].seq == c.our_nxt);
    CHECK(out[0].payload == word);
    c.our_nxt += static_cast<uint32_t>(word.size());
    c.peer_acks(c.our_nxt);
    CHECK(c.peer.take().empty());
  }
  CHECK(c.socket->info().snd_una == c.socket->info().snd_nxt);
}

TEST_CASE("tcp: RTT samples from timestamps resume after 2^31 bytes of ACKs without a usable echo") {
  // RFC 7323 §4.1 samples come once per flight: not until SND.UNA passes the SND.NXT of the
  // last sample. Sequence arithmetic holds within 2^31 only (RFC 9293 §3.4): if ACKs carry no
  // echo for longer than that (a peer that drops the option, which we accept), the mark must
  // not be left behind, where it would seem ahead of SND.UNA for the next 2^31 bytes.
  Peer peer(JumboEstablished::jumbo_config());
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
  syn.options.mss = JumboEstablished::kMss;
  syn.options.timestamps = wire::TcpTimestamps{1000, 0};
  peer.inject(syn, 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].options.timestamps);
  const Seq iss = out[0].seq;
  const Seq peer_nxt = peer.isn + 1;
  Seq our_nxt = iss + 1;
  auto ack = Peer::make(".", peer_nxt, our_nxt, 65535);
  ack.options.timestamps = wire::TcpTimestamps{1001, out[0].options.timestamps->value};
  peer.inject(ack, 80);  // the handshake's sample: R = 0
  tcp::Socket* socket = peer.stack.tcp().accept(80);
  REQUIRE(socket != nullptr);
  RecordingHandler app;
  socket->set_handler(&app);
  REQUIRE(socket->info().srtt == Duration::zero());

  const std::string segment(JumboEstablished::kMss - 12, 'x');  // the MSS less the timestamps option
  uint64_t left = (uint64_t{1} << 31) + segment.size();
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, segment.size()));
    REQUIRE(socket->send(bytes_of(segment.substr(0, n))) == n);
    out = peer.take();
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].seq == our_nxt);
    our_nxt += static_cast<uint32_t>(n);
    peer.inject(Peer::make(".", peer_nxt, our_nxt, 65535), 80);  // no timestamps option
    peer.history.clear();  // two lines a segment, 33,000 segments: keep only the end
    left -= n;
  }
  REQUIRE(!(our_nxt > iss + 1));  // past the half-way point since the last sample

  REQUIRE(socket->send(bytes_of("timed")) == 5);
  out = peer.take();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].options.timestamps);
  peer.advance(milliseconds(100));
  our_nxt += 5;
  ack = Peer::make(".", peer_nxt, our_nxt, 65535);
  ack.options.timestamps = wire::TcpTimestamps{1002, out[0].options.timestamps->value};
  peer.inject(ack, 80);
  INFO(peer.dump());
  // RFC 6298 §2.3 from SRTT 0: SRTT = 7/8*0 + 1/8*100 ms.
  CHECK(socket->info().srtt == microseconds(12500));
  CHECK(socket->info().snd_una == socket->info().snd_nxt);
}
