// Connection::snapshot and TcpHost::snapshot: copy a TCB out for inspectors (tcb_snapshot.hpp).
#include "stack/tcp/tcb_snapshot.hpp"

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

TcbSnapshot Connection::snapshot() const {
  TcbSnapshot s;
  s.tuple = tuple_;
  s.state = tcb_.state;
  s.iss = tcb_.iss;
  s.irs = tcb_.irs;
  s.snd_una = tcb_.snd_una;
  s.snd_nxt = tcb_.snd_nxt;
  s.rcv_nxt = tcb_.rcv_nxt;
  s.snd_wnd = tcb_.snd_wnd;
  s.rcv_wnd = tcb_.rcv_wnd;
  s.rto = rto_.rto();
  s.cwnd = congestion_.cwnd();
  s.ssthresh = congestion_.ssthresh();
  s.srtt = rto_.srtt();
  s.send_mss = send_mss();
  for (const Timer* t : timers())
    if (t->armed()) s.timers.push_back({t->name, *t->deadline});
  return s;
}

}  // namespace tcplab::tcp
