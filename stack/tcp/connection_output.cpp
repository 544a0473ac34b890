// What a connection sends and when: data cut to the MSS within the peer's window and the
// congestion window, Nagle (RFC 896, RFC 9293 §3.7.4), sender and receiver silly window
// avoidance (§3.8.6.2), delayed ACKs (§3.8.6.3), window scaling (RFC 7323 §2).
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {
namespace {

// The most a turn leaves unacknowledged before it ACKs at once (Connection::schedule_ack): what
// Linux's GRO merges into one packet at most.
constexpr size_t kMaxTurnAckBytes = 64 * 1024;

bool may_send_data(State s) {
  // Data queued before CLOSE still goes out after it (RFC 9293 §3.10.4: the FIN follows it).
  return s == State::Established || s == State::CloseWait || s == State::FinWait1 || s == State::Closing ||
         s == State::LastAck;
}

}  // namespace

Seq Connection::send_base() const {
  // Sequence number of the first byte in the send buffer: the SYN takes ISS.
  return syn_acked_ ? tcb_.snd_una : tcb_.iss + 1;
}

size_t Connection::sent_data_bytes() const {
  if (tcb_.snd_nxt <= send_base()) return 0;
  size_t n = seq_distance(send_base(), tcb_.snd_nxt);
  if (fin_.sent_seq && !fin_.acked) --n;
  return n;
}

void Connection::output(bool after_read) {
  if (may_send_data(tcb_.state)) {
    // Bounded so a bug can never spin here: a whole send buffer in minimum-size segments.
    size_t limit = send_.capacity() / 64 + 16;
    while (limit-- > 0 && send_one_data_segment()) {
    }
    // RFC 6298 §5.1: the retransmission timer runs whenever data is outstanding.
    if (flight_size() > 0 && !persist_.probing && !retransmission_timer_.armed()) {
      arm(retransmission_timer_, ctx_.now + rto_.rto());
    }
    // Data waits but nothing is in flight, so no ACK will come to release it: either the
    // window is zero (RFC 9293 §3.8.6.1, persist: probe it) or sender SWS avoidance holds
    // back a segment the window allows (§3.8.6.2.1, "override timeout"). One timer, the
    // persist timer, covers both.
    bool stalled = unsent_bytes() > 0 && flight_size() == 0;
    if (stalled && !persist_timer_.armed()) {
      cancel(retransmission_timer_);
      if (persist_.interval == Duration::zero()) persist_.interval = rto_.rto();
      arm(persist_timer_, ctx_.now + persist_.interval);
    } else if (!stalled && persist_timer_.armed()) {
      cancel(persist_timer_);
      persist_.interval = Duration::zero();
    }
  }
  if (tcb_.state == State::Closed || tcb_.state == State::SynSent || tcb_.state == State::SynReceived) return;
  if (ack_.now) {
    send_ack();
  } else if (after_read && window_update_worthwhile()) {
    // RFC 9293 §3.8.6.2.2: the application freed a useful amount of buffer; say so.
    send_ack("window update");
  } else if (after_read && quick_ack_due() && !ack_.queued_for_turn_end) {
    // At the end of the turn, so that what the application sends meanwhile carries it.
    ack_.queued_for_turn_end = true;
    ctx_.acks_at_turn_end.push_back(tuple_);
  }
}

void Connection::send_turn_end_ack() {
  ack_.queued_for_turn_end = false;
  if (tcb_.state == State::Closed) return;
  // Still two full segments' worth unacknowledged: no segment sent this turn carried the ACK
  // (schedule_ack) that they call for.
  if (ack_.unacked_bytes >= 2 * ack_.peer_segment_size) {
    send_ack("ACK for the segments read this turn");
  } else if (quick_ack_due()) {
    send_ack("quick ACK");
  }
}

bool Connection::send_one_data_segment() {
  // Data presumed lost goes before new data (connection_recovery.cpp); after a timeout it
  // all goes first, in order (go-back-N), so new data waits until the cursor reaches the end.
  switch (send_recovery_segment()) {
    case RecoverySend::Sent:
      return true;
    case RecoverySend::Blocked:
      return false;
    case RecoverySend::Nothing:
      if (recovery_ == Recovery::Timeout && rtx_next_ < rtx_end_) return false;
      break;
  }
  size_t unsent = unsent_bytes();
  bool fin_pending = fin_.close_requested && !fin_.sent_seq;
  if (unsent == 0 && !fin_pending) return false;
  size_t flight = flight_size();
  // RFC 5681 §4.1: after an idle period longer than the RTO, restart from min(IW, cwnd).
  if (flight == 0 && unsent > 0) congestion_.before_sending_after_idle(ctx_.now, rto_.rto());
  // The peer's window limits what is outstanding; cwnd limits what is in the pipe.
  size_t in_pipe = pipe();
  size_t cwnd = congestion_.cwnd();
  size_t allowed = cwnd;
  if (recovery_ == Recovery::None && congestion_.limited_transmit_allowance() > 0) {
    if (sack_ok_ && !scoreboard_.empty()) {
      // RFC 6675 §5 step (3): on a duplicate before recovery, Limited Transmit "except that
      // the number of octets which may be sent is governed by pipe and cwnd": SetPipe with
      // HighRxt = HighACK and nothing lost yet is FlightSize less what the peer SACKed.
      in_pipe = flight - std::min(flight, scoreboard_.sacked_bytes());
    } else {
      // RFC 3042 §2: each of the first two duplicates lets one more segment beyond cwnd.
      allowed += congestion_.limited_transmit_allowance();
    }
  }
  size_t window_room = tcb_.snd_wnd > flight ? tcb_.snd_wnd - flight : 0;
  size_t cwnd_room = allowed > in_pipe ? allowed - in_pipe : 0;
  size_t usable = std::min(window_room, cwnd_room);
  size_t len = std::min({unsent, send_mss(), usable});
  // A FIN needs no window space; it goes with (or after) the last byte.
  bool fin = fin_pending && len == unsent;
  if (len == 0 && !fin) return false;
  // A PUSH is done once SND.NXT reaches its end, whatever size the segments were: kept, it
  // would come round again after 2^32 bytes (sequence arithmetic, RFC 9293 §3.4) and let an
  // unpushed short write skip Nagle.
  if (push_end_ && *push_end_ <= tcb_.snd_nxt) push_end_.reset();
  if (len < send_mss() && !fin && !persist_.override_sws) {
    // RFC 9293 §3.8.6.2.1 (sender SWS avoidance) and §3.7.4 / RFC 896 (Nagle): a short
    // segment goes only if it empties the queue and nothing is unacknowledged (or Nagle is
    // off), rule (2); or if it is at least half the largest window the peer ever offered,
    // rule (3), which the RFC also brackets with Nagle's "[SND.NXT = SND.UNA and]".
    // Deviation (half-window-past-nagle): rule (3) is applied without that bracket, as BSD's
    // tcp_output does, so a window-sized short segment goes with data unacknowledged.
    bool empties_queue = len == unsent;
    // Deviation (push-ends-nagle): a short segment that ends a message the application
    // PUSHed (RFC 9293 §3.9.1.2 SEND) goes at once, as if TCP_NODELAY were set for that one
    // write. The RFC does not allow it: §3.7.4 buffers all user data while data is
    // unacknowledged "regardless of the PSH bit", and §3.8.6.2.1 rule (2) keeps that
    // bracket for pushed data: "[SND.NXT = SND.UNA and] PUSHed and D <= U".
    // Nagle alone would hold the tail of every keep-alive response that is not a multiple
    // of the MSS until the client's delayed ACK releases it (40 ms on Linux): a stall per
    // response on a real network. Short writes that are not pushed still coalesce.
    bool ends_push = push_end_ && tcb_.snd_nxt + static_cast<uint32_t>(len) >= *push_end_;
    bool nagle_allows = !ctx_.config.nagle || flight == 0 || ends_push;
    bool half_window = max_snd_wnd_ > 0 && len >= max_snd_wnd_ / 2;
    if (!((empties_queue && nagle_allows) || half_window)) return false;
  }
  Seq seq = tcb_.snd_nxt;
  // Data sent while FlightSize exceeds cwnd is Limited Transmit data, left out of the
  // FlightSize that ssthresh is computed from (RFC 5681 §3.2 step 2).
  size_t beyond_cwnd =
      recovery_ == Recovery::None && flight + len > cwnd ? flight + len - std::max(flight, cwnd) : 0;
  if (beyond_cwnd > 0) congestion_.limited_transmit_sent(beyond_cwnd);
  // SND.NXT moves before the segment is traced, as for a SYN (send_syn): step mode shows the
  // TCB "now", with the segment sent (RFC 9293 §3.3.1: SND.NXT is the next to send).
  tcb_.snd_nxt += static_cast<uint32_t>(len) + (fin ? 1u : 0u);
  if (fin) fin_.sent_seq = seq + static_cast<uint32_t>(len);
  send_data(seq, len, fin, beyond_cwnd > 0 ? "limited transmit" : std::string_view{});
  bytes_sent_ += len;
  if (!timed_seq_) {
    timed_seq_ = seq;
    timed_at_ = ctx_.now;
  }
  return true;
}

void Connection::send_data(Seq seq, size_t length, bool fin, std::string_view note) {
  wire::TcpSegment seg;
  seg.seq = seq;
  seg.flags.ack = true;
  seg.flags.fin = fin;
  size_t offset = seq_distance(send_base(), seq);
  // PSH on the segment that carries the last queued byte, as BSD and Linux do.
  seg.flags.psh = length > 0 && offset + length == send_.size();
  transmit(seg, &send_, offset, length, note);
  if (length > 0) congestion_.data_sent(ctx_.now);  // RFC 5681 §4.1 measures idle from here
}

void Connection::send_syn(bool with_ack, std::string_view note) {
  wire::TcpSegment seg;
  seg.seq = tcb_.iss;
  seg.flags.syn = true;
  seg.flags.ack = with_ack;
  // RFC 9293 §3.7.1: announce MSS = MTU - 40; RFC 7323 §2.2: offer the window scale in an
  // initial SYN, and in a SYN,ACK only if the peer offered it.
  seg.options.mss = ctx_.config.mss;
  if (ctx_.config.window_scaling && (!with_ack || peer_syn_.window_scale)) {
    seg.options.window_scale = our_window_shift();
  }
  // RFC 2018 §2: SACK-permitted "may be sent in a SYN" and "MUST NOT be sent on non-SYN
  // segments". In a SYN,ACK only if the peer's SYN had it: a convention (BSD, Linux; RFC
  // 7323 §2.2 and §3.2 make it the rule for its own options), not RFC 2018's rule.
  seg.options.sack_permitted = ctx_.config.sack && (!with_ack || peer_syn_.sack);
  // RFC 7323 §3.2: TSopt in a SYN (TSecr 0), in a SYN,ACK only if the SYN had it (echoing it).
  if (ctx_.config.timestamps && (!with_ack || peer_syn_.timestamps))
    seg.options.timestamps =
        wire::TcpTimestamps{timestamps_.value(ctx_.now), with_ack ? timestamps_.recent() : 0};
  bool first = tcb_.snd_nxt == tcb_.iss;
  if (first) {
    tcb_.snd_nxt = tcb_.iss + 1;
    timed_seq_ = tcb_.iss;
    timed_at_ = ctx_.now;
  }
  transmit(seg, nullptr, 0, 0, note);
  if (!retransmission_timer_.armed()) arm(retransmission_timer_, ctx_.now + rto_.rto());
}

// The SEQ for a segment without data that we send (an ACK, a RST): SND.NXT while that is
// inside the peer's window, else the window's right edge SND.UNA + SND.WND, as Linux's
// tcp_acceptable_seq does. A peer whose window shut after we sent (a zero window, the data
// beyond it dropped) accepts a segment only at its RCV.NXT (RFC 9293 §3.10.7.4: with RCV.WND
// zero, SEG.SEQ must equal RCV.NXT), so at SND.NXT it drops it unseen.
// Deviation (rst-at-window-edge): ABORT's RST (RFC 9293 §3.10.5) and the one that gives up
// after R2 (§3.8.3) say <SEQ=SND.NXT>; with it the peer ignores the RST and waits on a
// connection nobody answers.
// Deviation (ack-at-window-edge): RFC 9293 sends every ACK with <SEQ=SND.NXT> (§3.10.7.4, and
// §3.8.6.3 for delayed ones); with it a Linux peer that stopped reading drops all our ACKs of
// its data (tcp_sequence), never learns we have it and resends it for nothing, backing off.
Seq Connection::acceptable_seq() const {
  // Until our SYN is acknowledged the window says nothing about it: the SYN takes ISS whatever
  // the window (a SYN may offer a zero one).
  if (!syn_acked_) return tcb_.snd_nxt;
  const Seq window_edge = tcb_.snd_una + tcb_.snd_wnd;
  return window_edge < tcb_.snd_nxt ? window_edge : tcb_.snd_nxt;
}

void Connection::send_ack(std::string_view note) {
  wire::TcpSegment seg;
  seg.seq = acceptable_seq();
  seg.flags.ack = true;
  transmit(seg, nullptr, 0, 0, note);
}

void Connection::send_rst(Seq seq) {
  wire::TcpSegment seg;
  seg.seq = seq;
  seg.flags.rst = true;
  ++ctx_.stats.resets_sent;
  transmit(seg, nullptr, 0, 0, {});
}

void Connection::transmit(wire::TcpSegment& seg, const SendBuffer* data, size_t offset, size_t length,
                          std::string_view note) {
  seg.source_port = tuple_.local_port;
  seg.destination_port = tuple_.remote_port;
  if (seg.flags.ack) seg.ack = tcb_.rcv_nxt;
  // RFC 2018 §4: every ACK carries SACK blocks while we hold out-of-order data.
  if (!seg.flags.syn && !seg.flags.rst) add_timestamps(seg.options);
  if (seg.flags.ack && !seg.flags.syn && !seg.flags.rst) {
    add_sack_blocks(seg.options, length);
    // RFC 2883 §4: a duplicate is reported once (it leads, so it went if any block did).
    if (seg.options.sack_blocks > 0) dsack_.reset();
  }
  if (!seg.flags.rst) seg.window = window_to_advertise(seg.flags.syn);
  seg.payload = ctx_.emit(tuple_, seg, data, offset, length, !path_below_floor_);
  if (seg.flags.ack) {
    rcv_wup_ = tcb_.rcv_nxt;
    // Any segment carrying our ACK settles what we owed (RFC 9293 §3.8.6.3).
    ack_.now = false;
    ack_.unacked_bytes = 0;
    cancel(delayed_ack_timer_);
  }
  trace_segment(trace::Direction::Out, seg, note);
}

// The window field for the next segment (receive_window.hpp): receiver SWS avoidance (RFC 9293
// §3.8.6.2.2: move the right edge only by min(half the buffer, one MSS) or more), and a right
// edge that does not move left (§3.8.6, SHLD-14; RFC 7323 §2.4), rounded up to the scaling unit.
uint16_t Connection::window_to_advertise(bool syn) {
  size_t free = receive_.free();
  if (syn) {
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    auto w = static_cast<uint32_t>(std::min<size_t>(free, 65535));
    tcb_.rcv_wnd = w;
    rcv_adv_ = tcb_.rcv_nxt + w;
    return static_cast<uint16_t>(w);
  }
  uint8_t shift = tcb_.rcv_wscale;
  uint16_t field = receive_window_field({advertised_window(), free, receive_.room(), sws_threshold(), shift});
  Seq right = tcb_.rcv_nxt + (uint32_t{field} << shift);
  if (right > rcv_adv_) rcv_adv_ = right;
  tcb_.rcv_wnd = advertised_window();
  return field;
}

// RFC 9293 §3.8.6.2.2: the right edge moves by at least min(Fr * RCV.BUFF, Eff.snd.MSS), Fr = 1/2.
size_t Connection::sws_threshold() const { return std::min(receive_.capacity() / 2, size_t{tcb_.mss}); }

// Whether the application's read freed enough to tell the peer at once, in an ACK of its own
// (otherwise the new window rides on the next segment we send). Only if receiver SWS avoidance
// lets the edge move at all (§3.8.6.2.2); then if the window would open by a quarter of the
// buffer, or at least double (as Linux's tcp_cleanup_rbuf decides). The second rule matters
// after a small or zero window: the peer is stalled or nearly so, and without the update it
// would learn of the space only from its next persist probe (§3.8.6.1), up to a minute later.
// In a bulk transfer whose reader keeps up the window never falls to half, so neither rule
// adds an ACK per read.
bool Connection::window_update_worthwhile() const {
  if (fin_.peer_fin || tcb_.state == State::Closed) return false;
  size_t current = advertised_window();
  size_t available = std::min(receive_.free(), size_t{65535} << tcb_.rcv_wscale);
  if (available < current + sws_threshold()) return false;
  size_t cap = receive_.capacity();
  size_t step = std::min(cap / 2, std::max(size_t{2} * tcb_.mss, cap / 4));
  return available >= current + step || available >= 2 * current;
}

// RFC 9293 §3.8.6.3 and RFC 5681 §4.2: ACK at least every second full-sized segment, and
// never later than the delayed-ACK timeout after the first unacknowledged byte. "Full-sized" is
// what the peer really sends (peer_segment_size): with timestamps a full segment carries 12
// bytes less than the MSS, so twice the MSS would wait for a third segment.
//
// Deviation (ack-per-turn): that ACK goes at the end of the turn that read the segments
// (TcpHost::finish_turn), so the segments one wake-up reads from the link are acknowledged
// together rather than two by two, up to kMaxTurnAckBytes: what the next full segment would take
// past it is ACKed at once. Linux's TCP acknowledges the segments its GRO merged into one packet
// of up to 64 KiB the same way. Every ACK we send is a write() inside which the sender's kernel
// takes it and sends more: one per pair of segments was a third of the packets of an upload,
// and going by the speed-up without them, about half of its time. Data the application sends
// in that turn carries the ACK instead. The delayed-ACK timer stays armed meanwhile, so the ACK
// is never later than the delayed-ACK timeout, whatever happens to the turn. A segment worth two
// full ones is ACKed at once with whatever came before it, which may then pass 64 KiB, as on
// Linux.
void Connection::schedule_ack(bool immediately, size_t arrived) {
  const size_t full = ack_.peer_segment_size;
  // One segment worth two full ones (a super-packet the sender's TSO made, which --offload hands
  // us whole) is ACKed at once, as before and as Linux ACKs each GRO packet.
  if (immediately || !ctx_.config.delayed_ack || arrived >= 2 * full ||
      ack_.unacked_bytes + full > kMaxTurnAckBytes) {
    ack_.now = true;
    return;
  }
  if (!delayed_ack_timer_.armed()) arm(delayed_ack_timer_, ctx_.now + ctx_.config.delayed_ack_timeout);
  if (ack_.unacked_bytes >= 2 * full && !ack_.queued_for_turn_end) {
    ack_.queued_for_turn_end = true;  // the turn's end sends it (send_turn_end_ack)
    ctx_.acks_at_turn_end.push_back(tuple_);
  }
}

void Connection::note_segment_size(size_t length) {
  size_t full = std::min(ack_.peer_segment_size, size_t{ctx_.config.mss});
  ack_.last_segment_short = length < full;
  if (length >= full) ack_.peer_segment_size = std::min(length, size_t{ctx_.config.mss});
}

// RFC 9293 §3.8.6.3 (was RFC 1122 §4.2.3.2): ACKs SHOULD be delayed, by at most 500 ms, so
// sending one early is allowed. As Linux does, a delayed ACK goes at once when the application has
// taken every byte received and the last segment was short: that segment ended a write of the
// peer's, and if the peer writes again before our ACK, its Nagle algorithm (RFC 896, RFC 9293
// §3.7.4) holds the new segment until the ACK comes - 200 ms of our timer for a server that sends
// a header and a body in two writes. Only after a read, and only at the end of the application's
// turn (TcpHost::finish_turn): a reply or FIN it sends in that turn carries the ACK instead.
bool Connection::quick_ack_due() const {
  return delayed_ack_timer_.armed() && ack_.last_segment_short && receive_.readable() == 0;
}

void Connection::trace_segment(trace::Direction dir, const wire::TcpSegment& seg, std::string_view note) {
  if (!ctx_.tracer.enabled()) return;
  bool relative = tcb_.state != State::SynSent || dir == trace::Direction::Out;
  Seq irs = tcb_.irs;
  // In SYN-SENT the peer's ISN is not known yet, but a SYN (or SYN-ACK) carries it as its sequence
  // number (RFC 9293 §3.4), so it reads `S. 0:0(0) ack 1` like every later segment.
  if (tcb_.state == State::SynSent && dir == trace::Direction::In && seg.flags.syn) {
    relative = true;
    irs = seg.seq;
  }
  const bool resent = dir == trace::Direction::Out && resending_;
  ctx_.tracer.segment(ctx_.now,
                      trace::SegmentEvent{dir, tuple_, seg, relative, tcb_.iss, irs, note, resent});
}

}  // namespace tcplab::tcp
