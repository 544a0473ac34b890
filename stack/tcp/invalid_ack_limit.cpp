// The ACK limits for unacceptable segments and challenge ACKs (see invalid_ack_limit.hpp).
#include "stack/tcp/invalid_ack_limit.hpp"

#include <chrono>
#include <cstdint>

#include "stack/text/note_buffer.hpp"

namespace tcplab::tcp {
namespace {

// The test both limits share: whether an ACK must be held back because `clock` sent one less
// than `interval` ago (a zero interval holds nothing back). A held-back ACK is counted in
// `suppressed` and traced as "<what> suppressed: <one_per><interval in ms> ms<scope>".
bool held_back(HostContext& ctx, const FourTuple& tuple, const InvalidAckClock& clock, Duration interval,
               uint64_t& suppressed, std::string_view what, std::string_view one_per,
               std::string_view scope) {
  if (interval <= Duration::zero() || !clock.sent()) return false;
  Duration elapsed = ctx.now - clock.last;
  if (elapsed < Duration::zero() || elapsed >= interval) return false;
  ++suppressed;
  if (ctx.tracer.enabled()) {
    auto ms = std::chrono::duration_cast<milliseconds>(interval).count();
    text::NoteBuffer note;
    ctx.tracer.note(ctx.now, &tuple,
                    note.format("%.*s suppressed: %.*s%lld ms%.*s", static_cast<int>(what.size()),
                                what.data(), static_cast<int>(one_per.size()), one_per.data(),
                                static_cast<long long>(ms), static_cast<int>(scope.size()), scope.data()));
  }
  return true;
}

}  // namespace

// Deviation (invalid-ack-rate-limit): RFC 9293 §3.10.7.4 says to send the ACK every time. One per
// config.invalid_ack_interval is sent; the others are counted and traced.
bool invalid_ack_allowed(HostContext& ctx, const FourTuple& tuple, const wire::TcpSegment& seg,
                         std::string_view note, InvalidAckClock& clock) {
  // Like Linux: a segment that occupies sequence space (data, FIN) and is no SYN cannot be
  // part of an ACK loop - answering it takes new sequence space from the peer - and its
  // ACK may be the one the peer's retransmission asks for, so it is always answered.
  bool could_loop = seg.length() == 0 || seg.flags.syn;
  if (!could_loop) return true;
  if (held_back(ctx, tuple, clock, ctx.config.invalid_ack_interval, ctx.stats.invalid_acks_suppressed, note,
                "one ACK to unacceptable segments per ", ""))
    return false;
  clock.last = ctx.now;
  return true;
}

// RFC 5961 §7: "An implementation SHOULD include an ACK throttling mechanism". The clock
// belongs to the connection, so what one connection receives never changes what another
// answers.
bool challenge_ack_allowed(HostContext& ctx, const FourTuple& tuple, InvalidAckClock& clock) {
  if (held_back(ctx, tuple, clock, ctx.config.challenge_ack_interval, ctx.stats.challenge_acks_suppressed,
                "challenge ACK", "one per ", " per connection (RFC 5961 §7)"))
    return false;
  clock.last = ctx.now;
  ++ctx.stats.challenge_acks_sent;
  return true;
}

}  // namespace tcplab::tcp
