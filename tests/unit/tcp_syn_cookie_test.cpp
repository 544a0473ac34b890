// Tests for SYN cookies (RFC 4987 §3.6): stack/tcp/syn_cookie.* on its own, and TcpHost
// answering from a full SYN queue with cookies and making connections from their ACKs.
#include <doctest/doctest.h>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/syn_cookie.hpp"
#include "stack/tcp/timestamps.hpp"
#include "stack/trace/format.hpp"
#include "tcp_peer.hpp"
#include "tcp_trace_recorder.hpp"

using namespace tcplab;
using namespace tcplab::testing;
using tcplab::tcp::SynCookieOptions;
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
  // The second client finds the queue full: a cookie. Its SYN has no timestamps, so only the
  // MSS can ride on the cookie (the other options travel in our TSval).
  peer.set_port(40001);
  syn.options.timestamps.reset();
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
  // That read took every byte of a short segment: its ACK goes at once (quick ACK).
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == peer.isn + 6);
  CHECK(out[0].payload.empty());
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

TEST_CASE("tcp: a cookie SYN-ACK is traced with relative numbers, like one from the SYN queue") {
  struct Segments : trace::Sink {
    std::vector<std::string> lines;
    void segment(Instant, const trace::SegmentEvent& e) override {
      lines.push_back(trace::segment_summary(e));
    }
  } seen;
  auto config = default_stack_config();
  config.tcp.syn_cookies = Mode::Always;
  config.tcp.timestamps = false;  // a summary without TS values, the same every run
  Peer peer(config);
  peer.tracer.add(&seen);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = Peer::make("S", peer.isn, Seq(0), 65535);
  syn.options.mss = 1460;
  peer.inject(syn, 80);
  REQUIRE(peer.take().size() == 1);
  REQUIRE(seen.lines.size() == 2);
  CHECK(seen.lines[0].starts_with("S 0:0(0) win 65535"));
  CHECK(seen.lines[1].starts_with("S. 0:0(0) ack 1 win "));
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

// ------------------------------------------------------------------ options in the TSval

namespace {

// Our timestamp clock for a connection whose ISS is `cookie` (RFC 7323 §5.4 offset = ISS).
uint32_t clock_of(Seq cookie, Instant now) {
  tcp::Timestamps clock;
  clock.set_offset(cookie.raw());
  return clock.value(now);
}

SynCookieOptions ts_options(std::optional<uint8_t> shift, bool sack) {
  SynCookieOptions o;
  o.timestamps = true;
  o.window_shift = shift;
  o.sack_permitted = sack;
  return o;
}

}  // namespace

TEST_CASE("syn cookie options: every window shift and SACK bit survive the TSval's low bits") {
  std::vector<std::optional<uint8_t>> shifts{std::nullopt};
  for (uint8_t s = 0; s <= 14; ++s) shifts.push_back(s);
  std::vector<uint32_t> seen;
  for (auto shift : shifts) {
    for (bool sack : {false, true}) {
      SynCookieOptions o = ts_options(shift, sack);
      uint32_t bits = o.bits();
      CHECK(bits < (1u << tcp::kSynCookieOptionBits));
      // Only the low bits count: whatever the clock put above them is ignored.
      CHECK(SynCookieOptions::from_bits(bits | 0xabcd1200u) == o);
      CHECK(std::find(seen.begin(), seen.end(), bits) == seen.end());  // no two alike
      seen.push_back(bits);
    }
  }
  // RFC 7323 §2.3: a shift above 14 is used as 14.
  CHECK(ts_options(uint8_t{15}, false).normalised().window_shift == uint8_t{14});
  CHECK(ts_options(uint8_t{200}, true).normalised().window_shift == uint8_t{14});
  // Without timestamps nothing else can be carried.
  SynCookieOptions no_ts;
  no_ts.window_shift = 7;
  no_ts.sack_permitted = true;
  CHECK(no_ts.normalised() == SynCookieOptions{});
  CHECK(tcp::describe({1460, ts_options(7, true)}) == "mss 1460 wscale 7 sack ts");
  CHECK(tcp::describe({536, SynCookieOptions{}}) == "mss 536");
}

TEST_CASE("syn cookie TSval: carries the bits, never ahead of the clock, never backwards") {
  SynCookies cookies(kKey);
  for (auto o :
       {ts_options(7, true), ts_options(std::nullopt, false), ts_options(0, true), ts_options(14, false)}) {
    Instant t{seconds(9000)};
    Seq cookie = cookies.make(kTuple, Seq(5), 1460, o, t);
    uint32_t previous = SynCookies::tsval(cookie, o, t);
    // Over 200 ms, a millisecond at a time: every TSval has the bits, is at most 31 ms behind
    // the connection's clock and never after it (RFC 7323 §5.3 R1 at the peer), and does not
    // go back from one millisecond to the next.
    for (int ms = 0; ms < 200; ++ms) {
      Instant now = t + milliseconds(ms);
      uint32_t ts = SynCookies::tsval(cookie, o, now);
      uint32_t behind = clock_of(cookie, now) - ts;
      CHECK(SynCookieOptions::from_bits(ts) == o);
      CHECK(behind < (1u << tcp::kSynCookieOptionBits));
      CHECK(static_cast<int32_t>(ts - previous) >= 0);
      previous = ts;
    }
  }
}

TEST_CASE("syn cookie: the options come back from the echoed TSval, and an altered echo is refused") {
  SynCookies cookies(kKey);
  Instant t{seconds(12345)};
  SynCookieOptions o = ts_options(7, true);
  Seq cookie = cookies.make(kTuple, Seq(99), 1460, o, t);
  uint32_t ts = SynCookies::tsval(cookie, o, t);
  auto good = cookies.check(kTuple, Seq(99), cookie, ts, t + milliseconds(20));
  REQUIRE(good.contents.has_value());
  CHECK(good.contents->mss == 1460);
  CHECK(good.contents->options == o);
  CHECK(good.refusal.empty());
  // Any changed option bit fails the hash, which covers them: a peer cannot turn SACK on or
  // pick another window shift by echoing something else.
  for (int bit = 0; bit < tcp::kSynCookieOptionBits; ++bit) {
    auto bad = cookies.check(kTuple, Seq(99), cookie, ts ^ (1u << bit), t + milliseconds(20));
    CHECK_FALSE(bad.contents.has_value());
    CHECK_FALSE(bad.refusal.empty());
  }
  // An echo ahead of our clock, or older than the cookie may be, is no TSval we sent.
  auto future = cookies.check(kTuple, Seq(99), cookie, ts + 64, t);
  CHECK_FALSE(future.contents.has_value());
  CHECK(future.refusal == "TSecr echoes no TSval of this cookie");
  auto ancient = cookies.check(kTuple, Seq(99), cookie, ts - 200000, t);
  CHECK_FALSE(ancient.contents.has_value());
  CHECK(ancient.refusal == "TSecr echoes no TSval of this cookie");
  // The bits are gone without TSopt on the ACK: refused, not guessed.
  CHECK_FALSE(cookies.check(kTuple, Seq(99), cookie, std::nullopt, t).contents.has_value());
  CHECK_FALSE(cookies.check(kTuple, Seq(99), cookie, t).has_value());
  // A cookie made without options ignores a TSopt on its ACK (RFC 7323 §3.2).
  Seq plain = cookies.make(kTuple, Seq(99), 1400, t);
  auto ignored = cookies.check(kTuple, Seq(99), plain, 0x12345678u, t);
  REQUIRE(ignored.contents.has_value());
  CHECK(ignored.contents->mss == 1400);
  CHECK(ignored.contents->options == SynCookieOptions{});
}

namespace {

// A SYN offering everything Linux offers.
wire::TcpSegment full_syn(Seq isn, uint32_t tsval) {
  auto syn = Peer::make("S", isn, Seq(0), 64240);
  syn.options.mss = 1460;
  syn.options.window_scale = 7;
  syn.options.sack_permitted = true;
  syn.options.timestamps = wire::TcpTimestamps{tsval, 0};
  return syn;
}

}  // namespace

TEST_CASE("tcp: a cookie SYN-ACK offers wscale, SACK and timestamps; its ACK gets them all") {
  auto config = default_stack_config();
  config.tcp.syn_cookies = Mode::Always;
  Peer peer(config);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  peer.inject(full_syn(peer.isn, 5000), 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(peer.stack.tcp().connections().empty());  // still no state
  CHECK(out[0].options.mss == uint16_t{1460});
  CHECK(out[0].options.window_scale == tcp::Connection::window_shift_for(config.tcp.receive_buffer));
  CHECK(out[0].options.sack_permitted);
  REQUIRE(out[0].options.timestamps.has_value());
  CHECK(out[0].options.timestamps->echo_reply == 5000);
  Seq cookie = out[0].seq;
  uint32_t tsval = out[0].options.timestamps->value;
  CHECK(SynCookieOptions::from_bits(tsval) == ts_options(7, true));

  // A tampered echo (SACK bit flipped) is refused like a forged cookie: RST, no connection.
  peer.advance(milliseconds(10));
  auto ack = Peer::make(".", peer.isn + 1, cookie + 1, 500);
  ack.options.timestamps = wire::TcpTimestamps{5010, tsval ^ 0x10};
  peer.inject(ack, 80);
  out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flags.to_string() == "R");
  CHECK(peer.stack.tcp().stats().syn_cookies_rejected == 1);
  CHECK(peer.stack.tcp().accept(80) == nullptr);

  // The true echo makes the connection with everything negotiated.
  ack.options.timestamps = wire::TcpTimestamps{5011, tsval};
  peer.inject(ack, 80);
  CHECK(peer.take().empty());
  CHECK(peer.stack.tcp().stats().syn_cookies_validated == 1);
  tcp::Socket* s = peer.stack.tcp().accept(80);
  REQUIRE(s != nullptr);
  auto snap = peer.stack.tcp().snapshot(s->tuple());
  REQUIRE(snap.has_value());
  CHECK(snap->state == tcp::State::Established);
  CHECK(snap->snd_wnd == 500u << 7);      // the peer's window, scaled by its shift
  CHECK(snap->send_mss == 1460 - 12);     // timestamps take 12 bytes of every segment
  CHECK(snap->srtt == Duration::zero());  // no RTT sample from the rounded-down echo
  // Our data carries timestamps echoing the ACK's TSval, and our window is scaled.
  CHECK(s->send(bytes_of(std::string(3000, 'z'))) == 3000);
  out = peer.take();
  REQUIRE(out.size() == 2);
  REQUIRE(out[0].options.timestamps.has_value());
  CHECK(out[0].options.timestamps->echo_reply == 5011);
  CHECK(static_cast<int32_t>(out[0].options.timestamps->value - tsval) >= 0);
  CHECK(out[0].payload.size() == 1448);
  uint8_t shift = tcp::Connection::window_shift_for(config.tcp.receive_buffer);
  REQUIRE(shift > 0);
  CHECK((size_t{out[0].window} << shift) > 65535);  // our window beyond 16 bits
}

TEST_CASE("tcp: without timestamps (SYN or --no-timestamps) a cookie keeps only the MSS") {
  for (bool ours : {true, false}) {
    auto config = default_stack_config();
    config.tcp.syn_cookies = Mode::Always;
    config.tcp.timestamps = ours;
    Peer peer(config);
    RecordingAccept acceptor;
    REQUIRE(peer.stack.tcp().listen(80, &acceptor));
    auto syn = full_syn(peer.isn, 777);
    if (ours) syn.options.timestamps.reset();  // the SYN lacks them; else we turned them off
    peer.inject(syn, 80);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].options.mss == uint16_t{1460});
    CHECK_FALSE(out[0].options.window_scale.has_value());
    CHECK_FALSE(out[0].options.sack_permitted);
    CHECK_FALSE(out[0].options.timestamps.has_value());
    peer.inject(Peer::make(".", peer.isn + 1, out[0].seq + 1, 500), 80);
    tcp::Socket* s = peer.stack.tcp().accept(80);
    REQUIRE(s != nullptr);
    CHECK(peer.stack.tcp().snapshot(s->tuple())->snd_wnd == 500);  // not scaled
    CHECK(peer.stack.tcp().snapshot(s->tuple())->send_mss == 1460);
  }
}

TEST_CASE("tcp: a SYN cookie notes a window scale above 14 taken as 14 (RFC 7323 §2.3)") {
  auto config = default_stack_config();
  config.tcp.syn_cookies = Mode::Always;
  Peer peer(config);
  TraceRecorder trace;
  peer.tracer.add(&trace);
  RecordingAccept acceptor;
  REQUIRE(peer.stack.tcp().listen(80, &acceptor));
  auto syn = full_syn(peer.isn, 777);
  syn.options.window_scale = uint8_t{15};
  peer.inject(syn, 80);
  auto out = peer.take();
  REQUIRE(out.size() == 1);
  CHECK(std::count(trace.notes.begin(), trace.notes.end(),
                   std::string("window scale 15 above 14: taken as 14 (RFC 7323 §2.3)")) == 1);
}
