// Tests for http/session over a FakeSocket: keep-alive and close in each mode, pipelining,
// exact timer boundaries (idle, header, linger), max requests, backpressure, bad requests, and
// how the server closes (a plain FIN or a lingering close, http/session_close.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "http/session.hpp"
#include "tests/unit/http_test_support.hpp"

using namespace tcplab;
using namespace tcplab::http;
using namespace tcplab::http::testing;

namespace {

struct Harness {
  ServerStats stats;
  TestResponder responder;
  SessionEnv env;
  FakeSocket sock;
  std::unique_ptr<Session> session;
  int gone = 0;

  explicit Harness(ServerConfig config = {})
      : env{config, stats, responder, nullptr, Instant{}, false,
            [] { return std::string_view("Wed, 25 Nov 2026 12:00:00 GMT"); },
            [](Session&) {},
            {},  // no yielding: a response is written until the send buffer is full
            {},
            {}} {
    session = std::make_unique<Session>(sock, env, [this](Session&) { ++gone; });
    sock.after_event = [this] { session->on_timer(); };
  }
  void start() {
    session->start();
    session->on_timer();
  }
  // Moves virtual time to t and fires due timers, as Server::advance does.
  void at(Duration t) {
    env.now = Instant{} + t;
    session->on_timer();
  }
  std::vector<ParsedResponse> responses(bool head_only = false) const {
    return parse_responses(sock.sent, head_only);
  }
};

const char* kGet11 = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";

// The notes a session writes into its trace, in order.
struct NoteRecorder final : trace::Sink {
  std::vector<std::string> texts;
  trace::Tracer tracer;
  NoteRecorder() { tracer.add(this); }
  void note(Instant, const FourTuple*, std::string_view text) override { texts.emplace_back(text); }
  bool any_starts_with(std::string_view prefix) const {
    return std::any_of(texts.begin(), texts.end(),
                       [&](const std::string& text) { return text.starts_with(prefix); });
  }
};

// Connection: close with the next request already arriving: a lingering close, with the whole
// response still unacknowledged by the client.
void start_lingering_close(Harness& h) {
  h.start();
  h.sock.client_send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /late HTTP/1.1\r\n");
  REQUIRE(h.sock.closed);
  REQUIRE(h.stats.lingering_closes == 1);
  h.sock.unacknowledged = h.sock.sent.size();
}

}  // namespace

TEST_CASE("HTTP/1.1 GET: 200, no Connection header, connection stays open and idle timer runs") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].status == 200);
  CHECK(r[0].body == "hello /a");
  CHECK(r[0].header("server") == "tcplab");
  CHECK(r[0].header("date") == "Wed, 25 Nov 2026 12:00:00 GMT");
  CHECK(r[0].header("content-length") == "8");
  CHECK_FALSE(r[0].has("connection"));
  CHECK_FALSE(h.sock.closed);
  CHECK(h.session->phase() == Session::Phase::Reading);
  REQUIRE(h.session->deadline().has_value());
  CHECK(*h.session->deadline() == Instant{} + seconds(5));
  CHECK(h.stats.requests_served == 1);
  CHECK(h.stats.connections_accepted == 1);
}

TEST_CASE("an idle keep-alive connection holds no buffer and no parser between requests") {
  Harness h;
  h.start();
  h.sock.client_send("GET /a HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(200, 'p') + "\r\n");
  CHECK(h.session->held_bytes() > 0);  // half a request: the parser and the bytes so far
  h.sock.client_send("\r\n");
  REQUIRE(h.responses().size() == 1);
  CHECK(h.session->idle());
  CHECK(h.session->held_bytes() == 0);
  // The next request on the same connection is served as before.
  h.sock.client_send(kGet11);
  CHECK(h.responses().size() == 2);
  CHECK(h.session->held_bytes() == 0);
}

TEST_CASE("a parser given back is the next request's, on this connection or another") {
  Harness h;
  h.start();
  CHECK(h.env.spare_parsers.empty());
  h.sock.client_send("GET /a HTTP/1.1\r\nHost: h\r\n");
  CHECK(h.env.spare_parsers.empty());  // half a request: the session holds it
  h.sock.client_send("\r\n");
  REQUIRE(h.responses().size() == 1);
  REQUIRE(h.env.spare_parsers.size() == 1);
  const RequestParser* spare = h.env.spare_parsers.back().get();
  // A second connection on the same server takes that parser, and gives it back.
  FakeSocket other;
  Session second(other, h.env, [](Session&) {});
  second.start();
  other.client_send("GET /b HTTP/1.1\r\nHost: h\r\n");
  CHECK(h.env.spare_parsers.empty());
  other.client_send("\r\n");
  auto r = parse_responses(other.sent, false);
  REQUIRE(r.size() == 1);
  CHECK(r[0].body == "hello /b");
  REQUIRE(h.env.spare_parsers.size() == 1);
  CHECK(h.env.spare_parsers.back().get() == spare);
}

TEST_CASE("input and output buffers given back are reused by the next request; large ones are freed") {
  Harness h;
  h.start();
  CHECK(h.env.spare_buffers.empty());
  h.sock.client_send(kGet11);
  REQUIRE(h.responses().size() == 1);
  // The request's input buffer and the response's output buffer, both back in the spares.
  REQUIRE(h.env.spare_buffers.size() == 2);
  std::vector<const char*> storage;
  for (const auto& b : h.env.spare_buffers) {
    CHECK(b.empty());
    storage.push_back(b.data());
  }
  CHECK(h.session->held_bytes() == 0);
  // The next request (here on another connection) takes both and gives the same two back.
  FakeSocket other;
  Session second(other, h.env, [](Session&) {});
  second.start();
  other.client_send(kGet11);
  REQUIRE(parse_responses(other.sent, false).size() == 1);
  REQUIRE(h.env.spare_buffers.size() == 2);
  for (const auto& b : h.env.spare_buffers)
    CHECK(std::find(storage.begin(), storage.end(), b.data()) != storage.end());
  // A buffer that grew past what is worth keeping is freed, not kept as a spare.
  h.sock.client_send("GET /a HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(20000, 'p') + "\r\n\r\n");
  REQUIRE(h.responses().size() == 2);
  // The input buffer held the 20 KB request and was freed; the output buffer came back.
  REQUIRE(h.env.spare_buffers.size() == 1);
  CHECK(h.env.spare_buffers.back().capacity() <= 16 * 1024);
  CHECK(h.session->held_bytes() == 0);
}

TEST_CASE("idle timeout: nothing 1 ms before, an active close exactly at the timeout") {
  ServerConfig c;
  c.keepalive_timeout = seconds(5);
  Harness h(c);
  h.at(seconds(1));
  h.start();
  h.sock.client_send(kGet11);  // response done at t=1s
  h.at(seconds(6) - milliseconds(1));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(6));
  CHECK(h.sock.closed);  // our FIN: the server closes first and will hold TIME-WAIT
  CHECK_FALSE(h.sock.aborted);
  CHECK(h.stats.closed(CloseBy::Timeout) == 1);
  // A plain FIN: TCP finishes the close (FIN-WAIT-2, TIME-WAIT); the session sets no timer.
  CHECK(h.session->phase() == Session::Phase::Closing);
  CHECK_FALSE(h.session->deadline().has_value());
}

TEST_CASE("idle timeout: a slow reader acknowledging the response is not idle; a stalled one is") {
  using std::chrono::milliseconds;
  ServerConfig c;
  c.keepalive_timeout = seconds(1);
  Harness h(c);
  h.start();
  h.sock.unacknowledged = 500'000;  // most of a large response still on its way
  h.sock.client_send(kGet11);        // answered at t=0
  // The client takes the bytes slowly: an ACK of new data every 0.9 s, for 3.6 s.
  for (int i = 1; i <= 4; ++i) {
    h.sock.acknowledged_at = Instant{} + milliseconds(900 * i);
    h.at(milliseconds(900 * i));
    CHECK_FALSE(h.sock.closed);
  }
  h.sock.unacknowledged = 0;  // the last ACK, at 3.6 s, took the rest
  h.at(milliseconds(4599));
  CHECK_FALSE(h.sock.closed);
  h.at(milliseconds(4600));  // a whole timeout after the last ACK
  CHECK(h.sock.closed);
  CHECK(h.stats.closed(CloseBy::Timeout) == 1);
}

TEST_CASE("idle timeout: a client that acknowledges nothing (a zero window) is closed at the timeout") {
  ServerConfig c;
  c.keepalive_timeout = seconds(1);
  Harness h(c);
  h.start();
  h.sock.unacknowledged = 500'000;
  h.sock.client_send(kGet11);  // answered at t=0; no ACK of new data ever comes
  h.at(seconds(1) - milliseconds(1));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(1));
  CHECK(h.sock.aborted);  // a FIN would wait behind the bytes it never takes
  CHECK(h.stats.closed(CloseBy::Timeout) == 1);
}

TEST_CASE("idle timeout: a response unacknowledged with the window open is loss for TCP, not a stall") {
  // Segments or ACKs lost: TCP retransmits with a backed-off RTO that may exceed the timeout,
  // and gives up on a dead client itself. Only a shut window is the stall the timeout is for.
  for (bool writing : {false, true}) {
    CAPTURE(writing);
    ServerConfig c;
    c.keepalive_timeout = seconds(1);
    Harness h(c);
    if (writing) h.sock.space = 1000;
    h.start();
    h.sock.unacknowledged = 500'000;
    h.sock.window_shut = false;
    h.sock.client_send(writing ? "GET /big/300000 HTTP/1.1\r\nHost: h\r\n\r\n" : kGet11);  // t=0
    REQUIRE(h.session->phase() == (writing ? Session::Phase::Writing : Session::Phase::Reading));
    h.at(seconds(1));
    h.at(seconds(5));
    CHECK_FALSE(h.sock.aborted);
    CHECK_FALSE(h.sock.closed);
    // The window shuts and stays shut: a whole timeout later, the stall is reset.
    h.sock.window_shut = true;
    h.at(seconds(6) - std::chrono::milliseconds(1));
    CHECK_FALSE(h.sock.aborted);
    h.at(seconds(6));
    CHECK(h.sock.aborted);
    CHECK(h.stats.closed(CloseBy::Timeout) == 1);
  }
}

TEST_CASE("lingering close: an unacknowledged response with the window open is not reset") {
  ServerConfig c;
  c.linger = seconds(2);
  c.keepalive_timeout = seconds(5);
  Harness h(c);
  start_lingering_close(h);
  h.sock.window_shut = false;  // lost on the way: TCP is retransmitting
  h.at(seconds(5));
  h.at(seconds(12));
  CHECK_FALSE(h.sock.aborted);
  h.sock.window_shut = true;
  h.at(seconds(17));
  CHECK(h.sock.aborted);
}

TEST_CASE("idle timeout: a response too large for the send buffer stalls the same way while it is written") {
  using std::chrono::milliseconds;
  ServerConfig c;
  c.keepalive_timeout = seconds(1);
  Harness h(c);
  h.sock.space = 1000;
  h.start();
  h.sock.client_send("GET /big/300000 HTTP/1.1\r\nHost: h\r\n\r\n");  // t=0
  REQUIRE(h.session->phase() == Session::Phase::Writing);
  // Taking it slowly is fine: an ACK of new data every 0.9 s.
  for (int i = 1; i <= 3; ++i) {
    h.sock.acknowledged_at = Instant{} + milliseconds(900 * i);
    h.at(milliseconds(900 * i));
    h.sock.drain(1000);
  }
  CHECK_FALSE(h.sock.aborted);
  // Then nothing for the whole timeout: reset, and counted as a timeout.
  h.at(milliseconds(3699));
  CHECK_FALSE(h.sock.aborted);
  h.at(milliseconds(3700));
  CHECK(h.sock.aborted);
  CHECK(h.stats.closed(CloseBy::Timeout) == 1);
}

TEST_CASE("stats: a response cut off before it was whole is counted, so the totals reconcile") {
  ServerConfig c;
  c.keepalive_timeout = seconds(1);
  Harness h(c);
  h.sock.space = 1000;
  h.start();
  h.sock.client_send("GET /big/300000 HTTP/1.1\r\nHost: h\r\n\r\n");  // never read
  REQUIRE(h.session->phase() == Session::Phase::Writing);
  h.at(seconds(1));
  REQUIRE(h.sock.aborted);
  CHECK(h.stats.responses_by_class[2] == 1);  // started...
  CHECK(h.stats.requests_served == 0);        // ...never whole...
  CHECK(h.stats.responses_cut_off == 1);      // ...and counted as such
  CHECK(h.stats.requests_per_connection[1] == 1);
  // The exit line names the counter as /stats does (requests_served), so 0 beside "cut off 1"
  // does not read as a contradiction.
  CHECK(http::status_line(h.stats).find("requests served 0 (bad 0, responses cut off 1)") !=
        std::string::npos);
}

TEST_CASE("a body that ends before its Content-Length: sent as far as it goes, then closed and cut off") {
  // RFC 9112 §8: the server cannot deliver the length it promised (a file that shrank while it
  // was sent), so it closes the connection and the client sees the response incomplete: no
  // padding, no "served", and the next request on this connection never comes.
  NoteRecorder notes;
  for (bool small_buffer : {false, true}) {  // the body in one send(), or as the window opens
    CAPTURE(small_buffer);
    notes.texts.clear();
    Harness h;
    h.env.tracer = &notes.tracer;
    if (small_buffer) h.sock.space = 1000;
    h.start();
    h.sock.client_send("GET /short/300000 HTTP/1.1\r\nHost: h\r\n\r\n" + std::string(kGet11));
    for (int i = 0; i < 1000 && small_buffer && !h.sock.closed; ++i) h.sock.drain(1000);
    const auto head_end = h.sock.sent.find("\r\n\r\n") + 4;
    CHECK(h.sock.sent.find("Content-Length: 300000\r\n") < head_end);
    CHECK(h.sock.sent.substr(head_end) == pattern(150000));  // the bytes there were, no more
    CHECK(h.sock.closed);  // FIN after them
    CHECK_FALSE(h.sock.aborted);
    CHECK(h.sock.sent.find("hello /a") == std::string::npos);  // the pipelined GET is not answered
    CHECK(h.stats.requests_served == 0);
    CHECK(h.stats.closed(CloseBy::Error) == 1);
    h.sock.finish(tcp::CloseReason::Normal);
    CHECK(h.gone == 1);
    CHECK(h.stats.responses_by_class[2] == 1);
    CHECK(h.stats.responses_cut_off == 1);
    CHECK(notes.any_starts_with("response body ended 150000 bytes short of its Content-Length"));
  }
}

TEST_CASE("the trace says why the server closes after a response: the keep-alive cause or the error") {
  NoteRecorder notes;
  struct Case {
    std::string request;
    std::string why;  // how the note on the close begins
  };
  const Case cases[] = {
      {"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "client sent Connection: close"},
      {"GET /a HTTP/1.0\r\n\r\n", "HTTP/1.0 without Connection: keep-alive"},
      {"GET /stream/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
       "HTTP/1.0 response of unknown length: it ends at the close"},
      {"GET /a HTTP/1.1\r\n\r\n", "error 400"},  // RFC 9112 §3.2: no Host
  };
  for (const Case& c : cases) {
    CAPTURE(c.request);
    notes.texts.clear();
    Harness h;
    h.env.tracer = &notes.tracer;
    h.start();
    h.sock.client_send(c.request);
    h.at(milliseconds(1));  // the session's notes are timestamped and handed on by its timer turn
    REQUIRE(h.sock.closed);
    CHECK(notes.any_starts_with(c.why + "; FIN"));
  }
}

TEST_CASE("a bad request's close note counts the pipelined bytes discarded with it") {
  NoteRecorder notes;
  Harness h;
  h.env.tracer = &notes.tracer;
  h.start();
  const std::string behind = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";  // 28 bytes, twice
  h.sock.client_send("BAD REQUEST LINE\r\n\r\n" + behind + behind);
  h.at(milliseconds(1));
  REQUIRE(h.sock.closed);
  auto responses = h.responses();
  REQUIRE(responses.size() == 1);
  CHECK(responses[0].status == 400);
  // The parser stops after the bad line; the empty line and the two requests behind it go too.
  CHECK(notes.any_starts_with("error 400; FIN: nothing left unread (the 58 bytes read behind the bad "
                              "request were discarded with it)"));
  CHECK_FALSE(notes.any_starts_with("error 400; FIN: nothing unanswered"));
}

TEST_CASE("stats: a response whole in TCP is served, not cut off, even if the client never reads it") {
  ServerConfig c;
  c.keepalive_timeout = seconds(1);
  Harness h(c);
  h.start();
  h.sock.unacknowledged = 500'000;
  h.sock.client_send(kGet11);
  h.at(seconds(1));
  REQUIRE(h.sock.aborted);
  CHECK(h.stats.responses_by_class[2] == 1);
  CHECK(h.stats.requests_served == 1);
  CHECK(h.stats.responses_cut_off == 0);
}

TEST_CASE("each request restarts the idle timer") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  h.at(seconds(4));
  h.sock.client_send(kGet11);
  h.at(seconds(8));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(9));
  CHECK(h.sock.closed);
  CHECK(h.responses().size() == 2);
}

TEST_CASE("header timeout: a dribbled request gets 408 and a close exactly at the limit") {
  ServerConfig c;
  c.header_timeout = seconds(10);
  Harness h(c);
  h.start();
  h.at(seconds(2));
  h.sock.client_send("GET / HT");  // the request starts at t=2s
  h.at(seconds(7));
  h.sock.client_send("TP/1.1\r\n");  // still dribbling: the clock does not restart
  h.at(seconds(12) - milliseconds(1));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(12));
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].status == 408);
  CHECK(r[0].header("connection") == "close");
  CHECK(h.sock.closed);
  CHECK(h.stats.closed(CloseBy::HeaderTimeout) == 1);
}

TEST_CASE("header timeout: a slow body is fine while it keeps coming; a stalled one gets 408") {
  ServerConfig c;
  c.header_timeout = seconds(10);
  Harness h(c);
  h.start();
  h.sock.client_send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\n\r\n");  // head at t=0
  for (int i = 1; i <= 2; ++i) {
    h.at(seconds(9 * i));  // 9 s between pieces: 18 s in all, longer than the timeout
    h.sock.client_send("0123456789");
  }
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(27));
  h.sock.client_send("0123456789");  // the last piece, 27 s after the head
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].status == 200);
  CHECK(r[0].body == "012345678901234567890123456789");
  // The next request's body stalls: 408 a whole timeout after its last piece.
  h.sock.client_send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\n\r\n0123");
  h.at(seconds(37) - milliseconds(1));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(37));
  r = h.responses();
  REQUIRE(r.size() == 2);
  CHECK(r[1].status == 408);
  CHECK(h.sock.closed);
}

TEST_CASE("a connection that never sends anything is closed after the header timeout, silently") {
  Harness h;
  h.start();
  h.at(seconds(10) - milliseconds(1));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(10));
  CHECK(h.sock.closed);
  CHECK(h.sock.sent.empty());
}

TEST_CASE("HTTP/1.0 without keep-alive: Connection: close, then the server closes") {
  Harness h;
  h.start();
  h.sock.client_send("GET /a HTTP/1.0\r\n\r\n");
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].header("connection") == "close");
  CHECK(h.sock.closed);
  CHECK(h.stats.closed(CloseBy::Server) == 1);
}

TEST_CASE("HTTP/1.0 with keep-alive: Connection: keep-alive and Keep-Alive parameters") {
  ServerConfig c;
  c.keepalive_timeout = seconds(7);
  c.max_requests = 3;
  Harness h(c);
  h.start();
  h.sock.client_send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  h.sock.client_send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r = h.responses();
  REQUIRE(r.size() == 2);
  CHECK(r[0].header("connection") == "keep-alive");
  CHECK(r[0].header("keep-alive") == "timeout=7, max=2");
  CHECK(r[1].header("keep-alive") == "timeout=7, max=1");
  CHECK_FALSE(h.sock.closed);
}

TEST_CASE("HTTP/1.0 keep-alive: timeout= never promises more than the idle timeout") {
  // A client may count on an idle connection lasting the announced seconds: round down.
  for (auto [timeout, announced] : {std::pair{milliseconds(1500), "timeout=1, max=99"},
                                    std::pair{milliseconds(500), "max=99"}}) {
    ServerConfig c;
    c.keepalive_timeout = timeout;
    Harness h(c);
    h.start();
    h.sock.client_send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = h.responses();
    REQUIRE(r.size() == 1);
    CHECK(r[0].header("keep-alive") == announced);
  }
}

TEST_CASE("Connection: close from an HTTP/1.1 client, and --keepalive off") {
  Harness a;
  a.start();
  a.sock.client_send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  CHECK(a.responses().at(0).header("connection") == "close");
  CHECK(a.sock.closed);

  ServerConfig off;
  off.keepalive = false;
  Harness b(off);
  b.start();
  b.sock.client_send(kGet11);
  CHECK(b.responses().at(0).header("connection") == "close");
  CHECK(b.sock.closed);
}

TEST_CASE("20 pipelined requests in one write get 20 responses in order") {
  Harness h;
  h.start();
  std::string many;
  for (int i = 0; i < 20; ++i) many += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  h.sock.client_send(many);
  auto r = h.responses();
  REQUIRE(r.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(r[i].body == "hello /r" + std::to_string(i));
  CHECK(h.stats.keepalive_reuses == 19);
  CHECK(h.stats.connections_used == 1);
}

TEST_CASE("12,000 pipelined requests in one write are all answered, in order, over several turns") {
  // One callback answers a bounded number of requests, so that one connection cannot hold the
  // server; the rest must follow from the next turns even though no new event comes for them.
  ServerConfig config;
  config.max_requests = 100000;
  Harness h(config);
  h.start();
  std::string many;
  const int count = 12000;
  for (int i = 0; i < count; ++i) many += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  h.sock.client_send(many);
  for (int turn = 0; turn < 10 && h.responses().size() < count; ++turn) h.session->on_timer();
  auto r = h.responses();
  REQUIRE(r.size() == count);
  for (int i = 0; i < count; ++i) CHECK(r[i].body == "hello /r" + std::to_string(i));
  CHECK_FALSE(h.sock.closed);
}

TEST_CASE("pipelined requests split at every byte position give the same responses") {
  std::string reqs = std::string(kGet11) + "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
                     "GET /z HTTP/1.1\r\nHost: h\r\n\r\n";
  for (size_t cut = 1; cut < reqs.size(); ++cut) {
    Harness h;
    h.start();
    h.sock.client_send(reqs.substr(0, cut));
    h.sock.client_send(reqs.substr(cut));
    auto r = h.responses();
    INFO("cut at " << cut);
    REQUIRE(r.size() == 3);
    CHECK(r[0].body == "hello /a");
    CHECK(r[1].body == "abc");
    CHECK(r[2].body == "hello /z");
  }
}

TEST_CASE("max requests: the Nth response says close and the server closes") {
  ServerConfig c;
  c.max_requests = 3;
  Harness h(c);
  h.start();
  std::string four;
  for (int i = 0; i < 4; ++i) four += kGet11;
  h.sock.client_send(four);
  auto r = h.responses();
  REQUIRE(r.size() == 3);  // the fourth request is never answered
  CHECK_FALSE(r[1].has("connection"));
  CHECK(r[2].header("connection") == "close");
  CHECK(h.sock.closed);
  CHECK(h.stats.closed(CloseBy::MaxRequests) == 1);
}

TEST_CASE("lingering close: input after our FIN is read and discarded, RST only after linger in FIN-WAIT-2") {
  ServerConfig c;
  c.linger = seconds(2);
  Harness h(c);
  h.start();
  h.sock.client_send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  REQUIRE(h.sock.closed);
  size_t sent = h.sock.sent.size();
  h.sock.client_send("GET /late HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(h.sock.inbound.empty());      // read (so the window stays open)...
  CHECK(h.sock.sent.size() == sent);  // ...and not answered
  CHECK_FALSE(h.sock.sent_after_close);
  // Our data is still unacknowledged (FIN-WAIT-1): never RST then, wait longer.
  h.at(seconds(2));
  CHECK_FALSE(h.sock.aborted);
  h.sock.st = tcp::State::FinWait2;  // the client acknowledged everything, but keeps its side open
  h.at(seconds(4) - milliseconds(1));
  CHECK_FALSE(h.sock.aborted);
  h.at(seconds(4));
  CHECK(h.sock.aborted);
  CHECK(h.stats.lingering_closes == 1);
  CHECK(h.stats.lingering_aborts == 1);
  CHECK(h.gone == 1);
}

TEST_CASE("lingering close ends quietly when the client closes too") {
  Harness h;
  h.start();
  h.sock.client_send("GET / HTTP/1.0\r\n\r\n");
  REQUIRE(h.sock.closed);
  h.sock.st = tcp::State::FinWait2;
  h.sock.client_fin();
  CHECK_FALSE(h.session->deadline().has_value());
  h.at(seconds(100));
  CHECK_FALSE(h.sock.aborted);
  h.sock.finish(tcp::CloseReason::Normal);
  CHECK(h.gone == 1);
  CHECK(h.stats.requests_per_connection[1] == 1);
  CHECK(h.stats.connections_open == 0);
}

TEST_CASE("backpressure: a large body goes out only as fast as send space frees") {
  Harness h;
  h.sock.space = 1000;
  h.start();
  h.sock.client_send("GET /big/300000 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(h.sock.sent.size() == 1000);
  CHECK(h.session->phase() == Session::Phase::Writing);
  int rounds = 0;
  while (h.session->phase() == Session::Phase::Writing && rounds < 10000) {
    size_t before = h.sock.sent.size();
    h.sock.drain(1000);
    CHECK(h.sock.sent.size() - before <= 1000);
    ++rounds;
  }
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].body.size() == 300000);
  CHECK(r[0].body == pattern(300000));
  CHECK(rounds > 250);
}

TEST_CASE("a stream of unknown length is chunked for 1.1 and close-delimited for 1.0") {
  Harness a;
  a.start();
  a.sock.client_send("GET /stream/200000 HTTP/1.1\r\nHost: h\r\n\r\n");
  auto r = a.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].header("transfer-encoding") == "chunked");
  CHECK(r[0].body == pattern(200000));
  CHECK_FALSE(a.sock.closed);

  Harness b;
  b.start();
  b.sock.client_send("GET /stream/5000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r2 = b.responses();
  REQUIRE(r2.size() == 1);
  CHECK_FALSE(r2[0].has("transfer-encoding"));
  CHECK(r2[0].header("connection") == "close");
  CHECK(r2[0].body == pattern(5000));
  CHECK(b.sock.closed);
}

TEST_CASE("HEAD sends the GET headers without the body") {
  Harness h;
  h.start();
  h.sock.client_send("HEAD /big/5000 HTTP/1.1\r\nHost: h\r\n\r\n" + std::string(kGet11));
  auto r = h.responses(true);
  REQUIRE(r.size() == 2);
  CHECK(r[0].header("content-length") == "5000");
  // The second response starts right after the first head: no body bytes in between.
  CHECK(h.sock.sent.find("HTTP/1.1 200 OK", 10) == h.sock.sent.find("\r\n\r\n") + 4);
}

TEST_CASE("POST /echo with Content-Length and with chunked bodies; 100 Continue on Expect") {
  Harness h;
  h.start();
  h.sock.client_send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  h.sock.client_send(
      "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  h.sock.client_send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(h.sock.sent.ends_with("HTTP/1.1 100 Continue\r\n\r\n"));
  h.sock.client_send("ok");
  auto r = h.responses();
  REQUIRE(r.size() == 4);
  CHECK(r[0].body == "hello");
  CHECK(r[1].body == "abcde");
  CHECK(r[2].status == 100);
  CHECK(r[3].body == "ok");
  CHECK(h.stats.responses_by_class[1] == 1);  // /stats responses.1xx: the 100 Continue
  CHECK(h.stats.responses_by_class[2] == 3);
}

TEST_CASE("a 100 Continue cut short by send() leads the final response: the stream stays whole") {
  // The kernel's sockets (serve --kernel-tcp) only estimate their send space, so send() may
  // take part of the interim response; the rest must not be lost, or the client reads
  // "HTTP/1.1 100 Cont" followed by the next status line.
  Harness h;
  h.start();
  h.sock.space = 10;
  h.sock.overstated_space = 1000;
  h.sock.client_send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(h.sock.sent == "HTTP/1.1 1");
  h.sock.overstated_space = 0;
  h.sock.drain(100000);
  // Room again: the rest goes at once, since the client waits for it before sending the body.
  CHECK(h.sock.sent == "HTTP/1.1 100 Continue\r\n\r\n");
  h.sock.client_send("ok");
  auto r = h.responses();
  REQUIRE(r.size() == 2);
  CHECK(r[0].status == 100);
  CHECK(r[1].status == 200);
  CHECK(r[1].body == "ok");
  CHECK(h.sock.sent.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
}

TEST_CASE("Expect: 100-continue where the answer needs no body: that answer at once, then close") {
  // RFC 9110 §10.1.1: a 100 Continue would only bring a body the answer ignores.
  Harness h;
  NoteRecorder notes;
  h.env.tracer = &notes.tracer;
  h.start();
  h.sock.client_send("POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
  CHECK(h.sock.sent.find("100 Continue") == std::string::npos);
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].status == 200);
  CHECK(r[0].header("connection") == "close");
  CHECK(h.sock.closed);
  CHECK(h.stats.responses_by_class[1] == 0);
  CHECK(notes.any_starts_with("HTTP POST /a HTTP/1.1 -> 200, request 1 on this connection, then close: "
                              "answered without the request's body"));
  // The client may send the body anyway once it tires of waiting: read and thrown away, never
  // taken for a request.
  h.sock.client_send(std::string(5000, 'x'));
  CHECK(h.responses().size() == 1);
  CHECK(h.stats.lingering_closes == 1);
}

TEST_CASE("an answer before the body keeps a stronger reason to close: the last request allowed") {
  ServerConfig config;
  config.max_requests = 1;
  Harness h(config);
  NoteRecorder notes;
  h.env.tracer = &notes.tracer;
  h.start();
  h.sock.client_send("POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
  REQUIRE(h.responses().size() == 1);
  CHECK(h.sock.closed);
  CHECK(notes.any_starts_with("HTTP POST /a HTTP/1.1 -> 200, request 1 on this connection, then close: "
                              "max requests reached"));
  CHECK(h.stats.closed(CloseBy::MaxRequests) == 1);
}

TEST_CASE("a body larger than the session's input buffer, all arrived at once, is read to its end") {
  // All of it is in the socket before the first callback, and no further one comes (the
  // kernel's edge-triggered epoll): the session must not stop at its 64 KiB input buffer.
  for (size_t size : {size_t{100000}, size_t{1} << 20}) {
    Harness h;
    h.start();
    std::string body(size, 'a');
    h.sock.client_send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(size) +
                       "\r\n\r\n" + body);
    INFO("body of " << size << " bytes");
    CHECK(h.sock.inbound.empty());
    auto r = h.responses();
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 200);
    CHECK(r[0].body == body);
  }
}

TEST_CASE("every bad request gets its status, Connection: close and a clean close") {
  struct Case {
    std::string bytes;
    int status;
  } cases[] = {
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n", 414},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(33000, 'a') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nA: b\rc\r\n\r\n", 400},
      {"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
  };
  for (const auto& c : cases) {
    Harness h;
    h.start();
    h.sock.client_send(c.bytes);
    auto r = h.responses();
    INFO("expected " << c.status);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == c.status);
    CHECK(r[0].header("connection") == "close");
    CHECK(h.sock.closed);
    CHECK_FALSE(h.sock.aborted);
    CHECK(h.stats.closed(CloseBy::Error) == 1);
  }
}

TEST_CASE("an error response to HEAD has the GET headers and no content (RFC 9110 §9.3.2)") {
  for (const char* bytes : {"HEAD / HTTP/1.1\r\n\r\n", "HEAD * HTTP/1.1\r\nHost: h\r\n\r\n",
                            "HEAD / HTTP/2.0\r\n\r\n", "HEAD / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n"}) {
    Harness h;
    h.start();
    h.sock.client_send(bytes);
    INFO("request: " << bytes);
    auto r = h.responses(true);
    REQUIRE(r.size() == 1);
    CHECK(r[0].status >= 400);
    CHECK(std::stoul(std::string(r[0].header("content-length"))) > 0);
    // Nothing after the head: it ends the bytes sent.
    CHECK(h.sock.sent.find("\r\n\r\n") + 4 == h.sock.sent.size());
    CHECK(h.sock.closed);
  }
  // A GET's error keeps its body, and a HEAD that timed out gets its 408 without one.
  Harness get;
  get.start();
  get.sock.client_send("GET / HTTP/1.1\r\n\r\n");
  CHECK(get.sock.sent.ends_with("400 Bad Request: missing Host\n"));
  Harness slow;
  slow.start();
  slow.sock.client_send("HEAD / HTTP/1.1\r\nHost: h\r\n");
  slow.at(ServerConfig{}.header_timeout);
  auto r = slow.responses(true);
  REQUIRE(r.size() == 1);
  CHECK(r[0].status == 408);
  CHECK(slow.sock.sent.find("\r\n\r\n") + 4 == slow.sock.sent.size());
}

TEST_CASE("the client closing an idle connection is a passive close for us") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  h.sock.client_fin();
  CHECK(h.sock.closed);
  CHECK(h.sock.st == tcp::State::LastAck);
  CHECK(h.stats.closed(CloseBy::Client) == 1);
}

TEST_CASE("a request followed at once by the client's FIN is still answered") {
  Harness h;
  h.sock.inbound = kGet11;
  h.sock.fin_in = true;
  h.start();
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(h.sock.closed);
}

TEST_CASE("a reset connection is counted and reported gone") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  h.sock.finish(tcp::CloseReason::ResetByPeer);
  CHECK(h.gone == 1);
  CHECK(h.stats.closed(CloseBy::Reset) == 1);
  CHECK(h.session->phase() == Session::Phase::Closed);
  h.at(seconds(100));  // no timer touches the dead socket
}

TEST_CASE("shutdown closes idle connections and says close on the next response") {
  Harness idle;
  idle.start();
  idle.sock.client_send(kGet11);
  idle.env.shutting_down = true;
  idle.session->shutdown();
  CHECK(idle.sock.closed);
  CHECK(idle.stats.closed(CloseBy::Shutdown) == 1);

  Harness busy;
  busy.start();
  busy.env.shutting_down = true;
  busy.sock.client_send(kGet11);
  CHECK(busy.responses().at(0).header("connection") == "close");
  CHECK(busy.sock.closed);
}

TEST_CASE("what happens inside a socket callback is timed by the next advance, not the last one") {
  Harness h;
  h.sock.after_event = nullptr;        // the callback runs while env.now is still the old time
  h.start();                           // stamped at t=0
  h.env.now = Instant{} + seconds(1);  // the last advance was at 1 s...
  h.sock.client_send(kGet11);          // ...the request arrives later, during packet processing
  h.at(seconds(30));                   // the loop's advance right after that batch, at 30 s
  REQUIRE(h.session->deadline().has_value());
  CHECK(*h.session->deadline() == Instant{} + seconds(35));
  h.at(seconds(35) - milliseconds(1));
  CHECK_FALSE(h.sock.closed);
  h.at(seconds(35));
  CHECK(h.sock.closed);
}

TEST_CASE("a small response leaves in a single send(): head and body together (no Nagle stall)") {
  Harness h;
  h.start();
  h.sock.client_send("GET /stream/100 HTTP/1.1\r\nHost: h\r\n\r\n");
  auto r = h.responses();
  REQUIRE(r.size() == 1);
  CHECK(r[0].body == pattern(100));
  CHECK(h.sock.sends == 1);
  h.sock.client_send(kGet11);
  CHECK(h.sock.sends == 2);
}

// ------------------------------------------------------------------ how the server closes

TEST_CASE("close path table: FIN unless request bytes are still arriving after close or an error") {
  auto path = [](CloseBy by, bool arriving, bool peer_closed = false) {
    return choose_close_path(CloseInput{by, arriving, peer_closed});
  };
  // Row 1: the client closed first: nothing more can arrive.
  CHECK(path(CloseBy::Server, true, true) == ClosePath::Fin);
  CHECK(path(CloseBy::Error, true, true) == ClosePath::Fin);
  // Row 2: an idle close never lingers, even if a request crosses our FIN.
  CHECK(path(CloseBy::Timeout, false) == ClosePath::Fin);
  CHECK(path(CloseBy::Timeout, true) == ClosePath::Fin);
  CHECK(path(CloseBy::Shutdown, true) == ClosePath::Fin);
  // Row 3: Connection: close, HTTP/1.0, max requests, an error, a 408 - with bytes arriving.
  for (CloseBy by : {CloseBy::Server, CloseBy::MaxRequests, CloseBy::Error, CloseBy::HeaderTimeout}) {
    INFO(to_string(by));
    CHECK(path(by, true) == ClosePath::Lingering);
    CHECK(path(by, false) == ClosePath::Fin);  // row 4
  }
  CHECK(to_string(ClosePath::Lingering) == "lingering close");
}

TEST_CASE("idle timeout: FIN, then the session leaves the rest to TCP - no RST however long it waits") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  h.at(seconds(5));
  REQUIRE(h.sock.closed);
  h.sock.st = tcp::State::FinWait2;  // the client acknowledged our FIN but keeps its side open
  h.at(seconds(5) + seconds(3600));
  CHECK_FALSE(h.sock.aborted);  // TCP's --fin-timeout, not the session, ends FIN-WAIT-2
  CHECK(h.stats.lingering_closes == 0);
  CHECK(h.stats.lingering_aborts == 0);
  h.sock.finish(tcp::CloseReason::TimedOut);  // what TCP reports when --fin-timeout drops it
  CHECK(h.gone == 1);
  CHECK(h.stats.closed(CloseBy::Timeout) == 1);
  CHECK(h.stats.closed(CloseBy::Reset) == 0);  // counted once, as the timeout it was
}

TEST_CASE("idle timeout: the client's FIN after ours ends in TIME-WAIT with no session timer") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  h.at(seconds(5));
  REQUIRE(h.sock.closed);
  h.sock.st = tcp::State::FinWait2;
  h.sock.client_fin();
  CHECK(h.sock.st == tcp::State::TimeWait);
  CHECK_FALSE(h.session->deadline().has_value());
  h.at(seconds(60));
  CHECK_FALSE(h.sock.aborted);
  h.sock.finish(tcp::CloseReason::Normal);  // 2 MSL later
  CHECK(h.gone == 1);
}

TEST_CASE("idle timeout: a request crossing our FIN is discarded, not answered, and causes no RST") {
  Harness h;
  h.start();
  h.sock.client_send(kGet11);
  h.at(seconds(5));
  REQUIRE(h.sock.closed);
  size_t sent = h.sock.sent.size();
  h.sock.client_send(kGet11);
  CHECK(h.sock.inbound.empty());
  CHECK(h.sock.sent.size() == sent);
  CHECK(h.session->phase() == Session::Phase::Closing);
  h.sock.st = tcp::State::FinWait2;
  h.at(seconds(60));
  CHECK_FALSE(h.sock.aborted);
  CHECK(h.stats.lingering_closes == 0);
}

TEST_CASE("Connection: close with nothing more arriving: a plain FIN, no RST after --linger") {
  ServerConfig c;
  c.linger = seconds(2);
  Harness h(c);
  h.start();
  h.sock.client_send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  REQUIRE(h.sock.closed);
  CHECK(h.session->phase() == Session::Phase::Closing);
  h.sock.st = tcp::State::FinWait2;
  h.at(seconds(30));
  CHECK_FALSE(h.sock.aborted);
  CHECK(h.stats.lingering_closes == 0);
}

TEST_CASE("Connection: close with a pipelined request behind it: lingering close from the start") {
  ServerConfig c;
  c.linger = seconds(3);
  Harness h(c);
  h.start();
  h.sock.client_send(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(h.sock.closed);
  CHECK(h.responses().size() == 1);
  CHECK(h.session->phase() == Session::Phase::Lingering);
  CHECK(h.stats.lingering_closes == 1);
  h.sock.st = tcp::State::FinWait2;
  h.at(seconds(3) - milliseconds(1));
  CHECK_FALSE(h.sock.aborted);
  h.at(seconds(3));
  CHECK(h.sock.aborted);
  CHECK(h.stats.lingering_aborts == 1);
}

TEST_CASE("an error with the rest of the request still arriving lingers; a lone bad request does not") {
  ServerConfig c;
  c.linger = seconds(2);
  Harness trailing(c);
  trailing.start();
  trailing.sock.client_send("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n");
  REQUIRE(trailing.sock.closed);
  CHECK(trailing.session->phase() == Session::Phase::Closing);
  trailing.sock.client_send("X-More: still sending\r\n");  // the client has not read the 400 yet
  CHECK(trailing.session->phase() == Session::Phase::Lingering);
  trailing.sock.st = tcp::State::FinWait2;
  trailing.at(seconds(2));
  CHECK(trailing.sock.aborted);
  CHECK(trailing.stats.lingering_aborts == 1);

  Harness lone(c);
  lone.start();
  lone.sock.client_send("GET / HTTP/2.0\r\n\r\n");
  REQUIRE(lone.sock.closed);
  lone.sock.st = tcp::State::FinWait2;
  lone.at(seconds(30));
  CHECK_FALSE(lone.sock.aborted);
  CHECK(lone.stats.closed(CloseBy::Error) == 1);
}

TEST_CASE("lingering close: a client acknowledging nothing for the keep-alive timeout is reset") {
  ServerConfig c;
  c.linger = seconds(2);
  c.keepalive_timeout = seconds(5);
  Harness h(c);
  start_lingering_close(h);  // a zero window: TCP probes, nothing is taken
  h.at(seconds(4));
  CHECK_FALSE(h.sock.aborted);  // FIN-WAIT-1: still waiting for the client to take the response
  h.at(seconds(5));
  CHECK(h.sock.aborted);  // nothing acknowledged for --keepalive-timeout, not the next --linger tick
  CHECK(h.stats.lingering_aborts == 1);  // a lingering close that ended with RST
}

TEST_CASE("lingering close: the stall bound holds after the client's FIN too") {
  ServerConfig c;
  c.linger = seconds(2);
  c.keepalive_timeout = seconds(5);
  Harness h(c);
  start_lingering_close(h);  // a zero window that never reopens
  h.sock.client_fin();  // and the client half-closes: CLOSING, our bytes still untaken
  h.at(seconds(4));
  CHECK_FALSE(h.sock.aborted);
  h.at(seconds(5));
  CHECK(h.sock.aborted);
  CHECK(h.stats.lingering_aborts == 1);
}

TEST_CASE("lingering close: a slow reader still acknowledging the response is not reset") {
  ServerConfig c;
  c.linger = seconds(2);
  c.keepalive_timeout = seconds(5);
  Harness h(c);
  start_lingering_close(h);
  h.sock.acknowledged_at = Instant{} + seconds(3);
  h.at(seconds(6));
  CHECK_FALSE(h.sock.aborted);
  h.at(seconds(10));
  CHECK(h.sock.aborted);
}
