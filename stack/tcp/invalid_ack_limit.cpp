// The ACK limits for unacceptable segments and challenge ACKs (see invalid_ack_limit.hpp).
#include "stack/tcp/invalid_ack_limit.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tcplab::tcp {

// Deviation (invalid-ack-rate-limit): RFC 9293 §3.10.7.4 says to send the ACK every time. One per
// config.invalid_ack_interval is sent; the others are counted and traced.
bool invalid_ack_allowed(HostContext& ctx, const FourTuple& tuple, const wire::TcpSegment& seg,
                         std::string_view note, InvalidAckClock& clock) {
  const Duration interval = ctx.config.invalid_ack_interval;
  // Like Linux: a segment that occupies sequence space (data, FIN) and is no SYN cannot be
  // part of an ACK loop - answering it takes new sequence space from the peer - and its
  // ACK may be the one the peer's retransmission asks for, so it is always answered.
  bool could_loop = seg.length() == 0 || seg.flags.syn;
  if (interval > Duration::zero() && could_loop && clock.sent()) {
    Duration elapsed = ctx.now - clock.last;
    if (elapsed >= Duration::zero() && elapsed < interval) {
      ++ctx.stats.invalid_acks_suppressed;
      if (ctx.tracer.enabled()) {
        char text[120];
        auto ms = std::chrono::duration_cast<milliseconds>(interval).count();
        int n =
            std::snprintf(text, sizeof text, "%.*s suppressed: one ACK to unacceptable segments per %lld ms",
                          static_cast<int>(note.size()), note.data(), static_cast<long long>(ms));
        size_t length = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof text - 1);
        ctx.tracer.note(ctx.now, &tuple, std::string_view(text, length));
      }
      return false;
    }
  }
  if (could_loop) clock.last = ctx.now;
  return true;
}

// RFC 5961 §7: "An implementation SHOULD include an ACK throttling mechanism". The clock
// belongs to the connection, so what one connection receives never changes what another
// answers.
bool challenge_ack_allowed(HostContext& ctx, const FourTuple& tuple, InvalidAckClock& clock) {
  const Duration interval = ctx.config.challenge_ack_interval;
  if (interval > Duration::zero() && clock.sent()) {
    Duration elapsed = ctx.now - clock.last;
    if (elapsed >= Duration::zero() && elapsed < interval) {
      ++ctx.stats.challenge_acks_suppressed;
      if (ctx.tracer.enabled()) {
        char text[120];
        auto ms = std::chrono::duration_cast<milliseconds>(interval).count();
        int n = std::snprintf(text, sizeof text,
                              "challenge ACK suppressed: one per %lld ms per connection (RFC 5961 §7)",
                              static_cast<long long>(ms));
        size_t length = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof text - 1);
        ctx.tracer.note(ctx.now, &tuple, std::string_view(text, length));
      }
      return false;
    }
  }
  clock.last = ctx.now;
  ++ctx.stats.challenge_acks_sent;
  return true;
}

}  // namespace tcplab::tcp
