// Accepting connections for the classic services and keeping their sessions alive.
#include "stack/services/service.hpp"

#include <algorithm>

namespace tcplab::services {

namespace {
constexpr size_t kScratchBytes = 64 * 1024;
}

Service::Service(tcp::SocketProvider* host) : host_(host), scratch_(kScratchBytes) {}
Service::~Service() = default;

bool Service::listen(uint16_t port) { return host_ != nullptr && host_->listen(port, this); }

void Service::on_acceptable(uint16_t port) {
  if (host_ == nullptr) return;
  while (tcp::Socket* socket = host_->accept(port)) adopt(*socket);
}

void Service::adopt(tcp::Socket& socket) {
  forget_finished();
  ++accepted_;
  sessions_.push_back(make_session(socket));
  Session& session = *sessions_.back();
  session.socket_ = &socket;
  // set_handler may call on_readable (or even on_closed) at once if bytes or a RST wait.
  socket.set_handler(&session);
  if (!session.finished()) session.start(socket);
}

void Service::forget_finished() {
  std::erase_if(sessions_, [](const std::unique_ptr<Session>& s) { return s->finished(); });
}

void Service::close_all() {
  // close() may call back into the session (a RST already waiting ends it at once), so take
  // the list of sockets first.
  std::vector<tcp::Socket*> open;
  for (const auto& s : sessions_)
    if (!s->finished() && s->socket_) open.push_back(s->socket_);
  for (tcp::Socket* socket : open) socket->close();
}

size_t Service::active() const {
  return static_cast<size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                           [](const std::unique_ptr<Session>& s) { return !s->finished(); }));
}

}  // namespace tcplab::services
