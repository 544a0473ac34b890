// The transmission control block of RFC 9293 §3.3.1: the connection's sequence variables by
// their RFC names, plus the negotiated window scales (RFC 7323 §2) and segment size.
#pragma once
#include <cstdint>

#include "stack/seq.hpp"
#include "stack/tcp/state.hpp"

namespace tcplab::tcp {

struct Tcb {
  State state = State::Closed;

  // Send sequence variables (RFC 9293 §3.3.1, Table 2; the send sequence space is Figure 3).
  Seq snd_una;           // oldest unacknowledged sequence number
  Seq snd_nxt;           // next sequence number to send
  uint32_t snd_wnd = 0;  // peer's window in bytes, already scaled
  Seq snd_up;            // urgent pointer (unused: URG is ignored)
  Seq snd_wl1;           // SEG.SEQ of the segment that last updated the window
  Seq snd_wl2;           // SEG.ACK of the segment that last updated the window
  Seq iss;               // our initial send sequence number

  // Receive sequence variables (RFC 9293 §3.3.1, Table 3; the receive sequence space is Figure 4).
  Seq rcv_nxt;           // next sequence number expected
  uint32_t rcv_wnd = 0;  // window we last advertised, in bytes
  Seq rcv_up;            // urgent pointer (unused)
  Seq irs;               // the peer's initial sequence number

  // RFC 7323 §2: shift applied to the peer's window field (snd) and to ours (rcv);
  // both stay 0 unless both SYNs carried the option.
  uint8_t snd_wscale = 0;
  uint8_t rcv_wscale = 0;
  // RFC 9293 §3.7.1: effective MSS = min(peer's MSS option or 536, ours).
  uint16_t mss = 536;
};

}  // namespace tcplab::tcp
