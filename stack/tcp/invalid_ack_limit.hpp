// The per-connection limits on ACKs sent in reply to unacceptable segments (RFC 9293
// §3.10.7.4) and on challenge ACKs (RFC 5961 §7), shared by a full Connection and a compact
// TIME-WAIT record: like Linux's tcp_oow_rate_limited (tcp_invalid_ratelimit, 500 ms), so two
// stacks that disagree about sequence numbers do not answer each other's ACKs forever, and a
// flood of spoofed RSTs or SYNs gets few answers. Per connection, never host-wide: a budget
// that connections share tells whoever drains it what happened on the others (CVE-2016-5696).
#pragma once
#include <string_view>

#include "stack/four_tuple.hpp"
#include "stack/tcp/host_context.hpp"
#include "stack/time.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::tcp {

// When a connection last answered an unacceptable segment with an ACK, if it ever did. One
// time point and no flag ("never" is the earliest time point): a compact TIME-WAIT record
// carries two of these, and 8 bytes each keeps it small.
struct InvalidAckClock {
  static constexpr Instant kNever = Instant::min();
  Instant last = kNever;
  bool sent() const { return last != kNever; }
};

// Whether the ACK to unacceptable segment `seg` may go now (then `clock` records it). A
// suppressed one is counted in stats.invalid_acks_suppressed and traced with `note`.
bool invalid_ack_allowed(HostContext& ctx, const FourTuple& tuple, const wire::TcpSegment& seg,
                         std::string_view note, InvalidAckClock& clock);

// Whether a challenge ACK (RFC 5961 §3.2, §4.2) may go now (then `clock` records it). A
// suppressed one is counted in stats.challenge_acks_suppressed and traced.
bool challenge_ack_allowed(HostContext& ctx, const FourTuple& tuple, InvalidAckClock& clock);

}  // namespace tcplab::tcp
