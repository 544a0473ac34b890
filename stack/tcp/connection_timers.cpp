// A connection's timers as deadlines: retransmission (RFC 6298, RFC 9293 §3.8.1/§3.8.3),
// persist (§3.8.6.1), delayed ACK (§3.8.6.3), TIME-WAIT (§3.10.7.4, 2 MSL) and FIN-WAIT-2
// (--fin-timeout, a deviation); plus the loss responses of RFC 5681 (fast retransmit, slow
// start, congestion avoidance).
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

void Connection::arm(Timer& timer, Instant deadline) {
  timer.deadline = deadline;
  // Re-arming later (every ACK moves the retransmission timer) needs no new entry: the
  // earlier one wakes the host, which then re-queues the real deadline.
  if (!queued_deadline_ || deadline < *queued_deadline_) {
    ctx_.timers.push(deadline, tuple_);
    queued_deadline_ = deadline;
  }
  if (ctx_.tracer.enabled())
    ctx_.tracer.timer(ctx_.now, tuple_, timer.name, trace::TimerAction::Armed, deadline);
}

void Connection::cancel(Timer& timer) {
  if (!timer.deadline) return;
  Instant deadline = *timer.deadline;
  timer.deadline.reset();
  if (ctx_.tracer.enabled())
    ctx_.tracer.timer(ctx_.now, tuple_, timer.name, trace::TimerAction::Cancelled, deadline);
}

std::optional<Instant> Connection::next_deadline() const {
  std::optional<Instant> next;
  for (const Timer* t : {&retransmission_timer_, &persist_timer_, &delayed_ack_timer_, &time_wait_timer_,
                         &fin_wait_2_timer_}) {
    if (t->deadline && (!next || *t->deadline < *next)) next = t->deadline;
  }
  return next;
}

void Connection::queue_timers() {
  auto next = next_deadline();
  if (next && (!queued_deadline_ || *next < *queued_deadline_)) {
    ctx_.timers.push(*next, tuple_);
    queued_deadline_ = next;
  }
}

void Connection::on_timers() {
  Instant now = ctx_.now;
  auto fire = [&](Timer& t) {
    if (!t.due(now)) return false;
    Instant deadline = *t.deadline;
    t.deadline.reset();
    if (ctx_.tracer.enabled()) ctx_.tracer.timer(now, tuple_, t.name, trace::TimerAction::Fired, deadline);
    return true;
  };
  if (fire(time_wait_timer_)) {
    // RFC 9293 §3.10.7.4: "When the time-wait timeout expires, delete the TCB".
    close_connection(CloseReason::Normal, "RFC 9293 §3.10.7.4 (TIME-WAIT: 2 MSL elapsed)");
  }
  if (fire(fin_wait_2_timer_)) fin_wait_2_timeout();
  if (fire(retransmission_timer_)) retransmission_timeout();
  if (fire(persist_timer_)) persist_timeout();
  if (fire(delayed_ack_timer_) && tcb_.state != State::Closed) send_ack("delayed ACK");
  if (tcb_.state != State::Closed) output();
  deliver_events();
}

// RFC 6298 §5.4-5.6 and RFC 9293 §3.8.3: retransmit the earliest unacknowledged segment,
// back off, restart the timer; after too many tries give up with RST.
void Connection::retransmission_timeout() {
  bool opening = tcb_.state == State::SynSent || tcb_.state == State::SynReceived;
  int limit = opening ? ctx_.config.max_syn_retransmissions : ctx_.config.max_retransmissions;
  if (retries_ >= limit) {
    ++ctx_.stats.timeouts;
    if (tcb_.state == State::SynReceived && origin_ == Origin::Passive) {
      discard();  // a half-open entry nobody completed: forget it quietly, as Linux does
      return;
    }
    // RFC 9293 §3.8.3: past R2 "close the connection"; the RST tells the peer, if it is
    // still there, not to wait for us.
    if (tcb_.state != State::SynSent) send_rst(tcb_.snd_nxt);
    close_connection(CloseReason::TimedOut, "RFC 9293 §3.8.3 (retransmissions exhausted)");
    return;
  }
  ++retries_;
  rto_.back_off();  // RFC 6298 §5.5
  if (!opening) {
    // RFC 5681 §3.1 (4): ssthresh = max(FlightSize / 2, 2*SMSS); cwnd = 1 segment.
    ssthresh_ = std::max(flight_size() / 2, size_t{2} * send_mss());
    cwnd_ = send_mss();
    recovery_point_ = tcb_.snd_nxt;
    dup_acks_ = 0;
  }
  retransmit_first("retransmission");
  arm(retransmission_timer_, ctx_.now + rto_.rto());  // RFC 6298 §5.6
}

void Connection::retransmit_first(std::string_view note) {
  timed_seq_.reset();  // RFC 6298 §3 (Karn): no RTT sample across a retransmission
  ++retransmissions_;
  ++ctx_.stats.retransmissions;
  if (tcb_.state == State::SynSent) return send_syn(false, note);
  if (tcb_.state == State::SynReceived) return send_syn(true, note);
  size_t sent = sent_data_bytes();
  size_t len = std::min(sent, send_mss());
  bool fin = fin_seq_ && !fin_acked_ && len == sent;
  if (len == 0 && !fin) return;
  send_data(tcb_.snd_una, len, fin, note);
}

// RFC 5681 §3.2 steps 2-3.
void Connection::fast_retransmit() {
  ssthresh_ = std::max(flight_size() / 2, size_t{2} * send_mss());
  recovery_point_ = tcb_.snd_nxt;
  retransmit_first("fast retransmit");
  cwnd_ = ssthresh_ + size_t{3} * send_mss();
  arm(retransmission_timer_, ctx_.now + rto_.rto());
}

// New data acknowledged: RFC 6298 §5.2-5.3 for the timer, RFC 5681 §3.1-3.2 and RFC 6582
// (partial ACKs) for the congestion window.
void Connection::on_new_ack(size_t acked_bytes) {
  retries_ = 0;
  dup_acks_ = 0;
  if (recovery_point_) {
    if (tcb_.snd_una >= *recovery_point_) {
      cwnd_ = std::max(ssthresh_, send_mss());  // RFC 5681 §3.2 step 6: deflate
      recovery_point_.reset();
    } else {
      // RFC 6582 §3.2 step 5: a partial ACK means the next segment was lost too.
      retransmit_first("retransmission (partial ACK)");
      cwnd_ = std::max(cwnd_ > acked_bytes ? cwnd_ - acked_bytes : 0, send_mss()) + send_mss();
    }
  } else if (cwnd_ < ssthresh_) {
    cwnd_ += std::min(acked_bytes, send_mss());  // RFC 5681 §3.1 slow start
  } else {
    cwnd_ += std::max<size_t>(1, send_mss() * send_mss() / cwnd_);  // congestion avoidance
  }
  if (tcb_.snd_una == tcb_.snd_nxt) {
    cancel(retransmission_timer_);  // RFC 6298 §5.2
  } else {
    arm(retransmission_timer_, ctx_.now + rto_.rto());  // RFC 6298 §5.3
  }
}

// RFC 9293 §3.8.6.1: "The sending TCP must regularly transmit at least one octet of new
// data (if available) ... even if the send window is zero", backing off between probes.
void Connection::persist_timeout() {
  if (tcb_.snd_wnd > 0 && !probing_) {
    // RFC 9293 §3.8.6.2.1: the override timeout - the window is open but smaller than SWS
    // avoidance wants (a receiver with a tiny buffer); send what it allows now.
    override_sws_ = true;
    output();
    override_sws_ = false;
    persist_interval_ = Duration::zero();
    return;
  }
  if (unsent_bytes() > 0) {
    // The probe byte does not advance SND.NXT: if the receiver refuses it (window still
    // zero), our later ACKs must still carry a SEQ inside its window, or a strict receiver
    // (Linux) drops them and both sides wait forever. check_ack counts the byte as sent
    // once the peer acknowledges it.
    send_data(tcb_.snd_nxt, 1, false, "window probe");
    probing_ = true;
  }
  persist_interval_ = std::min(persist_interval_ * 2, ctx_.config.persist_max);
  arm(persist_timer_, ctx_.now + persist_interval_);
}

void Connection::enter_time_wait(std::string_view rule) {
  set_state(State::TimeWait, rule);
  cancel(retransmission_timer_);
  cancel(persist_timer_);
  cancel(fin_wait_2_timer_);
  arm(time_wait_timer_, ctx_.now + 2 * ctx_.config.msl);
  release_idle_buffers();
  // Both FINs are exchanged: the application's part is over (the TCB lingers alone).
  if (!closed_delivered_) pending_closed_ = CloseReason::Normal;
}

// RFC 9293 §3.10.7.4 fifth: our FIN is acknowledged, nothing of ours is left to send; the
// peer may still send data and its FIN. The FIN-WAIT-2 timer bounds how long we wait.
void Connection::enter_fin_wait_2(std::string_view rule) {
  set_state(State::FinWait2, rule);
  arm(fin_wait_2_timer_, ctx_.now + ctx_.config.fin_timeout);
  release_idle_buffers();
}

// Deviation: RFC 9293 has no FIN-WAIT-2 timeout (§3.10.7.4 only says the user's CLOSE can be
// acknowledged). A peer that vanished after acknowledging our FIN would hold the TCB forever,
// so, like Linux's tcp_fin_timeout (60 s) for connections the application has closed, we
// delete it after --fin-timeout. Silently, as Linux does by default: the peer acknowledged our
// FIN, so it knows we are done; an RST would only matter to a peer still sending, and that
// is the application's call (the HTTP server's lingering close sends one).
void Connection::fin_wait_2_timeout() {
  if (tcb_.state != State::FinWait2) return;
  ++ctx_.stats.fin_timeouts;
  close_connection(CloseReason::TimedOut,
                   "Deviation: fin-timeout (FIN-WAIT-2: no FIN from the peer within --fin-timeout, "
                   "dropped without RST like Linux's tcp_fin_timeout)");
}

// A connection that will neither send nor, for now, hold received bytes keeps no buffer
// memory: thousands may wait in FIN-WAIT-2 or TIME-WAIT at once. Bytes arriving later (data in
// FIN-WAIT-2) allocate the receive buffer again.
void Connection::release_idle_buffers() {
  send_.release_if_empty();
  receive_.release_if_empty();
}

}  // namespace tcplab::tcp
