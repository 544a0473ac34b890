// RFC 7323 timestamps, rule by rule (see timestamps.hpp).
#include "stack/tcp/timestamps.hpp"

namespace tcplab::tcp {
namespace {
// RFC 7323 §5.2: timestamps compare like sequence numbers, modulo 2^32.
bool ts_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
}  // namespace

uint32_t Timestamps::value(Instant now) const {
  auto ticks = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return offset_ + static_cast<uint32_t>(ticks);
}

void Timestamps::enable(uint32_t peer_syn_tsval, Instant now) {
  enabled_ = true;
  recent_ = peer_syn_tsval;
  recent_at_ = now;
}

bool Timestamps::paws_rejects(uint32_t seg_tsval, Instant now) const {
  if (!enabled_) return false;
  // RFC 7323 §5.5: an outdated TS.Recent is not used for the test.
  if (now - recent_at_ > kRecentValidity) return false;
  return ts_before(seg_tsval, recent_);
}

void Timestamps::note_arrival(uint32_t seg_tsval, Seq seg_seq, Seq last_ack_sent, Instant now) {
  if (!enabled_) return;
  // After 24 idle days TS.Recent is invalid (§5.5) and any TSval may replace it.
  bool outdated = now - recent_at_ > kRecentValidity;
  if ((outdated || !ts_before(seg_tsval, recent_)) && seg_seq <= last_ack_sent) {
    recent_ = seg_tsval;
    recent_at_ = now;
  }
}

std::optional<Duration> Timestamps::rtt(uint32_t seg_tsecr, Instant now) const {
  uint32_t elapsed = value(now) - seg_tsecr;
  if (static_cast<int32_t>(elapsed) < 0) return std::nullopt;
  return kTick * elapsed;
}

}  // namespace tcplab::tcp
