// Loss recovery: resending data presumed lost, and the "pipe" (data believed to be in the
// network) that the congestion window limits. After a retransmission timeout everything
// that was outstanding and not SACKed is presumed lost (RFC 5681 §3.1: the sender then uses
// slow start from cwnd = 1 segment) and is resent in order as cwnd opens, as BSD and Linux
// do; with SACK, RFC 6675 §4-5 picks the holes to resend (NextSeg rules 1-4).
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Resends already-sent data from `seq`: one segment of at most `limit` bytes and one MSS,
// with our FIN if it reaches it. Returns the sequence space it covers (0: nothing to send).
uint32_t Connection::retransmit_at(Seq seq, size_t limit, std::string_view note) {
  bool fin_outstanding = fin_.sent_seq && !fin_.acked;
  Seq data_end = fin_outstanding ? *fin_.sent_seq : tcb_.snd_nxt;
  size_t available = seq < data_end ? seq_distance(seq, data_end) : 0;
  // Never past the next byte the peer SACKed: it holds those (unless SND.UNA itself is SACKed,
  // which only a reneging receiver makes happen - then resend as if nothing were).
  Seq sacked = scoreboard_.next_sacked(seq, data_end);
  if (seq < sacked) limit = std::min<size_t>(limit, seq_distance(seq, sacked));
  size_t len = std::min({available, send_mss(), limit});
  bool fin = fin_outstanding && seq + static_cast<uint32_t>(len) == *fin_.sent_seq;
  if (len == 0 && !fin) return 0;
  timed_seq_.reset();  // RFC 6298 §3 (Karn): no RTT sample across a retransmission
  ++retransmissions_;
  ++ctx_.stats.retransmissions;
  ctx_.stats.retransmitted_bytes += len;
  resending_ = true;
  send_data(seq, len, fin, note);
  resending_ = false;
  return static_cast<uint32_t>(len) + (fin ? 1u : 0u);
}

// The timer expired and the segment at SND.UNA (first_length long) has been resent.
void Connection::start_timeout_recovery(uint32_t first_length) {
  // Deviation (sack-kept-after-timeout): RFC 2018 §5.1 says that "when a retransmit timeout
  // occurs the data sender MUST ignore prior SACK information in determining which data to
  // retransmit" (the receiver may have reneged). Like Linux we keep the scoreboard and resend
  // only what the peer has not SACKed: RFC 6675 §5.1 notes that SACK information may be kept
  // across a timeout where reneging is tested for, and says "a SACK TCP sender SHOULD utilize
  // all SACK information made available during the loss recovery following an RTO". Our test:
  // SACKed data stays in the send buffer until cumulatively ACKed, and a cumulative ACK that
  // stops inside SACKed data clears the scoreboard and resends it (detect_reneging).
  start_go_back_n(tcb_.snd_una + first_length, tcb_.snd_nxt, "retransmission (after timeout)");
  if (!(rtx_next_ < rtx_end_)) recovery_ = Recovery::None;  // that segment was all there was
}

// Go-back-N: the data from `from` to `end` is presumed lost and goes again in order, as cwnd
// allows (send_recovery_segment), each segment traced with `note`. RFC 5681 §3.1 is why after a
// retransmission timeout: the sender then "uses the slow start algorithm" from one segment, and
// everything sent before the timeout is resent that way, not just the segment at SND.UNA that
// RFC 6298 §5.4 names (as BSD and Linux do). The other callers presume data lost for a reason
// of their own (a smaller path MTU, RFC 1191 §6.4; SACK reneging, RFC 2018 §8; a window that
// shut below it, RFC 1122 §4.2.2.16) and resend it the same way.
void Connection::start_go_back_n(Seq from, Seq end, const char* note) {
  rtx_next_ = from;
  rtx_end_ = end;
  recovery_ = Recovery::Timeout;
  go_back_note_ = note;
}

// RFC 6675 §5 steps 4.1-4.3: RecoveryPoint = HighData; the first segment has been resent.
void Connection::start_sack_recovery(uint32_t first_length) {
  rtx_next_ = tcb_.snd_una + first_length;
  rtx_end_ = tcb_.snd_nxt;
  recovery_ = Recovery::Sack;
  // RFC 6675 §5 step 4.3: "To prevent repeated retransmission of the same data or a premature
  // rescue retransmission, set both HighRxt and RescueRxt to the highest sequence number in
  // the retransmitted segment." (Both are kept here as the sequence number just after it.)
  rescue_rxt_ = rtx_next_;
}

// SND.UNA moved: whatever it covers needs no retransmission (the peer had it after all).
// RFC 6675 §5: recovery ends once the cumulative ACK reaches RecoveryPoint.
void Connection::recovery_ack() {
  if (recovery_ == Recovery::None) return;
  if (tcb_.snd_una >= rtx_end_) {
    recovery_ = Recovery::None;
    return;
  }
  if (rtx_next_ < tcb_.snd_una) rtx_next_ = tcb_.snd_una;
}

// Bytes in the network as far as the congestion window is concerned: RFC 6675 §4 SetPipe
// with a scoreboard, RFC 5681's FlightSize without one. SACKed bytes have left the network;
// bytes presumed lost have too, unless they were retransmitted.
size_t Connection::pipe() const {
  size_t flight = flight_size();
  switch (recovery_) {
    case Recovery::None:
      // Outside recovery cwnd limits FlightSize (RFC 5681 §3.1), even if some of it is
      // SACKed; RFC 3042 (Limited Transmit) lets the first two duplicate ACKs each add one
      // segment beyond it (send_one_data_segment), and RFC 6675 §5 uses the pipe only once
      // its recovery has started.
      return flight;
    case Recovery::Timeout: {
      // Resent so far, plus new data sent since; what still waits to be resent is lost.
      size_t resent = seq_distance(tcb_.snd_una, rtx_next_) - scoreboard_.sacked_in(tcb_.snd_una, rtx_next_);
      size_t fresh = seq_distance(rtx_end_, tcb_.snd_nxt) - scoreboard_.sacked_in(rtx_end_, tcb_.snd_nxt);
      return resent + fresh;
    }
    case Recovery::Sack: {
      size_t unsacked = flight - std::min(flight, scoreboard_.sacked_bytes());
      Seq lost_end = scoreboard_.lost_boundary(tcb_.snd_una, send_mss());
      size_t lost = seq_distance(tcb_.snd_una, lost_end) - scoreboard_.sacked_in(tcb_.snd_una, lost_end);
      size_t resent = seq_distance(tcb_.snd_una, rtx_next_) - scoreboard_.sacked_in(tcb_.snd_una, rtx_next_);
      // Resent bytes below the lost boundary were subtracted as lost and count again (RFC
      // 6675 §4: "if (S1 <= HighRxt) pipe++"); resent bytes above it were never lost.
      size_t resent_lost = std::min(resent, lost);
      return unsacked - lost + resent_lost + (resent - resent_lost);
    }
  }
  return flight;
}

// One retransmission of presumed-lost data if the congestion window has room for it:
// RFC 6675 §4 NextSeg, rule (1) here, (2) new data in send_one_data_segment, (3) and (4)
// below; after a timeout, go-back-N over what is not SACKed.
Connection::RecoverySend Connection::send_recovery_segment() {
  if (recovery_ == Recovery::None) return RecoverySend::Nothing;
  // RFC 6675 §4 NextSeg (1): the first byte above HighRxt that is not SACKed and is lost.
  Seq limit = recovery_ == Recovery::Timeout ? rtx_end_ : scoreboard_.lost_boundary(tcb_.snd_una, send_mss());
  Seq cursor = skip_sacked(std::max(rtx_next_, tcb_.snd_una), limit);
  rtx_next_ = std::max(rtx_next_, std::min(cursor, limit));
  const char* note = recovery_ == Recovery::Timeout ? go_back_note_ : "retransmission (SACK recovery)";
  if (!(cursor < limit) && recovery_ == Recovery::Sack && !new_data_sendable()) {
    // RFC 6675 §4 NextSeg (3): nothing is lost yet and rule (2) has no new data to send, so
    // an unSACKed hole below the highest SACKed byte goes anyway - otherwise a hole with
    // fewer than DupThresh segments SACKed above it would wait for the RTO.
    limit = scoreboard_.next_sacked_end(cursor);
    cursor = skip_sacked(cursor, limit);
    if (!(cursor < limit)) return send_rescue_segment();
  }
  if (!(cursor < limit)) return RecoverySend::Nothing;
  size_t hole = seq_distance(cursor, scoreboard_.next_sacked(cursor, limit));
  size_t room = std::min(recovery_room(hole), window_room_at(cursor));
  if (room == 0) return RecoverySend::Blocked;
  uint32_t sent = retransmit_at(cursor, std::min(room, hole), note);
  if (sent == 0) return RecoverySend::Nothing;
  rtx_next_ = cursor + sent;
  return RecoverySend::Sent;
}

// The first byte at or after `seq` (and below `limit`) that the peer has not SACKed.
Seq Connection::skip_sacked(Seq seq, Seq limit) const {
  while (seq < limit) {
    auto end = scoreboard_.sacked_range_end(seq);
    if (!end) break;
    seq = *end;  // SACKed: the peer holds it, skip it
  }
  return seq;
}

// RFC 6675 §5 step (C): a segment goes while "cwnd - pipe >= 1 SMSS" (or what is left to
// send, `wanted`, is smaller). Returns the room, 0 if that does not hold.
size_t Connection::recovery_room(size_t wanted) const {
  size_t in_pipe = pipe();
  size_t room = congestion_.cwnd() > in_pipe ? congestion_.cwnd() - in_pipe : 0;
  return room < std::min(send_mss(), wanted) ? 0 : room;
}

// RFC 1122 §4.2.2.16: after the peer shrank its window, "retransmit normally the old
// unacknowledged data between SND.UNA and SND.UNA+SND.WND" - resends, like new data, stay
// inside the window the peer offers now (RFC 9293 §3.8.6): a cwnd kept through answered
// zero-window probes must not pour the whole old flight into a window just reopened a little.
// The bytes from `seq` to the window's right edge; 0 at or beyond it (a FIN alone there waits
// for the window or the timer). Only go-back-N, SACK and rescue resends are held to it: the
// segment at SND.UNA that retransmit_first sends (a timeout, a fast retransmit) goes whole, as
// the probe of a shut or shrunk window (§4.2.2.16: "the TCP MUST probe it in the standard
// way"). §4.2.2.16 also lets a sender "retransmit old data beyond SND.UNA+SND.WND": holding the
// others at the edge is our choice, the one Linux's tcp_retransmit_skb makes.
size_t Connection::window_room_at(Seq seq) const {
  const Seq edge = tcb_.snd_una + tcb_.snd_wnd;
  return seq < edge ? seq_distance(seq, edge) : 0;
}

// RFC 6675 §4 NextSeg (2): "there exists available unsent data and the receiver's
// advertised window allows" (a FIN not yet sent counts: it needs no window).
bool Connection::new_data_sendable() const {
  if (fin_.close_requested && !fin_.sent_seq) return true;
  size_t unsent = unsent_bytes();
  size_t flight = flight_size();
  size_t window_room = tcb_.snd_wnd > flight ? tcb_.snd_wnd - flight : 0;
  return unsent > 0 && window_room >= std::min(unsent, send_mss());
}

// RFC 6675 §4 NextSeg (4), the rescue retransmission: rules (1)-(3) found nothing, yet
// unSACKed data is outstanding - typically the tail of a flight, lost with nothing sent
// after it to produce the duplicate ACKs that would reveal it. "If HighACK > RescueRxt (or
// RescueRxt is undefined), then one segment of up to SMSS octets that MUST include the
// highest outstanding unSACKed sequence number SHOULD be returned, and RescueRxt set to
// RecoveryPoint. HighRxt MUST NOT be updated." HighACK passes RescueRxt only once a partial
// ACK covers more than the first retransmission, and RecoveryPoint only when recovery ends:
// one rescue per recovery, so the ACK clock keeps going instead of stalling until the
// retransmission timer.
// Deviation (rescue-below-recovery-point): the rescue covers the highest unSACKed data sent
// before recovery began (below RecoveryPoint) and not yet retransmitted (above HighRxt), not
// the highest outstanding unSACKed byte overall: new data sent during recovery is most
// likely still in flight, a retransmission already resent is covered by the timer, and a
// rescue of either would usually be a spurious retransmission.
Connection::RecoverySend Connection::send_rescue_segment() {
  if (rescue_rxt_ && !(tcb_.snd_una > *rescue_rxt_)) return RecoverySend::Nothing;
  auto run = scoreboard_.highest_unsacked(std::max(tcb_.snd_una, rtx_next_), rtx_end_);
  if (!run) return RecoverySend::Nothing;
  size_t length = seq_distance(run->first, run->end);
  Seq from = length > send_mss() ? run->end - static_cast<uint32_t>(send_mss()) : run->first;
  size_t wanted = seq_distance(from, run->end);
  size_t room = std::min(recovery_room(wanted), window_room_at(from));
  if (room == 0) return RecoverySend::Blocked;
  if (retransmit_at(from, std::min(room, wanted), "rescue retransmission") == 0) return RecoverySend::Nothing;
  rescue_rxt_ = rtx_end_;  // RescueRxt = RecoveryPoint; HighRxt (rtx_next_) stays
  return RecoverySend::Sent;
}

}  // namespace tcplab::tcp
