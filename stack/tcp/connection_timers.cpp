// A connection's timers as deadlines: retransmission (RFC 6298, RFC 9293 §3.8.1/§3.8.3),
// persist (§3.8.6.1), delayed ACK (§3.8.6.3), TIME-WAIT (§3.10.7.4, 2 MSL), FIN-WAIT-2
// (--fin-timeout, a deviation) and keep-alive (RFC 1122 §4.2.3.6). What a loss does to the
// congestion window is decided in congestion.cpp (NewReno).
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

void Connection::cancel_all_timers() {
  for (Timer* t : timers()) cancel(*t);
}

std::optional<Instant> Connection::next_deadline() const {
  std::optional<Instant> next;
  for (const Timer* t : timers()) {
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
    // RFC 9293 §3.10.8: "If the time-wait timeout expires on a connection, delete the TCB,
    // enter the CLOSED state, and return."
    close_connection(CloseReason::Normal, "RFC 9293 §3.10.8 (TIME-WAIT: 2 MSL elapsed)");
  }
  if (fire(fin_wait_2_timer_)) fin_wait_2_timeout();
  if (fire(linger_timer_) && tcb_.state != State::Closed) linger_timeout();
  if (fire(retransmission_timer_)) retransmission_timeout();
  if (fire(persist_timer_)) persist_timeout();
  if (fire(delayed_ack_timer_) && tcb_.state != State::Closed) send_ack("delayed ACK");
  if (fire(keepalive_timer_) && tcb_.state != State::Closed) keepalive_timeout();
  if (tcb_.state != State::Closed) output();
  deliver_events();
}

// RFC 6298 §5.4-5.6 and RFC 9293 §3.8.3: retransmit the earliest unacknowledged segment,
// back off, restart the timer; after too many tries give up with RST.
// Deviation (syn-give-up-early): R2 for SYN and SYN,ACK is max_syn_retransmissions tries
// (5: about 63 s with the default RTO), like Linux's tcp_syn_retries; RFC 9293 §3.8.3 asks
// R2 for a SYN to cover at least 3 minutes (MUST-23).
void Connection::retransmission_timeout() {
  bool opening = tcb_.state == State::SynSent || syn_unacknowledged();
  int limit = opening ? ctx_.config.max_syn_retransmissions : ctx_.config.max_retransmissions;
  // The peer shut its window with our data outstanding: this retransmission is the zero-window
  // probe (RFC 9293 §3.8.6.1; the persist timer runs only when nothing is in flight), and
  // RFC 1122 §4.2.2.17 says "as long as the receiving TCP continues to send acknowledgments in
  // response to the probe segments, the sending TCP MUST allow the connection to stay open".
  // So a timeout after the peer answered does not count toward R2, as in Linux's
  // tcp_retransmit_timer ("receiver dastardly shrinks window"); a silent peer is still given up on.
  // Deviation (released-zero-window): a connection its application let go of counts every one.
  const bool zero_window_probe = !opening && tcb_.snd_wnd == 0;
  const bool answered_probe = zero_window_probe && answered_since_timeout_;
  answered_since_timeout_ = false;
  const bool counted = !answered_probe || released_;
  if (counted && retries_ >= limit) {
    ++ctx_.stats.timeouts;
    if (tcb_.state == State::SynReceived && origin_ == Origin::Passive) {
      // A half-open entry nobody completed: forget it quietly, as Linux does.
      discard("RFC 9293 §3.8.3 (SYN,ACK retransmissions exhausted, passive OPEN: forgotten)");
      return;
    }
    // RFC 9293 §3.8.3: past R2 "close the connection"; the RST tells the peer, if it is
    // still there, not to wait for us (at its window's edge if that is below SND.NXT: acceptable_seq).
    if (tcb_.state != State::SynSent) send_rst(acceptable_seq());
    close_connection(CloseReason::TimedOut, "RFC 9293 §3.8.3 (retransmissions exhausted)");
    return;
  }
  if (counted) ++retries_;
  // RFC 6298 §5.5; for a zero-window probe remembered as such, to be undone when the window
  // opens (window_reopened).
  if (zero_window_probe) {
    rto_.back_off_probe();
  } else {
    rto_.back_off();
  }
  if (answered_probe) {
    // Deviation (zero-window-probe-keeps-cwnd): RFC 5681 §3.1 sets cwnd to one segment and cuts
    // ssthresh "upon a timeout", and Linux's tcp_retransmit_timer does so here too
    // (tcp_enter_loss). But the peer answered the last probe with its window still shut: the
    // receiver has no room, the path lost nothing, and probing a zero window is what RFC 9293
    // §3.8.6.1 and RFC 1122 §4.2.2.17 ask of a sender, no sign of congestion. So cwnd and
    // ssthresh stay, as when the persist timer probes with nothing in flight (Linux's
    // tcp_probe_timer leaves them too), and nothing but the probe goes: the rest of the flight
    // waits for the window to open (window_reopened), and cwnd limits it then. resent_by_timer_
    // is left as it was: for eq. 4's held ssthresh an answered probe is no timeout either.
    retransmit_first(counted ? "retransmission (zero-window probe)"
                             : "retransmission (zero-window probe, not counted)");
  } else {
    // RFC 5681 §3.1 (ssthresh by eq. 4, cwnd = LW = 1 segment), RFC 6582 §3.2 step 4.
    if (!opening) congestion_.on_retransmission_timeout(flight_size(), tcb_.snd_nxt, !resent_by_timer_);
    resent_by_timer_ = true;
    uint32_t resent = retransmit_first("retransmission");
    if (!opening) start_timeout_recovery(resent);  // the rest follows as cwnd opens
  }
  // RFC 6298 §5.6, with the backed-off RTO. A SYN or SYN,ACK sent again has armed it already
  // (send_syn starts a stopped timer, §5.1), with the same deadline: once is enough.
  if (!retransmission_timer_.armed()) arm(retransmission_timer_, ctx_.now + rto_.rto());
}

// Resends the earliest unacknowledged segment; returns the sequence space it covers.
uint32_t Connection::retransmit_first(std::string_view note) {
  if (tcb_.state == State::SynSent || syn_unacknowledged()) {
    // After a CLOSE in SYN-RECEIVED the SYN,ACK goes again; the FIN follows once it is ACKed.
    syn_timed_out_ = true;
    resend_syn(note);
    return 1;
  }
  return retransmit_at(tcb_.snd_una, SIZE_MAX, note);
}

// Our SYN (SYN-SENT) or SYN,ACK sent again, counted and traced as a retransmission.
void Connection::resend_syn(std::string_view note) {
  timed_seq_.reset();  // RFC 6298 §3 (Karn): no RTT sample across a retransmission
  ++retransmissions_;
  ++ctx_.stats.retransmissions;
  resending_ = true;
  send_syn(tcb_.state != State::SynSent, note);
  resending_ = false;
}

// The handshake is complete: NewReno starts with the initial window (RFC 5681 §3.1,
// RFC 6928), one segment if our SYN or SYN,ACK timed out (syn_timed_out_). (The RTO's fall back
// to 3 s after that, RFC 6298 §5.7, comes after the handshake's last RTT sample instead:
// syn_sent_arrives, ack_advances.)
void Connection::start_congestion_control() {
  congestion_.set_observer([this](size_t cwnd, size_t ssthresh, std::string_view rule) {
    if (ctx_.tracer.enabled()) ctx_.tracer.congestion(ctx_.now, tuple_, cwnd, ssthresh, rule);
  });
  congestion_.start(send_mss(), ctx_.config.initial_window_segments, syn_timed_out_, tcb_.iss);
}

// What NewReno asked for after an ACK: retransmit the segment at SND.UNA (RFC 5681 §3.2
// step 2, RFC 6582 §3.2 step 3) and restart the retransmission timer.
void Connection::act_on(NewReno::Response response, std::string_view note) {
  if (response.retransmit_first) retransmit_first(note);
  if (response.restart_timer) arm(retransmission_timer_, ctx_.now + rto_.rto());
}

// New data acknowledged: RFC 6298 §5.2-5.3 for the timer; the congestion window moves in
// congestion.cpp (RFC 5681 §3.1-3.2, RFC 6582 §3.2 step 3).
void Connection::on_new_ack(size_t acked_bytes) {
  retries_ = 0;
  resent_by_timer_ = false;
  recovery_ack();
  NewReno::Response response = congestion_.on_new_ack(acked_bytes, tcb_.snd_una, flight_size());
  if (tcb_.snd_una == tcb_.snd_nxt) {
    cancel(retransmission_timer_);  // RFC 6298 §5.2
  } else if (!response.retransmit_first || response.restart_timer) {
    // RFC 6298 §5.3; in fast recovery RFC 6582 §3.2 step 3: "For the first partial ACK that
    // arrives during fast recovery, also reset the retransmit timer." Only the first, so a
    // long recovery ends in a timeout rather than one retransmission per RTT (the
    // "Impatient" variant of RFC 6582 §6, formerly RFC 3782 §4).
    arm(retransmission_timer_, ctx_.now + rto_.rto());
  }
  act_on(response, "retransmission (partial ACK)");
}

// RFC 9293 §3.8.6.1: "The sending TCP peer must regularly transmit at least one octet of new
// data (if available), or retransmit to the receiving TCP peer even if the send window is
// zero", backing off between probes.
// The connection stays open only "as long as the receiving TCP continues to send
// acknowledgments in response to the probe segments" (RFC 1122 §4.2.2.17): probes nobody
// acknowledges count like retransmissions and give up at the same limit (R2, §3.8.3), or a
// peer that closed its window and vanished would hold the connection for ever.
void Connection::persist_timeout() {
  if (tcb_.snd_wnd > 0 && !persist_.probing) {
    // RFC 9293 §3.8.6.2.1: the override timeout - the window is open but smaller than SWS
    // avoidance wants (a receiver with a tiny buffer); send what it allows now.
    persist_.override_sws = true;
    output();
    persist_.override_sws = false;
    persist_.interval = Duration::zero();
    return;
  }
  if (unsent_bytes() > 0) {
    // Deviation (zero-window-probe-byte): the probe byte does not advance SND.NXT (RFC 9293
    // §3.8.6.1 sends it as new data): if the receiver refuses it (window still zero), our
    // later ACKs must still carry a SEQ inside its window, or a strict receiver (Linux)
    // drops them and both sides wait forever. check_ack counts the byte as sent once the
    // peer acknowledges it.
    // Deviation (released-zero-window): for a connection its application let go of, every
    // probe counts, answered or not (check_ack says why).
    if (persist_.unanswered >= ctx_.config.max_retransmissions) {
      ++ctx_.stats.timeouts;
      send_rst(acceptable_seq());  // as for retransmissions: a peer still there stops waiting
      close_connection(CloseReason::TimedOut,
                       released_ ? "Deviation: released-zero-window (zero-window probes of a connection its "
                                   "application let go of count even when answered, like Linux's orphans)"
                                 : "RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17 (zero-window probes unanswered)");
      return;
    }
    send_data(tcb_.snd_nxt, 1, false, "window probe");
    persist_.probing = true;
    ++persist_.unanswered;
  }
  persist_.interval = std::min(persist_.interval * 2, ctx_.config.persist_max);
  arm(persist_timer_, ctx_.now + persist_.interval);
}

void Connection::enter_time_wait(std::string_view rule) {
  set_state(State::TimeWait, rule);
  cancel(retransmission_timer_);
  cancel(persist_timer_);
  cancel(fin_wait_2_timer_);
  cancel(linger_timer_);
  cancel(keepalive_timer_);
  arm(time_wait_timer_, ctx_.now + 2 * ctx_.config.msl);
  release_idle_buffers();
  // Both FINs are exchanged: the application's part is over (the TCB lingers alone), once it
  // has read what we acknowledged (RFC 9293 §3.10.7.4 seventh: we took responsibility for it).
  // Deviation (read-in-time-wait): an application that half-closed and reads later still
  // finds those bytes, as on Linux; RFC 9293 §3.10.3 answers a RECEIVE in TIME-WAIT with
  // "connection closing", which loses them. Until then a SYN does not reopen the connection
  // (host.cpp).
  if (events_.closed_delivered) return;
  if (handler_ != nullptr && receive_.readable() > 0) {
    events_.closed_once_read = true;
  } else {
    events_.closed = CloseReason::Normal;
  }
}

// RFC 9293 §3.10.7.4 fifth: our FIN is acknowledged, nothing of ours is left to send; the
// peer may still send data and its FIN. Once the application has let go (release), the
// FIN-WAIT-2 timer bounds how long we wait; an application still holding a half-closed
// socket (shutdown(SHUT_WR)) may wait as long as it likes, as on Linux.
void Connection::enter_fin_wait_2(std::string_view rule) {
  set_state(State::FinWait2, rule);
  if (released_) arm_fin_wait_2_timer();
  // Keep-alive probes are for ESTABLISHED and CLOSE-WAIT (connection_keepalive.cpp); here
  // the FIN-WAIT-2 timer bounds the wait, and an armed keep-alive timer would keep the
  // connection from becoming a compact record.
  cancel(keepalive_timer_);
  release_idle_buffers();
}

// Deviation (fin-timeout): RFC 9293 has no FIN-WAIT-2 timeout (§3.10.7.4 only says the user's
// CLOSE can be acknowledged). A peer that vanished after acknowledging our FIN would hold a
// TCB nobody owns for ever, so, like Linux's tcp_fin_timeout (60 s) for orphaned sockets, a
// connection its application let go of is deleted after --fin-timeout. One the application
// still holds is its own to end (it can read, and abort).
void Connection::arm_fin_wait_2_timer() { arm(fin_wait_2_timer_, ctx_.now + ctx_.config.fin_timeout); }

// The --fin-timeout ran out (deviation fin-timeout, above): the connection is deleted.
// Silently, as Linux does by default: the peer acknowledged our FIN, so it knows we are done;
// an RST would only matter to a peer still sending, and that is the application's call (the
// HTTP server's lingering close sends one).
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
