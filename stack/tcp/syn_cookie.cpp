// SYN cookies (RFC 4987 §3.6): making and checking the ISN that stands in for a SYN-queue entry.
#include "stack/tcp/syn_cookie.hpp"

#include <string_view>

#include "stack/tcp/isn.hpp"
#include "stack/wire/bytes.hpp"

namespace tcplab::tcp {
namespace {

constexpr uint32_t kHashMask = 0xffffff;  // 24 bits of hash
constexpr int kMssShift = 24;
constexpr int kCounterShift = 27;
constexpr uint32_t kCounterMask = 0x1f;  // 5 bits of counter

uint32_t counter_at(Instant now) { return static_cast<uint32_t>(now.time_since_epoch() / kSynCookiePeriod); }

uint64_t keyed_label(const std::array<uint8_t, 16>& key, std::string_view label) {
  return siphash24(key, wire::ConstBytes(reinterpret_cast<const std::byte*>(label.data()), label.size()));
}

}  // namespace

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

uint32_t SynCookies::hash(const FourTuple& t, Seq peer_isn, uint32_t counter, uint8_t mss_index) const {
  std::array<std::byte, 21> m{};
  wire::MutableBytes b(m);
  wire::write_u32(b, 0, t.local_ip.value);
  wire::write_u16(b, 4, t.local_port);
  wire::write_u32(b, 6, t.remote_ip.value);
  wire::write_u16(b, 10, t.remote_port);
  wire::write_u32(b, 12, peer_isn.raw());
  wire::write_u32(b, 16, counter);
  m[20] = std::byte{mss_index};
  return static_cast<uint32_t>(siphash24(key_, b)) & kHashMask;
}

Seq SynCookies::make(const FourTuple& tuple, Seq peer_isn, uint16_t mss, Instant now) const {
  uint32_t counter = counter_at(now);
  uint8_t index = mss_index(mss);
  return Seq(((counter & kCounterMask) << kCounterShift) | (uint32_t{index} << kMssShift) |
             hash(tuple, peer_isn, counter, index));
}

std::optional<uint16_t> SynCookies::check(const FourTuple& tuple, Seq peer_isn, Seq cookie,
                                          Instant now) const {
  uint32_t raw = cookie.raw();
  uint32_t counter = counter_at(now);
  // The counter bits hold the low 5 bits of the tick the cookie was made in; the age is
  // their distance back from now, modulo 32.
  uint32_t age = (counter - (raw >> kCounterShift)) & kCounterMask;
  if (age > kSynCookieMaxAge || age > counter) return std::nullopt;
  uint8_t index = static_cast<uint8_t>((raw >> kMssShift) & 0x7);
  if (hash(tuple, peer_isn, counter - age, index) != (raw & kHashMask)) return std::nullopt;
  return kSynCookieMssTable[index];
}

}  // namespace tcplab::tcp
