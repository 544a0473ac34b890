// Echo sessions: read only as much as can be sent back, so a slow reader on the other side
// closes our receive window instead of making us buffer without bound.
#include "stack/services/echo.hpp"

#include <algorithm>
#include <cstddef>
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
    // Bytes read but not taken back by send() go first, and nothing more is read before they
    // have gone: "send back any data it receives" (RFC 862), in order.
    if (!unsent_.empty()) {
      unsent_.erase(unsent_.begin(), unsent_.begin() + static_cast<std::ptrdiff_t>(s.send(unsent_)));
      if (!unsent_.empty()) return;  // on_writable resumes us
    }
    while (s.readable() > 0) {
      // RFC 862 says only "send back"; backpressure is ours: take no more than the send
      // buffer can hold now. Unread bytes stay in TCP's receive buffer, the advertised window
      // shrinks, and the client slows down (RFC 9293 §3.8.6 flow control). A full send
      // buffer arms on_writable (socket.hpp), which resumes us.
      size_t room = s.send_space();
      if (room == 0) return;
      size_t n = s.receive(scratch_.first(std::min(room, scratch_.size())));
      if (n == 0) break;
      // Our TCP takes all n (they fit in send_space()); the kernel's (serve --kernel-tcp) only
      // estimates its space and may take fewer. The rest is the session's to keep, since the
      // scratch buffer is shared by every session of the service.
      size_t taken = s.send(scratch_.first(n));
      if (taken < n) {
        unsent_.assign(scratch_.begin() + static_cast<std::ptrdiff_t>(taken), scratch_.begin() + n);
        return;
      }
    }
    // The client's FIN: everything before it has been read and queued back, so close our
    // side too (FIN after the queued data, RFC 9293 §3.10.4).
    if (s.peer_closed()) {
      closing_ = true;
      s.close();  // may end in on_closed; touch nothing afterwards
    }
  }

  std::span<std::byte> scratch_;
  std::vector<std::byte> unsent_;  // read, not yet taken by send(); at most one scratch's worth
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<Session> EchoService::make_session(tcp::Socket&) {
  return std::make_unique<EchoSession>(scratch());
}

}  // namespace tcplab::services
