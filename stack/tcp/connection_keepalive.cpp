// TCP keep-alive (RFC 9293 §3.8.4, was RFC 1122 §4.2.3.6), off unless --tcp-keepalive asks
// for it: after IDLE with nothing from the peer, a probe every INTERVAL - an ACK with
// SEG.SEQ = SND.NXT - 1 and no data, which any live peer must answer with an ACK (it lies
// before its window) - and after COUNT unanswered probes a RST and on_closed(TimedOut), as
// Linux does.
// Deviation (keepalive-stack-wide): RFC 9293 §3.8.4 (MUST-25) wants the application able to
// turn keep-alives on or off for each connection; here one setting (--tcp-keepalive, a
// script's `keepalive` config) covers every connection of the stack, off by default (MUST-26).
#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

void Connection::start_keepalive() {
  last_heard_ = ctx_.now;
  keepalive_probes_ = 0;
  if (ctx_.config.keepalive) arm(keepalive_timer_, ctx_.now + ctx_.config.keepalive->idle);
}

void Connection::keepalive_timeout() {
  const auto& ka = *ctx_.config.keepalive;
  // Probing is for a connection that waits on its peer; in the closing states the
  // retransmission and TIME-WAIT timers already bound its life.
  if (tcb_.state != State::Established && tcb_.state != State::CloseWait) return;
  // "Keep-alive packets MUST only be sent when no data or acknowledgement packets have been
  // received for the connection within an interval": heard since? wait for the rest of it.
  if (keepalive_probes_ == 0 && ctx_.now - last_heard_ < ka.idle) {
    arm(keepalive_timer_, last_heard_ + ka.idle);
    return;
  }
  // Data outstanding or waiting: the retransmission and persist timers watch the peer.
  if (flight_size() > 0 || unsent_bytes() > 0 || persist_.probing) {
    arm(keepalive_timer_, ctx_.now + ka.idle);
    return;
  }
  if (keepalive_probes_ >= ka.count) {
    ++ctx_.stats.timeouts;
    send_rst(tcb_.snd_nxt);
    close_connection(CloseReason::TimedOut, "RFC 9293 §3.8.4 (keep-alive: probes unanswered)");
    return;
  }
  // RFC 1122 §4.2.3.6 (now RFC 9293 §3.8.4): "Such a segment generally contains SEG.SEQ =
  // SND.NXT-1 and may or may not contain one garbage octet of data." Ours carries none; the
  // garbage octet was for old stacks that ignore a probe without data - no current peer does.
  wire::TcpSegment probe;
  probe.seq = tcb_.snd_nxt - 1u;
  probe.flags.ack = true;
  ++keepalive_probes_;
  transmit(probe, nullptr, 0, 0, "keep-alive probe");
  arm(keepalive_timer_, ctx_.now + ka.interval);
}

}  // namespace tcplab::tcp
