// The classic test services (echo, discard, chargen) share this frame: a listener that
// accepts every connection and gives each one a Session, an application over the Socket API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "stack/tcp/provider.hpp"
#include "stack/tcp/socket.hpp"

namespace tcplab::services {

// One connection's application. on_closed is the socket's last call; the Service frees the
// session later (never inside its own callback).
class Session : public tcp::SocketHandler {
 public:
  // Called once the session is the socket's handler, to start sending if it talks first.
  virtual void start(tcp::Socket&) {}
  void on_closed(tcp::Socket&, tcp::CloseReason) final {
    finished_ = true;
    socket_ = nullptr;
  }
  bool finished() const { return finished_; }

 protected:
  // After close(), for a session that will read nothing more: TCP finishes the close alone
  // (Socket::release), and the --fin-timeout bounds a FIN-WAIT-2 nobody owns. The session
  // ends here, unless on_closed already came or this TCP cannot let go (kernel sockets),
  // where on_closed ends it as before.
  void let_go(tcp::Socket& s) {
    if (finished_ || !s.release()) return;
    finished_ = true;
    socket_ = nullptr;
  }

 private:
  friend class Service;
  bool finished_ = false;
  tcp::Socket* socket_ = nullptr;  // until on_closed
};

class Service : public tcp::AcceptHandler {
 public:
  // `host` (tcplab's TcpHost or kernel sockets) may be null in tests that hand sockets to
  // adopt() directly.
  explicit Service(tcp::SocketProvider* host);
  ~Service() override;

  // Passive open on `port` (RFC 9293 §3.10.1). False if the port is taken.
  bool listen(uint16_t port);
  // Accepts every queued connection on `port` and adopts it.
  void on_acceptable(uint16_t port) override;
  // Takes one established connection; tests call it with a fake Socket.
  void adopt(tcp::Socket& socket);

  size_t active() const;  // sessions whose socket has not closed yet
  // The server is stopping: every open connection gets our FIN (RFC 9293 §3.10.4 CLOSE, after
  // what is already queued), so its client sees the end instead of a connection that hangs.
  void close_all();
  uint64_t accepted() const { return accepted_; }

 protected:
  virtual std::unique_ptr<Session> make_session(tcp::Socket& socket) = 0;
  // A read/write buffer shared by all sessions: the loop is single-threaded and no session
  // keeps bytes in it between calls.
  std::span<std::byte> scratch() { return scratch_; }

 private:
  void forget_finished();

  tcp::SocketProvider* host_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::vector<std::byte> scratch_;
  uint64_t accepted_ = 0;
};

}  // namespace tcplab::services
