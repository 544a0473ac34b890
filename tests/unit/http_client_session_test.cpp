// Tests for http/client_session over fake sockets: keep-alive reuse, Connection: close from
// either side, HTTP/1.0 with and without keep-alive, close-delimited bodies, who closes
// first (TIME-WAIT), refusal, timeouts, bad responses, the retry on a stale connection, and
// -L's redirects.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/client_session.hpp"
#include "tests/unit/http_test_support.hpp"

using namespace tcplab;
using namespace tcplab::http;
using tcplab::http::testing::FakeSocket;

namespace {

// In FakeSocket's words the "client" is the peer: client_send() is the server's bytes
// arriving, client_fin() its FIN, `sent` what the session sent.
struct Harness : ClientEvents {
  std::vector<std::unique_ptr<FakeSocket>> sockets;
  std::vector<FetchReport> reports;
  std::vector<ConnectionReport> closes;
  std::vector<std::string> bodies;
  std::unique_ptr<ClientSession> session;
  Instant now{};

  explicit Harness(std::vector<std::string> urls, ClientConfig config = {}) {
    std::vector<Url> parsed;
    for (const auto& u : urls) {
      std::string error;
      parsed.push_back(*parse_url(u, error));
    }
    bodies.resize(urls.size());
    auto dial = [this](wire::Ipv4Address, uint16_t port, tcp::SocketHandler* h) -> tcp::Socket* {
      auto s = std::make_unique<FakeSocket>();
      s->st = tcp::State::SynSent;
      s->t.local_port = static_cast<uint16_t>(49152 + sockets.size());
      s->t.remote_port = port;
      s->after_event = [this] { session->advance(now); };
      s->set_handler(h);
      sockets.push_back(std::move(s));
      return sockets.back().get();
    };
    session = std::make_unique<ClientSession>(std::move(parsed), config, dial, *this);
  }
  void on_body(size_t index, std::string_view bytes) override { bodies[index].append(bytes); }
  void on_fetched(const FetchReport& r) override { reports.push_back(r); }
  void on_connection_closed(const ConnectionReport& r) override { closes.push_back(r); }

  void start() { session->start(now); }
  void at(Duration t) {
    now = Instant{} + t;
    session->advance(now);
  }
  FakeSocket& sock(size_t i) {
    REQUIRE(i < sockets.size());
    return *sockets[i];
  }
  void connect(size_t i) {
    sock(i).st = tcp::State::Established;
    sock(i).handler->on_connected(sock(i));
    session->advance(now);
  }
  // The peer acknowledges our FIN and sends its own: our side enters TIME-WAIT.
  void finish_in_time_wait(size_t i) {
    sock(i).st = tcp::State::TimeWait;
    sock(i).finish(tcp::CloseReason::Normal);
    session->advance(now);
  }
  // We answered the server's FIN with ours and it was acknowledged (LAST-ACK -> CLOSED).
  void finish_passive(size_t i) {
    sock(i).st = tcp::State::Closed;
    sock(i).finish(tcp::CloseReason::Normal);
    session->advance(now);
  }
};

const char* kOk11 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

// -L: a session following up to `hops` redirects per URL, started, its first connection made.
std::unique_ptr<Harness> following(std::vector<std::string> urls, unsigned hops) {
  ClientConfig config;
  config.max_redirects = hops;
  auto h = std::make_unique<Harness>(std::move(urls), config);
  h->start();
  h->connect(0);
  return h;
}

}  // namespace

TEST_CASE("keep-alive: two URLs on one connection, then we close first and hold TIME-WAIT") {
  Harness h({"http://192.0.2.1:8000/a", "http://192.0.2.1:8000/b"});
  h.start();
  REQUIRE(h.sockets.size() == 1);
  CHECK(h.sock(0).sent.empty());  // nothing before the handshake completes
  h.connect(0);
  CHECK(h.sock(0).sent ==
        "GET /a HTTP/1.1\r\nHost: 192.0.2.1:8000\r\nUser-Agent: tcplab\r\nAccept: */*\r\n\r\n");
  h.sock(0).sent.clear();
  h.sock(0).client_send(kOk11);
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].ok);
  CHECK(h.reports[0].conn == 1);
  CHECK_FALSE(h.reports[0].reused);
  CHECK(h.reports[0].persistence.keep_open);
  CHECK(h.bodies[0] == "hello");
  // The second request goes out on the same socket.
  CHECK(h.sockets.size() == 1);
  CHECK(h.sock(0).sent.starts_with("GET /b HTTP/1.1\r\n"));
  h.sock(0).client_send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye");
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[1].reused);
  CHECK(h.reports[1].conn == 1);
  CHECK(h.bodies[1] == "bye");
  // No more URLs: we close the kept connection ourselves.
  CHECK(h.sock(0).closed);
  CHECK_FALSE(h.session->finished());
  h.finish_in_time_wait(0);
  REQUIRE(h.closes.size() == 1);
  CHECK(h.closes[0].we_closed_first);
  CHECK(h.closes[0].time_wait_ours);
  CHECK(h.closes[0].requests == 2);
  CHECK(h.session->finished());
  CHECK(h.session->failures() == 0);
  CHECK(h.session->connections_opened() == 1);
}

TEST_CASE("--keepalive off: Connection: close, the server closes first, a new connection per URL") {
  ClientConfig config;
  config.request.keepalive = false;
  Harness h({"http://192.0.2.1:8000/a", "http://192.0.2.1:8000/b"}, config);
  h.start();
  h.connect(0);
  CHECK(h.sock(0).sent.find("\r\nConnection: close\r\n") != std::string::npos);
  h.sock(0).client_send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  REQUIRE(h.reports.size() == 1);
  CHECK_FALSE(h.reports[0].persistence.keep_open);
  // We wait for the server's FIN rather than closing first (RFC 9112 §9.6).
  CHECK_FALSE(h.sock(0).closed);
  REQUIRE(h.sockets.size() == 2);  // the next URL does not wait for the close
  h.sock(0).client_fin();
  CHECK(h.sock(0).closed);  // our FIN answers theirs
  h.finish_passive(0);
  REQUIRE(h.closes.size() == 1);
  CHECK_FALSE(h.closes[0].we_closed_first);
  CHECK_FALSE(h.closes[0].time_wait_ours);
  h.connect(1);
  CHECK(h.sock(1).sent.starts_with("GET /b HTTP/1.1\r\n"));
  h.sock(1).client_send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[1].conn == 2);
  CHECK_FALSE(h.reports[1].reused);
  h.sock(1).client_fin();
  h.finish_passive(1);
  CHECK(h.session->finished());
  CHECK(h.session->connections_opened() == 2);
}

TEST_CASE("a server that says close but does not close is closed by us after the grace") {
  ClientConfig config;
  config.close_grace = seconds(1);
  Harness h({"http://192.0.2.1/"}, config);
  h.start();
  h.connect(0);
  h.sock(0).client_send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  h.at(milliseconds(999));
  CHECK_FALSE(h.sock(0).closed);
  h.at(seconds(1));
  CHECK(h.sock(0).closed);
  h.finish_in_time_wait(0);
  CHECK(h.closes.at(0).time_wait_ours);
  CHECK(h.session->finished());
}

TEST_CASE("HTTP/1.0: closes after one response unless keep-alive is negotiated") {
  ClientConfig plain;
  plain.request.minor = 0;
  plain.request.keepalive = false;
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"}, plain);
  h.start();
  h.connect(0);
  CHECK(h.sock(0).sent.starts_with("GET /a HTTP/1.0\r\n"));
  CHECK(h.sock(0).sent.find("Connection") == std::string::npos);
  h.sock(0).client_send("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  CHECK_FALSE(h.reports.at(0).persistence.keep_open);
  CHECK(h.sockets.size() == 2);

  ClientConfig negotiated;
  negotiated.request.minor = 0;
  negotiated.request.keepalive = true;
  Harness k({"http://192.0.2.1/a", "http://192.0.2.1/b"}, negotiated);
  k.start();
  k.connect(0);
  CHECK(k.sock(0).sent.find("\r\nConnection: keep-alive\r\n") != std::string::npos);
  k.sock(0).client_send("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(k.reports.at(0).persistence.keep_open);
  CHECK(k.sockets.size() == 1);
  CHECK(k.sock(0).sent.find("GET /b HTTP/1.0") != std::string::npos);
  // An HTTP/1.0 answer without keep-alive ends it.
  k.sock(0).client_send("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx");
  CHECK_FALSE(k.reports.at(1).persistence.keep_open);
  CHECK(k.reports.at(1).reused);
}

TEST_CASE("a body without framing ends at the server's FIN") {
  Harness h({"http://192.0.2.1/"});
  h.start();
  h.connect(0);
  h.sock(0).client_send("HTTP/1.0 200 OK\r\n\r\npart one, ");
  h.sock(0).client_send("part two");
  CHECK(h.reports.empty());
  h.sock(0).client_fin();
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].ok);
  CHECK(h.reports[0].framing == BodyFraming::UntilClose);
  CHECK(h.bodies[0] == "part one, part two");
  CHECK(h.sock(0).closed);  // the server closed first; we answer
}

TEST_CASE("the server's Connection: close on HTTP/1.1 moves the next URL to a new connection") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  CHECK(h.reports.at(0).persistence.why == "the server sent Connection: close");
  CHECK(h.sockets.size() == 2);
}

TEST_CASE("a different server closes the kept connection and opens a new one") {
  Harness h({"http://192.0.2.1:8000/a", "http://192.0.2.1:8001/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send(kOk11);
  CHECK(h.sock(0).closed);
  REQUIRE(h.sockets.size() == 2);
  CHECK(h.sock(1).t.remote_port == 8001);
}

TEST_CASE("refused: a clear failure, and the next URL is still fetched") {
  Harness h({"http://192.0.2.1:9/", "http://192.0.2.1:8000/"});
  h.start();
  h.sock(0).st = tcp::State::Closed;
  h.sock(0).finish(tcp::CloseReason::Refused);
  h.session->advance(h.now);
  REQUIRE(h.reports.size() == 1);
  CHECK_FALSE(h.reports[0].ok);
  CHECK(h.reports[0].error.find("connection refused: 192.0.2.1:9 answered our SYN with RST") !=
        std::string::npos);
  REQUIRE(h.sockets.size() == 2);
  h.connect(1);
  h.sock(1).client_send(kOk11);
  CHECK(h.reports.at(1).ok);
  CHECK(h.session->failures() == 1);
}

TEST_CASE("timeouts: no SYN-ACK, and no response, each fail with a message and end the connection") {
  ClientConfig config;
  config.timeout = seconds(3);
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"}, config);
  h.start();
  h.at(milliseconds(2999));
  CHECK(h.reports.empty());
  h.at(seconds(3));
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].error ==
        "timed out after 3 s waiting for the connection (no SYN-ACK from 192.0.2.1:80) "
        "(--timeout)");
  CHECK(h.sock(0).aborted);
  REQUIRE(h.sockets.size() == 2);
  h.at(seconds(4));
  h.connect(1);
  h.sock(1).client_send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  h.at(seconds(6) + milliseconds(999));
  CHECK(h.reports.size() == 1);  // progress at 4 s restarted the clock
  h.at(seconds(7));
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[1].error.find("waiting for the rest of the response") != std::string::npos);
  CHECK(h.sock(1).aborted);
  CHECK(h.session->failures() == 2);
  CHECK(h.session->finished());
}

TEST_CASE("a fetch the program stops itself (Ctrl-C, a body it cannot write) says so, not the server") {
  SUBCASE("mid-body: we reset the connection") {
    Harness h({"http://192.0.2.1/"});
    h.start();
    h.connect(0);
    h.sock(0).client_send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    h.sock(0).st = tcp::State::Closed;  // tcplab get's abort_all at exit
    h.sock(0).finish(tcp::CloseReason::Aborted);
    h.session->advance(h.now);
    REQUIRE(h.reports.size() == 1);
    CHECK(h.reports[0].error ==
          "stopped here before the response was complete: we reset the connection (RST)");
  }
  SUBCASE("while connecting: nothing to reset") {
    Harness h({"http://192.0.2.1/"});
    h.start();
    h.sock(0).st = tcp::State::Closed;
    h.sock(0).finish(tcp::CloseReason::Aborted);
    h.session->advance(h.now);
    REQUIRE(h.reports.size() == 1);
    CHECK(h.reports[0].error == "stopped here while connecting (nothing to reset: no SYN-ACK had come)");
  }
}

TEST_CASE("a bad response fails the fetch and aborts the connection") {
  Harness h({"http://192.0.2.1/"});
  h.start();
  h.connect(0);
  h.sock(0).client_send("SSH-2.0-OpenSSH_9.6\r\n");
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].error.starts_with("bad response: not an HTTP/1.x status line"));
  CHECK(h.sock(0).aborted);
  CHECK(h.session->finished());
}

TEST_CASE("a response cut short by the server's FIN is a failure") {
  Harness h({"http://192.0.2.1/"});
  h.start();
  h.connect(0);
  h.sock(0).client_send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  h.sock(0).client_fin();
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].error == "the server closed the connection after 3 of 10 body bytes");
  CHECK(h.sock(0).closed);
}

TEST_CASE("a kept connection the server closed just as we reused it: retried once on a new one") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).after_event = nullptr;  // deliver the FIN and the request in the same "batch"
  h.sock(0).client_send(kOk11);
  h.sock(0).client_fin();
  h.session->advance(h.now);
  // The FIN arrived before the second request was started: it goes to a new connection.
  REQUIRE(h.sockets.size() == 2);
  CHECK(h.sock(0).sent.find("GET /b") == std::string::npos);

  Harness r({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  r.start();
  r.connect(0);
  r.sock(0).client_send(kOk11);
  REQUIRE(r.sock(0).sent.find("GET /b") != std::string::npos);
  r.sock(0).client_fin();  // closed with no byte of the second response
  REQUIRE(r.sockets.size() == 2);
  CHECK(r.reports.size() == 1);  // no failure reported: retried
  r.connect(1);
  CHECK(r.sock(1).sent.starts_with("GET /b HTTP/1.1\r\n"));
  r.sock(1).client_send(kOk11);
  REQUIRE(r.reports.size() == 2);
  CHECK(r.reports[1].ok);
  CHECK(r.reports[1].conn == 2);
}

TEST_CASE("the retry is made once: a new connection closed without a response is a failure") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send(kOk11);
  h.sock(0).client_fin();  // the reused connection dies: retried on conn 2
  REQUIRE(h.sockets.size() == 2);
  h.connect(1);
  h.sock(1).client_fin();  // and the new one closes without a byte
  REQUIRE(h.reports.size() == 2);
  CHECK_FALSE(h.reports[1].ok);
  CHECK(h.reports[1].error == "the server closed the connection without sending a response");
  CHECK(h.sockets.size() == 2);
  CHECK(h.session->failures() == 1);
}

TEST_CASE("extra bytes after a response: the connection is not reused") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send(std::string(kOk11) + "junk");
  CHECK_FALSE(h.reports.at(0).persistence.keep_open);
  CHECK(h.sockets.size() == 2);
}

TEST_CASE("a server that keeps sending after a Connection: close response is closed, then aborted") {
  ClientConfig config;
  config.close_grace = seconds(1);
  config.timeout = seconds(3);
  Harness h({"http://192.0.2.1/"}, config);
  h.start();
  h.connect(0);
  h.sock(0).client_send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].ok);
  CHECK(h.session->all_fetched());
  // A byte every 300 ms is no progress: the grace still ends 1 s after the response.
  for (int ms = 300; ms < 1000; ms += 300) {
    h.at(milliseconds(ms));
    h.sock(0).client_send("z");
  }
  CHECK_FALSE(h.sock(0).closed);
  h.at(seconds(1));
  CHECK(h.sock(0).closed);
  // After our FIN the server still sends and never closes: --timeout bounds the close.
  for (int ms = 1300; ms < 4000; ms += 300) {
    h.at(milliseconds(ms));
    h.sock(0).client_send("z");
  }
  CHECK_FALSE(h.sock(0).aborted);
  h.at(seconds(4));
  CHECK(h.sock(0).aborted);
  CHECK(h.session->finished());
  CHECK(h.session->failures() == 0);
}

TEST_CASE("keep-alive: a server streaming after the response does not hold our close for ever") {
  ClientConfig config;
  config.timeout = seconds(2);
  Harness h({"http://192.0.2.1/"}, config);
  h.start();
  h.connect(0);
  h.sock(0).client_send(kOk11);
  CHECK(h.sock(0).closed);  // no more URLs: we close first
  CHECK(h.session->all_fetched());
  for (int ms = 300; ms < 2000; ms += 300) {
    h.at(milliseconds(ms));
    h.sock(0).client_send("z");
  }
  CHECK_FALSE(h.sock(0).aborted);
  h.at(seconds(2));
  CHECK(h.sock(0).aborted);
  CHECK(h.session->finished());
  CHECK(h.session->failures() == 0);
}

TEST_CASE("a kept connection reset (RST) before any response byte: retried once on a new one") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send(kOk11);
  REQUIRE(h.sock(0).sent.find("GET /b") != std::string::npos);
  h.sock(0).st = tcp::State::Closed;
  h.sock(0).finish(tcp::CloseReason::ResetByPeer);  // the server closed with our request unread
  h.session->advance(h.now);
  CHECK(h.reports.size() == 1);  // no failure reported: retried
  REQUIRE(h.sockets.size() == 2);
  h.connect(1);
  CHECK(h.sock(1).sent.starts_with("GET /b HTTP/1.1\r\n"));
  h.sock(1).client_send(kOk11);
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[1].ok);
  CHECK(h.reports[1].conn == 2);
  CHECK(h.reports[1].retried);  // the report says so, not only the trace
  CHECK_FALSE(h.reports[0].retried);
  CHECK(h.session->failures() == 0);

  // Once only, and never when a byte of the response came.
  Harness r({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  r.start();
  r.connect(0);
  r.sock(0).client_send(kOk11);
  r.sock(0).client_send("HTTP/1.1 200 OK\r\n");
  r.sock(0).finish(tcp::CloseReason::ResetByPeer);
  r.session->advance(r.now);
  REQUIRE(r.reports.size() == 2);
  CHECK(r.reports[1].error.starts_with("connection reset by the server (RST)"));
  CHECK(r.sockets.size() == 1);
}

TEST_CASE("a RST after an interim response counts the interim bytes it did get") {
  Harness h({"http://192.0.2.1/"});
  h.start();
  h.connect(0);
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  h.sock(0).client_send(interim);
  h.sock(0).st = tcp::State::Closed;
  h.sock(0).finish(tcp::CloseReason::ResetByPeer);
  h.session->advance(h.now);
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].error ==
        "connection reset by the server (RST) after " + std::to_string(interim.size()) + " response bytes");
}

TEST_CASE("a response whose FIN came with it does not claim the connection stays open") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).after_event = nullptr;
  h.sock(0).inbound = kOk11;
  h.sock(0).client_fin();  // the response and the FIN in one batch
  h.session->advance(h.now);
  REQUIRE(h.reports.size() == 1);
  CHECK_FALSE(h.reports[0].persistence.keep_open);
  CHECK(h.reports[0].persistence.why == "the server already closed it (its FIN came with the response)");
  CHECK(h.sockets.size() == 2);
}

TEST_CASE("a timeout while the request is not yet sent says so") {
  ClientConfig config;
  config.timeout = seconds(2);
  Harness h({"http://192.0.2.1/"}, config);
  h.start();
  h.sock(0).space = 10;  // the server's window stays closed after 10 bytes
  h.connect(0);
  h.at(seconds(2));
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].error.find("waiting to send the request (10 of ") != std::string::npos);
}

TEST_CASE("bad framing: CL with TE fails and aborts; TE in HTTP/1.0 is used once, then closed") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  REQUIRE(h.reports.size() >= 1);
  CHECK(h.reports[0].error.find("both Transfer-Encoding and Content-Length") != std::string::npos);
  CHECK(h.sock(0).aborted);

  Harness k({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  k.start();
  k.connect(0);
  k.sock(0).client_send(
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: "
      "keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  REQUIRE(k.reports.size() == 1);
  CHECK(k.reports[0].ok);
  CHECK_FALSE(k.reports[0].persistence.keep_open);
  CHECK(k.sockets.size() == 2);  // the next URL goes to a new connection
  CHECK(k.sock(0).sent.find("GET /b") == std::string::npos);
}

TEST_CASE("a NUL in Connection: close is rejected, not half-read as keep-alive") {
  Harness h({"http://192.0.2.1/a", "http://192.0.2.1/b"});
  h.start();
  h.connect(0);
  h.sock(0).client_send(std::string("HTTP/1.1 200 OK\r\nConnection: close") + '\0' +
                        "\r\nContent-Length: 5\r\n\r\nhello");
  REQUIRE(h.reports.size() >= 1);
  CHECK(h.reports[0].error.find("control character in a header field value") != std::string::npos);
  CHECK(h.sock(0).aborted);
  CHECK(h.sock(0).sent.find("GET /b") == std::string::npos);
}

TEST_CASE("-L: a redirect is followed on the kept connection, and only the last body is delivered") {
  // RFC 9110 §15.4.1: a 300's Location is the server's preferred choice, which a user agent may
  // follow automatically (curl -L does), like the Location of a 301.
  for (std::string status : {"301 Moved Permanently", "300 Multiple Choices"}) {
    CAPTURE(status);
    auto session = following({"http://192.0.2.1:8000/d", "http://192.0.2.1:8000/z"}, 2);
    Harness& h = *session;
    h.sock(0).sent.clear();
    h.sock(0).client_send("HTTP/1.1 " + status + "\r\nLocation: /d/\r\nContent-Length: 4\r\n\r\nmove");
    REQUIRE(h.reports.size() == 1);
    CHECK(h.reports[0].ok);
    CHECK(h.reports[0].status == std::stoi(status));
    CHECK(h.reports[0].redirect_to == "http://192.0.2.1:8000/d/");
    CHECK(h.bodies[0].empty());  // the redirect's own body is not the URL's
    CHECK(h.sock(0).sent.starts_with("GET /d/ HTTP/1.1\r\n"));
    h.sock(0).sent.clear();
    h.sock(0).client_send(kOk11);
    REQUIRE(h.reports.size() == 2);
    CHECK(h.reports[1].index == 0);
    CHECK(h.reports[1].url == "http://192.0.2.1:8000/d/");
    CHECK(h.reports[1].reused);
    CHECK(h.reports[1].redirect_to.empty());
    CHECK(h.bodies[0] == "hello");
    // The next URL starts from its own text, not from where the redirect led.
    CHECK(h.sock(0).sent.starts_with("GET /z HTTP/1.1\r\n"));
    CHECK(h.session->failures() == 0);
  }
}

TEST_CASE("-L: too many redirects, or a Location tcplab cannot fetch, fail the URL; without -L a 3xx is it") {
  auto session = following({"http://192.0.2.1:8000/a", "http://192.0.2.1:8000/b"}, 1);
  Harness& h = *session;
  const char* loop = "HTTP/1.1 302 Found\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n";
  h.sock(0).client_send(loop);
  h.sock(0).client_send(loop);
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[0].ok);
  CHECK_FALSE(h.reports[1].ok);
  CHECK(h.reports[1].status == 302);
  CHECK(h.reports[1].error == "its 302 redirect to http://192.0.2.1:8000/a not followed: 1 redirects already "
                              "since http://192.0.2.1:8000/a (-L follows at most that many)");
  // The next URL still goes, on the same kept connection, and is followed afresh.
  CHECK(h.sock(0).sent.ends_with(
      "GET /b HTTP/1.1\r\nHost: 192.0.2.1:8000\r\nUser-Agent: tcplab\r\nAccept: */*\r\n\r\n"));
  h.sock(0).sent.clear();
  h.sock(0).client_send(
      "HTTP/1.1 307 Temporary Redirect\r\nLocation: https://192.0.2.1/b\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(h.reports.size() == 3);
  CHECK_FALSE(h.reports[2].ok);
  CHECK(h.reports[2].error.find("its 307 redirect cannot be followed: only http:// URLs") == 0);
  CHECK(h.session->failures() == 2);
  CHECK(h.sockets.size() == 1);

  Harness plain({"http://192.0.2.1:8000/a"});
  plain.start();
  plain.connect(0);
  plain.sock(0).client_send(
      "HTTP/1.1 301 Moved Permanently\r\nLocation: /b\r\nContent-Length: 4\r\n\r\nmove");
  REQUIRE(plain.reports.size() == 1);
  CHECK(plain.reports[0].ok);
  CHECK(plain.reports[0].redirect_to.empty());
  CHECK(plain.bodies[0] == "move");
  CHECK(plain.session->failures() == 0);
}

TEST_CASE("-L: a Location whose address no connection may go to fails its URL at once, no SYN sent") {
  ClientConfig config;
  config.max_redirects = 2;
  // RFC 1122 §4.2.3.10: the caller says which addresses an OPEN must refuse.
  config.refuse_address = [](wire::Ipv4Address a) -> std::optional<std::string> {
    if (a == wire::Ipv4Address{0xE0000002}) return "is a multicast address";
    return std::nullopt;
  };
  Harness h({"http://192.0.2.1:8000/a", "http://192.0.2.1:8000/b"}, config);
  h.start();
  h.connect(0);
  h.sock(0).client_send("HTTP/1.1 302 Found\r\nLocation: http://224.0.0.2/x\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[0].redirect_to == "http://224.0.0.2/x");
  CHECK_FALSE(h.reports[1].ok);
  CHECK(h.reports[1].error == "cannot open a connection to 224.0.0.2:80: 224.0.0.2 is a multicast address");
  CHECK(h.session->failures() == 1);
  // No connection towards it, and the kept one carries the next URL.
  CHECK(h.sockets.size() == 1);
  CHECK(h.sock(0).sent.ends_with(
      "GET /b HTTP/1.1\r\nHost: 192.0.2.1:8000\r\nUser-Agent: tcplab\r\nAccept: */*\r\n\r\n"));
}

TEST_CASE("-L: a 300 without a Location is the answer: the list of choices is the URL's body") {
  auto session = following({"http://192.0.2.1:8000/doc"}, 2);
  Harness& h = *session;
  h.sock(0).client_send("HTTP/1.1 300 Multiple Choices\r\nContent-Length: 7\r\n\r\nchoices");
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].ok);
  CHECK(h.reports[0].status == 300);
  CHECK(h.reports[0].redirect_to.empty());
  CHECK(h.bodies[0] == "choices");
  CHECK(h.session->failures() == 0);
}

TEST_CASE("-L: a redirect to another server opens a new connection and closes the kept one") {
  auto session = following({"http://192.0.2.1:8000/a"}, 5);
  Harness& h = *session;
  h.sock(0).client_send(
      "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1:8010/b\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(h.reports.size() == 1);
  CHECK(h.reports[0].redirect_to == "http://192.0.2.1:8010/b");
  REQUIRE(h.sockets.size() == 2);  // port 8010: another server
  CHECK(h.sock(1).t.remote_port == 8010);
  CHECK(h.sock(0).closed);  // the kept connection to 8000 is closed by us
  h.connect(1);
  CHECK(h.sock(1).sent.starts_with("GET /b HTTP/1.1\r\nHost: 192.0.2.1:8010\r\n"));
  h.sock(1).client_send(kOk11);
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[1].ok);
  CHECK(h.reports[1].conn == 2);
  CHECK_FALSE(h.reports[1].reused);
  CHECK(h.bodies[0] == "hello");
}

TEST_CASE("-L: a redirect with Connection: close goes on a new connection to the same server") {
  auto session = following({"http://192.0.2.1:8000/a"}, 5);
  Harness& h = *session;
  h.sock(0).client_send(
      "HTTP/1.1 301 Moved Permanently\r\nLocation: /b\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(h.reports.size() == 1);
  CHECK_FALSE(h.reports[0].persistence.keep_open);
  REQUIRE(h.sockets.size() == 2);
  h.connect(1);
  CHECK(h.sock(1).sent.starts_with("GET /b HTTP/1.1\r\n"));
  h.sock(1).client_send(kOk11);
  REQUIRE(h.reports.size() == 2);
  CHECK(h.bodies[0] == "hello");
  CHECK(h.session->failures() == 0);
}

TEST_CASE("-L: a kept connection the server resets at the redirected request is retried at the Location") {
  auto session = following({"http://192.0.2.1:8000/a"}, 5);
  Harness& h = *session;
  h.sock(0).client_send("HTTP/1.1 301 Moved Permanently\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(h.sock(0).sent.ends_with("GET /b HTTP/1.1\r\nHost: 192.0.2.1:8000\r\nUser-Agent: tcplab\r\n"
                                   "Accept: */*\r\n\r\n"));
  // The server had closed the kept connection: RST before any byte of the answer.
  h.sock(0).st = tcp::State::Closed;
  h.sock(0).finish(tcp::CloseReason::ResetByPeer);
  h.session->advance(h.now);
  REQUIRE(h.sockets.size() == 2);
  h.connect(1);
  CHECK(h.sock(1).sent.starts_with("GET /b HTTP/1.1\r\n"));  // the Location, not /a again
  h.sock(1).client_send(kOk11);
  REQUIRE(h.reports.size() == 2);
  CHECK(h.reports[1].ok);
  CHECK(h.bodies[0] == "hello");
}
