// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's ISN
// carries everything the listener needs to finish the handshake later, so the SYN costs no
// memory. The final ACK acknowledges ISN + 1; checking ack - 1 against a keyed hash proves
// that the peer saw our SYN-ACK (an off-path attacker cannot forge it) and gives back the MSS.
//
// Layout of the 32-bit cookie (like Bernstein's original):
//   bits 31..27  the coarse time counter modulo 32 (one tick every kSynCookiePeriod)
//   bits 26..24  an index into kSynCookieMssTable
//   bits 23..0   SipHash-2-4 of (4-tuple, the peer's ISN, full counter, MSS index, option
//                bits below) under a key derived from the RFC 6528 ISN key
//
// The ISN has no room for more, so the other SYN options ride in our timestamp, as Linux
// does: when the SYN carries TSopt (and timestamps are on), the SYN-ACK offers timestamps
// and the low kSynCookieOptionBits of its TSval hold the peer's window shift (4 bits, 15 =
// no scaling) and SACK-permitted (1 bit), laid out as Linux's lowest five bits (its sixth,
// ECN, has no use here). The peer must echo that TSval as TSecr in its final ACK (RFC 7323
// §3.2, §4.3), which gives the bits back. Our own window shift follows from the configured
// receive buffer, so it is recomputed instead of stored.
//
// Trade-off: without TSopt in the SYN (or with --no-timestamps) only the MSS survives, and
// the SYN-ACK offers no window scale, SACK or timestamps (the connection runs without
// them). With it, a final ACK without TSopt cannot be matched (the bits are gone) and is
// refused like a forged cookie: RFC 7323 §3.2 requires the option on it. A fixed ISN
// (--isn) does not apply to a cookie: a fixed number could carry none of this.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
// Low bits of the cookie SYN-ACK's TSval that carry the options: 4 of window shift, 1 of SACK.
inline constexpr int kSynCookieOptionBits = 5;

// What a cookie remembers of the SYN besides the MSS. Window shift and SACK-permitted only
// survive together with timestamps, since they travel in the TSval.
struct SynCookieOptions {
  bool timestamps = false;              // the SYN-ACK offers TSopt (the SYN had it)
  std::optional<uint8_t> window_shift;  // the peer's shift, 0..14 (RFC 7323 §2.3)
  bool sack_permitted = false;          // the SYN-ACK offers SACK-permitted (RFC 2018 §2)
  bool operator==(const SynCookieOptions&) const = default;

  // The 5 TSval bits for these options; from_bits is its inverse (with timestamps set).
  uint32_t bits() const;
  static SynCookieOptions from_bits(uint32_t tsval);
  // Without timestamps nothing else can be carried: window shift and SACK are dropped.
  SynCookieOptions normalised() const;
};

// What a valid cookie gives back.
struct SynCookieContents {
  uint16_t mss = 0;
  SynCookieOptions options;
};

// "mss 1460 wscale 7 sack ts", for the trace: which options a cookie carries.
std::string describe(const SynCookieContents& contents);

class SynCookies {
 public:
  // The cookie key is derived from the ISN key, so it is as secret and as random.
  explicit SynCookies(const std::array<uint8_t, 16>& isn_key);

  // The index of the largest table entry not above `mss` (entry 0 if all are above).
  static uint8_t mss_index(uint16_t mss);
  // The ISN for a SYN-ACK answering `peer_isn` on `tuple` at `now`, remembering `mss`
  // rounded down to the table, and `options` (normalised).
  Seq make(const FourTuple& tuple, Seq peer_isn, uint16_t mss, const SynCookieOptions& options,
           Instant now) const;
  Seq make(const FourTuple& tuple, Seq peer_isn, uint16_t mss, Instant now) const {
    return make(tuple, peer_isn, mss, SynCookieOptions{}, now);
  }
  // The TSval of the SYN-ACK that carries `cookie` with `options` (timestamps set): our
  // timestamp clock for a connection whose ISS is the cookie, with the low bits replaced.
  static uint32_t tsval(Seq cookie, const SynCookieOptions& options, Instant now);

  // The outcome of checking a final ACK: the contents, or why it was refused.
  struct Checked {
    std::optional<SynCookieContents> contents;
    std::string_view refusal;  // empty when contents is set
  };
  // Checks `cookie` (the ACK's SEG.ACK - 1) for the ACK's `tsecr`, if it carried TSopt.
  // Refused if the cookie is forged, for another tuple or peer ISN, older than
  // kSynCookieMaxAge ticks, or if the option bits were altered.
  Checked check(const FourTuple& tuple, Seq peer_isn, Seq cookie, std::optional<uint32_t> tsecr,
                Instant now) const;
  // The MSS the cookie remembers, for a cookie made without options.
  std::optional<uint16_t> check(const FourTuple& tuple, Seq peer_isn, Seq cookie, Instant now) const;

 private:
  uint32_t hash(const FourTuple& tuple, Seq peer_isn, uint32_t counter, uint8_t mss_index,
                const SynCookieOptions& options) const;
  std::optional<uint16_t> check_hash(const FourTuple& tuple, Seq peer_isn, Seq cookie,
                                     const SynCookieOptions& options, Instant now) const;
  std::array<uint8_t, 16> key_;
};

}  // namespace tcplab::tcp
