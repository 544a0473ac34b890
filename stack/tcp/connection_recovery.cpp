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
  bool fin_outstanding = fin_seq_ && !fin_acked_;
  Seq data_end = fin_outstanding ? *fin_seq_ : tcb_.snd_nxt;
  size_t available = seq < data_end ? seq_distance(seq, data_end) : 0;
  size_t len = std::min({available, send_mss(), limit});
  bool fin = fin_outstanding && seq + static_cast<uint32_t>(len) == *fin_seq_;
  if (len == 0 && !fin) return 0;
  timed_seq_.reset();  // RFC 6298 §3 (Karn): no RTT sample across a retransmission
  ++retransmissions_;
  ++ctx_.stats.retransmissions;
  send_data(seq, len, fin, note);
  return static_cast<uint32_t>(len) + (fin ? 1u : 0u);
}

// The timer expired and the segment at SND.UNA (first_length long) has been resent.
void Connection::start_timeout_recovery(uint32_t first_length) {
  rtx_next_ = tcb_.snd_una + first_length;
  rtx_end_ = tcb_.snd_nxt;
  timeout_recovery_ = rtx_next_ < rtx_end_;
}

// SND.UNA moved: whatever it covers needs no retransmission (the peer had it after all).
void Connection::recovery_ack() {
  if (!timeout_recovery_) return;
  if (tcb_.snd_una >= rtx_end_) {
    timeout_recovery_ = false;
    return;
  }
  if (rtx_next_ < tcb_.snd_una) rtx_next_ = tcb_.snd_una;
}

// Bytes in the network as far as the congestion window is concerned (RFC 6675 §2 "pipe";
// RFC 5681's FlightSize outside recovery). After a timeout, data not yet resent is presumed
// lost and does not count.
size_t Connection::pipe() const {
  if (!timeout_recovery_) return flight_size();
  return seq_distance(tcb_.snd_una, rtx_next_) + seq_distance(rtx_end_, tcb_.snd_nxt);
}

// One retransmission of presumed-lost data if the congestion window has room for it.
bool Connection::send_recovery_segment() {
  size_t remaining = seq_distance(rtx_next_, rtx_end_);
  size_t in_pipe = pipe();
  size_t room = congestion_.cwnd() > in_pipe ? congestion_.cwnd() - in_pipe : 0;
  // RFC 6675 §5 step (C): send while "cwnd - pipe >= 1 SMSS" (or what is left is smaller).
  if (room < std::min(send_mss(), remaining)) return false;
  uint32_t sent = retransmit_at(rtx_next_, room, "retransmission (after timeout)");
  rtx_next_ += sent;
  if (rtx_next_ >= rtx_end_) rtx_next_ = rtx_end_;
  return sent > 0;
}

}  // namespace tcplab::tcp
