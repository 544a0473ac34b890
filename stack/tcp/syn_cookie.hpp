// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's ISN
// carries everything the listener needs to finish the handshake later, so the SYN costs no
// memory. The final ACK acknowledges ISN + 1; checking ack - 1 against a keyed hash proves
// that the peer saw our SYN-ACK (an off-path attacker cannot forge it) and gives back the MSS.
//
// Layout of the 32-bit cookie (like Bernstein's original):
//   bits 31..27  the coarse time counter modulo 32 (one tick every kSynCookiePeriod)
//   bits 26..24  an index into kSynCookieMssTable
//   bits 23..0   SipHash-2-4 of (4-tuple, the peer's ISN, full counter, MSS index) under a key
//                derived from the RFC 6528 ISN key
// Trade-off: nothing else of the SYN survives. Window scale, SACK-permitted and timestamps
// are not encoded, so the SYN-ACK offers none of them and the connection runs without them
// (Linux hides wscale and SACK in the timestamp value; tcplab does not). A fixed ISN (--isn)
// does not apply to a cookie: a fixed number could carry none of this.
#pragma once
#include <array>
#include <cstdint>
#include <optional>

#include "stack/four_tuple.hpp"
#include "stack/seq.hpp"
#include "stack/time.hpp"

namespace tcplab::tcp {

// The MSS values a cookie can carry (3 bits). The peer's MSS is rounded down to one of them.
inline constexpr std::array<uint16_t, 8> kSynCookieMssTable{64, 536, 1200, 1300, 1400, 1440, 1460, 8960};
// One tick of the time counter. A cookie is accepted in the tick it was made and the next
// one (kSynCookieMaxAge), so it lives between 64 and 128 seconds: far longer than a handshake.
inline constexpr Duration kSynCookiePeriod = seconds(64);
inline constexpr uint32_t kSynCookieMaxAge = 1;

class SynCookies {
 public:
  // The cookie key is derived from the ISN key, so it is as secret and as random.
  explicit SynCookies(const std::array<uint8_t, 16>& isn_key);

  // The index of the largest table entry not above `mss` (entry 0 if all are above).
  static uint8_t mss_index(uint16_t mss);
  // The ISN for a SYN-ACK answering `peer_isn` on `tuple` at `now`, remembering `mss`
  // rounded down to the table.
  Seq make(const FourTuple& tuple, Seq peer_isn, uint16_t mss, Instant now) const;
  // The MSS the cookie remembers, or nothing if the cookie is forged, for another tuple or
  // peer ISN, or older than kSynCookieMaxAge ticks.
  std::optional<uint16_t> check(const FourTuple& tuple, Seq peer_isn, Seq cookie, Instant now) const;

 private:
  uint32_t hash(const FourTuple& tuple, Seq peer_isn, uint32_t counter, uint8_t mss_index) const;
  std::array<uint8_t, 16> key_;
};

}  // namespace tcplab::tcp
