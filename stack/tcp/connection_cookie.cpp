// A connection made from a SYN cookie (RFC 4987 §3.6): the TCB the SYN would have created,
// rebuilt from the final ACK and what the cookie remembered.
#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

void Connection::open_from_cookie(const wire::TcpSegment& ack, Seq iss, uint16_t mss) {
  // The SYN as the cookie remembers it: its sequence number (the ACK's SEQ - 1) and the MSS.
  // Window scale, SACK-permitted and timestamps were not offered in the cookie's SYN-ACK
  // (stack/tcp/syn_cookie.hpp), so take_syn_options leaves them off.
  wire::TcpSegment syn;
  syn.seq = ack.seq - 1;
  syn.flags.syn = true;
  syn.window = ack.window;
  syn.options.mss = mss;
  // RFC 9293 §3.10.7.2 third, as open_passive does, with the ISS the cookie carried and our
  // SYN-ACK already sent (SND.NXT = ISS + 1).
  tcb_.irs = syn.seq;
  tcb_.rcv_nxt = ack.seq;
  tcb_.iss = iss;
  tcb_.snd_una = iss;
  tcb_.snd_nxt = iss + 1;
  timestamps_.set_offset(iss.raw());
  take_syn_options(syn);
  // What the cookie's SYN-ACK advertised and acknowledged (the host sends the same window,
  // min(buffer, 65535), unscaled as in any SYN).
  window_to_advertise(true);
  rcv_wup_ = tcb_.rcv_nxt;
  ++ctx_.stats.passive_opens;
  tcb_.state = State::Listen;
  set_state(State::SynReceived, "RFC 4987 §3.6 (valid SYN cookie)");
  // The ACK now takes the ordinary SYN-RECEIVED path (§3.10.7.4 fifth) to ESTABLISHED, and
  // any data it carries is processed.
  segment_arrives(ack);
}

}  // namespace tcplab::tcp
