// A read-only copy of one connection's TCB and the variables around it (RTO, congestion
// window, armed timers), taken at any moment for step mode and other inspectors. Copying the
// values out keeps inspectors from reaching into a live Connection. A connection in TIME-WAIT
// held as a compact record (time_wait.hpp) keeps no congestion state: cwnd and ssthresh read 0.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "stack/four_tuple.hpp"
#include "stack/seq.hpp"
#include "stack/tcp/state.hpp"
#include "stack/time.hpp"

namespace tcplab::tcp {

struct TcbSnapshot {
  FourTuple tuple;
  State state = State::Closed;
  // RFC 9293 §3.3.1 variables, raw (absolute) sequence numbers; iss/irs allow relative ones.
  Seq iss, irs;
  Seq snd_una, snd_nxt, rcv_nxt;
  uint32_t snd_wnd = 0;   // bytes, after scaling
  uint32_t rcv_wnd = 0;   // bytes, as last advertised
  Duration rto{};         // RFC 6298 retransmission timeout
  // False for a compact TIME-WAIT or FIN-WAIT-2 record: nothing is left to send, so it keeps
  // no congestion state, and cwnd and ssthresh read 0 without meaning a window of 0.
  bool congestion_kept = true;
  uint64_t cwnd = 0;      // RFC 5681 congestion window, bytes
  uint64_t ssthresh = 0;  // RFC 5681 slow start threshold, bytes (SIZE_MAX: not yet set)
  Duration srtt{};        // RFC 6298 smoothed round-trip time (0 before the first sample)
  size_t send_mss = 0;    // RFC 9293 §3.7.1 effective send MSS, bytes
  struct ArmedTimer {
    // "retransmission", "persist", "delayed-ack", "fin-wait-2", "keep-alive", "time-wait"
    std::string_view name;
    Instant deadline;
  };
  std::vector<ArmedTimer> timers;  // only the armed ones
};

}  // namespace tcplab::tcp
