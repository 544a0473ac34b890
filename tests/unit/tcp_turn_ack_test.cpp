// Tests for the ACK of full-sized segments at the end of the turn that read them
// (Connection::schedule_ack, "Deviation (ack-per-turn)"): RFC 9293 §3.8.6.3 asks for an ACK at
// least every second full-sized segment; the segments one wake-up reads are acknowledged
// together, as Linux's TCP does what its GRO merged, at most 64 KiB of full segments per ACK.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;

namespace {

// Replies from inside the callback once a whole request of `size` bytes has arrived, as the
// HTTP server does.
struct Replier : RecordingHandler {
  size_t size = 0;
  void on_readable(tcp::Socket& s) override {
    RecordingHandler::on_readable(s);
    if (received.size() == size) s.send(bytes_of("reply"));
  }
};

const std::string kFull(1448, 'x');  // a full segment from a peer using timestamps

}  // namespace

TEST_CASE("tcp turn ack: ten full-sized segments read in one turn get one ACK, at the turn's end") {
  Established c;
  for (int i = 0; i < 10; ++i) c.peer_sends(".", kFull);
  // Nothing has left while the turn was reading: one ACK per pair would be five by now.
  CHECK(c.peer.stack.outbox().empty());
  auto out = c.peer.take();  // the turn ends
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == ".");
  CHECK(out[0].payload.empty());
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(c.app.received.size() == 10 * kFull.size());
}

TEST_CASE("tcp turn ack: full segments held for the turn stay under 64 KiB; the ACK goes at once before") {
  Established c(default_stack_config(), 65535, uint8_t{7});  // window scaling: room for more
  // The first segment's turn opens the window past the SYN's unscaled 64 KiB (a window update).
  c.peer_sends(".", kFull);
  REQUIRE(c.peer.take().size() == 1);
  // 45 segments are 65,160 bytes: a 46th would take the unacknowledged bytes past 65,536.
  for (int i = 0; i < 44; ++i) c.peer_sends(".", kFull);
  CHECK(c.peer.stack.outbox().empty());
  c.peer_sends(".", kFull);
  CHECK(c.peer.stack.outbox().size() == 1);
  const Seq capped = c.peer_nxt;
  for (int i = 0; i < 4; ++i) c.peer_sends(".", kFull);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 2);
  CHECK(out[0].ack == capped);
  CHECK(out[1].ack == c.peer_nxt);
  CHECK(out[1].payload.empty());
}

TEST_CASE("tcp turn ack: one segment worth two full ones (a TSO super-packet) is ACKed at once") {
  Established c(default_stack_config(), 65535, uint8_t{7});
  c.peer_sends(".", kFull);  // learns the peer's full segment size; opens the window
  REQUIRE(c.peer.take().size() == 1);
  c.peer_sends(".", std::string(40 * kFull.size(), 's'));
  CHECK(c.peer.stack.outbox().size() == 1);
  c.peer_sends(".", std::string(40 * kFull.size(), 't'));
  CHECK(c.peer.stack.outbox().size() == 2);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 2);
  CHECK(out[1].ack == c.peer_nxt);
}

// `segments` full segments in one turn to an application that replies once it has read the
// first `reply_after` of them; what the turn sent.
std::vector<Sent> turn_with_reply(Established& c, int segments, int reply_after) {
  Replier replier;
  replier.size = static_cast<size_t>(reply_after) * kFull.size();
  c.socket->set_handler(&replier);
  for (int i = 0; i < segments; ++i) c.peer_sends(".", kFull);
  auto out = c.peer.take();
  c.socket->set_handler(&c.app);
  return out;
}

TEST_CASE("tcp turn ack: a reply sent in the turn carries the ACK; no pure ACK goes before it") {
  Established c;
  auto out = turn_with_reply(c, 4, 4);
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "reply");
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp turn ack: once a reply has carried the ACK, a later segment of the turn waits") {
  // The reply settles what the first two segments were owed; the third is one full segment,
  // which waits for the delayed-ACK timer like any other, not for the turn's end.
  Established c;
  auto out = turn_with_reply(c, 3, 2);
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "reply");
  c.peer.advance(milliseconds(200));
  out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp turn ack: one full-sized segment alone still waits for the delayed-ACK timer") {
  Established c;
  c.app.read_on_readable = false;  // left unread, as a full segment is never quick-ACKed anyway
  c.peer_sends(".", kFull);
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(200));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
}

namespace {

// Reads what arrived, then, once `enough` bytes have, lets go of the connection from inside
// the callback.
struct ReleaseOnRead : RecordingHandler {
  size_t enough = 0;
  void on_readable(tcp::Socket& s) override {
    RecordingHandler::on_readable(s);
    if (received.size() >= enough) s.release();
  }
};

// Our close, and the peer's ACK of our FIN: FIN-WAIT-2, `app` reading.
void to_fin_wait_2(Established& c, RecordingHandler& app) {
  c.socket->set_handler(&app);
  c.socket->close();
  auto fin = c.peer.take();
  REQUIRE(fin.size() == 1);
  REQUIRE(fin[0].flags.fin);
  c.our_nxt = fin[0].seq + 1;
  c.peer_acks(c.our_nxt);
  REQUIRE(c.peer.take().empty());
}

}  // namespace

TEST_CASE("tcp turn ack: a connection let go of in the turn sends its ACK, then becomes a record") {
  // In FIN-WAIT-2 a released connection becomes a compact record as soon as it owes nothing:
  // the ACK owed to the turn's end must keep it whole until that ACK has gone, and once it has,
  // nothing keeps it whole any more.
  Established c;
  ReleaseOnRead app;
  app.enough = 6 * kFull.size();
  to_fin_wait_2(c, app);
  for (int i = 0; i < 6; ++i) c.peer_sends(".", kFull);  // the last read lets go
  const auto& stats = c.peer.stack.tcp().stats();
  CHECK(stats.full_tcbs == 1);  // whole while the ACK is owed
  auto out = c.peer.take();     // the turn ends
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
  CHECK(stats.fin_wait_2_records == 1);
  CHECK(stats.full_tcbs == 0);
}

TEST_CASE("tcp turn ack: a super-packet to a connection let go of in the turn is ACKed at once") {
  Established c;
  ReleaseOnRead app;
  app.enough = 8000;
  to_fin_wait_2(c, app);
  c.peer_sends(".", std::string(8000, 'd'));  // one segment worth several, as from a sender's TSO
  CHECK(c.peer.stack.outbox().size() == 1);   // at once, before the turn ends
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
}
