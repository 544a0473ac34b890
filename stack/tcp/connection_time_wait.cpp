// Connection::time_wait_record: what a connection in TIME-WAIT hands to the host's
// TimeWaitTable (time_wait.hpp) so that the rest of it can be freed; and the part of it a
// released FIN-WAIT-2 connection shares (connection_fin_wait_2.cpp).
#include <algorithm>
#include <cstdint>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Nothing owed or held that a record could not answer for: our FIN acknowledged, no timer
// but `kept` (and `also`, if given), no ACK pending, no bytes in either buffer (so no SACK
// blocks), and segments leaving with DF as a record's do.
bool Connection::holds_only(const Timer& kept, const Timer* also) const {
  if (tcb_.snd_una != tcb_.snd_nxt || !kept.armed() || ack_.now || ack_.window_update_owed) return false;
  for (const Timer* t : {&retransmission_timer_, &persist_timer_, &delayed_ack_timer_, &time_wait_timer_,
                         &fin_wait_2_timer_, &keepalive_timer_, &linger_timer_})
    if (t != &kept && t != also && t->armed()) return false;
  if (send_.size() > 0 || receive_.readable() > 0 || receive_.has_out_of_order()) return false;
  return !path_below_floor_ && !persist_.probing;
}

std::optional<TimeWaitRecord> Connection::time_wait_record() const {
  // The application has had on_closed (or let go) and holds no pointer to us any more.
  if (tcb_.state != State::TimeWait || finished_ || handler_ != nullptr || events_.delivering ||
      !events_.closed_delivered)
    return std::nullopt;
  if (!holds_only(time_wait_timer_)) return std::nullopt;
  return compact_record(time_wait_timer_);
}

std::optional<TimeWaitRecord> Connection::time_wait_for_reopen() const {
  if (tcb_.state != State::TimeWait || !time_wait_timer_.armed()) return std::nullopt;
  return compact_record(time_wait_timer_);
}

TimeWaitRecord Connection::compact_record(const Timer& kept) const {
  TimeWaitRecord r;
  r.tuple = tuple_;
  r.state = tcb_.state;
  r.iss = tcb_.iss;
  r.irs = tcb_.irs;
  r.snd_nxt = tcb_.snd_nxt;
  r.rcv_nxt = tcb_.rcv_nxt;
  r.rcv_adv = rcv_adv_;
  r.rcv_wup = rcv_wup_;
  r.snd_wl1 = tcb_.snd_wl1;
  r.snd_wl2 = tcb_.snd_wl2;
  r.snd_wnd = tcb_.snd_wnd;
  r.max_snd_wnd = max_snd_wnd_;
  r.mss = tcb_.mss;
  r.snd_wscale = tcb_.snd_wscale;
  r.rcv_wscale = tcb_.rcv_wscale;
  r.sack_ok = sack_ok_;
  r.timestamps = timestamps_;
  r.expiry = *kept.deadline;
  r.invalid_ack_clock = invalid_ack_clock_;
  r.challenge_ack_clock = challenge_ack_clock_;
  auto micros = [](Duration d) {
    auto us = std::chrono::round<microseconds>(d).count();
    return static_cast<uint32_t>(std::clamp<decltype(us)>(us, 0, UINT32_MAX));
  };
  r.srtt_us = micros(rto_.srtt());
  r.rto_us = micros(rto_.rto());
  r.bytes_received = bytes_received_;
  r.bytes_sent = bytes_sent_;
  r.retransmissions = retransmissions_;
  r.send_mss = static_cast<uint16_t>(send_mss());
  return r;
}

}  // namespace tcplab::tcp
