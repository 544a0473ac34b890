// Loss recovery: resending data presumed lost, and the "pipe" (data believed to be in the
// network) that the congestion window limits. After a retransmission timeout everything
// that was outstanding is presumed lost (RFC 5681 §3.1: the sender then uses slow start
// from cwnd = 1 segment) and is resent in order as cwnd opens, as BSD and Linux do.
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Resends already-sent data from `seq`: one segment of at most `limit` bytes and one MSS,
// with our FIN if it reaches it. Returns the sequence space it covers (0: nothing to send).
uint32_t Connection::retransmit_at(Seq seq, size_t limit, std::string_view note) {
  bool fin_outstanding = fin_.sent_seq && !fin_.acked;
  Seq data_end = fin_outstanding ? *fin_.sent_seq : tcb_.snd_nxt;
  size_t available = seq < data_end ? seq_distance(seq, data_end) : 0;
  size_t len = std::min({available, send_mss(), limit});
  bool fin = fin_outstanding && seq + static_cast<uint32_t>(len) == *fin_.sent_seq;
  if (len == 0 && !fin) return 0;
  timed_seq_.reset();  // RFC 6298 §3 (Karn): no RTT sample across a retransmission
  ++retransmissions_;
  ++ctx_.stats.retransmissions;
  ctx_.stats.retransmitted_bytes += len;
  send_data(seq, len, fin, note);
  return static_cast<uint32_t>(len) + (fin ? 1u : 0u);
}

// The timer expired and the segment at SND.UNA (first_length long) has been resent.
void Connection::start_timeout_recovery(uint32_t first_length) {
  // RFC 2018 §8: "the data sender MUST ignore prior SACK information in determining which
  // data to retransmit" after a timeout - the receiver may have reneged.
  scoreboard_.clear();
  rtx_next_ = tcb_.snd_una + first_length;
  rtx_end_ = tcb_.snd_nxt;
  recovery_ = rtx_next_ < rtx_end_ ? Recovery::Timeout : Recovery::None;
}

// RFC 6675 §5 steps 4.1-4.3: RecoveryPoint = HighData; the first segment has been resent.
void Connection::start_sack_recovery(uint32_t first_length) {
  rtx_next_ = tcb_.snd_una + first_length;
  rtx_end_ = tcb_.snd_nxt;
  recovery_ = Recovery::Sack;
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
      // Deviation (no-limited-transmit): outside recovery cwnd limits FlightSize (RFC 5681),
      // even if some of it is SACKed; Limited Transmit (RFC 3042) is not implemented.
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

// One retransmission of presumed-lost data if the congestion window has room for it.
Connection::RecoverySend Connection::send_recovery_segment() {
  if (recovery_ == Recovery::None) return RecoverySend::Nothing;
  // RFC 6675 §4 NextSeg (1): the first byte above HighRxt that is not SACKed and is lost.
  Seq limit = recovery_ == Recovery::Timeout ? rtx_end_ : scoreboard_.lost_boundary(tcb_.snd_una, send_mss());
  Seq cursor = std::max(rtx_next_, tcb_.snd_una);
  while (cursor < limit) {
    auto end = scoreboard_.sacked_range_end(cursor);
    if (!end) break;
    cursor = *end;  // SACKed: the peer holds it, skip it
  }
  rtx_next_ = std::max(rtx_next_, std::min(cursor, limit));
  bool new_data_waits = unsent_bytes() > 0 || (fin_.close_requested && !fin_.sent_seq);
  if (!(cursor < limit) && recovery_ == Recovery::Sack && !new_data_waits) {
    // Deviation (nextseg-rules-3-4): NextSeg (3) is used only when no new data waits at all
    // (not when the peer's window holds it back), and rule (4), the rescue retransmission,
    // is not implemented.
    // RFC 6675 §4 NextSeg (3): nothing is lost yet and there is no new data (rule 2), so an
    // unSACKed hole below the highest SACKed byte goes anyway - otherwise a hole with fewer
    // than DupThresh segments SACKed above it would wait for the RTO.
    limit = scoreboard_.next_sacked_end(cursor);
    while (cursor < limit) {
      auto end = scoreboard_.sacked_range_end(cursor);
      if (!end) break;
      cursor = *end;
    }
  }
  if (!(cursor < limit)) return RecoverySend::Nothing;
  size_t hole = seq_distance(cursor, scoreboard_.next_sacked(cursor, limit));
  size_t in_pipe = pipe();
  size_t room = congestion_.cwnd() > in_pipe ? congestion_.cwnd() - in_pipe : 0;
  // RFC 6675 §5 step (C): send while "cwnd - pipe >= 1 SMSS" (or what is left is smaller).
  if (room < std::min(send_mss(), hole)) return RecoverySend::Blocked;
  const char* note =
      recovery_ == Recovery::Timeout ? "retransmission (after timeout)" : "retransmission (SACK recovery)";
  uint32_t sent = retransmit_at(cursor, std::min(room, hole), note);
  if (sent == 0) return RecoverySend::Nothing;
  rtx_next_ = cursor + sent;
  return RecoverySend::Sent;
}

}  // namespace tcplab::tcp
