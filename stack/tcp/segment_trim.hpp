// RFC 9293 §3.10.7.4 first step, after the acceptability test: "trimming off any portions that
// lie outside the window (including SYN and FIN)", so the later steps see the idealized
// segment. Shared by a Connection and a compact TIME-WAIT record.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "stack/seq.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::tcp {

// RFC 9293 §3.10.7.4 checks the RST bit (second) before the SYN (fourth) and long before the
// FIN (eighth), so a RST+FIN or SYN+RST is a RST and its SYN or FIN is never acted on; without
// them the RST takes no sequence space, as the first step's zero-window allowance for RSTs
// and RFC 5961 §3.2's test on SEG.SEQ alone want.
inline void drop_syn_fin_of_rst(wire::TcpSegment& seg) {
  if (!seg.flags.rst) return;
  seg.flags.syn = false;
  seg.flags.fin = false;
}

// What trim_front cut: `payload` bytes of text from `seq` on (RFC 2883 §4 reports them as a
// duplicate), and whether anything at all was cut (a SYN alone counts).
struct FrontTrim {
  bool trimmed = false;
  Seq seq;
  size_t payload = 0;
};

// Cuts what was already received, before RCV.NXT, off the front; a SYN there goes first.
inline FrontTrim trim_front(wire::TcpSegment& seg, Seq rcv_nxt) {
  if (!(seg.seq < rcv_nxt)) return {};
  uint32_t cut = seq_distance(seg.seq, rcv_nxt);
  if (seg.flags.syn) {
    seg.flags.syn = false;
    seg.seq += 1;
    --cut;
  }
  FrontTrim t{true, seg.seq, std::min<size_t>(cut, seg.payload.size())};
  seg.payload = seg.payload.subspan(t.payload);
  seg.seq += static_cast<uint32_t>(t.payload);
  return t;
}

// Cuts what lies beyond the window's right edge off the back, and the FIN with it. Returns
// whether anything was cut.
// Deviation (fin-at-window-edge): a FIN right after text that fills the window exactly stays,
// although it lies at RCV.NXT + RCV.WND, outside the window RFC 9293 §3.10.7.4 trims to
// ("including SYN and FIN"): it takes no buffer space, and Linux, which queues an in-order
// segment whole while its window is open, takes it too. A bare FIN sent into the zero window
// that follows is still refused (zero_window_allowance).
inline bool trim_back(wire::TcpSegment& seg, Seq window_end) {
  uint32_t room = seq_distance(seg.seq, window_end);
  if (seg.payload.size() <= room) return false;
  seg.payload = seg.payload.first(room);
  seg.flags.fin = false;
  return true;
}

}  // namespace tcplab::tcp
