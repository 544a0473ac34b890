// The receive window we advertise: receiver silly window avoidance (RFC 9293 §3.8.6.2.2), a
// right edge that does not move left (§3.8.6, SHLD-14) and the granularity of window scaling
// (RFC 7323 §2.4). Shared by a Connection and a compact TIME-WAIT record, so both answer alike.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace tcplab::tcp {

// A scaled window field counts units of 2^shift bytes, so a window that is not a multiple of
// the unit is rounded up to keep its right edge (RFC 7323 §2.4 and its Appendix F). The receive
// buffer keeps this many bytes beyond its capacity so that the rounding promises only what it
// can hold: the window itself never counts them.
constexpr size_t scaling_headroom(uint8_t shift) { return (size_t{1} << shift) - 1; }

struct ReceiveWindowInputs {
  size_t current;    // RCV.WND as the peer knows it: our last right edge less RCV.NXT
  size_t free;       // receive buffer space after RCV.NXT, within its capacity
  size_t room;       // what the buffer can hold after RCV.NXT, headroom included
  size_t threshold;  // min(Fr * RCV.BUFF, Eff.snd.MSS), Fr = 1/2 (§3.8.6.2.2)
  uint8_t shift;     // Rcv.Wind.Shift (RFC 7323 §2.3)
};

// The window field of a segment other than a SYN.
inline uint16_t receive_window_field(const ReceiveWindowInputs& in) {
  const size_t unit = size_t{1} << in.shift;
  const size_t largest = size_t{65535} << in.shift;
  // RFC 9293 §3.8.6.2.2: the right edge moves right only by the threshold or more; the field
  // is rounded down, so the new edge stays inside the buffer.
  size_t available = std::min(in.free, largest);
  size_t opened = available >= in.current + in.threshold ? available / unit * unit : 0;
  // §3.8.6: the edge stays where it was, rounded up to a whole unit (RFC 7323 §2.4: rounding
  // down would move it left by up to 2^shift - 1 bytes).
  // Deviation (scaled-window-retraction): when the buffer, headroom included, cannot hold even
  // that (earlier roundings used the headroom while the application did not read), the window
  // field is rounded down: RFC 7323 Appendix F's retracted window, by less than one unit,
  // where RFC 9293 §3.8.6 (SHLD-14) says a receiver SHOULD NOT shrink the window. RFC 7323
  // §2.4 expects such a retraction and requires, (1), "The receiver MUST honor, as in window,
  // any segment that would have been in window for any <ACK> sent by the receiver": we do, as
  // the edge the sequence check uses (RCV.NXT + RCV.WND, Connection::window_to_advertise)
  // never moves left, and the bytes up to it fit in the buffer, whose room held it before.
  size_t kept = (in.current + unit - 1) / unit * unit;
  if (kept > in.room) kept = in.current / unit * unit;
  return static_cast<uint16_t>(std::min(std::max(opened, kept), largest) >> in.shift);
}

}  // namespace tcplab::tcp
