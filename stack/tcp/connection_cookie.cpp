// A connection made from a SYN cookie (RFC 4987 §3.6): the TCB the SYN would have created,
// rebuilt from the final ACK and what the cookie remembered.
#include "stack/tcp/connection.hpp"
#include "stack/tcp/syn_cookie.hpp"

namespace tcplab::tcp {

void Connection::open_from_cookie(const wire::TcpSegment& ack, Seq iss, const SynCookieContents& cookie) {
  // The SYN as the cookie remembers it: its sequence number (the ACK's SEQ - 1), the MSS,
  // and the options our cookie SYN-ACK offered back (stack/tcp/syn_cookie.hpp), so that
  // take_syn_options agrees to exactly what that SYN-ACK agreed to.
  wire::TcpSegment syn;
  syn.seq = ack.seq - 1;
  syn.flags.syn = true;
  syn.window = ack.window;
  syn.options.mss = cookie.mss;
  syn.options.window_scale = cookie.options.window_shift;
  syn.options.sack_permitted = cookie.options.sack_permitted;
  // RFC 7323 §3.2: timestamps are on when both SYNs carried them. TS.Recent starts at the
  // ACK's TSval instead of the SYN's, which the cookie did not keep: it is the peer's latest
  // and not older, so the ACK passes PAWS (§5.3 R1) and its TSval is echoed next.
  if (cookie.options.timestamps && ack.options.timestamps)
    syn.options.timestamps = wire::TcpTimestamps{ack.options.timestamps->value, 0};
  // RFC 9293 §3.10.7.2 third, as open_passive does, with the ISS the cookie carried and our
  // SYN-ACK already sent (SND.NXT = ISS + 1).
  tcb_.irs = syn.seq;
  tcb_.rcv_nxt = ack.seq;
  tcb_.iss = iss;
  tcb_.snd_una = iss;
  tcb_.snd_nxt = iss + 1;
  // The cookie's SYN-ACK TSval came from this same clock (SynCookies::tsval).
  timestamps_.set_offset(iss.raw());
  take_syn_options(syn);
  // The cookie's TSval was rounded down by up to 31 ms to carry the option bits, so the
  // ACK's echo overstates the handshake RTT: take no sample from it; the first RFC 7323
  // §4.1 sample comes from the first ACK of data.
  if (timestamps_.enabled()) ts_sampled_until_ = iss + 1;
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
