// The HTTP server glue: accepts connections from the SocketProvider, gives each a Session,
// drives the sessions' timers from advance(now), and fills /stats and /tcp from the provider
// (read-only).
#include "http/server.hpp"

#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/response.hpp"
#include "http/ring_queue.hpp"
#include "http/session.hpp"
#include "http/site.hpp"
#include "http/stats.hpp"
#include "http/stats_page.hpp"
#include "stack/text/shortest_seconds.hpp"

namespace tcplab::http {
namespace {
constexpr int kMaxAcceptsPerCall = 1024;
// The timer heap: earliest deadline on top. Entries go stale when a session's deadline moves
// or the session goes; a stale entry costs one visit that finds nothing due.
using TimerEntry = std::pair<Instant, Session*>;
using TimerHeap = std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>>;
}  // namespace

struct Server::Impl {
  Impl(tcp::SocketProvider& tcp, const ServerConfig& config)
      : tcp(tcp),
        config(config),
        site(config.root, hooks(), config.file_cache_clock),
        env{config,
            stats,
            site,
            nullptr,
            Instant{},
            false,
            [this] { return date(); },
            [this](Session& s) { touched.push_back(&s); },
            yield_hook(tcp),
            {},
            {}} {}

  // Where a session that stopped writing a long body goes (SessionEnv::yielded): only where
  // the packets of a turn leave at its end; on kernel sockets send() transmits at once.
  std::function<void(Session&)> yield_hook(const tcp::SocketProvider& provider) {
    if (!provider.sends_leave_at_turn_end()) return {};
    return [this](Session& s) { yielded.push_back({&s, advances}); };
  }

  SiteHooks hooks() {
    SiteHooks h;
    h.stats_json = [this] { return stats_json(snapshot()); };
    h.stats_html = [this] { return stats_html(snapshot()); };
    h.tcp_json = [this] { return tcp_json(this->tcp.connections(), this->tcp.tcp_internals_available()); };
    h.tcp_html = [this] { return tcp_html(this->tcp.connections(), this->tcp.tcp_internals_available()); };
    h.out_of_descriptors = [this] { ++stats.out_of_descriptors; };
    return h;
  }

  // asking_connections stays 1: the hooks run only while answering a request, whose connection
  // is open (ESTABLISHED or CLOSE-WAIT) and counted by TCP; /stats reports the others.
  StatsSnapshot snapshot() {
    return StatsSnapshot{stats,
                         tcp.stats(),
                         tcp.drops(),
                         config.keepalive,
                         config.keepalive_timeout,
                         config.max_requests,
                         1,
                         tcp.tcp_internals_available(),
                         std::string(tcp.tcp_name())};
  }

  std::string_view date() {
    std::time_t t = config.wall_clock ? config.wall_clock() : std::time(nullptr);
    if (t != date_second) {
      date_second = t;
      date_text = format_http_date(t);
    }
    return date_text;
  }

  void note(std::string_view text, const FourTuple* tuple = nullptr) {
    if (tracer && tracer->enabled()) tracer->note(std::max(env.now, tracer->latest()), tuple, text);
  }

  void accept_all(uint16_t port) {
    bool none_idle = false;  // found once per call: a burst of clients costs one search
    for (int i = 0; i < kMaxAcceptsPerCall; ++i) {
      tcp::Socket* socket = tcp.accept(port);
      if (!socket) break;
      if (sessions.size() >= config.max_connections && (none_idle || !close_oldest_idle())) {
        none_idle = true;
        // Every connection is busy with a request or still delivering a response: there is
        // nothing idle to give up.
        note("refused: --max-connections " + std::to_string(config.max_connections) +
                 " reached and every connection is busy with a request or still delivering a response: RST",
             &socket->tuple());
        socket->abort();
        ++stats.refused_full;
        continue;
      }
      auto session = std::make_unique<Session>(*socket, env, [this](Session& s) { gone(s); });
      Session* raw = session.get();
      sessions.emplace(raw, std::move(session));
      raw->start();
    }
  }

  // At --max-connections, a new client is worth more than the connection idle the longest:
  // close that one (RFC 9112 §9.5: a server may close an idle connection at any time; the
  // client retries its next request on a new one). idle_order is oldest first, so in the common
  // case the first current entry is the one: no scan of every session (at 100,000 sessions a
  // scan cost about 25 ms per new client).
  bool close_oldest_idle() {
    // A connection still delivering its last response is busy, not idle ("idle the longest"
    // would cut a download). Its entry moves to the back: its client acknowledged something just
    // now, so the connections behind it have been idle longer. Each entry is looked at once per
    // call, so a server full of slow readers goes round its queue once and then refuses, and
    // the next call finds the idle ones first.
    // Bounded too: a server full of slow readers costs each new client at most this many looks
    // (the next one continues where this one stopped), not a pass over 100,000 sessions.
    constexpr size_t kMaxLooksPerClient = 4096;
    // Each look pops one entry and pushes back at most one, so the queue never runs dry first.
    for (size_t left = std::min(idle_order.size(), kMaxLooksPerClient); left > 0; --left) {
      auto entry = idle_order.front();
      idle_order.pop_front();
      if (!still_idle_since(entry.first, entry.second)) continue;
      if (entry.first->delivering()) {
        idle_order.push_back(entry);
        continue;
      }
      entry.first->evict();
      return true;
    }
    return false;
  }

  // An idle_order entry is current if its session is still here, still idle, and has not
  // been busy since (a session idle again later has a newer entry further back).
  bool still_idle_since(Session* s, Instant since) const {
    return sessions.contains(s) && s->idle() && s->idle_since() == since;
  }

  // Files a session that has just become an idle keep-alive connection (its idle_since() is
  // stamped by now). Stale entries are dropped when they outnumber the sessions, so the
  // queue stays within a small multiple of the sessions however many requests go by.
  void file_idle(Session* s) {
    if (!s->idle() || s->idle_filed == s->idle_since()) return;
    s->idle_filed = s->idle_since();
    idle_order.push_back({s, s->idle_since()});
    if (idle_order.size() > 2 * sessions.size() + 1024)
      idle_order.erase_if([this](const auto& e) { return !still_idle_since(e.first, e.second); });
  }

  // Visits one session: stamps and fires what is due, then files its next deadline.
  void visit(Session* s) {
    if (!sessions.contains(s)) return;  // gone since it was filed
    s->on_timer();
    if (!sessions.contains(s)) return;
    file_idle(s);
    auto due = s->deadline();
    // A later deadline needs no entry of its own: the earlier one visits and re-files it.
    if (due && (!s->scheduled || *due < *s->scheduled || *s->scheduled <= env.now)) {
      s->scheduled = due;
      timers.emplace(*due, s);
    } else if (!due) {
      s->scheduled.reset();
    }
  }

  // Resumes the sessions that yielded before the last advance (the event loop wrote that
  // turn's packets since); those that yielded after it wait for the next one. Resuming
  // touches a session, so this advance visits it and files its timers.
  void resume_yielded() {
    size_t due = 0;
    while (due < yielded.size() && yielded[due].second < advances) ++due;
    if (due == 0) return;
    // advance() fills scratch only after this returns.
    scratch.clear();
    for (size_t i = 0; i < due; ++i) scratch.push_back(yielded[i].first);
    yielded.erase(yielded.begin(), yielded.begin() + static_cast<std::ptrdiff_t>(due));
    for (Session* s : scratch)
      if (sessions.contains(s)) s->resume();
    scratch.clear();
  }

  // Called from inside the session's on_closed: keep it alive until the callback returns.
  void gone(Session& s) {
    auto it = sessions.find(&s);
    if (it == sessions.end()) return;
    // A session that ends while queued to resume leaves the queue: a new one at its address
    // must not be resumed by its entry.
    if (s.yielded()) std::erase_if(yielded, [&s](const auto& entry) { return entry.first == &s; });
    graveyard.push_back(std::move(it->second));
    sessions.erase(it);
  }

  tcp::SocketProvider& tcp;
  ServerConfig config;
  ServerStats stats;
  Site site;
  SessionEnv env;
  trace::Tracer* tracer = nullptr;
  std::unordered_map<Session*, std::unique_ptr<Session>> sessions;
  RingQueue<std::pair<Session*, Instant>> idle_order;  // became idle, oldest first (file_idle)
  std::vector<std::unique_ptr<Session>> graveyard;
  std::vector<Session*> scratch;
  std::vector<Session*> touched;  // sessions with an event since the last advance
  // Sessions that stopped writing a long body (SessionEnv::yielded), with the number of
  // advances done when they did, oldest first, each at most once (Session::yielded()): each
  // goes on in the first advance after the event loop has written the packets of the turn
  // it stopped in.
  std::vector<std::pair<Session*, uint64_t>> yielded;
  uint64_t advances = 0;
  TimerHeap timers;
  std::time_t date_second = -1;
  std::string date_text;
  std::string error;
};

Server::Server(tcp::SocketProvider& tcp, const ServerConfig& config)
    : impl_(std::make_unique<Impl>(tcp, config)) {}
Server::~Server() = default;

bool Server::start() {
  if (!impl_->site.root_ok()) {
    impl_->error = "--root " + *impl_->config.root + " is not a readable directory";
    return false;
  }
  if (!impl_->tcp.listen(impl_->config.port, this)) {
    impl_->error = "port " + std::to_string(impl_->config.port) + " is already in use";
    return false;
  }
  const ServerConfig& c = impl_->config;
  impl_->note("HTTP server listening on port " + std::to_string(c.port) + ", keep-alive " +
              (c.keepalive ? "on (timeout " + text::shortest_seconds(c.keepalive_timeout) + " s, max " +
                                 std::to_string(c.max_requests) + " requests)"
                           : std::string("off: every response says Connection: close")));
  return true;
}

const std::string& Server::error() const { return impl_->error; }

void Server::set_tracer(trace::Tracer* tracer) {
  impl_->tracer = tracer;
  impl_->env.tracer = tracer;
}

const ServerStats& Server::stats() const { return impl_->stats; }
size_t Server::sessions() const { return impl_->sessions.size(); }
size_t Server::sessions_to_resume() const { return impl_->yielded.size(); }

void Server::advance(Instant now) {
  impl_->env.now = now;
  impl_->graveyard.clear();
  impl_->resume_yielded();
  // Only sessions that had an event or whose deadline has come: the rest sleep, however many.
  auto& list = impl_->scratch;
  list.clear();
  list.swap(impl_->touched);
  while (!impl_->timers.empty() && impl_->timers.top().first <= now) {
    list.push_back(impl_->timers.top().second);
    impl_->timers.pop();
  }
  for (Session* s : list) impl_->visit(s);
  list.clear();
  ++impl_->advances;
}

std::optional<Instant> Server::next_deadline() const {
  // A session with an event waits for its stamp from the next advance: that is now.
  // So does one that yielded: the next turn resumes it.
  if (!impl_->touched.empty() || !impl_->yielded.empty()) return impl_->env.now;
  if (impl_->timers.empty()) return std::nullopt;
  return impl_->timers.top().first;
}

void Server::begin_shutdown() {
  impl_->env.shutting_down = true;
  auto& list = impl_->scratch;
  list.clear();
  for (auto& [raw, owned] : impl_->sessions) list.push_back(raw);
  for (Session* s : list) s->shutdown();
}

void Server::on_acceptable(uint16_t port) { impl_->accept_all(port); }

}  // namespace tcplab::http
