// RFC 9293 §3.10.7.4 first step, the segment acceptability test on its own: a pure function
// of four numbers, so it reads like the RFC's table and can be tested alone. What a connection
// does around it (SYN-RECEIVED repeats, the zero-window allowance, trimming) is in
// Connection::check_sequence (connection_input.cpp).
#pragma once
#include <cstdint>

#include "stack/seq.hpp"

namespace tcplab::tcp {

// RFC 9293 §3.10.7.4, "First, check sequence number":
//
//   There are four cases for the acceptability test for an incoming segment:
//
//   +=========+=========+======================================+
//   | Segment | Receive | Test                                 |
//   | Length  | Window  |                                      |
//   +=========+=========+======================================+
//   | 0       | 0       | SEG.SEQ = RCV.NXT                    |
//   +---------+---------+--------------------------------------+
//   | 0       | >0      | RCV.NXT =< SEG.SEQ <                 |
//   |         |         | RCV.NXT+RCV.WND                      |
//   +---------+---------+--------------------------------------+
//   | >0      | 0       | not acceptable                       |
//   +---------+---------+--------------------------------------+
//   | >0      | >0      | RCV.NXT =< SEG.SEQ <                 |
//   |         |         | RCV.NXT+RCV.WND                      |
//   |         |         |                                      |
//   |         |         | or                                   |
//   |         |         |                                      |
//   |         |         | RCV.NXT =< SEG.SEQ+SEG.LEN-1         |
//   |         |         | < RCV.NXT+RCV.WND                    |
//   +---------+---------+--------------------------------------+
//
//                Table 6: Segment Acceptability Tests
//
// SEG.LEN counts SYN and FIN (wire::TcpSegment::length()). All comparisons wrap (RFC 9293 §3.4).
constexpr bool segment_acceptable(uint32_t seg_len, uint32_t rcv_wnd, Seq seg_seq, Seq rcv_nxt) {
  Seq window_end = rcv_nxt + rcv_wnd;  // RCV.NXT+RCV.WND
  if (seg_len == 0 && rcv_wnd == 0) return seg_seq == rcv_nxt;
  if (seg_len == 0) return seq_in_half_open(rcv_nxt, seg_seq, window_end);
  if (rcv_wnd == 0) return false;
  return seq_in_half_open(rcv_nxt, seg_seq, window_end) ||
         seq_in_half_open(rcv_nxt, seg_seq + (seg_len - 1), window_end);
}

}  // namespace tcplab::tcp
