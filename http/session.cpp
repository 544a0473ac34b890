// The per-connection HTTP state machine:
// Reading -> Writing -> (Reading | Closing | Lingering) -> Closed.
#include "http/session.hpp"

#include <algorithm>
#include <span>

#include "stack/tcp/socket.hpp"
#include "stack/text/escape_unprintable.hpp"

namespace tcplab::http {
namespace {

constexpr size_t kMaxBufferedInput = 64 * 1024;  // beyond this we stop reading: TCP's window pushes back
constexpr size_t kBodyChunk = 64 * 1024;         // body bytes pulled from a source at a time
// Bytes one write_more() call puts into the send buffer before it yields (SessionEnv::yielded).
// Nothing leaves before the event loop's turn ends, so a 1 MiB body made and copied whole into
// a 1 MiB send buffer delayed the response's first byte by 1-3 ms. Measured: 128 KiB as good
// as 64 KiB for the first byte, 256 KiB worse (docs/performance.md).
constexpr size_t kWriteBudget = 2 * kBodyChunk;
constexpr int kMaxPumpRounds = 10000;      // bound on work per callback (pipelined requests)
constexpr size_t kKeepBuffer = 16 * 1024;  // buffers above this are freed between responses
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";  // RFC 9110 §15.2.1

// Bytes a string holds on the heap: none while its text fits in the string itself.
size_t heap_bytes(const std::string& s) { return s.capacity() > std::string().capacity() ? s.capacity() : 0; }

// Keep-Alive: timeout= takes whole seconds. Rounded down: a client may rely on the idle
// connection lasting that long, so 1.5 s is announced as 1, never 2; under 1 s, 0 (and
// append_head leaves timeout= out).
uint64_t whole_seconds(Duration d) { return static_cast<uint64_t>(std::chrono::floor<seconds>(d).count()); }

CloseBy close_by_for(CloseCause cause) {
  switch (cause) {
    case CloseCause::MaxRequests:
      return CloseBy::MaxRequests;
    case CloseCause::ShuttingDown:
      return CloseBy::Shutdown;
    default:
      return CloseBy::Server;
  }
}

}  // namespace

Response text_response(int status, std::string_view content_type, std::string body) {
  Response r;
  r.head.status = status;
  r.head.content_type = content_type;
  r.body = std::make_unique<StringBody>(std::move(body));
  return r;
}

Session::Session(tcp::Socket& socket, SessionEnv& env, std::function<void(Session&)> on_gone)
    : socket_(&socket),
      env_(env),
      on_gone_(std::move(on_gone)),
      tuple_(socket.tuple()) {}

void Session::start() {
  touch();
  wait_since_ = now_or_pending();
  ++env_.stats.connections_accepted;
  ++env_.stats.connections_open;
  // May call on_readable at once if the request already arrived with the handshake's ACK.
  socket_->set_handler(this);
}

Instant Session::now_or_pending() const { return in_timer_ ? env_.now : kPending; }

void Session::note(std::string_view text) {
  if (!tracing()) return;
  if (in_timer_) {
    env_.tracer->note(env_.now, &tuple_, text);
  } else {
    pending_notes_.emplace_back(text);  // timestamped by the next advance (same wakeup)
  }
}

void Session::stamp() {
  auto fix = [&](Instant& t) {
    if (t == kPending) t = env_.now;
  };
  fix(wait_since_);
  fix(writing_since_);
  fix(linger_since_);
  fix(lingering_began_);
  if (request_start_) fix(*request_start_);
  if (!pending_notes_.empty()) {
    for (const auto& text : pending_notes_) env_.tracer->note(env_.now, &tuple_, text);
    pending_notes_.clear();
  }
}

void Session::count_close(CloseBy by) {
  if (close_counted_) return;
  close_counted_ = true;
  env_.stats.count_close(by);
}

// A lingering close whose bytes the client takes none of: when to give up on it (nothing while
// all we sent is acknowledged).
std::optional<Instant> Session::lingering_stall_at() const {
  if (!delivering()) return std::nullopt;
  return active_since(lingering_began_) + env_.config.keepalive_timeout;
}

std::optional<Instant> Session::deadline() const {
  // A time still pending a stamp is "now": the loop advances us before it sleeps anyway.
  auto base = [&](Instant t) { return t == kPending ? env_.now : t; };
  switch (phase_) {
    case Phase::Reading:
      if (request_start_) return base(*request_start_) + env_.config.header_timeout;
      // A fresh connection must send its first request within the header timeout; a used
      // one may stay idle for the keep-alive timeout.
      if (requests_ == 0) return base(wait_since_) + env_.config.header_timeout;
      return active_since(wait_since_) + env_.config.keepalive_timeout;
    case Phase::Writing:
      // A response the client takes none of (a zero window that never reopens) would hold
      // the connection for ever: the same timeout bounds the wait for its next ACK.
      return active_since(writing_since_) + env_.config.keepalive_timeout;
    case Phase::Lingering: {
      // While bytes wait for a client that takes none of them, the stall bound holds whether
      // or not its FIN came, and fires on time rather than at the next --linger tick.
      const std::optional<Instant> stall = lingering_stall_at();
      if (peer_fin_) return stall;
      const Instant tick = base(linger_since_) + env_.config.linger;
      return stall ? std::min(tick, *stall) : tick;
    }
    case Phase::Closing:  // TCP's own timers (FIN-WAIT-2, TIME-WAIT) end it
    case Phase::Closed:
      return std::nullopt;
  }
  return std::nullopt;
}

// The client has acknowledged nothing of a response for the whole timeout although bytes wait
// for it: a zero window that never reopens. A FIN would wait behind those bytes for ever, so
// the connection is reset and its memory freed.
void Session::abort_stalled() {
  note("response stalled: the client acknowledged none of it for --keepalive-timeout "
       "(a zero window that never reopens?): RST");
  count_close(CloseBy::Timeout);
  socket_->abort();
}

// Whether an unacknowledged response, due for abort_stalled, is held by a shut window. An open
// one means the segments or their ACKs are being lost: TCP retransmits them, backing off, and
// gives up on a dead peer itself (RFC 9293 §3.8.3), so the wait starts again instead.
bool Session::stalled_by_shut_window() {
  const std::optional<bool> shut = socket_->peer_window_shut();
  if (!shut || *shut) return true;  // not known (kernel TCP): the timeout alone decides
  stall_check_ = env_.now;
  return false;
}

Instant Session::active_since(Instant t) const {
  // Idle means nothing happening, delivery included: a response entered the send buffer at
  // `t`, but a slow reader may take longer than the timeout to acknowledge it (RFC 9112 §9.5:
  // a server should keep a connection whose data is still moving). Every ACK of new data is
  // activity, so the idle time counts from the later of the two.
  Instant since = t == kPending ? env_.now : t;
  if (socket_)
    if (auto acked = socket_->last_acknowledged(); acked && *acked > since) since = *acked;
  // A wait that found the window open (stalled_by_shut_window) starts again from there.
  return std::max(since, stall_check_);
}

void Session::touch() {
  if (touch_queued_ || !env_.touched) return;
  touch_queued_ = true;
  env_.touched(*this);
}

void Session::on_timer() {
  touch_queued_ = false;
  in_timer_ = true;
  stamp();
  if (pump_owed_ && socket_) pump();
  fire_timer();
  if (let_go_owed_) let_go();
  in_timer_ = false;
}

void Session::resume() {
  if (!yielded_) return;
  yielded_ = false;
  pump();
}

void Session::fire_timer() {
  auto due = deadline();
  if (!due || env_.now < *due || !socket_) return;
  if (phase_ == Phase::Reading) {
    if (request_start_) {
      // RFC 9110 §15.5.9: 408 tells the client we gave up waiting for the rest.
      note(parser_ && parser_->awaiting_body()
               ? "header timeout: no body bytes for --header-timeout, 408 and close"
               : "header timeout: request incomplete after --header-timeout, 408 and close");
      handle_error(408, "request not received in time", CloseBy::HeaderTimeout);
      pump();
    } else if (requests_ == 0) {
      begin_close(CloseBy::HeaderTimeout, "no request within --header-timeout");
    } else if (socket_->send_queued() > 0) {
      if (stalled_by_shut_window()) abort_stalled();
    } else {
      begin_close(CloseBy::Timeout,
                  "keep-alive timeout: idle for --keepalive-timeout, the server closes first "
                  "(active close: this side sends FIN and will hold TIME-WAIT)");
    }
    return;
  }
  if (phase_ == Phase::Writing) {
    if (stalled_by_shut_window()) abort_stalled();
    return;
  }
  if (phase_ == Phase::Lingering) {
    // Lingering close: only give up once the client has acknowledged everything we sent
    // (FIN-WAIT-2); while our data or FIN is still unacknowledged, keep waiting - TCP's own
    // retransmission timeout ends a dead peer, and a RST now could destroy the response. A
    // live client that answers TCP's zero-window probes but acknowledges none of the response
    // for the whole keep-alive timeout would hold it for ever: reset, as while writing.
    auto state = socket_->state();
    if (auto stall = lingering_stall_at(); stall && env_.now >= *stall && stalled_by_shut_window()) {
      // The lingering close ends with RST: counted as one (lingering_aborts).
      ++env_.stats.lingering_aborts;
      abort_stalled();
      return;
    }
    if (peer_fin_) return;  // only the stall bound was due, and it is not yet
    if (state == tcp::State::FinWait1 || state == tcp::State::Closing || state == tcp::State::LastAck) {
      linger_since_ = env_.now;
      return;
    }
    if (state == tcp::State::FinWait2) {
      note(tcp::kLingerOverNote);
      ++env_.stats.lingering_aborts;
      socket_->abort();
      return;
    }
    peer_fin_ = true;  // TIME-WAIT or CLOSED: nothing left to wait for
  }
}

void Session::shutdown() {
  touch();
  if (idle() && socket_) begin_close(CloseBy::Shutdown, "server shutting down: closing idle connection");
}

void Session::evict() {
  touch();
  if (idle() && socket_)
    begin_close(CloseBy::Evicted, "--max-connections reached: closing the connection idle the longest");
}

void Session::on_peer_fin(tcp::Socket&) {
  touch();
  peer_fin_ = true;
  pump();
}

void Session::on_closed(tcp::Socket&, tcp::CloseReason reason) {
  socket_ = nullptr;
  if (phase_ == Phase::Closed) return;
  if (reason == tcp::CloseReason::ResetByPeer || reason == tcp::CloseReason::TimedOut)
    count_close(CloseBy::Reset);
  end();
}

// A plain FIN (close-path table, session_close.cpp): whatever the client still sends would be
// read and thrown away, which TCP does as well alone. After an idle timeout or shutdown (rows
// 1, 2) that is all; after a response (row 4) late bytes would start the lingering close, so
// TCP is asked to do that too (RST after --linger). Letting go frees the session now and lets
// TCP hold FIN-WAIT-2 as a compact record (docs/keepalive.md); a TCP that cannot (the
// kernel's) keeps the socket with us until on_closed, as before.
void Session::let_go() {
  let_go_owed_ = false;
  std::optional<Duration> linger;
  if (linger_on_data_) linger = env_.config.linger;
  if (!socket_ || phase_ != Phase::Closing || !socket_->release(linger)) return;
  socket_ = nullptr;
  end();
}

// The session is over (on_closed, or let go): counted once, then handed to the server.
void Session::end() {
  phase_ = Phase::Closed;
  count_close(CloseBy::Client);  // only counts if nothing else was counted
  if (response_unfinished_) ++env_.stats.responses_cut_off;
  response_unfinished_ = false;
  body_.reset();
  ++env_.stats.requests_per_connection[requests_bucket(requests_)];
  --env_.stats.connections_open;
  if (on_gone_) on_gone_(*this);
}

void Session::pump() {
  touch();
  // Callbacks can nest (send() or close() may call back into us); run the loop once.
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  pump_owed_ = false;
  for (int round = 0;; ++round) {
    if (round == kMaxPumpRounds) {
      // The bound shares a turn between connections; pipelined requests past it are answered
      // from the next advance, in order (RFC 9112 §9.3.2), as no new event may come for them.
      pump_owed_ = true;
      touch();
      break;
    }
    bool progress = false;
    pump_again_ = false;
    pump_once(progress);
    if (!progress && !pump_again_) break;
  }
  pumping_ = false;
}

// The rest of a 100 Continue a kernel socket's send() took only part of, as soon as there is
// room: the client waits for it before sending the body (RFC 9110 §10.1.1). What still does
// not fit leads the final response (start_response).
void Session::finish_continue() {
  if (continue_unsent_ == 0 || !socket_) return;
  const std::string_view tail = continue_tail();
  continue_unsent_ -= socket_->send(std::as_bytes(std::span(tail.data(), tail.size())));
}

std::string_view Session::continue_tail() const {
  return kContinue.substr(kContinue.size() - continue_unsent_);
}

void Session::read_input() {
  char buf[16 * 1024];
  bool closing = phase_ == Phase::Closing || phase_ == Phase::Lingering;
  for (int i = 0; i < 256 && socket_ && socket_->readable() > 0; ++i) {
    if (!closing && inbuf_.size() >= kMaxBufferedInput) break;
    size_t n = socket_->receive(std::as_writable_bytes(std::span<char>(buf, sizeof buf)));
    if (n == 0) break;
    // After our FIN, input is read only to keep the window open, and thrown away.
    if (closing) {
      input_discarded_ = true;
    } else {
      if (inbuf_.empty()) take_buffer(inbuf_);
      inbuf_.append(buf, n);
    }
  }
}

void Session::pump_once(bool& progress) {
  if (!socket_ || phase_ == Phase::Closed) return;
  read_input();
  if (!socket_) return;
  if (socket_->peer_closed()) peer_fin_ = true;
  switch (phase_) {
    case Phase::Closing:
      // Request bytes after our FIN: maybe the lingering close after all (session_close.cpp).
      if (input_discarded_ &&
          choose_close_path(CloseInput{closing_by_, true, peer_fin_}) == ClosePath::Lingering)
        start_lingering("request bytes arrived after our FIN");
      return;
    case Phase::Closed:
    case Phase::Lingering:
      return;
    case Phase::Writing:
      if (write_more()) progress = true;
      return;
    case Phase::Reading:
      finish_continue();
      break;
  }
  if (inbuf_.empty()) {
    if (peer_fin_) {
      // The client closed first (a passive close for us); an unfinished request dies with it.
      begin_close(request_start_ ? CloseBy::Error : CloseBy::Client, "client closed its side: passive close");
    }
    return;
  }
  if (!parser_) take_parser();
  RequestParser& parser = *parser_;
  size_t used = parser.feed(inbuf_);
  inbuf_.erase(0, used);
  // The header timeout bounds the wait for the head; a body may take longer, as long as it
  // keeps coming: each piece of it restarts the wait, so only a stalled body times out.
  if (parser.in_progress() && (!request_start_ || (used > 0 && parser.awaiting_body())))
    request_start_ = now_or_pending();
  switch (parser.status()) {
    case RequestParser::Status::Complete: {
      handle_request(parser.request());
      parser.next();
      if (inbuf_.empty()) give_back_parser();  // nothing pipelined: the parser is not needed now
      progress = true;
      return;
    }
    case RequestParser::Status::Error:
      note("bad request: " + std::to_string(parser.error_status()) + " " +
           std::string(parser.error_detail()));
      handle_error(parser.error_status(), parser.error_detail(), CloseBy::Error);
      progress = true;
      return;
    case RequestParser::Status::NeedMore:
      // RFC 9110 §10.1.1: a client waiting on Expect: 100-continue gets the go-ahead, unless
      // the answer does not depend on the body (a 405, a 412): then it gets that answer at once
      // and need not send the body at all.
      if (parser.awaiting_body() && parser.request().expect_continue && parser.request().minor >= 1 &&
          !continue_sent_ && inbuf_.empty()) {
        if (!env_.responder.takes_body(parser.request())) {
          handle_request(parser.request(), true);
          progress = true;
          return;
        }
        if (socket_->send_space() >= kContinue.size()) {
          size_t n = socket_->send(std::as_bytes(std::span(kContinue.data(), kContinue.size())));
          // The kernel's sockets only estimate their space: what a short write left leads
          // the final response (start_response), so the stream stays whole.
          continue_unsent_ = kContinue.size() - n;
          continue_sent_ = true;
          ++env_.stats.responses_by_class[1];  // an interim response (RFC 9110 §15.2), counted as 1xx
        }
      }
      // read_input stops at kMaxBufferedInput; the parser took those bytes and wants more, and
      // more may already wait in the socket. Read them now: no new readable event comes for
      // bytes that are already there (the kernel's edge-triggered epoll, or a TCP whose
      // segments have all arrived), so stopping here would stall the request until it times out.
      if (used > 0 && socket_->readable() > 0) {
        progress = true;
        return;
      }
      if (peer_fin_ && inbuf_.empty())
        begin_close(CloseBy::Error, "client closed in the middle of a request");
      return;
  }
}

void Session::take_parser() {
  if (env_.spare_parsers.empty()) {
    parser_ = std::make_unique<RequestParser>(ParserLimits{.max_body = env_.config.max_body});
    return;
  }
  parser_ = std::move(env_.spare_parsers.back());
  env_.spare_parsers.pop_back();
}

void Session::give_back_parser() {
  // A few are enough for the sessions parsing at one time; more would only hold memory.
  constexpr size_t kMaxSpareParsers = 64;
  if (env_.spare_parsers.size() < kMaxSpareParsers) env_.spare_parsers.push_back(std::move(parser_));
  parser_.reset();
}

void Session::take_buffer(std::string& buffer) {
  if (heap_bytes(buffer) > 0 || env_.spare_buffers.empty()) return;
  buffer.swap(env_.spare_buffers.back());
  env_.spare_buffers.pop_back();
}

void Session::give_back_buffer(std::string& buffer) {
  // Enough for every session busy in one event batch; the rest is freed, so the spares hold
  // at most a few MiB however many connections come and go.
  constexpr size_t kMaxSpareBuffers = 128;
  const size_t held = heap_bytes(buffer);
  if (held > 0 && held <= kKeepBuffer && env_.spare_buffers.size() < kMaxSpareBuffers) {
    buffer.clear();
    env_.spare_buffers.push_back(std::move(buffer));
  }
  std::string().swap(buffer);
}

void Session::handle_request(const Request& request, bool body_unread) {
  ++requests_;
  if (requests_ == 1) ++env_.stats.connections_used;
  if (requests_ > 1) ++env_.stats.keepalive_reuses;
  continue_sent_ = false;
  request_start_.reset();
  Response response = env_.responder.respond(request);
  KeepAliveDecision decision = decide_keep_alive(KeepAliveInput{
      .http_minor = request.minor,
      .connection = request.connection,
      .server_keepalive = env_.config.keepalive,
      .requests_served = requests_,
      .max_requests = env_.config.max_requests,
      .shutting_down = env_.shutting_down,
  });
  auto length = response.body ? response.body->length() : std::optional<uint64_t>(0);
  if (!length && request.minor == 0 && decision.keep_open) {
    // RFC 9112 §6.1: no chunked for an HTTP/1.0 client; the body ends when we close.
    decision = KeepAliveDecision{false, ConnectionHeader::Close, false, 0, CloseCause::Http10UnknownLength};
  }
  if (body_unread && decision.keep_open) {
    // RFC 9110 §10.1.1: answering before the content, the server says whether it will close
    // or read on; the client may send the body anyway after waiting, and its bytes would be
    // read as the next request, so the connection ends with this response.
    decision = KeepAliveDecision{false, ConnectionHeader::Close, false, 0, CloseCause::BodyNotRead};
  }
  if (tracing()) {
    // The target is the client's bytes: a C1 control (0x9b is CSI) or a broken UTF-8 sequence
    // would reach the terminal as a command, so those are shown as \xNN.
    std::string line = "HTTP " + request.method + " " + text::escape_unprintable(request.target) +
                       " HTTP/1." + std::to_string(request.minor) + " -> " +
                       std::to_string(response.head.status) + ", request " + std::to_string(requests_) +
                       " on this connection, ";
    line += decision.keep_open ? "keep-alive (connection stays open)"
                               : "then close: " + std::string(to_string(decision.cause));
    note(line);
  }
  start_response(std::move(response), request.method == "HEAD", request.minor, decision);
  if (!decision.keep_open) {
    close_by_ = close_by_for(decision.cause);
    close_cause_ = decision.cause;
  }
}

void Session::handle_error(int status, std::string_view detail, CloseBy by) {
  ++env_.stats.bad_requests;
  // What is left of the bad request is dropped; whether more of it is still coming shows
  // after our FIN (pump_once, Phase::Closing) or as bytes TCP holds unread (begin_close).
  dropped_at_error_ = by == CloseBy::Error ? inbuf_.size() : 0;  // a 408's is its own unfinished head
  inbuf_.clear();
  request_start_.reset();
  std::string body =
      std::to_string(status) + " " + std::string(reason_phrase(status)) + ": " + std::string(detail) + "\n";
  Response response = text_response(status, "text/plain; charset=utf-8", std::move(body));
  // RFC 9112 §9.6: after an error response the connection is closed cleanly.
  KeepAliveDecision decision{false, ConnectionHeader::Close, false, 0, CloseCause::None};
  // RFC 9110 §9.3.2: no content in a response to HEAD, an error included, once the request
  // line said HEAD; the head still has the Content-Length a GET would get.
  const bool head_only = parser_ && parser_->request().method == "HEAD";
  start_response(std::move(response), head_only, 1, decision);
  close_by_ = by;
  close_error_status_ = status;
}

void Session::start_response(Response response, bool head_only, int minor,
                             const KeepAliveDecision& decision) {
  ResponseHead& head = response.head;
  if (head.status >= 100 && head.status < 600)
    ++env_.stats.responses_by_class[static_cast<size_t>(head.status / 100)];
  response_unfinished_ = true;
  head.content_length = response.body ? response.body->length() : std::optional<uint64_t>(0);
  head.close_delimited = !head.content_length && minor == 0;
  // The head and the first piece of the body share one buffer, allocated once per response
  // (or kept from the last one while pipelined requests wait).
  size_t first_piece = head_only || !response.body ? 0 : kBodyChunk;
  if (head.content_length) first_piece = std::min<uint64_t>(first_piece, *head.content_length);
  out_.clear();
  take_buffer(out_);
  out_.reserve(continue_unsent_ + kTypicalHeadSize + first_piece);
  out_ += continue_tail();
  continue_unsent_ = 0;
  append_head(out_, head, decision, env_.date ? env_.date() : std::string_view(),
              whole_seconds(env_.config.keepalive_timeout));
  out_off_ = 0;
  chunked_ = !head.content_length && !head.close_delimited;
  body_ = head_only ? nullptr : std::move(response.body);
  // What is left of a body of known length; after the source ends, what it never gave.
  body_left_ = body_ ? head.content_length : std::nullopt;
  close_after_ = !decision.keep_open;
  phase_ = Phase::Writing;
  writing_since_ = now_or_pending();
  // The head and the first piece of the body go out in one send().
  if (body_) append_body_piece();
}

bool Session::write_more() {
  size_t sent = 0;
  for (int i = 0; i < 4096 && socket_; ++i) {
    if (out_off_ < out_.size()) {
      auto pending = std::string_view(out_).substr(out_off_);
      size_t n = socket_->send(std::as_bytes(std::span(pending.data(), pending.size())));
      out_off_ += n;
      sent += n;
      if (out_off_ < out_.size()) return false;  // send buffer full: wait for on_writable
    }
    if (!body_) {
      if (body_left_ && *body_left_ > 0) {  // the source ended early: it failed (body_source.hpp)
        abandon_response();
      } else {
        response_done();
      }
      return true;
    }
    // Enough for now: the packets made so far leave first, the rest follows next turn. Queued
    // once: until resume(), a write that reaches the budget again just stops.
    if (sent >= kWriteBudget && env_.yielded) {
      if (!yielded_) {
        yielded_ = true;
        env_.yielded(*this);
      }
      return false;
    }
    // Pull the next piece only when the previous one was taken: memory stays one chunk.
    out_.clear();
    out_off_ = 0;
    append_body_piece();
  }
  return false;
}

void Session::append_body_piece() {
  // Reads up to one chunk; a short read is followed by one more so the end of the body is
  // found now and the last bytes (and the last chunk) leave in the same send() - a small
  // piece sent on its own would wait for an ACK under Nagle (RFC 9293 §3.7.4) while the
  // client delays that ACK: ~40 ms per request.
  auto read_into = [&](char* at, size_t room) {
    size_t n = body_->read(std::span<char>(at, room));
    if (n > 0 && n < room) {
      size_t more = body_->read(std::span<char>(at + n, room - n));
      n += more;
      if (more == 0) at_body_end_ = true;
    }
    if (n == 0) at_body_end_ = true;
    return n;
  };
  at_body_end_ = false;
  size_t n;
  if (chunked_) {
    scratch_.resize(kBodyChunk);
    n = read_into(scratch_.data(), scratch_.size());
    if (n > 0) append_chunk(out_, std::string_view(scratch_.data(), n));
    if (at_body_end_) out_ += kLastChunk;
  } else {
    // A known length bounds the buffer: a 1 KiB page does not allocate a 64 KiB chunk.
    size_t room = kBodyChunk;
    if (body_left_ && *body_left_ < room) room = static_cast<size_t>(*body_left_);
    size_t old = out_.size();
    out_.resize(old + room);
    n = room == 0 ? 0 : read_into(out_.data() + old, room);
    if (room == 0) at_body_end_ = true;
    out_.resize(old + n);
    if (body_left_) {
      *body_left_ -= n;
      if (*body_left_ == 0) at_body_end_ = true;
    }
  }
  if (at_body_end_) body_.reset();
}

size_t Session::held_bytes() const {
  return heap_bytes(inbuf_) + heap_bytes(out_) + heap_bytes(scratch_) + (parser_ ? sizeof(RequestParser) : 0);
}

void Session::response_done() {
  ++env_.stats.requests_served;
  response_unfinished_ = false;
  // The response is whole: its last short segment need not wait for an ACK (Nagle).
  if (socket_) socket_->push();
  out_.clear();
  out_off_ = 0;
  // An idle connection keeps no buffer: thousands of them may wait (or sit in TIME-WAIT
  // until on_closed) at once. One with the next request already here (pipelined) keeps
  // buffers up to kKeepBuffer for it.
  if (!inbuf_.empty() && out_.capacity() <= kKeepBuffer) {
    if (scratch_.capacity() > kKeepBuffer) std::string().swap(scratch_);
  } else {
    give_back_buffer(out_);
    give_back_buffer(scratch_);
    if (inbuf_.empty()) give_back_buffer(inbuf_);
  }
  if (close_after_) {
    if (close_error_status_ != 0)
      begin_close(close_by_, "error " + std::to_string(close_error_status_));
    else
      begin_close(close_by_, to_string(close_cause_));
    return;
  }
  phase_ = Phase::Reading;
  wait_since_ = now_or_pending();
  if (env_.shutting_down && inbuf_.empty()) shutdown();
}

// RFC 9112 §8: a sender that cannot deliver the length it promised closes the connection, so
// that the recipient sees an incomplete message. What was read has been sent; the close stops
// the body there. response_unfinished_ stays set: end() counts it in responses_cut_off.
void Session::abandon_response() {
  begin_close(CloseBy::Error, "response body ended " + std::to_string(body_left_.value_or(0)) +
                                  " bytes short of its Content-Length (the file shrank or could not be "
                                  "read while being sent): closing without the rest, so the client sees "
                                  "the response incomplete (RFC 9112 §8); counted as a response cut off");
}

void Session::begin_close(CloseBy by, std::string_view why) {
  if (!socket_ || phase_ == Phase::Closing || phase_ == Phase::Lingering || phase_ == Phase::Closed) return;
  count_close(by);
  closing_by_ = by;
  bool unanswered = input_discarded_ || !inbuf_.empty() || socket_->readable() > 0;
  bool peer_closed = peer_fin_ || socket_->peer_closed();
  ClosePath path = choose_close_path(CloseInput{by, unanswered, peer_closed});
  phase_ = Phase::Closing;
  body_.reset();
  give_back_buffer(inbuf_);
  give_back_buffer(out_);
  give_back_buffer(scratch_);
  out_off_ = 0;
  if (path == ClosePath::Lingering) {
    start_lingering(why);
  } else if (peer_closed) {
    note(why);
  } else if (tracing()) {  // the text is built only for a trace: every closing connection passes here
    // Bytes read behind a bad request went with it: none is left unread for TCP to reset.
    const std::string left = dropped_at_error_ > 0
                                 ? "nothing left unread (the " + std::to_string(dropped_at_error_) +
                                       " bytes read behind the bad request were discarded with it)"
                                 : "nothing unanswered";
    note(std::string(why) + "; FIN: " + left +
         ", so TCP finishes the close - FIN-WAIT-2 until the client's FIN, then "
         "TIME-WAIT (if the client never closes, TCP drops the connection silently after --fin-timeout)");
  }
  // RFC 9293 §3.10.4 CLOSE: FIN after everything queued; we keep receiving (half-close).
  socket_->close();
  pump_again_ = true;
  if (path == ClosePath::Fin) {
    linger_on_data_ = choose_close_path(CloseInput{by, true, peer_closed}) == ClosePath::Lingering;
    let_go_owed_ = true;
    touch();
  }
}

// RFC 9112 §9.6: the client is still sending requests we will not answer. Keep reading (and
// discarding) so its data does not meet a closed socket and an RST that could destroy the
// response it has not read yet; give up with RST after --linger (fire_timer).
void Session::start_lingering(std::string_view why) {
  phase_ = Phase::Lingering;
  linger_since_ = lingering_began_ = now_or_pending();
  ++env_.stats.lingering_closes;
  note(std::string(why) + "; " + std::string(tcp::kLingerNote));
}

}  // namespace tcplab::http
