// The HTTP server glue: accepts connections from TcpHost, gives each a Session, drives the
// sessions' timers from advance(now), and fills /stats and /tcp from the Stack (read-only).
#include "http/server.hpp"

#include <unordered_map>
#include <vector>

#include "http/response.hpp"
#include "http/session.hpp"
#include "http/site.hpp"
#include "http/stats.hpp"
#include "http/stats_page.hpp"

namespace tcplab::http {
namespace {
// Beyond this many sessions new connections are refused with RST (bounded memory).
constexpr size_t kMaxSessions = 4096;
constexpr int kMaxAcceptsPerCall = 1024;
}  // namespace

struct Server::Impl {
  Impl(Stack& stack, const ServerConfig& config)
      : stack(stack),
        config(config),
        site(config.root, hooks()),
        env{config, stats, site, nullptr, Instant{}, false, [this] { return date(); }} {}

  SiteHooks hooks() {
    SiteHooks h;
    h.stats_json = [this] { return stats_json(snapshot()); };
    h.stats_html = [this] { return stats_html(snapshot()); };
    h.tcp_json = [this] { return tcp_json(this->stack.tcp().connections()); };
    h.tcp_html = [this] { return tcp_html(this->stack.tcp().connections()); };
    return h;
  }

  // asking_connections stays 1: the hooks run only while answering a request, whose connection
  // is open (ESTABLISHED or CLOSE-WAIT) and counted by TCP; /stats reports the others.
  StatsSnapshot snapshot() {
    return StatsSnapshot{
        stats,
        stack.tcp().stats(),
        stack.drops(),
        config.keepalive,
        static_cast<uint64_t>(std::chrono::duration_cast<seconds>(config.keepalive_timeout).count()),
        config.max_requests};
  }

  std::string date() {
    std::time_t t = config.wall_clock ? config.wall_clock() : std::time(nullptr);
    if (t != date_second) {
      date_second = t;
      date_text = format_http_date(t);
    }
    return date_text;
  }

  void note(std::string_view text, const FourTuple* tuple = nullptr) {
    if (tracer && tracer->enabled()) tracer->note(env.now, tuple, text);
  }

  void accept_all(uint16_t port) {
    for (int i = 0; i < kMaxAcceptsPerCall; ++i) {
      tcp::Socket* socket = stack.tcp().accept(port);
      if (!socket) break;
      if (sessions.size() >= kMaxSessions) {
        socket->abort();
        continue;
      }
      auto session = std::make_unique<Session>(*socket, env, [this](Session& s) { gone(s); });
      Session* raw = session.get();
      sessions.emplace(raw, std::move(session));
      raw->start();
    }
  }

  // Called from inside the session's on_closed: keep it alive until the callback returns.
  void gone(Session& s) {
    auto it = sessions.find(&s);
    if (it == sessions.end()) return;
    graveyard.push_back(std::move(it->second));
    sessions.erase(it);
  }

  Stack& stack;
  ServerConfig config;
  ServerStats stats;
  Site site;
  SessionEnv env;
  trace::Tracer* tracer = nullptr;
  std::unordered_map<Session*, std::unique_ptr<Session>> sessions;
  std::vector<std::unique_ptr<Session>> graveyard;
  std::vector<Session*> scratch;
  std::time_t date_second = -1;
  std::string date_text;
  std::string error;
};

Server::Server(Stack& stack, const ServerConfig& config) : impl_(std::make_unique<Impl>(stack, config)) {}
Server::~Server() = default;

bool Server::start() {
  if (!impl_->site.root_ok()) {
    impl_->error = "--root " + *impl_->config.root + " is not a readable directory";
    return false;
  }
  if (!impl_->stack.tcp().listen(impl_->config.port, this)) {
    impl_->error = "port " + std::to_string(impl_->config.port) + " is already in use";
    return false;
  }
  auto secs = [](Duration d) { return std::to_string(std::chrono::duration_cast<seconds>(d).count()); };
  impl_->note("HTTP server listening on port " + std::to_string(impl_->config.port) + ", keep-alive " +
              (impl_->config.keepalive ? "on (timeout " + secs(impl_->config.keepalive_timeout) + " s, max " +
                                             std::to_string(impl_->config.max_requests) + " requests)"
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

void Server::advance(Instant now) {
  impl_->env.now = now;
  impl_->graveyard.clear();
  // Copy first: a timer may close a session, which moves it to the graveyard.
  auto& list = impl_->scratch;
  list.clear();
  for (auto& [raw, owned] : impl_->sessions) list.push_back(raw);
  for (Session* s : list) s->on_timer();
}

std::optional<Instant> Server::next_deadline() const {
  std::optional<Instant> earliest;
  for (const auto& [raw, owned] : impl_->sessions) {
    auto d = raw->deadline();
    if (d && (!earliest || *d < *earliest)) earliest = d;
  }
  return earliest;
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
