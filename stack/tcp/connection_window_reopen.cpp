// The peer shut its window (or shrank it) below data we had already sent, and an ACK opens it
// again. What was beyond the window when it shut never got in: resend it now, not when the
// retransmission timer, backed off by the zero-window probes it sent meanwhile, next fires.
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Called by update_send_window once SND.WND has been updated; `old_edge` is the right edge
// before the update (SND.WL2 + SND.WND), `old_window` the window then.
// RFC 1122 §4.2.2.16: a sender "MUST be robust against window shrinking", and then "SHOULD
// retransmit normally the old unacknowledged data between SND.UNA and SND.UNA+SND.WND"; RFC 9293
// §3.8.6 keeps the rule. The segments the retransmission timer sent while the window was zero
// were zero-window probes (§3.8.6.1, see retransmission_timeout), and this ACK is their
// answer: as when the persist timer probes (update_send_window, then output), data goes at once.
void Connection::window_reopened(Seq old_edge, uint32_t old_window) {
  if (!syn_acked_) return;
  const bool fin_outstanding = fin_.sent_seq && !fin_.acked;
  const Seq data_end = fin_outstanding ? *fin_.sent_seq : tcb_.snd_nxt;
  const Seq from = std::max(tcb_.snd_una, old_edge);
  if (!(from < data_end)) return;  // nothing we sent was beyond the window
  // A window that only seems to shrink by less than its scaling unit (RFC 7323 §2.3: the
  // receiver rounds it down) dropped nothing.
  if (old_window > 0 && seq_distance(from, data_end) < (size_t{1} << tcb_.snd_wscale)) return;
  const Seq new_edge = tcb_.snd_una + tcb_.snd_wnd;
  if (!(old_edge < new_edge)) return;  // the window did not open
  // Go-back-N from the old edge, as cwnd allows, like after a timeout (connection_recovery.cpp);
  // what was below that edge was inside the window the peer had offered, and may have reached it.
  // A recovery under way that had not yet resent as far as `from` goes on from where it was.
  const Seq resend_from = recovery_ == Recovery::None ? from : std::min(rtx_next_, from);
  start_go_back_n(resend_from, tcb_.snd_nxt, "retransmission (window reopened)");
  // RFC 6298 has no rule for this: its timer ran as the probe timer, backed off as RFC 1122
  // §4.2.2.17 wants probes to be (rto_.back_off_probe). Probing is over, so the RTO drops that
  // back-off (RtoEstimator::end_probing says why) and the timer restarts for the resent data as
  // for a first transmission (§5.1), as after persist probes (output arms it from a fresh RTO).
  rto_.end_probing();
  arm(retransmission_timer_, ctx_.now + rto_.rto());
}

}  // namespace tcplab::tcp
