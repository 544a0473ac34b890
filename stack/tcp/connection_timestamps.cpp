// Timestamps (RFC 7323) for one connection: the PAWS test and TS.Recent on arrival (§5.3 R1,
// R3), the option on every segment we send (§3.2), and RTT samples from TSecr (§4.1) that
// feed the RFC 6298 estimator. The rules themselves are in timestamps.cpp.
#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// RFC 7323 §5.3 R1: "If there is a Timestamps option in the arriving segment, SEG.TSval <
// TS.Recent, TS.Recent is valid ... and the RST bit is not set, then treat the arriving
// segment as not acceptable: Send an acknowledgment in reply ... and drop the segment."
bool Connection::check_paws(const wire::TcpSegment& seg) {
  if (!timestamps_.enabled() || !seg.options.timestamps || seg.flags.rst) return true;
  // Deviation (timestamp-missing-accepted): a segment without the option after negotiation
  // is accepted, as Linux does; RFC 7323 §3.2 says a receiver SHOULD silently drop it.
  if (!timestamps_.paws_rejects(seg.options.timestamps->value, ctx_.now)) return true;
  send_invalid_ack(seg, "dup ACK (PAWS)");
  ctx_.drop(DropReason::TcpUnacceptableSegment, "PAWS: SEG.TSval older than TS.Recent (RFC 7323 §5.3 R1)");
  return false;
}

// RFC 7323 §5.3 R3 / §4.3 (2), for a segment that passed the sequence check. `original`
// is the segment before trimming: the rule compares its SEG.SEQ with Last.ACK.sent, the
// RCV.NXT of our latest ACK (RCV.WUP here).
bool Connection::record_timestamp(const wire::TcpSegment& original) {
  if (timestamps_.enabled() && original.options.timestamps)
    timestamps_.note_arrival(original.options.timestamps->value, original.seq, rcv_wup_, ctx_.now);
  return true;
}

// RFC 7323 §4.1-4.2: an ACK of new data with a TSecr gives RTT = now - TSecr, even after a
// retransmission (the echo says which transmission arrived, so Karn's ambiguity is gone).
// Returns false if this connection does not use timestamps (the caller times segments).
bool Connection::timestamp_rtt_sample(const wire::TcpSegment& seg) {
  if (!timestamps_.enabled()) return false;
  // Sequence arithmetic holds within 2^31 only (RFC 9293 §3.4): ACKs without a usable echo
  // (a peer that drops the option) for longer than that would leave the mark below looking
  // ahead of SND.UNA, and no sample would come for the next 2^31 bytes. Once passed, it
  // follows SND.UNA - 1, which changes none of the comparisons.
  if (tcb_.snd_una - 1 > ts_sampled_until_) ts_sampled_until_ = tcb_.snd_una - 1;
  if (!seg.options.timestamps || seg.options.timestamps->echo_reply == 0) return true;
  // Deviation (ts-rtt-once-per-flight): RFC 7323 §4.2 lets every ACK of new data give a
  // sample; we take one per flight (Appendix G: RFC 6298's gains assume about one sample per
  // RTT), which keeps RTTVAR from shrinking to nothing when every ACK carries a sample.
  if (!(tcb_.snd_una > ts_sampled_until_)) return true;
  if (auto r = timestamps_.rtt(seg.options.timestamps->echo_reply, ctx_.now)) {
    rto_.sample(*r);
    ts_sampled_until_ = tcb_.snd_nxt;
  }
  return true;
}

// RFC 7323 §3.2: "Once TSopt has been successfully negotiated ... the TSopt MUST be sent in
// every non-<RST> segment"; TSecr echoes TS.Recent (§4.3 (3)).
void Connection::add_timestamps(wire::TcpOptions& options) const {
  if (!timestamps_.enabled()) return;
  options.timestamps = wire::TcpTimestamps{timestamps_.value(ctx_.now), timestamps_.recent()};
}

}  // namespace tcplab::tcp
