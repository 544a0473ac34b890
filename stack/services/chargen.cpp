// Chargen sessions: fill the send buffer with the pattern whenever it has room.
#include "stack/services/chargen.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace tcplab::services {
namespace {

constexpr std::array<std::byte, kChargenPeriod> make_period() {
  std::array<std::byte, kChargenPeriod> bytes{};
  for (size_t line = 0; line < kChargenPrintable; ++line) {
    for (size_t col = 0; col < kChargenLineChars; ++col) {
      bytes[line * kChargenLineLength + col] = static_cast<std::byte>(' ' + (line + col) % kChargenPrintable);
    }
    bytes[line * kChargenLineLength + kChargenLineChars] = std::byte{'\r'};
    bytes[line * kChargenLineLength + kChargenLineChars + 1] = std::byte{'\n'};
  }
  return bytes;
}

constexpr std::array<std::byte, kChargenPeriod> kPeriod = make_period();

class ChargenSession final : public Session {
 public:
  ChargenSession(std::span<std::byte> scratch, uint64_t limit) : scratch_(scratch), limit_(limit) {}

  void start(tcp::Socket& s) override { fill(s); }
  void on_writable(tcp::Socket& s) override { fill(s); }
  void on_readable(tcp::Socket& s) override { discard_input(s); }
  void on_peer_fin(tcp::Socket& s) override { discard_input(s); }

 private:
  void fill(tcp::Socket& s) {
    if (closing_) return;
    while (limit_ == 0 || offset_ < limit_) {
      size_t room = s.send_space();
      if (room == 0) return;  // a full send buffer arms on_writable, which resumes us
      size_t n = std::min(room, scratch_.size());
      if (limit_ != 0) n = static_cast<size_t>(std::min<uint64_t>(n, limit_ - offset_));
      chargen_fill(offset_, scratch_.first(n));
      offset_ += s.send(scratch_.first(n));  // takes all n: they fit in send_space()
    }
    closing_ = true;
    s.close();  // FIN after the last byte; may end in on_closed
    // Whatever the client still sends would only be thrown away (RFC 864): TCP does that
    // alone, and a client that never closes cannot hold the connection for ever.
    let_go(s);
  }

  void discard_input(tcp::Socket& s) {
    // Keep reading even after our FIN: unread input would only close the client's window.
    while (s.receive(scratch_) > 0) {
    }  // RFC 864: "Any data received is thrown away"
    // Without a limit the stream ends when the client closes (RFC 864); with one, a client
    // that half-closes still gets every byte it asked for.
    if (!closing_ && limit_ == 0 && s.peer_closed()) {
      closing_ = true;
      s.close();
      let_go(s);
    }
  }

  std::span<std::byte> scratch_;
  uint64_t limit_;
  uint64_t offset_ = 0;
  bool closing_ = false;
};

}  // namespace

void chargen_fill(uint64_t offset, std::span<std::byte> out) {
  size_t at = static_cast<size_t>(offset % kChargenPeriod);
  size_t done = 0;
  while (done < out.size()) {
    size_t n = std::min(out.size() - done, kChargenPeriod - at);
    std::memcpy(out.data() + done, kPeriod.data() + at, n);
    done += n;
    at = 0;
  }
}

std::unique_ptr<Session> ChargenService::make_session(tcp::Socket&) {
  return std::make_unique<ChargenSession>(scratch(), limit_);
}

}  // namespace tcplab::services
