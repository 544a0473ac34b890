// A segment with SYN and FIN for a connection in a synchronized state. RFC 9293 never sees
// one (a SYN is "fourth" in §3.10.7.4, the FIN "eighth"); RFC 5961 §4.2 answers any SYN in
// a synchronized state with a challenge ACK, rate-limited per connection (§7), and changes nothing.
#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Handled before §3.10.7.4's steps on purpose: the sequence check would trim a SYN lying
// just before RCV.NXT as "already received" and go on to act on the FIN, closing half of
// the connection on a segment no real stack sends.
void Connection::illegal_syn_fin_arrives(const wire::TcpSegment& seg) {
  trace_segment(trace::Direction::In, seg, {});
  send_challenge_ack();
  ctx_.drop(DropReason::TcpBadFlags, "SYN+FIN in a synchronized state: challenge ACK (RFC 5961 §4.2)");
}

}  // namespace tcplab::tcp
