// `tcplab get`'s connection handling: one request at a time, reuse while keep-alive allows,
// timeouts, the close handshake's order, and a clear line for every way a fetch can fail.
#include "http/client_session.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>

#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

// "10 s", "0.5 s": a duration in an error message.
std::string format_duration(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  std::string text = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    text += "." + frac;
  }
  return text + " s";
}

}  // namespace

// One connection. It only forwards socket callbacks to the session, which decides.
struct ClientSession::Conn final : tcp::SocketHandler {
  enum class Phase {
    Connecting,  // SYN sent
    Idle,        // open, no request in flight (kept for the next URL)
    Busy,        // a request in flight
    Closing,     // done with: waiting for the server's FIN (we_closed false) or our close to finish
    Gone,        // on_closed arrived; the socket no longer exists
  };

  Conn(ClientSession& s, unsigned number, const Url& url)
      : session(s), id(number), address(url.address), port(url.port) {}

  void on_connected(tcp::Socket&) override {
    mark_progress();
    if (phase == Phase::Connecting) session.send_request(*this);
  }
  void on_readable(tcp::Socket&) override { session.pump(*this); }
  void on_peer_fin(tcp::Socket&) override { session.pump(*this); }
  void on_writable(tcp::Socket&) override {
    mark_progress();
    session.write_out(*this);
  }
  void on_closed(tcp::Socket&, tcp::CloseReason reason) override { session.connection_closed(*this, reason); }

  // Only a fetch in flight makes progress. Bytes a server keeps sending after its response
  // on a connection being closed are discarded, and must not restart the close grace or
  // --timeout: a server that streams for ever would otherwise hold us for ever.
  void mark_progress() {
    if (phase == Phase::Connecting || phase == Phase::Busy) progress_pending = true;
  }

  ClientSession& session;
  unsigned id;
  wire::Ipv4Address address;
  uint16_t port;
  tcp::Socket* socket = nullptr;
  FourTuple tuple{};
  Phase phase = Phase::Connecting;
  bool reusable = true;
  bool peer_fin = false;
  bool we_closed = false;
  uint32_t requests = 0;
  uint64_t discarded = 0;  // bytes received after the last response, dropped
  std::string out;         // request bytes send() has not taken yet
  size_t out_off = 0;
  Instant last_progress{};
  bool progress_pending = false;
};

ClientSession::ClientSession(std::vector<Url> urls, ClientConfig config, Dialer dial, ClientEvents& events)
    : urls_(std::move(urls)), config_(std::move(config)), dial_(std::move(dial)), events_(events) {}

ClientSession::~ClientSession() = default;

void ClientSession::start(Instant now) {
  now_ = now;
  work_pending_ = true;
  advance(now);
}

bool ClientSession::finished() const {
  return next_ == urls_.size() && !active_ && conns_.empty() && !work_pending_;
}

std::optional<Instant> ClientSession::next_deadline() const {
  if (work_pending_ || !notes_.empty()) return now_;
  std::optional<Instant> best;
  auto consider = [&best](Instant t) {
    if (!best || t < *best) best = t;
  };
  for (const auto& c : conns_) {
    if (c->progress_pending) return now_;
    switch (c->phase) {
      case Conn::Phase::Connecting:
      case Conn::Phase::Busy:
        if (paused(*c)) break;  // waiting for our own output, not for the server
        consider(c->last_progress + config_.timeout);
        break;
      case Conn::Phase::Closing:
        consider(c->last_progress + (c->we_closed ? config_.timeout : config_.close_grace));
        break;
      default:
        break;
    }
  }
  return best;
}

void ClientSession::advance(Instant now) {
  now_ = now;
  stamp_progress();
  flush_notes();
  resume_body();
  check_timers();
  while (work_pending_) {
    work_pending_ = false;
    step();
  }
  // What the timers and the steps just did (a close starting its grace, a request sent)
  // happened now, not at the next batch of packets.
  stamp_progress();
  flush_notes();
  // Connections are destroyed here, never inside one of their own callbacks.
  std::erase_if(conns_, [](const std::unique_ptr<Conn>& c) { return c->phase == Conn::Phase::Gone; });
}

void ClientSession::stamp_progress() {
  for (auto& c : conns_) {
    if (c->progress_pending) {
      c->progress_pending = false;
      c->last_progress = now_;
    }
  }
}

void ClientSession::check_timers() {
  for (size_t i = 0; i < conns_.size(); ++i) {
    Conn& c = *conns_[i];
    const Duration waited = now_ - c.last_progress;
    if (paused(c)) continue;
    if ((c.phase == Conn::Phase::Connecting || c.phase == Conn::Phase::Busy) && waited >= config_.timeout) {
      std::string what =
          c.phase == Conn::Phase::Connecting
              ? "for the connection (no SYN-ACK from " + where(c) + soft_error(c) + ")"
          : c.out_off < c.out.size() || c.socket->send_queued() > 0
              ? "to send the request (" +
                    std::to_string(c.out_off - std::min(c.out_off, c.socket->send_queued())) + " of " +
                    std::to_string(c.out.size()) + " bytes acknowledged by the server)"
          : parser_.started()
              ? "for the rest of the response (" +
                    std::to_string(parser_.received_bytes()) + " bytes so far)"
              : "for the response";
      fail_fetch(&c,
                 "timed out after " + format_duration(config_.timeout) + " waiting " + what + " (--timeout)");
      c.phase = Conn::Phase::Closing;
      c.we_closed = true;
      note(&c, "conn " + std::to_string(c.id) + ": timed out; aborting it (RST)");
      c.socket->abort();  // on_closed follows at once
    } else if (c.phase == Conn::Phase::Closing && !c.we_closed && waited >= config_.close_grace) {
      close_ours(c, "the server did not close within " + format_duration(config_.close_grace));
    } else if (c.phase == Conn::Phase::Closing && c.we_closed && waited >= config_.timeout) {
      note(&c, "conn " + std::to_string(c.id) + ": the close did not finish within " +
                   format_duration(config_.timeout) + " (--timeout)" +
                   (c.discarded > 0
                        ? "; the server kept sending (" + std::to_string(c.discarded) + " bytes discarded)"
                        : std::string()) +
                   "; aborting it (RST)");
      c.socket->abort();
    }
  }
}

void ClientSession::step() {
  if (active_) return;
  if (next_ == urls_.size()) {
    // Nothing more to fetch: a connection kept open for reuse is closed by us, so our side
    // goes through TIME-WAIT (RFC 9293 §3.6: the side that closes first).
    if (current_ != nullptr && current_->phase == Conn::Phase::Idle) close_ours(*current_, "no more URLs");
    current_ = nullptr;
    return;
  }
  start_fetch(next_++);
}

void ClientSession::start_fetch(size_t index) {
  if (index != last_started_) retried_ = false;  // a retry starts the same URL again
  last_started_ = index;
  active_ = index;
  const Url& url = active_url();
  report_ = FetchReport{};
  report_.retried = retried_;  // still set when this start is the retry of the same URL
  report_.index = index;
  report_.url = url.text;
  parser_.expect(false);
  // Before anything else: a kept connection stays kept for the URLs after this one.
  if (config_.refuse_address) {
    if (auto why = config_.refuse_address(url.address)) {
      fail_fetch(nullptr, "cannot open a connection to " + url.address.to_string() + ":" +
                              std::to_string(url.port) + ": " + url.address.to_string() + " " + *why);
      return;
    }
  }

  Conn* c = current_;
  const bool same_server = c != nullptr && c->address == url.address && c->port == url.port;
  if (c != nullptr && c->phase == Conn::Phase::Idle && c->reusable && !c->peer_fin && same_server) {
    report_.conn = c->id;
    report_.reused = true;
    send_request(*c);
    return;
  }
  if (c != nullptr && c->phase == Conn::Phase::Idle) close_ours(*c, "the next URL is on another server");
  current_ = nullptr;

  auto conn = std::make_unique<Conn>(*this, opened_ + 1, url);
  conn->last_progress = now_;
  Conn& fresh = *conn;
  conns_.push_back(std::move(conn));
  current_ = &fresh;
  report_.conn = fresh.id;
  tcp::Socket* socket = dial_(url.address, url.port, &fresh);
  if (socket == nullptr) {
    fresh.phase = Conn::Phase::Gone;
    current_ = nullptr;
    report_.conn = 0;
    fail_fetch(nullptr, "cannot open a connection to " + url.address.to_string() + ":" +
                            std::to_string(url.port) + " (no free local port)");
    return;
  }
  ++opened_;
  // connect() may already have reported (a refusal in a test); the tuple exists either way.
  if (fresh.phase != Conn::Phase::Gone) {
    fresh.socket = socket;
    fresh.tuple = socket->tuple();
    note(&fresh, "conn " + std::to_string(fresh.id) + ": opening a new connection for " + url.text);
  }
}

void ClientSession::send_request(Conn& c) {
  c.phase = Conn::Phase::Busy;
  c.progress_pending = true;  // --timeout counts from the request
  ++c.requests;
  c.out = build_request(active_url(), config_.request);
  c.out_off = 0;
  note(&c, "GET " + active_url().path + " on conn " + std::to_string(c.id) +
               (report_.reused ? " (reused)" : " (new)"));
  write_out(c);
}

void ClientSession::write_out(Conn& c) {
  if (c.socket == nullptr) return;
  while (c.out_off < c.out.size()) {
    auto bytes = std::as_bytes(std::span(c.out.data() + c.out_off, c.out.size() - c.out_off));
    size_t n = c.socket->send(bytes);
    if (n == 0) break;  // on_writable comes back when the send buffer has room
    c.out_off += n;
  }
}

void ClientSession::pump(Conn& c) {
  if (c.socket == nullptr || c.phase == Conn::Phase::Gone) return;
  c.mark_progress();
  if (c.phase == Conn::Phase::Busy && active_ && current_ == &c) {
    read_response(c);
  } else {
    read_idle(c);
  }
}

// Bytes on a connection with no request in flight are not a response to anything
// (RFC 9112 §9.3: a client reads one response per request): drop them and reuse nothing.
void ClientSession::read_idle(Conn& c) {
  std::array<char, 4096> buf;
  size_t dropped = 0;
  while (size_t n = c.socket->receive(std::as_writable_bytes(std::span(buf)))) dropped += n;
  if (dropped > 0 && c.phase == Conn::Phase::Idle) {
    c.reusable = false;
    note(&c, "conn " + std::to_string(c.id) + ": " + std::to_string(dropped) +
                 " unexpected bytes while idle; it will not be reused");
  } else if (dropped > 0 && c.phase == Conn::Phase::Closing && c.discarded == 0) {
    note(&c, "conn " + std::to_string(c.id) + ": " + std::to_string(dropped) +
                 " bytes after the response on a closing connection; discarding them and any more"
                 " (not progress: the close is still bounded)");
  }
  c.discarded += dropped;
  if (c.socket->peer_closed() && !c.peer_fin) {
    c.peer_fin = true;
    if (c.phase == Conn::Phase::Idle) {
      note(&c, "conn " + std::to_string(c.id) + ": the server closed the idle connection first");
    }
    if (!c.we_closed) close_ours(c, "the server closed first");
  }
}

void ClientSession::read_response(Conn& c) {
  std::array<char, 16384> buf;
  const size_t index = *active_;
  auto body = [this, index](std::string_view piece) {
    if (!response_is_redirect_to_follow()) events_.on_body(index, piece);
  };
  while (c.phase == Conn::Phase::Busy) {
    if (events_.body_blocked(index)) {
      // Bytes stay in TCP's receive buffer: its window shrinks to zero, and the server's
      // TCP waits (probing the window) instead of retransmitting to a receiver gone silent.
      if (!body_paused_) {
        note(&c, "conn " + std::to_string(c.id) + ": the body's output is full; not reading until it "
                     "drains (our receive window closes)");
      }
      body_paused_ = true;
      return;
    }
    size_t n = c.socket->receive(std::as_writable_bytes(std::span(buf)));
    if (n == 0) break;
    std::string_view data(buf.data(), n);
    size_t used = parser_.feed(data, body);
    if (parser_.status() == ResponseParser::Status::Error) {
      fail_fetch(&c, "bad response: " + parser_.error());
      c.phase = Conn::Phase::Closing;
      c.we_closed = true;
      note(&c, "conn " + std::to_string(c.id) + ": bad response; aborting it (RST)");
      c.socket->abort();
      return;
    }
    if (parser_.status() == ResponseParser::Status::Complete) {
      if (used < n) {
        c.reusable = false;  // more than one response to one request: the framing is off
        note(&c, "conn " + std::to_string(c.id) + ": " + std::to_string(n - used) +
                     " bytes after the response; it will not be reused");
      }
      complete_fetch(c);
      if (c.socket != nullptr) read_idle(c);
      return;
    }
  }
  if (c.phase != Conn::Phase::Busy || !c.socket->peer_closed()) return;
  // The server closed while the response was in progress (or before it started).
  c.peer_fin = true;
  parser_.eof();
  if (parser_.status() == ResponseParser::Status::Complete) {
    complete_fetch(c);  // a close-delimited body (RFC 9112 §6.3 rule 8)
    return;
  }
  if (retry_on_new_connection(c, "closed by the server (FIN)")) {
    close_ours(c, "the server closed it");
    return;
  }
  c.phase = Conn::Phase::Closing;
  fail_fetch(&c, parser_.error());
  close_ours(c, "the response was cut short");
}

void ClientSession::resume_body() {
  if (!body_paused_) return;
  if (current_ == nullptr || !active_ || current_->phase != Conn::Phase::Busy) {
    body_paused_ = false;
    return;
  }
  if (events_.body_blocked(*active_)) return;
  body_paused_ = false;
  Conn& c = *current_;
  // The pause was ours, not the server's: --timeout starts again from here.
  c.last_progress = now_;
  note(&c, "conn " + std::to_string(c.id) + ": the body's output drained; reading again");
  pump(c);
}

// RFC 9112 §9.3.1: a server may close an idle kept connection just as we send on it (with a
// FIN, or with a RST when our request arrives after its close); a GET is idempotent, so it
// is retried once on a new connection when no byte of its response came. False: no retry.
bool ClientSession::retry_on_new_connection(Conn& c, std::string_view how) {
  if (!report_.reused || parser_.started() || retried_) return false;
  retried_ = true;
  note(&c, "conn " + std::to_string(c.id) + ": " + std::string(how) +
               " before any response; retrying on a new connection");
  c.reusable = false;
  if (c.phase != Conn::Phase::Gone) c.phase = Conn::Phase::Closing;
  if (current_ == &c) current_ = nullptr;
  next_ = *active_;
  active_.reset();
  work_pending_ = true;
  return true;
}

void ClientSession::complete_fetch(Conn& c) {
  const auto& head = parser_.head();
  report_.ok = true;
  report_.minor = head.minor;
  report_.status = head.status;
  report_.reason = head.reason;
  report_.header_bytes = parser_.header_bytes();
  report_.interim_bytes = parser_.interim_bytes();
  report_.body_bytes = parser_.body_bytes();
  report_.framing = parser_.framing();
  report_.persistence = decide_persistence(config_.request, head, parser_.framing());
  if (report_.persistence.keep_open && !c.reusable) {
    report_.persistence = {false, "the server sent bytes beyond the response"};
  }
  if (report_.persistence.keep_open && (c.peer_fin || c.socket->peer_closed())) {
    report_.persistence = {false, "the server already closed it (its FIN came with the response)"};
  }
  note(&c, "conn " + std::to_string(c.id) + (report_.persistence.keep_open ? " stays open: " : " closes: ") +
               report_.persistence.why);
  const bool redirected = response_is_redirect_to_follow();
  if (report_.persistence.keep_open) {
    c.phase = Conn::Phase::Idle;
  } else {
    c.phase = Conn::Phase::Closing;
    c.reusable = false;
    c.progress_pending = true;  // the close grace starts now
    if (c.peer_fin || c.socket->peer_closed()) {
      c.peer_fin = true;
      close_ours(c, "the server closed first");
    }
    if (current_ == &c) current_ = nullptr;
  }
  if (redirected) {
    follow_redirect(c);
    return;
  }
  redirect_.reset();
  redirects_ = 0;
  events_.on_fetched(report_);
  active_.reset();
  work_pending_ = true;
}

bool ClientSession::response_is_redirect_to_follow() const {
  return config_.max_redirects > 0 && parser_.head_complete() &&
         is_followable_redirect(parser_.head().status) &&
         !parser_.head().header("Location").empty();
}

void ClientSession::follow_redirect(const Conn& c) {
  std::string error;
  auto target = resolve_location(active_url(), syntax::trim_ows(parser_.head().header("Location")), error);
  if (!target || redirects_ >= config_.max_redirects) {
    // The response itself was whole: its connection keeps what complete_fetch decided.
    const std::string redirect = "its " + std::to_string(parser_.head().status) + " redirect";
    fail_fetch(nullptr, target ? redirect + " to " + target->text + " not followed: " +
                                     std::to_string(config_.max_redirects) + " redirects already since " +
                                     urls_[*active_].text + " (-L follows at most that many)"
                               : redirect + " cannot be followed: " + error);
    return;
  }
  report_.redirect_to = target->text;
  note(&c, "following the " + std::to_string(report_.status) + " redirect to " + target->text + " (-L)");
  events_.on_fetched(report_);
  redirect_ = std::move(*target);
  ++redirects_;
  retried_ = false;  // the new URL may be retried once on a stale connection in its turn
  next_ = *active_;  // the same URL's turn again, now at the Location
  active_.reset();
  work_pending_ = true;
}

void ClientSession::fail_fetch(Conn* c, std::string error) {
  report_.ok = false;
  report_.error = std::move(error);
  if (parser_.head_complete()) {
    report_.minor = parser_.head().minor;
    report_.status = parser_.head().status;
    report_.reason = parser_.head().reason;
  }
  report_.header_bytes = parser_.header_bytes();
  report_.interim_bytes = parser_.interim_bytes();
  report_.body_bytes = parser_.body_bytes();
  ++failures_;
  body_paused_ = false;
  redirect_.reset();
  redirects_ = 0;
  if (c != nullptr) {
    c->reusable = false;
    if (current_ == c) current_ = nullptr;
  }
  events_.on_fetched(report_);
  active_.reset();
  work_pending_ = true;
}

void ClientSession::close_ours(Conn& c, std::string_view why) {
  if (c.we_closed || c.socket == nullptr) return;
  c.we_closed = true;
  c.phase = Conn::Phase::Closing;
  c.progress_pending = true;
  note(&c, "conn " + std::to_string(c.id) + ": we close (" + std::string(why) + ")" +
               (c.peer_fin ? "" : "; we close first, so TIME-WAIT will be ours"));
  c.socket->close();
}

void ClientSession::connection_closed(Conn& c, tcp::CloseReason reason) {
  const auto was = c.phase;
  const bool time_wait = c.socket != nullptr && c.socket->state() == tcp::State::TimeWait;
  const std::string soft = soft_error(c);
  c.phase = Conn::Phase::Gone;
  c.socket = nullptr;  // gone once this callback returns
  const bool in_flight =
      active_ && current_ == &c && (was == Conn::Phase::Connecting || was == Conn::Phase::Busy);
  const bool retried = in_flight && reason == tcp::CloseReason::ResetByPeer &&
                       retry_on_new_connection(c, "reset by the server (RST)");
  if (in_flight && !retried) {
    std::string error;
    switch (reason) {
      case tcp::CloseReason::Refused:
        error =
            "connection refused: " + where(c) + " answered our SYN with RST (is a server listening there?)";
        break;
      case tcp::CloseReason::PortUnreachable:
        // RFC 1122 §4.2.3.9: a hard error, as curl's "Connection refused" (the trace names its sender).
        error = "connection refused: ICMP port unreachable came back for our SYN to " + where(c) +
                " (a firewall rejecting it, typically)";
        break;
      case tcp::CloseReason::ProtocolUnreachable:
        // RFC 1122 §4.2.3.9: a hard error too; curl reports it as "Protocol not available".
        error = "no TCP at " + where(c) + ": ICMP protocol unreachable came back for our SYN";
        break;
      case tcp::CloseReason::TimedOut:
        error = "no answer from " + where(c) + ": TCP gave up after its retransmissions" + soft;
        break;
      case tcp::CloseReason::ResetByPeer:
        error = "connection reset by the server (RST) after " +
                std::to_string(parser_.received_bytes()) + " response bytes";
        break;
      case tcp::CloseReason::Aborted:
        // Our own paths that abort a fetch (timeout, bad response) fail it first; this is the
        // program stopping (Ctrl-C, a body it could not write) and resetting what is open. In
        // SYN-SENT an ABORT sends nothing (RFC 9293 §3.10.5): there is no connection to reset.
        error = was == Conn::Phase::Connecting
                    ? "stopped here while connecting (nothing to reset: no SYN-ACK had come)"
                    : "stopped here before the response was complete: we reset the connection (RST)";
        break;
      default:
        error = "the connection closed before the response was complete";
        break;
    }
    fail_fetch(&c, error);
  }
  if (current_ == &c) current_ = nullptr;
  ConnectionReport r;
  r.conn = c.id;
  r.tuple = c.tuple;
  r.requests = c.requests;
  r.we_closed_first = c.we_closed && !c.peer_fin;
  r.time_wait_ours = time_wait;
  r.reason = reason;
  note(&c, "conn " + std::to_string(c.id) + " closed (" + std::string(tcp::to_string(reason)) + ")" +
               (time_wait ? ": TIME-WAIT on our side" : ""));
  events_.on_connection_closed(r);
  work_pending_ = true;  // finished() may have become true
}

std::string ClientSession::where(const Conn& c) const {
  return c.address.to_string() + ":" + std::to_string(c.port);
}

// RFC 1122 §4.2.3.9: a soft error did not end the connection, but it is the likely reason
// nothing came back, so a timeout names it ("; ICMP host unreachable came back from ...").
std::string ClientSession::soft_error(const Conn& c) const {
  if (c.socket == nullptr) return {};
  const auto error = c.socket->info().icmp_soft_error;
  if (!error) return {};
  return "; ICMP " + std::string(tcp::icmp_error_name(error->type, error->code)) + " came back from " +
         error->from.to_string();
}

void ClientSession::note(const Conn* c, std::string text) {
  if (tracer_ == nullptr || !tracer_->enabled()) return;
  notes_.push_back({c != nullptr, c != nullptr ? c->tuple : FourTuple{}, "http client: " + std::move(text)});
}

void ClientSession::flush_notes() {
  if (tracer_ == nullptr) {
    notes_.clear();
    return;
  }
  for (const auto& n : notes_) tracer_->note(now_, n.has_tuple ? &n.tuple : nullptr, n.text);
  notes_.clear();
}

}  // namespace tcplab::http
