// One HTTP connection over the Socket API: parse -> respond in order (pipelining) ->
// keep-alive or close (a plain FIN or a lingering close, http/session_close.hpp), with the
// idle, header and linger timers. Sans-IO: time comes
// from SessionEnv::now, set by the server from advance(now); tests drive it with a FakeSocket.
//
// Socket callbacks arrive while the stack processes a packet, when the session cannot know
// the time. What happens then is stamped "pending" and gets the time of the next
// on_timer(): the event loop advances every client right after each batch of packets with
// the same `now`, so the stamp is exact (and no clock is read here).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/handler.hpp"
#include "http/keepalive_policy.hpp"
#include "http/request_parser.hpp"
#include "http/server.hpp"
#include "http/session_close.hpp"
#include "http/stats.hpp"
#include "stack/four_tuple.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::http {

// What all sessions of a server share.
class Session;

struct SessionEnv {
  ServerConfig config;
  ServerStats& stats;
  Responder& responder;
  trace::Tracer* tracer = nullptr;
  Instant now{};  // the time of the last advance(now)
  bool shutting_down = false;
  // The Date header value (RFC 9110 §6.6.1) for a response sent now; empty function: no Date.
  // The view must stay valid until the next call (the server keeps the text of the second).
  std::function<std::string_view()> date;
  // Told once per event batch that a session's state (and so its deadline) may have changed,
  // so the server visits only sessions that had an event or whose timer is due, never all.
  std::function<void(Session&)> touched;
  // Told when a session stopped writing a long body to let this turn's packets leave
  // (Session::write_more); the server calls resume() on it in a later turn. Empty function:
  // sessions write on until the send buffer is full.
  std::function<void(Session&)> yielded;
  // Parsers sessions gave back, buffers and all, for the next request of any session: a
  // request then allocates no parser, no header list and no line buffer once warm.
  std::vector<std::unique_ptr<RequestParser>> spare_parsers;
  // Input and output buffers the same way: an idle connection holds none (so 100,000 of them
  // stay small), yet a keep-alive request does not pay a malloc and a free for each of them.
  std::vector<std::string> spare_buffers;
};

class Session final : public tcp::SocketHandler {
 public:
  // Closing: our FIN is on its way and TCP finishes the close (FIN-WAIT-2 and TIME-WAIT, or
  // LAST-ACK); the session has no timer and lets go of the socket at its next visit if TCP
  // can take it. Lingering: the same, but request bytes are still arriving, so after --linger
  // the session resets the connection.
  enum class Phase { Reading, Writing, Closing, Lingering, Closed };

  // on_gone is called once, from on_closed (or when the session let go of its socket), when
  // the socket is gone; the server may destroy the session only after the current callback
  // returns.
  Session(tcp::Socket& socket, SessionEnv& env, std::function<void(Session&)> on_gone);

  void start();  // attaches to the socket and starts the header timer
  std::optional<Instant> deadline() const;
  void on_timer();  // stamps pending times with env.now, then fires whatever timer is due
  void resume();    // goes on writing a response that yielded (SessionEnv::yielded)
  bool yielded() const { return yielded_; }  // queued with the server to resume
  void shutdown();  // the server is stopping: close now if idle
  void evict();     // the server is full: close this idle keep-alive connection now

  Phase phase() const { return phase_; }
  uint32_t requests() const { return requests_; }
  // Waiting for a request with no byte of one here: a kept-alive connection between requests,
  // or a new one that has sent nothing yet (a browser's preconnect, a client that never
  // speaks). The connections a server may close first when it runs out of room (RFC 9112
  // §9.5 lets it close idle ones at any time).
  bool idle() const { return phase_ == Phase::Reading && !request_start_ && inbuf_.empty(); }
  // Idle but its last response not all acknowledged yet: a slow reader still taking it.
  bool delivering() const { return socket_ != nullptr && socket_->send_queued() > 0; }
  Instant idle_since() const { return wait_since_; }
  // Heap bytes held besides the Session itself: buffers grown past a string's inline room, and
  // the request parser while a request is being read. An idle connection holds none.
  size_t held_bytes() const;
  // The deadline the server's timer heap holds for this session, if any (the server's to set).
  std::optional<Instant> scheduled;
  // The idle_since() under which the server last filed this session as idle (the server's).
  std::optional<Instant> idle_filed;
  const FourTuple& tuple() const { return tuple_; }

  void on_readable(tcp::Socket&) override { pump(); }
  void on_writable(tcp::Socket&) override { pump(); }
  void on_peer_fin(tcp::Socket&) override;
  void on_closed(tcp::Socket&, tcp::CloseReason reason) override;

 private:
  void touch();
  // When the connection last saw activity: `t` (a response queued), or a later ACK of new
  // data.
  Instant active_since(Instant t) const;
  // Lingering: when a client that takes none of our bytes is reset (nothing if all is taken).
  std::optional<Instant> lingering_stall_at() const;
  void abort_stalled();
  bool stalled_by_shut_window();
  void pump();
  void pump_once(bool& progress);
  void finish_continue();
  std::string_view continue_tail() const;  // what send() has not taken of a 100 Continue
  void read_input();
  bool write_more();  // true once the current response is fully queued
  void append_body_piece();
  // body_unread: answered on the head alone, an Expect: 100-continue body not asked for.
  void handle_request(const Request& request, bool body_unread = false);
  void take_parser();
  void give_back_parser();
  // An empty buffer gets a spare one's storage; a used one is given back (or freed when large).
  void take_buffer(std::string& buffer);
  void give_back_buffer(std::string& buffer);
  void handle_error(int status, std::string_view detail, CloseBy by);
  void start_response(Response response, bool head_only, int minor, const KeepAliveDecision& decision);
  void response_done();
  void abandon_response();  // the body source failed: close without the rest of the body
  void begin_close(CloseBy by, std::string_view why);
  void start_lingering(std::string_view why);
  void let_go();
  void end();
  void count_close(CloseBy by);
  bool tracing() const { return env_.tracer && env_.tracer->enabled(); }
  void note(std::string_view text);
  void fire_timer();
  void stamp();
  Instant now_or_pending() const;
  static constexpr Instant kPending = Instant::max();

  tcp::Socket* socket_;
  SessionEnv& env_;
  std::function<void(Session&)> on_gone_;
  FourTuple tuple_;
  // Taken (from env_.spare_parsers, or made) when a request's first bytes arrive and given back
  // once it is answered with nothing pipelined behind it: an idle keep-alive connection holds
  // no parser (thousands may wait).
  std::unique_ptr<RequestParser> parser_;
  Phase phase_ = Phase::Reading;

  std::string inbuf_;    // received, not yet parsed (pipelined requests wait here)
  std::string out_;      // bytes of the response not yet accepted by send()
  std::string scratch_;  // reused buffer for one chunk of a chunked body
  size_t out_off_ = 0;
  std::unique_ptr<BodySource> body_;
  bool chunked_ = false;
  bool at_body_end_ = false;
  // Bytes of a known-length body not yet read; above 0 once the source has ended, the bytes a
  // failed source never gave.
  std::optional<uint64_t> body_left_;
  bool close_after_ = false;
  CloseBy close_by_ = CloseBy::Server;
  CloseBy closing_by_ = CloseBy::Server;  // why begin_close() was called
  bool input_discarded_ = false;          // request bytes thrown away since the close began
  // Why the connection closes after this response, for the trace: kept as the cause, not as
  // text, because the text of most causes is longer than a string holds without allocating
  // and every connection closed by the server would pay for it.
  CloseCause close_cause_ = CloseCause::None;
  int close_error_status_ = 0;  // not 0: the close follows this error response
  // Bytes already read behind the point where a request turned out bad (the rest of it, and
  // any requests pipelined after it): discarded with it, for the close's trace note.
  size_t dropped_at_error_ = 0;

  uint32_t requests_ = 0;
  bool continue_sent_ = false;
  size_t continue_unsent_ = 0;  // the tail of a 100 Continue that send() did not take
  bool response_unfinished_ = false;  // a response started and not yet whole (responses_cut_off)
  bool close_counted_ = false;
  bool peer_fin_ = false;
  bool pumping_ = false;
  bool yielded_ = false;  // queued with the server to resume (set by write_more, cleared by resume)
  bool pump_again_ = false;
  // pump() stopped at its bound with pipelined requests still to answer: the next on_timer
  // (the server's next advance, as pump() touched the session) goes on with them.
  bool pump_owed_ = false;
  Instant wait_since_{};                  // when the session last became idle (or was accepted)
  // The first byte of the current request; once its head is in, the last body bytes' arrival.
  std::optional<Instant> request_start_;
  Instant linger_since_{};
  Instant lingering_began_{};  // linger_since_ moves on while our data waits; this does not
  Instant writing_since_{};    // when the response being written began
  Instant stall_check_{};      // when a stall's timeout last found the client's window open
  bool in_timer_ = false;
  // The close is a plain FIN: the session lets TCP finish alone (tcp::Socket::release) at its
  // next visit, once its notes are out; with linger_on_data_ late request bytes make TCP do
  // the lingering close (RST after --linger) as the session would have.
  bool let_go_owed_ = false;
  bool linger_on_data_ = false;
  bool touch_queued_ = false;  // already in the server's list of sessions to visit
  std::vector<std::string> pending_notes_;
};

}  // namespace tcplab::http
