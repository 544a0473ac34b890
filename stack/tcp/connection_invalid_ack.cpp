// The ACK that RFC 9293 §3.10.7.4 sends in reply to an unacceptable segment, limited per
// connection like Linux's tcp_oow_rate_limited (tcp_invalid_ratelimit, 500 ms): two stacks
// that disagree about sequence numbers would otherwise answer each other's ACKs forever.
#include <algorithm>
#include <cstdio>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Deviation (invalid-ack-rate-limit): RFC 9293 §3.10.7.4 says to send the ACK every time. One per
// config.invalid_ack_interval is sent; the others are counted and traced.
void Connection::send_invalid_ack(const wire::TcpSegment& seg, std::string_view note) {
  const Duration interval = ctx_.config.invalid_ack_interval;
  // Like Linux: a segment that occupies sequence space (data, FIN) and is no SYN cannot be
  // part of an ACK loop - answering it takes new sequence space from the peer - and its
  // ACK may be the one the peer's retransmission asks for, so it is always answered.
  bool could_loop = seg.length() == 0 || seg.flags.syn;
  if (interval > Duration::zero() && could_loop && last_invalid_ack_) {
    Duration elapsed = ctx_.now - *last_invalid_ack_;
    if (elapsed >= Duration::zero() && elapsed < interval) {
      ++ctx_.stats.invalid_acks_suppressed;
      if (ctx_.tracer.enabled()) {
        char text[120];
        auto ms = std::chrono::duration_cast<milliseconds>(interval).count();
        int n =
            std::snprintf(text, sizeof text, "%.*s suppressed: one ACK to unacceptable segments per %lld ms",
                          static_cast<int>(note.size()), note.data(), static_cast<long long>(ms));
        size_t length = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof text - 1);
        ctx_.tracer.note(ctx_.now, &tuple_, std::string_view(text, length));
      }
      return;
    }
  }
  if (could_loop) last_invalid_ack_ = ctx_.now;
  send_ack(note);
}

}  // namespace tcplab::tcp
