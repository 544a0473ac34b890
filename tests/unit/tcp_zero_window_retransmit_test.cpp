// Tests for retransmission timeouts while the peer's window is shut with our data outstanding
// (Connection::retransmission_timeout): the retransmission is then the zero-window probe, and
// RFC 1122 §4.2.2.17 keeps the connection open "as long as the receiving TCP continues to send
// acknowledgments in response to the probe segments". A silent peer is still given up on after
// max_retransmissions (RFC 9293 §3.8.3), with a RST at the peer's window edge (deviation
// rst-at-window-edge); a released connection counts every timeout (deviation released-zero-window).
// A timeout after an answer is no loss either: cwnd and ssthresh stay (deviation
// zero-window-probe-keeps-cwnd); one nobody answered collapses cwnd as RFC 5681 §3.1 says.
#include <doctest/doctest.h>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcp::CloseReason;
using tcp::State;

namespace {

// Two full segments go (2 x 1460 bytes); the peer takes the first and shuts its window, so the
// second, already sent, is outstanding beyond it. Returns SND.UNA, the window's edge.
Seq shut_window_with_data_outstanding(Established& c) {
  REQUIRE(c.socket->send(bytes_of(std::string(2920, 'x'))) == 2920);
  REQUIRE(c.peer.take().size() == 2);
  Seq una = c.our_nxt + 1460;
  c.peer_acks(una, 0);
  REQUIRE(c.peer.take().empty());
  return una;
}

// Lets virtual time pass, 100 ms at a time, until the stack sends something (at most ten
// minutes: the RTO backs off to 60 s at most).
std::vector<Sent> next_sent(Established& c) {
  for (int i = 0; i < 6000; ++i) {
    c.peer.advance(milliseconds(100));
    auto out = c.peer.take();
    if (!out.empty()) return out;
  }
  return {};
}

// Retransmissions sent before something else (a RST) went; `answer`: the peer acknowledges each
// one with its window still shut.
int retransmissions_until_other(Established& c, Seq una, std::vector<Sent>& other, bool answer,
                                int bound = 40) {
  int retransmissions = 0;
  for (int i = 0; i < bound; ++i) {
    auto out = next_sent(c);
    REQUIRE(out.size() == 1);
    if (out[0].flags.rst || out[0].seq != una) {
      other = out;
      break;
    }
    ++retransmissions;
    if (answer) c.peer_acks(una, 0);
  }
  return retransmissions;
}

tcp::TcbSnapshot snapshot_of(Established& c) {
  auto snap = c.peer.stack.tcp().snapshot(c.socket->tuple());
  REQUIRE(snap.has_value());
  return *snap;
}

}  // namespace

TEST_CASE("tcp: retransmissions answered with a zero window keep the connection open") {
  Established c;
  const Seq una = shut_window_with_data_outstanding(c);
  std::vector<Sent> other;
  // Twenty answered retransmissions, well past max_retransmissions (8): no RST.
  int answered = retransmissions_until_other(c, una, other, true, 20);
  INFO(c.peer.dump());
  CHECK(answered == 20);
  CHECK(other.empty());
  CHECK(c.socket->state() == State::Established);
  CHECK(c.peer.stack.tcp().stats().timeouts == 0);
  // Then the peer falls silent: the timeout after its last answer does not count, the next
  // eight do, and the ninth gives up.
  int silent = retransmissions_until_other(c, una, other, false);
  CHECK(silent == 1 + 8);
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
  CHECK(c.app.reason == CloseReason::TimedOut);
  CHECK(c.peer.stack.tcp().stats().timeouts == 1);
}

TEST_CASE("tcp: giving up behind a zero window resets at the window edge, not at SND.NXT") {
  Established c;
  const Seq una = shut_window_with_data_outstanding(c);
  std::vector<Sent> other;
  int silent = retransmissions_until_other(c, una, other, false);
  INFO(c.peer.dump());
  CHECK(silent == 1 + 8);  // the first timeout follows the ACK that shut the window
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.to_string() == "R");
  // The peer's RCV.NXT is SND.UNA and its window zero: only a RST there is acceptable to it
  // (RFC 9293 §3.10.7.4); SND.NXT is a segment further.
  CHECK(other[0].seq == una);
  CHECK(c.app.reason == CloseReason::TimedOut);
}

// Like Linux's tcp_retransmit_timer for an orphaned socket: nobody waits for a connection its
// application let go of, so a peer that answers but never opens its window cannot hold it.
TEST_CASE("tcp: a released connection counts answered retransmissions into a zero window") {
  Established c;
  const Seq una = shut_window_with_data_outstanding(c);
  c.socket->close();
  REQUIRE(c.socket->release());
  c.peer.take();
  std::vector<Sent> other;
  int answered = retransmissions_until_other(c, una, other, true);
  INFO(c.peer.dump());
  CHECK(answered == 8);  // max_retransmissions, answered or not
  REQUIRE(other.size() == 1);
  CHECK(other[0].flags.rst);
  CHECK(other[0].seq == una);
  CHECK(c.peer.stack.tcp().stats().timeouts == 1);
  CHECK(c.peer.stack.tcp().stats().connections_current == 0);
}

// Deviation ack-at-window-edge: the peer's RCV.NXT is SND.UNA and its window zero, so it accepts
// a segment only at SND.UNA (RFC 9293 §3.10.7.4); an ACK at SND.NXT would be dropped unseen
// (Linux's tcp_sequence), and the peer would resend data we already have.
TEST_CASE("tcp: an ACK sent while the peer's window is shut carries SEQ at the window's edge") {
  Established c;
  const Seq una = shut_window_with_data_outstanding(c);
  c.our_nxt = una;
  c.peer_sends(".", std::string(4096, 'a'), 0);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.empty());
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(out[0].seq == una);
  // Once the window opens again, ACKs carry SND.NXT as usual.
  c.peer_acks(una, 65535);
  c.peer.take();
  c.peer_sends(".", std::string(4096, 'b'));
  out = c.peer.take();
  REQUIRE(!out.empty());
  CHECK(out.back().seq == una + 1460);
}

// RFC 1122 §4.2.2.16: after the window shrank below what was sent, the old data goes again as
// soon as the window allows; the timer's segments meanwhile were zero-window probes, answered.
// Not when the backed-off retransmission timer next fires (seconds later, or a minute).
TEST_CASE("tcp: the window opening after answered zero-window probes resends at once, timer unbacked") {
  Established c;
  const Seq una = shut_window_with_data_outstanding(c);
  // The first timeout comes after one RTO; measure it.
  Instant shut_at = c.peer.now;
  auto out = next_sent(c);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seq == una);
  const Duration rto = c.peer.now - shut_at;
  c.peer_acks(una, 0);
  // Three more answered probes: the RTO has doubled four times by now.
  for (int i = 0; i < 3; ++i) {
    out = next_sent(c);
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].seq == una);
    c.peer_acks(una, 0);
  }
  c.peer.advance(milliseconds(100));
  REQUIRE(c.peer.take().empty());
  // The peer's application reads: a window update, SEG.ACK unchanged. The segment at SND.UNA
  // goes at once.
  c.peer_acks(una, 65535);
  out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == una);
  CHECK(out[0].payload.size() == 1460);
  // If that is lost too, the timer fires after the RTO from before the probes, not 16 times it.
  Instant resent_at = c.peer.now;
  out = next_sent(c);
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == una);
  CHECK(c.peer.now - resent_at <= rto + milliseconds(100));
  // An ACK of the data ends it: nothing more is owed.
  c.peer_acks(una + 1460, 65535);
  CHECK(c.socket->state() == State::Established);
}

// A probe the peer answers with a zero window is no loss: the window is shut because the
// receiver has no room (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), not because the path dropped
// anything, so RFC 5681 §3.1's reaction to a timeout (cwnd = 1 segment, ssthresh cut) is not
// applied (deviation zero-window-probe-keeps-cwnd). The window it grew to is there when the
// receiver opens up again. Each probe is one segment: what else was outstanding waits for the
// window (a cwnd of several segments must not send it into the shut window).
TEST_CASE("tcp: zero-window probes the peer answers leave cwnd and ssthresh alone") {
  Established c;
  REQUIRE(c.socket->send(bytes_of(std::string(5 * 1460, 'x'))) == 5 * 1460);
  REQUIRE(c.peer.take().size() == 5);
  const Seq una = c.our_nxt + 1460;
  c.peer_acks(una, 0);  // four segments outstanding beyond the shut window
  REQUIRE(c.peer.take().empty());
  const auto before = snapshot_of(c);
  REQUIRE(before.cwnd > 1460);
  for (int i = 0; i < 4; ++i) {
    auto out = next_sent(c);
    INFO("probe " << i << "\n" << c.peer.dump());
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].seq == una);
    c.peer_acks(una, 0);
    CHECK(snapshot_of(c).cwnd == before.cwnd);
    CHECK(snapshot_of(c).ssthresh == before.ssthresh);
  }
  // The peer's application reads: the four segments go again at once (RFC 1122 §4.2.2.16),
  // as cwnd, still what it was, allows.
  c.peer_acks(una, 65535);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 4);
  CHECK(out[0].seq == una);
  CHECK(out[3].seq == una + 3 * 1460);
  CHECK(snapshot_of(c).cwnd == before.cwnd);
  c.peer_acks(una + 1460, 65535);
  CHECK(snapshot_of(c).cwnd > before.cwnd);  // slow start goes on from there
}

// A probe nobody answers may have been lost like any segment: that timeout is a loss as RFC
// 5681 §3.1 has it, cwnd = 1 segment and ssthresh = max(FlightSize / 2, 2 * SMSS).
TEST_CASE("tcp: a zero-window probe the peer does not answer collapses cwnd like any timeout") {
  Established c;
  const Seq una = shut_window_with_data_outstanding(c);
  const auto before = snapshot_of(c);
  REQUIRE(before.cwnd > 1460);
  // The first timeout follows the ACK that shut the window: answered.
  auto out = next_sent(c);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seq == una);
  CHECK(snapshot_of(c).cwnd == before.cwnd);
  // No answer to it: the next timeout is a loss.
  out = next_sent(c);
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].seq == una);
  CHECK(snapshot_of(c).cwnd == 1460);
  CHECK(snapshot_of(c).ssthresh == 2 * 1460);  // FlightSize 2920 / 2 is below 2 * SMSS
}

// RFC 1122 §4.2.2.16: the old data goes again only "between SND.UNA and SND.UNA+SND.WND". With
// cwnd kept through the answered probes, a window that opens a little must get that much and no
// more: the rest waits for the window to move, not for cwnd (a peer that shrinks its window,
// Linux with net.ipv4.tcp_shrink_window=1, got the whole old flight again at every opening).
TEST_CASE("tcp: a window that reopens a little gets resends up to its edge, no more") {
  Established c;
  REQUIRE(c.socket->send(bytes_of(std::string(5 * 1460, 'x'))) == 5 * 1460);
  REQUIRE(c.peer.take().size() == 5);
  const Seq una = c.our_nxt + 1460;
  c.peer_acks(una, 0);
  REQUIRE(c.peer.take().empty());
  auto out = next_sent(c);  // the first probe, answered
  REQUIRE(out.size() == 1);
  c.peer_acks(una, 0);
  REQUIRE(snapshot_of(c).cwnd > 4 * 1460);
  // Room for two segments: two go, not four.
  c.peer_acks(una, 2 * 1460);
  out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 2);
  CHECK(out[0].seq == una);
  CHECK(out[1].seq == una + 1460);
  // Part of a segment's room: that part goes (the peer can take it), and nothing past the edge.
  c.peer_acks(una + 2 * 1460, 1000);
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == una + 2 * 1460);
  CHECK(out[0].payload.size() == 1000);
  // The window moves on: the rest follows.
  c.peer_acks(una + 2 * 1460 + 1000, 65535);
  out = c.peer.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].seq == una + 2 * 1460 + 1000);
  CHECK(out[1].seq + static_cast<uint32_t>(out[1].payload.size()) == una + 4 * 1460);
}
