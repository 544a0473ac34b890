// SYN cookies (RFC 4987 §3.6): making and checking the ISN that stands in for a SYN-queue
// entry, and the TSval that carries the SYN's other options (see syn_cookie.hpp).
#include "stack/tcp/syn_cookie.hpp"

#include <algorithm>

#include "stack/tcp/isn.hpp"
#include "stack/tcp/timestamps.hpp"
#include "stack/wire/bytes.hpp"

namespace tcplab::tcp {
namespace {

constexpr uint32_t kHashMask = 0xffffff;  // 24 bits of hash
constexpr int kMssShift = 24;
constexpr int kCounterShift = 27;
constexpr uint32_t kCounterMask = 0x1f;  // 5 bits of counter

// The TSval bits: window shift in bits 3..0 (kNoWindowShift = none), SACK-permitted in bit 4.
constexpr uint32_t kOptionMask = (1u << kSynCookieOptionBits) - 1;
constexpr uint32_t kWindowShiftMask = 0xf;
constexpr uint32_t kNoWindowShift = 0xf;
constexpr uint32_t kSackBit = 0x10;
// RFC 7323 §2.3: a shift above 14 is used as 14, so 15 is free to mean "no scaling".
constexpr uint8_t kMaxWindowShift = 14;

uint32_t counter_at(Instant now) { return static_cast<uint32_t>(now.time_since_epoch() / kSynCookiePeriod); }

uint64_t keyed_label(const std::array<uint8_t, 16>& key, std::string_view label) {
  return siphash24(key, wire::ConstBytes(reinterpret_cast<const std::byte*>(label.data()), label.size()));
}

// Our timestamp clock for the connection a cookie would become: RFC 7323 §5.4's offset is
// the connection's ISS (connection_cookie.cpp), here the cookie itself.
uint32_t cookie_clock(Seq cookie, Instant now) {
  Timestamps clock;
  clock.set_offset(cookie.raw());
  return clock.value(now);
}

// The longest a cookie SYN-ACK's TSval can be back from our clock when its ACK is still
// good: the cookie's life plus the rounding down in SynCookies::tsval.
constexpr uint32_t kMaxEchoAge =
    static_cast<uint32_t>(kSynCookiePeriod * (kSynCookieMaxAge + 1) / Timestamps::kTick) + kOptionMask;

}  // namespace

uint32_t SynCookieOptions::bits() const {
  uint32_t shift = window_shift ? std::min(*window_shift, kMaxWindowShift) : kNoWindowShift;
  return (shift & kWindowShiftMask) | (sack_permitted ? kSackBit : 0);
}

SynCookieOptions SynCookieOptions::from_bits(uint32_t tsval) {
  SynCookieOptions o;
  o.timestamps = true;
  uint32_t shift = tsval & kWindowShiftMask;
  if (shift != kNoWindowShift) o.window_shift = static_cast<uint8_t>(shift);
  o.sack_permitted = (tsval & kSackBit) != 0;
  return o;
}

SynCookieOptions SynCookieOptions::normalised() const {
  if (!timestamps) return SynCookieOptions{};
  return from_bits(bits());
}

std::string describe(const SynCookieContents& c) {
  std::string s = "mss " + std::to_string(c.mss);
  if (c.options.window_shift) s += " wscale " + std::to_string(*c.options.window_shift);
  if (c.options.sack_permitted) s += " sack";
  if (c.options.timestamps) s += " ts";
  return s;
}

SynCookies::SynCookies(const std::array<uint8_t, 16>& isn_key) {
  // A separate key, so a cookie says nothing about ordinary ISNs and vice versa.
  uint64_t a = keyed_label(isn_key, "tcplab syn cookie key, first half");
  uint64_t b = keyed_label(isn_key, "tcplab syn cookie key, second half");
  for (int i = 0; i < 8; ++i) {
    key_[i] = static_cast<uint8_t>(a >> (8 * i));
    key_[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
}

uint8_t SynCookies::mss_index(uint16_t mss) {
  uint8_t index = 0;
  for (uint8_t i = 0; i < kSynCookieMssTable.size(); ++i)
    if (kSynCookieMssTable[i] <= mss) index = i;
  return index;
}

uint32_t SynCookies::hash(const FourTuple& t, Seq peer_isn, uint32_t counter, uint8_t mss_index,
                          const SynCookieOptions& options) const {
  std::array<std::byte, 22> m{};
  wire::MutableBytes b(m);
  wire::write_u32(b, 0, t.local_ip.value);
  wire::write_u16(b, 4, t.local_port);
  wire::write_u32(b, 6, t.remote_ip.value);
  wire::write_u16(b, 10, t.remote_port);
  wire::write_u32(b, 12, peer_isn.raw());
  wire::write_u32(b, 16, counter);
  m[20] = std::byte{mss_index};
  // The option bits travel in the TSval, which the peer (or an attacker on the path) echoes
  // as it likes; hashing them means an altered echo fails the check instead of turning, say,
  // SACK on for a peer that never offered it. 0x80 marks "timestamps offered", so a cookie
  // without options never matches any set of bits.
  m[21] = std::byte{static_cast<uint8_t>(options.timestamps ? 0x80 | options.bits() : 0)};
  return static_cast<uint32_t>(siphash24(key_, b)) & kHashMask;
}

Seq SynCookies::make(const FourTuple& tuple, Seq peer_isn, uint16_t mss, const SynCookieOptions& options,
                     Instant now) const {
  uint32_t counter = counter_at(now);
  uint8_t index = mss_index(mss);
  return Seq(((counter & kCounterMask) << kCounterShift) | (uint32_t{index} << kMssShift) |
             hash(tuple, peer_isn, counter, index, options.normalised()));
}

uint32_t SynCookies::tsval(Seq cookie, const SynCookieOptions& options, Instant now) {
  uint32_t clock = cookie_clock(cookie, now);
  uint32_t ts = (clock & ~kOptionMask) | options.bits();
  // RFC 7323 §5.3 R1 (PAWS): the peer takes this TSval as TS.Recent and then drops any
  // segment of ours with an older one. The connection made from the cookie keeps this same
  // clock (its offset is the ISS, i.e. the cookie), so a TSval rounded up would make its
  // first segments look older for up to 31 ms and be dropped. Round down instead, to the
  // last value at or before the clock with these low bits: every later TSval is >= it. The
  // price is an echo up to 31 ms older than the send, so no RTT sample is taken from it
  // (connection_cookie.cpp). Nothing else of ours is compared with it: each cookie is a
  // clock of its own, and a SYN retransmitted within the same tick gets the same cookie and
  // a TSval that only moves forward.
  if (static_cast<int32_t>(ts - clock) > 0) ts -= kOptionMask + 1;
  return ts;
}

std::optional<uint16_t> SynCookies::check_hash(const FourTuple& tuple, Seq peer_isn, Seq cookie,
                                               const SynCookieOptions& options, Instant now) const {
  uint32_t raw = cookie.raw();
  uint32_t counter = counter_at(now);
  // The counter bits hold the low 5 bits of the tick the cookie was made in; the age is
  // their distance back from now, modulo 32.
  uint32_t age = (counter - (raw >> kCounterShift)) & kCounterMask;
  if (age > kSynCookieMaxAge || age > counter) return std::nullopt;
  uint8_t index = static_cast<uint8_t>((raw >> kMssShift) & 0x7);
  if (hash(tuple, peer_isn, counter - age, index, options) != (raw & kHashMask)) return std::nullopt;
  return kSynCookieMssTable[index];
}

SynCookies::Checked SynCookies::check(const FourTuple& tuple, Seq peer_isn, Seq cookie,
                                      std::optional<uint32_t> tsecr, Instant now) const {
  bool echo_in_range = false;
  if (tsecr) {
    // RFC 7323 §4.3: TSecr echoes our SYN-ACK's TSval. It must be a value this cookie's
    // clock could have sent within the cookie's life: not ahead of the clock, not older than
    // kMaxEchoAge. Only then are its low bits taken as the options.
    uint32_t echo_age = cookie_clock(cookie, now) - *tsecr;
    echo_in_range = static_cast<int32_t>(echo_age) >= 0 && echo_age <= kMaxEchoAge;
    if (echo_in_range) {
      SynCookieOptions options = SynCookieOptions::from_bits(*tsecr);
      if (auto mss = check_hash(tuple, peer_isn, cookie, options, now))
        return {SynCookieContents{*mss, options}, {}};
    }
  }
  // A cookie made without options. An ACK carrying TSopt here answers a SYN-ACK without it,
  // and RFC 7323 §3.2 has a TSopt that was not negotiated ignored. Trying both readings gives a
  // blind guess two chances in 2^24 per ACK instead of one: still far out of reach.
  if (auto mss = check_hash(tuple, peer_isn, cookie, SynCookieOptions{}, now))
    return {SynCookieContents{*mss, SynCookieOptions{}}, {}};
  if (!tsecr) return {std::nullopt, "no valid cookie (forged or expired, or an ACK without TSopt)"};
  if (!echo_in_range) return {std::nullopt, "TSecr echoes no TSval of this cookie"};
  return {std::nullopt, "no valid cookie (forged or expired, or TSecr option bits altered)"};
}

std::optional<uint16_t> SynCookies::check(const FourTuple& tuple, Seq peer_isn, Seq cookie,
                                          Instant now) const {
  return check_hash(tuple, peer_isn, cookie, SynCookieOptions{}, now);
}

}  // namespace tcplab::tcp
