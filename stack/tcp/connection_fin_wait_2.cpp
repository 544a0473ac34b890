// A connection its application has let go of (Socket::release, after CLOSE): nobody reads it
// and no callback is owed, so in FIN-WAIT-2 it can be held as a compact record (time_wait.hpp)
// until the peer's FIN or the --fin-timeout. What the peer still sends is acknowledged and
// thrown away - here for the full connection, in TimeWaitTable::take_text for the record -
// and, if the application asked for a lingering close, answered with RST after --linger.
#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

bool Connection::release(std::optional<Duration> linger_on_data) {
  // Only a socket the application has closed (RFC 9293 §3.10.4 CLOSE): it still sends what
  // it queued and its FIN, but will never read or be told anything again.
  if (!fin_.close_requested || finished_ || tcb_.state == State::Closed || released_) return false;
  handler_ = nullptr;
  released_ = true;
  events_.connected = events_.readable = events_.peer_fin = events_.writable = false;
  events_.closed.reset();
  events_.closed_delivered = true;
  // Bytes already waiting are thrown away as a read would take them: the window reopens
  // (RFC 9293 §3.8.6.2.2) just as if the application had read them.
  linger_on_data_ = linger_on_data;
  const bool discarded = receive_.discard() > 0;
  if (discarded) window_opened();
  if (discarded && linger_on_data_ && !fin_.peer_fin) start_linger();
  // Let go in FIN-WAIT-2 (after a half-close): the --fin-timeout starts now, as Linux's
  // tcp_fin_timeout starts when a half-closed socket is closed.
  if (tcb_.state == State::FinWait2) arm_fin_wait_2_timer();
  ctx_.owner.released(*this);
  return true;
}

// RFC 9293 §3.10.7.4 seventh in FIN-WAIT-1/2 after release(): in-order text moves RCV.NXT and
// is discarded, text beyond a hole is not kept; either way an ACK goes at once (no delayed
// ACK: nobody will read, so there is no response for it to ride on).
// Deviation (released-data-discarded): RFC 9293 §3.6.1 (SHLD-3; was RFC 1122 §4.2.2.13) says
// a TCP SHOULD answer data arriving after CLOSE with RST "to show that data was lost". The
// application that let go asked for the opposite: the HTTP server lets go only where it would
// read and throw such bytes away itself (a request crossing its idle-timeout FIN), and an RST
// can destroy the response the client has not read yet (RFC 9112 §9.6). --fin-timeout still
// bounds the wait.
void Connection::take_released_text(const wire::TcpSegment& seg) {
  ack_.now = true;
  if (seg.seq != tcb_.rcv_nxt) return ctx_.drop(DropReason::TcpOutOfOrderFull, kReleasedOutOfOrderDrop);
  tcb_.rcv_nxt += static_cast<uint32_t>(seg.payload.size());
  bytes_received_ += seg.payload.size();
  if (ctx_.tracer.enabled()) ctx_.tracer.note(ctx_.now, &tuple_, kReleasedTextNote);
  start_linger();
}

// RFC 9112 §9.6 lingering close, for an application that let go with linger_on_data: the
// first bytes after the release start the deadline; later ones do not move it (the client
// gets --linger in all to close, as the HTTP server's own lingering close gives it).
void Connection::start_linger() {
  if (!linger_on_data_ || linger_timer_.armed()) return;
  ++ctx_.stats.lingering_closes;
  if (ctx_.tracer.enabled()) ctx_.tracer.note(ctx_.now, &tuple_, kLingerStartNote);
  arm(linger_timer_, ctx_.now + *linger_on_data_);
}

// The deadline passed. Only once the peer has acknowledged everything we sent (FIN-WAIT-2):
// while our data or FIN is unacknowledged a RST could destroy the response, so the wait starts
// again (the retransmission timeout ends a dead peer). A peer that sent its FIN is done.
void Connection::linger_timeout() {
  if (fin_.peer_fin) return;
  if (tcb_.state == State::FinWait1) return arm(linger_timer_, ctx_.now + *linger_on_data_);
  if (tcb_.state != State::FinWait2) return;
  ++ctx_.stats.lingering_resets;
  if (ctx_.tracer.enabled()) ctx_.tracer.note(ctx_.now, &tuple_, kLingerOverNote);
  abort();  // RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>, then CLOSED
}

// Out-of-order bytes held when the application let go became readable: nobody will read them.
void Connection::discard_readable() {
  receive_.discard();
  events_.readable = false;
  ack_.now = true;
  start_linger();
}

std::optional<TimeWaitRecord> Connection::fin_wait_2_record() const {
  if (tcb_.state != State::FinWait2 || !released_ || finished_ || handler_ != nullptr || events_.delivering)
    return std::nullopt;
  if (!holds_only(fin_wait_2_timer_, &linger_timer_)) return std::nullopt;
  TimeWaitRecord r = compact_record(fin_wait_2_timer_);
  if (linger_on_data_) {
    r.linger_on_data = true;
    r.linger = *linger_on_data_;
  }
  if (linger_timer_.armed()) {
    r.lingering = true;
    r.linger_until = *linger_timer_.deadline;
  }
  return r;
}

}  // namespace tcplab::tcp
