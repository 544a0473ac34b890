// Tests for the ACK of full-sized segments at the end of the turn that read them
// (Connection::schedule_ack, "Deviation (ack-per-turn)"): RFC 9293 §3.8.6.3 asks for an ACK at
// least every second full-sized segment; the segments one wake-up reads are acknowledged
// together, as Linux does for what its GRO merged, and never more than 64 KiB of them.
#include <doctest/doctest.h>

#include <string>

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

TEST_CASE("tcp turn ack: more than 64 KiB unacknowledged in one turn is ACKed at once") {
  Established c(default_stack_config(), 65535, uint8_t{7});  // window scaling: room for more
  // The first segment's turn opens the window past the SYN's unscaled 64 KiB (a window update).
  c.peer_sends(".", kFull);
  REQUIRE(c.peer.take().size() == 1);
  // 45 segments are 65,160 bytes; the 46th takes the unacknowledged bytes past 65,536.
  for (int i = 0; i < 45; ++i) c.peer_sends(".", kFull);
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

TEST_CASE("tcp turn ack: a reply sent in the turn carries the ACK; no pure ACK goes before it") {
  Established c;
  Replier replier;
  replier.size = 4 * kFull.size();
  c.socket->set_handler(&replier);
  for (int i = 0; i < 4; ++i) c.peer_sends(".", kFull);
  auto out = c.peer.take();
  INFO(c.peer.dump());
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "reply");
  CHECK(out[0].ack == c.peer_nxt);
}

TEST_CASE("tcp turn ack: one full-sized segment alone still waits for the delayed-ACK timer") {
  Established c;
  c.app.read_on_readable = false;  // no read, so no quick ACK either
  c.peer_sends(".", kFull);
  CHECK(c.peer.take().empty());
  c.peer.advance(milliseconds(200));
  auto out = c.peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == c.peer_nxt);
}
