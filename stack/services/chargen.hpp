// Character generator (RFC 864): a deterministic byte stream, for bulk transfers from the
// stack. With a byte limit it sends exactly that many bytes and closes (verifiable by hash).
#pragma once
#include <cstdint>
#include <span>

#include "stack/services/service.hpp"

namespace tcplab::services {

// RFC 864's suggested pattern: lines of 72 printable characters (ASCII 32..126, 95 of them)
// plus CR LF; each line starts one character further along the 95-character ring.
constexpr size_t kChargenLineChars = 72;
constexpr size_t kChargenLineLength = kChargenLineChars + 2;
constexpr size_t kChargenPrintable = 95;
constexpr size_t kChargenPeriod = kChargenPrintable * kChargenLineLength;  // bytes before it repeats

// Writes the pattern's bytes [offset, offset + out.size()) into out.
void chargen_fill(uint64_t offset, std::span<std::byte> out);

class ChargenService final : public Service {
 public:
  // limit 0: send until the client closes (RFC 864); otherwise exactly `limit` bytes, then FIN.
  ChargenService(tcp::SocketProvider* host, uint64_t limit) : Service(host), limit_(limit) {}

 private:
  std::unique_ptr<Session> make_session(tcp::Socket& socket) override;
  uint64_t limit_;
};

}  // namespace tcplab::services
