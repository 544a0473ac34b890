// Tests for SYN cookies (RFC 4987 §3.6): stack/tcp/syn_cookie.* on its own, and TcpHost
// answering from a full SYN queue with cookies and making connections from their ACKs.
#include <doctest/doctest.h>

#include "stack/tcp/syn_cookie.hpp"
#include "tcp_peer.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcplab::tcp::SynCookies;
using Mode = tcplab::tcp::TcpConfig::SynCookieMode;

namespace {

const std::array<uint8_t, 16> kKey{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
const FourTuple kTuple{wire::Ipv4Address{0xC0000202}, 80, wire::Ipv4Address{0xC0000201}, 40000};

}  // namespace

TEST_CASE("syn cookie: MSS table rounds down, and the smallest entry is the floor") {
  CHECK(tcp::kSynCookieMssTable[SynCookies::mss_index(1460)] == 1460);
  CHECK(tcp::kSynCookieMssTable[SynCookies::mss_index(1459)] == 1440);
  CHECK(tcp::kSynCookieMssTable[SynCookies::mss_index(536)] == 536);
  CHECK(tcp::kSynCookieMssTable[SynCookies::mss_index(1000)] == 536);
  CHECK(tcp::kSynCookieMssTable[SynCookies::mss_index(65535)] == 8960);
  CHECK(SynCookies::mss_index(10) == 0);
  for (size_t i = 1; i < tcp::kSynCookieMssTable.size(); ++i)
    CHECK(tcp::kSynCookieMssTable[i - 1] < tcp::kSynCookieMssTable[i]);
}

TEST_CASE("syn cookie: round trip gives back the MSS for every table entry and many ISNs") {
  SynCookies cookies(kKey);
  Instant t{seconds(5000)};
  for (uint16_t mss : tcp::kSynCookieMssTable) {
    for (uint32_t isn : {0u, 1u, 0x7fffffffu, 0xffffffffu, 123456789u}) {
      Seq cookie = cookies.make(kTuple, Seq(isn), mss, t);
      auto back = cookies.check(kTuple, Seq(isn), cookie, t + milliseconds(5));
      REQUIRE(back.has_value());
      CHECK(*back == mss);
    }
  }
  // An MSS between entries comes back rounded down.
  Seq cookie = cookies.make(kTuple, Seq(77), 1450, t);
  CHECK(cookies.check(kTuple, Seq(77), cookie, t) == uint16_t{1440});
}

TEST_CASE("syn cookie: valid for one more tick of the counter, then expired") {
  SynCookies cookies(kKey);
  // Made at the very end of a tick: still good through the whole next tick.
  Instant t{tcp::kSynCookiePeriod * 100 - milliseconds(1)};
  Seq cookie = cookies.make(kTuple, Seq(42), 1460, t);
  CHECK(cookies.check(kTuple, Seq(42), cookie, t + tcp::kSynCookiePeriod).has_value());
  CHECK_FALSE(cookies.check(kTuple, Seq(42), cookie, t + tcp::kSynCookiePeriod + milliseconds(2)));
  // 32 ticks later the 5 counter bits are the same again: the full counter in the hash
  // still refuses it.
  CHECK_FALSE(cookies.check(kTuple, Seq(42), cookie, t + tcp::kSynCookiePeriod * 32));
  // A cookie from the future (clock confusion) is refused too.
  CHECK_FALSE(cookies.check(kTuple, Seq(42), cookie, t - tcp::kSynCookiePeriod));
}

TEST_CASE("syn cookie: wrong tuple, peer ISN, key or a flipped bit is rejected") {
  SynCookies cookies(kKey);
  Instant t{seconds(7777)};
  Seq cookie = cookies.make(kTuple, Seq(1000), 1460, t);
  REQUIRE(cookies.check(kTuple, Seq(1000), cookie, t).has_value());
  FourTuple other_port = kTuple;
  other_port.remote_port = 40001;
  CHECK_FALSE(cookies.check(other_port, Seq(1000), cookie, t));
  FourTuple other_ip = kTuple;
  other_ip.remote_ip = wire::Ipv4Address{0xC0000203};
  CHECK_FALSE(cookies.check(other_ip, Seq(1000), cookie, t));
  CHECK_FALSE(cookies.check(kTuple, Seq(1001), cookie, t));
  std::array<uint8_t, 16> other_key = kKey;
  other_key[0] ^= 1;
  CHECK_FALSE(SynCookies(other_key).check(kTuple, Seq(1000), cookie, t));
  // Any single flipped bit (hash, MSS index or counter) makes it invalid.
  int accepted = 0;
  for (int bit = 0; bit < 32; ++bit)
    if (cookies.check(kTuple, Seq(1000), Seq(cookie.raw() ^ (1u << bit)), t)) ++accepted;
  CHECK(accepted == 0);
}

TEST_CASE("tcp: a full SYN queue answers with a SYN cookie and its ACK makes a connection") {
  auto config = default_stack_config();
  config.tcp.syn_backlog = 1;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  // The first SYN takes the only SYN-queue entry and gets every option back.
  auto syn = Peer::make("S", peer.isn, Seq(0), 64240);
  syn.options.mss = 1400;
  syn.options.window_scale = 7;
  syn.options.sack_permitted = true;
  syn.options.timestamps = wire::TcpTimestamps{100, 0};
  peer.inject(syn, 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].options.window_scale.has_value());
  CHECK(peer.stack.tcp().stats().syn_cookies_sent == 0);
  // The second client finds the queue full: a cookie, with the MSS and nothing else.
  peer.set_port(40001);
  peer.inject(syn, 80);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "S.");
  CHECK(out[0].ack == peer.isn + 1);
  CHECK(out[0].options.mss == uint16_t{1460});
  CHECK_FALSE(out[0].options.window_scale.has_value());
  CHECK_FALSE(out[0].options.sack_permitted);
  CHECK_FALSE(out[0].options.timestamps.has_value());
  CHECK(peer.stack.tcp().stats().syn_cookies_sent == 1);
  CHECK(peer.stack.tcp().connections().size() == 1);  // no state for the cookie
  CHECK(peer.stack.drops().get(DropReason::TcpSynQueueEvicted) == 0);
  Seq cookie = out[0].seq;
  // A forged ACK (wrong cookie) is refused with RST, as any ACK in LISTEN.
  peer.inject(Peer::make(".", peer.isn + 1, cookie + 2, 502), 80);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(peer.stack.tcp().stats().syn_cookies_rejected == 1);
  // The real ACK, carrying the request, makes an ESTABLISHED connection with MSS 1400.
  peer.advance(milliseconds(10));
  peer.inject(Peer::make("P.", peer.isn + 1, cookie + 1, 65535, bytes_of("GET /")), 80);
  CHECK(peer.stack.tcp().stats().syn_cookies_validated == 1);
  CHECK(acceptor.calls == 1);
  tcp::Socket* s = peer.stack.tcp().accept(80);
  REQUIRE(s != nullptr);
  CHECK(s->state() == tcp::State::Established);
  CHECK(s->tuple().remote_port == 40001);
  RecordingHandler app;
  app.read_on_readable = false;
  s->set_handler(&app);
  std::byte buf[16];
  CHECK(s->receive(buf) == 5);
  // The peer's window is not scaled: the cookie's SYN-ACK did not agree to window scale.
  auto snap = peer.stack.tcp().snapshot(s->tuple());
  REQUIRE(snap.has_value());
  CHECK(snap->snd_wnd == 65535);
  CHECK(snap->iss == cookie);
  // Our data is numbered after the cookie, in segments of the MSS the cookie kept (Nagle
  // holds the 200-byte rest until they are acknowledged).
  CHECK(s->send(bytes_of(std::string(3000, 'x'))) == 3000);
  out = peer.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].seq == cookie + 1);
  CHECK(out[0].ack == peer.isn + 6);
  CHECK(out[0].payload.size() == 1400);
  CHECK(out[1].payload.size() == 1400);
  CHECK_FALSE(out[0].options.timestamps.has_value());
}

TEST_CASE("tcp: syn_cookies=always answers every SYN with a cookie; never keeps eviction") {
  auto config = default_stack_config();
  config.tcp.syn_cookies = Mode::Always;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
  syn.options.mss = 1000;
  peer.inject(syn, 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(peer.stack.tcp().stats().syn_cookies_sent == 1);
  CHECK(peer.stack.tcp().connections().empty());
  peer.inject(Peer::make(".", peer.isn + 1, out[0].seq + 1, 65535), 80);
  CHECK(peer.take().empty());
  tcp::Socket* s = peer.stack.tcp().accept(80);
  REQUIRE(s != nullptr);
  // The MSS is 1000 rounded down to the table: 536 (Nagle holds the rest).
  CHECK(s->send(bytes_of(std::string(1000, 'y'))) == 1000);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload.size() == 536);

  auto never = default_stack_config();
  never.tcp.syn_cookies = Mode::Never;
  never.tcp.syn_backlog = 1;
  Peer other(never);
  REQUIRE(other.stack.tcp().listen(80, &acceptor));
  other.inject(Peer::make("S", other.isn, Seq(0), 65535), 80);
  other.set_port(40001);
  other.inject(Peer::make("S", other.isn, Seq(0), 65535), 80);
  CHECK(other.take().size() == 2);
  CHECK(other.stack.tcp().stats().syn_cookies_sent == 0);
  CHECK(other.stack.drops().get(DropReason::TcpSynQueueEvicted) == 1);
}

TEST_CASE("tcp: a cookie's ACK after the cookie expired is answered with RST") {
  auto config = default_stack_config();
  config.tcp.syn_cookies = Mode::Always;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make("S", peer.isn, Seq(0), 65535), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  peer.advance(tcp::kSynCookiePeriod * 3);
  peer.inject(Peer::make(".", peer.isn + 1, out[0].seq + 1, 65535), 80);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(peer.stack.tcp().stats().syn_cookies_rejected == 1);
  CHECK(peer.stack.tcp().accept(80) == nullptr);
}

TEST_CASE("tcp: in auto mode no ACK is checked against cookies when none was sent") {
  Peer peer;
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(Peer::make(".", peer.isn + 1, Seq(12345), 65535), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(peer.stack.tcp().stats().syn_cookies_rejected == 0);
}
