// Discard sessions: a sink as fast as TCP delivers, for bulk transfers toward the stack.
#include "stack/services/discard.hpp"

namespace tcplab::services {
namespace {

class DiscardSession final : public Session {
 public:
  DiscardSession(std::span<std::byte> scratch, uint64_t& total) : scratch_(scratch), total_(total) {}

  void on_readable(tcp::Socket& s) override { drain(s); }
  void on_peer_fin(tcp::Socket& s) override { drain(s); }

 private:
  void drain(tcp::Socket& s) {
    if (closing_) return;
    while (size_t n = s.receive(scratch_)) total_ += n;  // RFC 863: "throw away any data"
    if (s.peer_closed()) {
      closing_ = true;
      s.close();
    }
  }

  std::span<std::byte> scratch_;
  uint64_t& total_;
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<Session> DiscardService::make_session(tcp::Socket&) {
  return std::make_unique<DiscardSession>(scratch(), bytes_);
}

}  // namespace tcplab::services
