// SEGMENT ARRIVES (RFC 9293 §3.10.7) for one connection, in the RFC's order: SYN-SENT
// (§3.10.7.3), then the synchronized states and SYN-RECEIVED (§3.10.7.4) step by step.
// LISTEN and CLOSED (§3.10.7.1-2) have no TCB and live in host.cpp.
#include <algorithm>

#include "stack/tcp/acceptability.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/segment_trim.hpp"

namespace tcplab::tcp {

void Connection::segment_arrives(const wire::TcpSegment& in) {
  trace_segment(trace::Direction::In, in, {});
  // RFC 1122 §4.2.3.6: anything from the peer shows it is alive.
  last_heard_ = ctx_.now;
  keepalive_probes_ = 0;
  if (tcb_.state == State::SynSent) {
    syn_sent_arrives(in);
  } else {
    // A copy we may trim to the window; payload still points into the packet.
    wire::TcpSegment seg = in;
    drop_syn_fin_of_rst(seg);
    // RFC 9293 §3.10.7.4: first check sequence number, second RST, (third security: none),
    // fourth SYN, fifth ACK, (sixth URG: ignored), seventh text, eighth FIN.
    // RFC 7323 §5.3: PAWS (R1) before the sequence check (R2), TS.Recent (R3) after it.
    zero_window_drop_ = {};
    window_came_with_syn_ = false;
    if (check_paws(seg) && check_sequence(seg) && record_timestamp(in) && check_rst(seg) && check_syn(seg) &&
        check_ack(seg)) {
      if (!zero_window_drop_.empty()) ctx_.drop(DropReason::TcpTextIgnored, zero_window_drop_);
      // Deviation (urg-ignored): URG (sixth step) is ignored, departing from RFC 9293 §3.8.5
      // (MUST-30: implementations must still support the urgent mechanism); the same section
      // (SHLD-13, was RFC 6093 §5) says new applications SHOULD NOT employ it, and the urgent
      // byte is delivered in line like any other.
      process_text(seg);
      check_fin(seg);
    }
  }
  if (ack_rides_on_reply()) {
    // The application hears of the FIN first; whatever it sends from the callback carries the
    // ACK, and only if it sends nothing does the ACK go alone, still within this call.
    deliver_events();
    if (!finished_ && tcb_.state != State::Closed) output();
    dsack_.reset();
    return;
  }
  output();
  dsack_.reset();  // RFC 2883: a D-SACK reports this segment only (rate-limited ACK: never)
  deliver_events();
}

// RFC 9293 §3.10.7.4 eighth wants the FIN acknowledged, and §3.8.6.3 lets an ACK wait (up to
// 500 ms); this one waits only until the application's callback returns. A server that closes
// as soon as its client has (HTTP, echo) then sends one FIN-ACK instead of an ACK and a FIN,
// as Linux does: one packet less for both ends per connection the client closes. Only in
// CLOSE-WAIT, where the application is the one to answer; a FIN ending FIN-WAIT-2 or CLOSING
// is acknowledged at once, as the TIME-WAIT that follows has nothing else to send.
bool Connection::ack_rides_on_reply() const {
  return handler_ != nullptr && events_.peer_fin && tcb_.state == State::CloseWait;
}

// RFC 9293 §3.10.7.3: SYN-SENT.
void Connection::syn_sent_arrives(const wire::TcpSegment& seg) {
  bool ack_acceptable = false;
  if (seg.flags.ack) {
    // First, check the ACK bit: SEG.ACK =< ISS or SEG.ACK > SND.NXT acknowledges nothing we
    // sent: <SEQ=SEG.ACK><CTL=RST> unless it is itself a RST.
    if (seg.ack <= tcb_.iss || seg.ack > tcb_.snd_nxt) {
      if (!seg.flags.rst) send_rst(seg.ack);
      ctx_.drop(DropReason::TcpAckUnacceptable, "SYN-SENT: ACK does not cover our SYN (RFC 9293 §3.10.7.3)");
      return;
    }
    ack_acceptable = tcb_.snd_una < seg.ack && seg.ack <= tcb_.snd_nxt;
  }
  // Second, the RST bit: with an acceptable ACK the peer refused us; otherwise drop it
  // (RFC 5961 §3: a blind RST cannot guess the ACK of our SYN).
  if (seg.flags.rst) {
    if (ack_acceptable) {
      ++ctx_.stats.resets_received;
      close_connection(CloseReason::Refused, "RFC 9293 §3.10.7.3 (RST acknowledging our SYN)");
    } else {
      ctx_.drop(DropReason::TcpRstIgnored, "SYN-SENT: RST without an acceptable ACK");
    }
    return;
  }
  // Fourth, the SYN bit.
  if (!seg.flags.syn) {
    ctx_.drop(DropReason::TcpInvalidInState, "SYN-SENT: neither SYN nor RST");
    return;
  }
  tcb_.irs = seg.seq;
  tcb_.rcv_nxt = seg.seq + 1;
  // The window we offered in our SYN now has a left edge.
  rcv_adv_ = tcb_.rcv_nxt + tcb_.rcv_wnd;
  take_syn_options(seg);
  // Deviation (syn-data-not-queued): data and FIN carried on a SYN are not queued (RFC 9293
  // allows them); the peer retransmits them, and no common stack sends them without TCP Fast
  // Open. Counted, so the trace says where the bytes went.
  if (!seg.payload.empty()) ctx_.drop(DropReason::TcpTextIgnored, kSynDataDrop);
  if (ack_acceptable) {
    // Our SYN is acknowledged: SND.UNA = SEG.ACK, ESTABLISHED, send <SEQ=SND.NXT><ACK=RCV.NXT>.
    tcb_.snd_una = seg.ack;
    syn_acked_ = true;
    tcb_.snd_wl2 = seg.ack;
    if (timed_seq_ && seg.ack > *timed_seq_) rto_.sample(ctx_.now - timed_at_);
    timed_seq_.reset();
    // RFC 6298 §5.7: our SYN timed out, so the data begins with an RTO of at least 3 s. Here
    // for an active open; a passive or simultaneous one gets there in ack_advances.
    if (syn_timed_out_) rto_.after_syn_timeout();
    retries_ = 0;
    resent_by_timer_ = false;
    cancel(retransmission_timer_);
    set_state(State::Established, "RFC 9293 §3.10.7.3 (SYN,ACK acknowledges our SYN)");
    soft_error_.reset();  // the path works after all: an earlier soft error explains nothing
    start_congestion_control();
    start_keepalive();
    events_.connected = true;
    ack_.now = true;
    if (fin_.close_requested) set_state(State::FinWait1, "RFC 9293 §3.10.4 (CLOSE queued while opening)");
  } else {
    // Simultaneous open: SYN-RECEIVED, send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    set_state(State::SynReceived, "RFC 9293 §3.10.7.3 (SYN without ACK: simultaneous open)");
    // RFC 6298 §3 (Karn): the ISS goes out a second time in this SYN,ACK, and an ACK of it
    // cannot say which copy it answers (a TSecr can, and gives the sample instead).
    timed_seq_.reset();
    send_syn(true, {});
  }
}

// RFC 9293 §3.10.7.4 first: is the segment inside the receive window? Trims it to the window.
// The RFC's four-case table is segment_acceptable() (acceptability.hpp); around it come the
// SYN-RECEIVED repeats of the peer's SYN, the RFC's zero-window allowance and one deviation.
bool Connection::check_sequence(wire::TcpSegment& seg) {
  if (answer_duplicate_syn(seg)) return false;
  strip_repeated_syn(seg);
  tcb_.rcv_wnd = advertised_window();
  bool acceptable =
      segment_acceptable(seg.length(), tcb_.rcv_wnd, seg.seq, tcb_.rcv_nxt) || late_bare_ack(seg);
  bool zero_window_ack = !acceptable && zero_window_allowance(seg);
  if (!acceptable && !zero_window_ack) {
    reject_unacceptable(seg);
    return false;
  }
  if (seg.flags.rst) return true;  // RFC 5961 §3.2 needs the untrimmed SEG.SEQ
  if (zero_window_ack) {
    // Keep its ACK, drop its text (a zero-window probe's byte, typically).
    // Counted once the ACK check passed: a segment whose ACK is refused counts under that.
    zero_window_drop_ = seg.payload.empty() ? kZeroWindowFinDrop : kZeroWindowTextDrop;
    seg.payload = {};
    seg.flags.fin = false;
    ack_.now = true;  // tell the prober the window is still closed
    return true;
  }
  trim_to_window(seg);
  return true;
}

// Deviation (synrecv-duplicate-syn): like Linux, a copy of the SYN that opened a half-open
// connection means our SYN,ACK was lost, so it is answered with the SYN,ACK again rather than
// a bare ACK. Returns true when the segment was such a copy (and is done with).
bool Connection::answer_duplicate_syn(const wire::TcpSegment& seg) {
  if (!(tcb_.state == State::SynReceived && seg.flags.syn && !seg.flags.ack && seg.seq == tcb_.irs))
    return false;
  if (!seg.flags.rst) resend_syn("retransmission (duplicate SYN)");
  return true;
}

// RFC 9293 §3.5 Figure 7 (simultaneous open): the peer's SYN,ACK repeats its SYN, which
// lies just before RCV.NXT; its ACK still completes our handshake, so the SYN is trimmed
// off (as the front-trimming in trim_to_window would for data) and the rest processed, with
// an ACK.
void Connection::strip_repeated_syn(wire::TcpSegment& seg) {
  if (syn_unacknowledged() && seg.flags.syn && seg.flags.ack && !seg.flags.rst && seg.seq == tcb_.irs) {
    seg.flags.syn = false;
    seg.seq += 1;
    ack_.now = true;
    window_came_with_syn_ = true;  // RFC 7323 §2.2: its window is still a SYN's, not scaled
  }
}

// SEG.WND in bytes: scaled by the peer's shift (RFC 7323 §2.3), except the window of a SYN or
// SYN,ACK, which "MUST NOT be scaled" (§2.2), also when its SYN was trimmed off as a repeat.
uint32_t Connection::window_in_bytes(const wire::TcpSegment& seg) const {
  return window_came_with_syn_ ? uint32_t{seg.window} : uint32_t{seg.window} << tcb_.snd_wscale;
}

// The receive window as the peer knows it: from RCV.NXT to the right edge we last advertised
// (never negative: RCV.NXT can pass that edge only by a FIN or a zero-window allowance).
uint32_t Connection::advertised_window() const {
  return rcv_adv_ > tcb_.rcv_nxt ? seq_distance(tcb_.rcv_nxt, rcv_adv_) : 0;
}

// Deviation (late-bare-ack): Linux's tcp_sequence rule. A bare ACK whose SEG.SEQ lies between
// the RCV.NXT we last acknowledged and RCV.NXT was sent before the peer's latest data reached
// us (ACKs and data can be reordered on the way). RFC 9293 would drop it and lose its ACK and
// window; Linux keeps it, and so do we. RSTs stay strict (RFC 5961 §3.2).
bool Connection::late_bare_ack(const wire::TcpSegment& seg) const {
  return seg.length() == 0 && !seg.flags.rst && seq_in_closed(rcv_wup_, seg.seq, tcb_.rcv_nxt);
}

// RFC 9293 §3.10.7.4 first: "If the RCV.WND is zero, no segments will be acceptable, but
// special allowance should be made to accept valid ACKs, URGs, and RSTs." A segment with text
// at exactly RCV.NXT into a zero window is let through for its ACK (RSTs excepted: RFC 5961
// §3.2 wants them at RCV.NXT inside a window, and a zero-length RST already passes the table).
bool Connection::zero_window_allowance(const wire::TcpSegment& seg) const {
  return tcb_.rcv_wnd == 0 && seg.length() > 0 && seg.seq == tcb_.rcv_nxt && !seg.flags.rst;
}

// RFC 9293 §3.10.7.4 first: "If an incoming segment is not acceptable, an acknowledgment
// should be sent in reply (unless the RST bit is set, if so drop the segment and return)".
void Connection::reject_unacceptable(const wire::TcpSegment& seg) {
  if (seg.flags.rst) {
    // RFC 5961 §3.2: a RST outside the window is dropped silently.
    ctx_.drop(DropReason::TcpRstIgnored, "RST outside the window (RFC 5961 §3.2)");
    return;
  }
  if (tcb_.state == State::TimeWait && seg.flags.fin) {
    // RFC 9293 §3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN is acknowledged again and
    // restarts the 2 MSL timeout (our ACK of it was lost).
    arm(time_wait_timer_, ctx_.now + 2 * ctx_.config.msl);
    send_invalid_ack(seg, "ACK of retransmitted FIN");
    ctx_.drop(DropReason::TcpUnacceptableSegment, kRetransmittedFinDrop);
    return;
  }
  // RFC 2883 §4: text entirely below RCV.NXT is a duplicate; the ACK reports it in a D-SACK.
  Seq end = seg.seq + static_cast<uint32_t>(seg.payload.size());
  if (!seg.payload.empty() && end <= tcb_.rcv_nxt) note_duplicate(seg.seq, seg.payload.size());
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, then drop the segment.
  send_invalid_ack(seg, "dup ACK");
  ctx_.drop(DropReason::TcpUnacceptableSegment, "outside the receive window (RFC 9293 §3.10.7.4)");
}

// RFC 9293 §3.10.7.4 first: "trimming off any portions that lie outside the window
// (including SYN and FIN)", so the rest of the steps see the idealized segment.
void Connection::trim_to_window(wire::TcpSegment& seg) {
  // Trim what was already received at the front...
  if (auto cut = trim_front(seg, tcb_.rcv_nxt); cut.trimmed) {
    note_duplicate(cut.seq, cut.payload);  // RFC 2883 §4: the repeated part, as a D-SACK
    ack_.now = true;                       // duplicate data: say at once where we are (RFC 5681 §4.2)
  }
  // ...and whatever lies beyond the right edge at the back.
  if (trim_back(seg, tcb_.rcv_nxt + tcb_.rcv_wnd)) ack_.now = true;
}

// RFC 9293 §3.10.7.4 second, with RFC 5961 §3.2: only a RST at exactly RCV.NXT resets;
// one elsewhere in the window gets a challenge ACK.
bool Connection::check_rst(const wire::TcpSegment& seg) {
  if (!seg.flags.rst) return true;
  if (seg.seq != tcb_.rcv_nxt) {
    send_challenge_ack();
    ctx_.drop(DropReason::TcpRstIgnored, "RST in window but not at RCV.NXT: challenge ACK (RFC 5961 §3.2)");
    return false;
  }
  ++ctx_.stats.resets_received;
  switch (tcb_.state) {
    case State::SynReceived:
      if (origin_ == Origin::Passive) {
        // "If this connection was initiated with a passive OPEN, then return this
        // connection to the LISTEN state": the listener still listens; this TCB goes.
        ctx_.owner.reset_in_syn_received(*this);
        discard("RFC 9293 §3.10.7.4 second (RST in SYN-RECEIVED, passive OPEN: back to LISTEN)");
      } else {
        close_connection(CloseReason::Refused,
                         "RFC 9293 §3.10.7.4 second (RST in SYN-RECEIVED, active OPEN)");
      }
      return false;
    default:
      // ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT: "any outstanding RECEIVEs and SEND should
      // receive reset responses"; CLOSING, LAST-ACK, TIME-WAIT: enter CLOSED.
      close_connection(CloseReason::ResetByPeer, "RFC 9293 §3.10.7.4 second (RST at RCV.NXT)");
      return false;
  }
}

// RFC 9293 §3.10.7.4 fourth, with RFC 5961 §4.2: a SYN in a synchronized state gets a
// challenge ACK whatever its sequence number; an old half-open connection answers it.
bool Connection::check_syn(const wire::TcpSegment& seg) {
  if (!seg.flags.syn) return true;
  if (tcb_.state == State::SynReceived && origin_ == Origin::Passive) {
    // "If the connection was initiated with a passive OPEN, then return this connection to
    // the LISTEN state and return." The SYN itself is not taken: the peer's next copy of it
    // reaches the listener and opens afresh.
    ctx_.drop(DropReason::TcpInvalidInState,
              "SYN with a new sequence number in SYN-RECEIVED: half-open connection forgotten "
              "(RFC 9293 §3.10.7.4 fourth)");
    discard("RFC 9293 §3.10.7.4 fourth (SYN in SYN-RECEIVED, passive OPEN: back to LISTEN)");
    return false;
  }
  send_challenge_ack();
  ctx_.drop(DropReason::TcpInvalidInState, "SYN in a synchronized state: challenge ACK (RFC 5961 §4.2)");
  return false;
}

// RFC 5961 §7: rate-limited per connection (invalid_ack_limit.hpp says why not host-wide).
void Connection::send_challenge_ack() {
  if (challenge_ack_allowed(ctx_, tuple_, challenge_ack_clock_)) send_ack("challenge ACK");
}

// RFC 9293 §3.10.7.4 fifth: the ACK field.
bool Connection::check_ack(const wire::TcpSegment& seg) {
  if (!seg.flags.ack) {
    ctx_.drop(DropReason::TcpNoAckFlag, "no ACK bit (RFC 9293 §3.10.7.4 fifth)");
    return false;
  }
  if (syn_unacknowledged() && !ack_in_syn_received(seg)) return false;
  if (persist_.probing && seg.ack == tcb_.snd_nxt + 1 && unsent_bytes() > 0) {
    // Deviation (zero-window-probe-byte): the probe byte (persist_timeout) did not advance
    // SND.NXT when it was sent; the receiver took it, so now it counts as sent.
    tcb_.snd_nxt += 1;
    bytes_sent_ += 1;
  }
  if (seg.ack > tcb_.snd_nxt) {
    // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop
    // the segment, and return."
    send_invalid_ack(seg, "ACK to an ACK of unsent data");
    ctx_.drop(DropReason::TcpAckUnacceptable, "ACK of data never sent (RFC 9293 §3.10.7.4 fifth)");
    return false;
  }
  if (seg.ack < tcb_.snd_una - max_snd_wnd_) {
    // RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is a blind injection attempt.
    send_invalid_ack(seg, "ACK to an old ACK");
    ctx_.drop(DropReason::TcpAckUnacceptable, "ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5.2)");
    return false;
  }
  // RFC 1122 §4.2.2.17: an acceptable ACK, even of a zero window, answers our probes (one
  // refused above, of unsent data or far too old, answers nothing): the persist timer's and,
  // with data outstanding, the retransmission timer's (retransmission_timeout).
  answered_since_timeout_ = true;
  // Deviation (released-zero-window): not for a connection its application let go of
  // (release()) - nobody waits for it, so, like Linux's tcp_probe_timer for an orphaned
  // socket, its probes count whether answered or not, and a receiver that keeps its window
  // shut cannot hold the send buffer for ever. The count starts again when the window opens
  // (update_send_window).
  if (!released_) persist_.unanswered = 0;
  soft_error_.reset();  // like Linux's sk_err_soft: an acceptable ACK shows the path works
  return ack_advances(seg);
}

// CLOSE in SYN-RECEIVED with nothing to send goes to FIN-WAIT-1 at once (§3.10.4); until our
// SYN is acknowledged the SYN-RECEIVED rules for the ACK still apply there.
bool Connection::syn_unacknowledged() const {
  return tcb_.state == State::SynReceived || (tcb_.state == State::FinWait1 && !syn_acked_);
}

// RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter
// ESTABLISHED state and continue processing"; otherwise <SEQ=SEG.ACK><CTL=RST>. Also in
// FIN-WAIT-1 after a CLOSE in SYN-RECEIVED (§3.10.4): the same test, the state stays.
bool Connection::ack_in_syn_received(const wire::TcpSegment& seg) {
  if (!(tcb_.snd_una < seg.ack && seg.ack <= tcb_.snd_nxt)) {
    send_rst(seg.ack);
    ctx_.drop(DropReason::TcpAckUnacceptable,
              "SYN-RECEIVED: ACK does not cover our SYN (RFC 9293 §3.10.7.4)");
    return false;
  }
  if (origin_ == Origin::Passive && !ctx_.owner.accept_queue_has_room(*this)) {
    // Deviation (accept-queue-full-ack): RFC 9293 would enter ESTABLISHED; like Linux we
    // stay half-open and let our SYN,ACK retransmission ask again later.
    ctx_.drop(DropReason::TcpListenQueueFull, "accept queue full: handshake ACK ignored");
    return false;
  }
  // "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK" (scaled, unless it is the
  // SYN,ACK of a simultaneous open).
  tcb_.snd_wnd = window_in_bytes(seg);
  tcb_.snd_wl1 = seg.seq;
  tcb_.snd_wl2 = seg.ack;
  max_snd_wnd_ = std::max(max_snd_wnd_, tcb_.snd_wnd);
  if (tcb_.state == State::FinWait1) {
    // Our FIN went before the handshake completed: only an active open gets here (a passive
    // one has no application to close it yet). ack_advances takes the SYN's and the FIN's ACK.
    start_congestion_control();
    events_.connected = true;
    return true;
  }
  set_state(State::Established, "RFC 9293 §3.10.7.4 fifth (SYN-RECEIVED: our SYN acknowledged)");
  start_congestion_control();
  start_keepalive();
  if (origin_ == Origin::Passive) {
    ctx_.owner.established(*this);
  } else {
    events_.connected = true;
  }
  if (fin_.close_requested) set_state(State::FinWait1, "RFC 9293 §3.10.4 (CLOSE queued while opening)");
  return true;
}

// RFC 9293 §3.10.7.4 fifth, ESTABLISHED and the states after it.
bool Connection::ack_advances(const wire::TcpSegment& seg) {
  if (tcb_.snd_una < seg.ack) {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any segments on the
    // retransmission queue that are thereby entirely acknowledged are removed."
    size_t acked = seq_distance(tcb_.snd_una, seg.ack);
    size_t data = acked;
    bool acks_syn = !syn_acked_;
    if (acks_syn) {
      --data;  // our SYN
      syn_acked_ = true;
    }
    if (fin_.sent_seq && !fin_.acked && *fin_.sent_seq < seg.ack) {
      --data;  // our FIN
      fin_.acked = true;
    }
    send_.acknowledge(data);
    tcb_.snd_una = seg.ack;
    last_acknowledged_ = ctx_.now;
    detect_reneging(tcb_.snd_una);  // RFC 2018 §8, before this ACK's blocks are recorded
    scoreboard_.acknowledge(tcb_.snd_una);
    take_sack_blocks(seg);
    // RFC 6298 §3 (Karn): only segments never retransmitted give samples; timed_seq_ is
    // cleared on every retransmission. With timestamps, TSecr gives the samples instead.
    if (timestamp_rtt_sample(seg)) {
      timed_seq_.reset();
    } else if (timed_seq_ && seg.ack > *timed_seq_) {
      rto_.sample(ctx_.now - timed_at_);
      timed_seq_.reset();
    }
    // RFC 6298 §5.7: after our SYN,ACK timed out, the data begins with an RTO of 3 s even if
    // this ACK's timestamp just gave a sample, so after it. Only SYN-RECEIVED gets here with
    // our SYN unacknowledged (a passive or simultaneous open); syn_sent_arrives does the same
    // for an active open, whose SYN,ACK does not come this way.
    if (acks_syn && syn_timed_out_) rto_.after_syn_timeout();
    on_new_ack(data);
    if (want_writable_ && send_.free() > 0) {
      want_writable_ = false;
      events_.writable = true;
    }
  } else if (seg.ack == tcb_.snd_una) {
    size_t newly_sacked = take_sack_blocks(seg);
    count_duplicate_ack(seg, newly_sacked > 0);
  }
  // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated" - if the segment is
  // newer than the last one that updated it.
  if (tcb_.snd_una <= seg.ack) update_send_window(seg);

  switch (tcb_.state) {
    case State::FinWait1:
      if (fin_.acked) enter_fin_wait_2("RFC 9293 §3.10.7.4 fifth (FIN-WAIT-1: our FIN acknowledged)");
      return true;
    case State::Closing:
      if (fin_.acked) enter_time_wait("RFC 9293 §3.10.7.4 fifth (CLOSING: our FIN acknowledged)");
      return true;
    case State::LastAck:
      if (fin_.acked) {
        close_connection(CloseReason::Normal, "RFC 9293 §3.10.7.4 fifth (LAST-ACK: our FIN acknowledged)");
        return false;
      }
      return true;
    default:
      return true;
  }
}

void Connection::update_send_window(const wire::TcpSegment& seg) {
  if (!(tcb_.snd_wl1 < seg.seq || (tcb_.snd_wl1 == seg.seq && tcb_.snd_wl2 <= seg.ack))) return;
  const uint32_t old_window = tcb_.snd_wnd;
  const Seq old_edge = tcb_.snd_wl2 + old_window;
  tcb_.snd_wnd = window_in_bytes(seg);
  tcb_.snd_wl1 = seg.seq;
  tcb_.snd_wl2 = seg.ack;
  max_snd_wnd_ = std::max(max_snd_wnd_, tcb_.snd_wnd);
  if (tcb_.snd_wnd > 0 && (persist_.probing || persist_timer_.armed())) {
    // The window opened: stop probing; a probe byte not yet acknowledged goes again as
    // ordinary data (it never advanced SND.NXT).
    persist_.probing = false;
    cancel(persist_timer_);
    persist_.interval = Duration::zero();
    persist_.unanswered = 0;
  }
  window_reopened(old_edge, old_window);
}

// RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data, no SYN/FIN, does
// not change the window, and arrives while data is outstanding. What it does to cwnd (the
// third starts fast retransmit, §3.2; the first two may release new data, RFC 3042) is the
// congestion module's decision. new_sack_info: the ACK SACKed bytes not SACKed before.
void Connection::count_duplicate_ack(const wire::TcpSegment& seg, bool new_sack_info) {
  bool same_window = window_in_bytes(seg) == tcb_.snd_wnd;
  // RFC 6675 §2: "an ACK which carries new SACK data is counted as a duplicate
  // acknowledgment ... even if it ... changes the advertised window" (RFC 5681 §2 allows it
  // too). We take that part: an ACK of SND.UNA with new SACK information counts whatever its
  // window. A Linux receiver's window grows with nearly every segment while it autotunes its
  // buffer; without this its duplicates would not count and a loss would wait for the timer.
  // RFC 6675 §2 goes further: with SACK, only an ACK that SACKs bytes not SACKed before is a
  // duplicate. We follow it once the peer has shown it sends SACK blocks: an ACK sent again by
  // the network, or one reporting only a duplicate it received (a D-SACK, RFC 2883 §4), says
  // nothing was lost, and counting it would start recovery and resend data that arrived.
  // A peer that sends no blocks at all keeps RFC 5681 §2's count (sack-without-blocks-newreno below).
  const bool sack_says = sack_ok_ && peer_sends_sack_blocks_;
  const bool counts = sack_says ? new_sack_info : same_window;
  bool duplicate = seg.payload.empty() && !seg.flags.syn && !seg.flags.fin && flight_size() > 0 &&
                   !persist_.probing && tcb_.snd_wnd > 0 && counts;
  if (!duplicate) return;
  // RFC 6675 §5: with a scoreboard, recovery also starts when IsLost(HighACK + 1), and then
  // follows the scoreboard instead of NewReno's window inflation.
  // Deviation (sack-without-blocks-newreno): a peer that negotiated SACK but sends no blocks
  // gets NewReno's recovery (RFC 6582), not RFC 6675's.
  bool sack_recovery = sack_ok_ && !scoreboard_.empty();
  bool lost_by_sack = sack_recovery && scoreboard_.lost_boundary(tcb_.snd_una, send_mss()) > tcb_.snd_una;
  // RFC 3042 §2: with SACK in use, only an ACK with new SACK information releases new data.
  bool may_release = !sack_ok_ || new_sack_info;
  auto response = congestion_.on_duplicate_ack(seg.ack, flight_size(), tcb_.snd_nxt, sack_recovery,
                                               lost_by_sack, may_release);
  uint32_t resent = response.retransmit_first ? retransmit_first("fast retransmit") : 0;
  if (response.restart_timer) arm(retransmission_timer_, ctx_.now + rto_.rto());
  if (response.retransmit_first && sack_recovery) start_sack_recovery(resent);
}

// RFC 9293 §3.10.7.4 seventh: segment text, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2.
void Connection::process_text(const wire::TcpSegment& seg) {
  if (seg.payload.empty()) return;
  if (tcb_.state != State::Established && tcb_.state != State::FinWait1 && tcb_.state != State::FinWait2) {
    // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur since a FIN has been
    // received from the remote side. Ignore the segment text."
    return ctx_.drop(DropReason::TcpTextIgnored, kTextAfterFinDrop);
  }
  if (released_ && !receive_.has_out_of_order()) return take_released_text(seg);
  size_t offset = seq_distance(tcb_.rcv_nxt, seg.seq);
  note_duplicate(seg.seq, seg.payload.size());  // RFC 2883 §4: bytes we already hold out of order
  bool had_holes = receive_.has_out_of_order();
  auto result = receive_.insert(offset, seg.payload);
  switch (result.stored) {
    case ReceiveBuffer::Stored::Refused:
      ctx_.drop(DropReason::TcpOutOfOrderFull, "out-of-order data over the reassembly bound");
      ack_.now = true;
      return;
    case ReceiveBuffer::Stored::OutOfOrder:
      // RFC 5681 §4.2: an out-of-order segment is ACKed at once (a duplicate ACK), so the
      // sender can detect the loss; with SACK its block leads the option (RFC 2018 §4).
      remember_out_of_order(seg.seq);
      ack_.now = true;
      return;
    case ReceiveBuffer::Stored::InOrder:
      break;
  }
  note_segment_size(seg.payload.size());
  tcb_.rcv_nxt += static_cast<uint32_t>(result.advanced);
  bytes_received_ += result.advanced;
  ack_.unacked_bytes += result.advanced;
  events_.readable = true;
  if (released_) return discard_readable();  // a hole held at release() just filled
  // RFC 5681 §4.2: a segment that fills a hole is ACKed at once too.
  schedule_ack(had_holes, result.advanced);
}

// RFC 9293 §3.10.7.4 eighth: the FIN bit, once every byte before it has arrived.
void Connection::check_fin(const wire::TcpSegment& seg) {
  if (!seg.flags.fin) return;
  if (fin_.peer_fin) {
    // Deviation (fin-after-fin): CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT. The eighth step
    // would advance RCV.NXT over this FIN too, but the peer's FIN was its last sequence
    // number: RCV.NXT past it acknowledges nothing the peer sent, and the peer's ACK of our
    // FIN (which carries that RCV.NXT) would fail the sequence check, so the close never
    // finishes. Not taken, ACKed; text on it was dropped already (process_text).
    ack_.now = true;
    if (seg.payload.empty()) ctx_.drop(DropReason::TcpTextIgnored, kFinAfterFinDrop);
    return;
  }
  // Deviation (fin-beyond-hole): a FIN beyond a hole is not remembered (RFC 9293 §3.10.7.4
  // holds such segments for later, SHLD-31): its data was kept, and the peer resends the FIN.
  // It is still an out-of-order segment: RFC 5681 §4.2 wants an immediate duplicate ACK, with
  // or without data on it.
  if (seg.seq + static_cast<uint32_t>(seg.payload.size()) != tcb_.rcv_nxt) {
    ack_.now = true;
    return ctx_.drop(DropReason::TcpTextIgnored, kFinBeyondHoleDrop);
  }
  // "advance RCV.NXT over the FIN, and send an acknowledgment for the FIN".
  tcb_.rcv_nxt += 1;
  fin_.peer_fin = true;
  events_.readable = true;
  events_.peer_fin = true;
  ack_.now = true;
  switch (tcb_.state) {
    case State::SynReceived:
    case State::Established:
      set_state(State::CloseWait, "RFC 9293 §3.10.7.4 eighth (FIN received)");
      break;
    case State::FinWait1:
      // "If our FIN has been ACKed ... enter TIME-WAIT ... otherwise, enter the CLOSING state."
      if (fin_.acked) {
        enter_time_wait("RFC 9293 §3.10.7.4 eighth (FIN-WAIT-1: FIN and our FIN acknowledged)");
      } else {
        set_state(State::Closing, "RFC 9293 §3.10.7.4 eighth (FIN-WAIT-1: simultaneous close)");
      }
      break;
    case State::FinWait2:
      enter_time_wait("RFC 9293 §3.10.7.4 eighth (FIN-WAIT-2: FIN received)");
      break;
    default:
      break;  // CLOSE-WAIT, CLOSING, LAST-ACK: remain
  }
}

}  // namespace tcplab::tcp
