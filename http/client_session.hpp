// The client side of `tcplab get` over the Socket API (architecture rule 6), sans-IO like
// the server's sessions: fetches URLs in order, reusing a connection while keep-alive
// allows (RFC 9112 §9.3), opening a new one otherwise, and reports each response, each
// failure and, for each connection, who closed first and so who holds TIME-WAIT.
//
// Time comes from advance(now). Socket callbacks arrive while the stack handles a packet,
// when the session cannot know the time: what they do is stamped at the next advance(now),
// which the event loop calls right after every batch of packets (as http::Session does).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client_request.hpp"
#include "http/response_parser.hpp"
#include "stack/four_tuple.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::http {

struct ClientConfig {
  RequestOptions request;
  // A fetch fails when nothing happens on its connection for this long (--timeout).
  Duration timeout = seconds(10);
  // After a response that ends the connection, how long we wait for the server's FIN before
  // closing ourselves: RFC 9112 §9.6 has the server close first, which leaves TIME-WAIT with
  // the server; a server that does not is closed by us after this grace.
  Duration close_grace = seconds(1);
  // -L: how many redirects (RFC 9110 §15.4) one URL may follow, each fetched with a GET on the
  // Location's URL; 0 follows none, and a 3xx is then the URL's answer.
  unsigned max_redirects = 0;
  // Why no connection may be opened to this address (RFC 1122 §4.2.3.10: a broadcast or
  // multicast address, say), or nothing; asked before each connection, redirects included.
  std::function<std::optional<std::string>(wire::Ipv4Address)> refuse_address;
};

// One URL's outcome.
struct FetchReport {
  size_t index = 0;  // position in the URL list
  std::string url;
  unsigned conn = 0;  // connections are numbered 1, 2, ... in the order opened; 0: none
  bool reused = false;
  // The URL went out again on a new connection: the kept one was closed or reset before any
  // byte of its response (RFC 9112 §9.3.1).
  bool retried = false;
  bool ok = false;    // a complete response arrived (any status code)
  std::string error;  // why not, one line
  int minor = 1;
  int status = 0;
  std::string reason;
  uint64_t header_bytes = 0;   // the final response's head
  uint64_t interim_bytes = 0;  // the interim (1xx) heads before it
  uint64_t body_bytes = 0;
  BodyFraming framing = BodyFraming::None;
  Persistence persistence;  // does the connection stay open after this response, and why
  std::string redirect_to;  // -L: a redirect followed to this URL (its body is not delivered)
};

// One connection's end.
struct ConnectionReport {
  unsigned conn = 0;
  FourTuple tuple;
  uint32_t requests = 0;
  bool we_closed_first = false;
  bool time_wait_ours = false;  // our TCB entered TIME-WAIT (it stays for 2 x MSL)
  tcp::CloseReason reason = tcp::CloseReason::Normal;
};

class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  // Decoded body bytes of URL `index`, in order, as they arrive.
  virtual void on_body(size_t index, std::string_view bytes) = 0;
  // Where URL `index`'s body goes cannot take more now (a slow reader on stdout): the session
  // stops reading the socket, so TCP's receive window closes (RFC 9293 §3.8.6: the sender
  // sees a zero window and probes it), and reads again on the first advance() after this
  // turns false. A fetch paused so does not count towards --timeout.
  virtual bool body_blocked(size_t index) const {
    (void)index;
    return false;
  }
  virtual void on_fetched(const FetchReport& report) = 0;
  virtual void on_connection_closed(const ConnectionReport&) {}
};

// Opens a connection (TcpHost::connect in the tool, a fake in tests); null if it cannot.
using Dialer =
    std::function<tcp::Socket*(wire::Ipv4Address address, uint16_t port, tcp::SocketHandler* handler)>;

class ClientSession {
 public:
  ClientSession(std::vector<Url> urls, ClientConfig config, Dialer dial, ClientEvents& events);
  // Destroy once finished(), or together with the stack: a live socket keeps its handler.
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Decisions (reuse, keep-alive or close and why, who closes) go to the trace as notes.
  void set_tracer(trace::Tracer* tracer) { tracer_ = tracer; }
  // Starts the first fetch at `now`.
  void start(Instant now);
  void advance(Instant now);
  std::optional<Instant> next_deadline() const;

  // Every URL has its report and every connection is closed (or in TIME-WAIT on our side).
  bool finished() const;
  // Every URL has its report (connections may still be closing).
  bool all_fetched() const { return next_ == urls_.size() && !active_; }
  size_t failures() const { return failures_; }
  size_t connections_opened() const { return opened_; }

 private:
  struct Conn;
  friend struct Conn;

  void step();
  void start_fetch(size_t index);
  void send_request(Conn& c);
  void write_out(Conn& c);
  void pump(Conn& c);
  void read_idle(Conn& c);
  void read_response(Conn& c);
  // Reads the response again once the body's output takes bytes (ClientEvents::body_blocked).
  void resume_body();
  bool paused(const Conn& c) const { return body_paused_ && current_ == &c; }
  bool retry_on_new_connection(Conn& c, std::string_view how);
  void complete_fetch(Conn& c);
  // -L: the response in hand is a redirect to follow (its body is not the URL's body).
  bool response_is_redirect_to_follow() const;
  // The URL in flight: the given one, or where -L's redirects led it.
  const Url& active_url() const { return redirect_ ? *redirect_ : urls_[*active_]; }
  // Fetches the same URL index again from the Location, or fails it (too many redirects, a
  // Location we cannot fetch).
  void follow_redirect(const Conn& c);
  void fail_fetch(Conn* c, std::string error);
  void close_ours(Conn& c, std::string_view why);
  void connection_closed(Conn& c, tcp::CloseReason reason);
  void stamp_progress();
  void check_timers();
  void note(const Conn* c, std::string text);
  void flush_notes();
  std::string where(const Conn& c) const;
  std::string soft_error(const Conn& c) const;

  std::vector<Url> urls_;
  ClientConfig config_;
  Dialer dial_;
  ClientEvents& events_;
  trace::Tracer* tracer_ = nullptr;
  Instant now_{};

  std::vector<std::unique_ptr<Conn>> conns_;  // open or closing; destroyed in advance()
  Conn* current_ = nullptr;                   // the connection carrying (or kept for) requests
  size_t next_ = 0;                           // the next URL to start
  std::optional<size_t> active_;              // the URL in flight
  FetchReport report_;                        // of active_
  ResponseParser parser_;
  size_t last_started_ = SIZE_MAX;  // the URL start_fetch last began
  std::optional<Url> redirect_;     // -L: where the URL at next_ (or active_) now points
  unsigned redirects_ = 0;          // ... after this many redirects
  bool retried_ = false;            // ... and it was already retried on a new connection
  bool work_pending_ = false;
  bool body_paused_ = false;  // the active fetch stopped reading: its output was full
  size_t failures_ = 0;
  unsigned opened_ = 0;
  struct PendingNote {
    bool has_tuple;
    FourTuple tuple;
    std::string text;
  };
  std::vector<PendingNote> notes_;
};

}  // namespace tcplab::http
