// Echo sessions: read only as much as can be sent back, so a slow reader on the other side
// closes our receive window instead of making us buffer without bound.
#include "stack/services/echo.hpp"

#include <algorithm>
#include <vector>

namespace tcplab::services {
namespace {

class EchoSession final : public Session {
 public:
  explicit EchoSession(std::span<std::byte> scratch) : scratch_(scratch) {}

  void on_readable(tcp::Socket& s) override { pump(s); }
  void on_writable(tcp::Socket& s) override { pump(s); }
  void on_peer_fin(tcp::Socket& s) override { pump(s); }

 private:
  void pump(tcp::Socket& s) {
    if (closing_) return;
    if (!flush_pending(s)) return;
    while (s.readable() > 0) {
      // RFC 862 says only "send back"; backpressure is ours: take no more than the send
      // buffer can hold now, plus one byte. Unread bytes stay in TCP's receive buffer, the
      // advertised window shrinks, and the client slows down (RFC 9293 §3.8.6 flow control).
      // The one extra byte makes send() accept less than offered when the buffer is full,
      // which is what arms on_writable (socket.hpp); it waits in pending_ until then.
      size_t room = s.send_space();
      size_t n = s.receive(scratch_.first(std::min(room + 1, scratch_.size())));
      if (n == 0) break;
      size_t sent = s.send(scratch_.first(n));
      if (sent < n) {
        pending_.assign(scratch_.begin() + static_cast<std::ptrdiff_t>(sent), scratch_.begin() + static_cast<std::ptrdiff_t>(n));
        return;  // on_writable resumes us
      }
    }
    // The client's FIN: everything before it has been read and queued back, so close our
    // side too (FIN after the queued data, RFC 9293 §3.10.4).
    if (s.peer_closed()) {
      closing_ = true;
      s.close();  // may end in on_closed; touch nothing afterwards
    }
  }

  // True when nothing is left waiting to be sent.
  bool flush_pending(tcp::Socket& s) {
    if (pending_.empty()) return true;
    size_t sent = s.send(pending_);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(sent));
    return pending_.empty();
  }

  std::span<std::byte> scratch_;
  std::vector<std::byte> pending_;
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<Session> EchoService::make_session(tcp::Socket&) { return std::make_unique<EchoSession>(scratch()); }

}  // namespace tcplab::services
