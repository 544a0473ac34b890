// Path MTU discovery (RFC 1191) for one connection, with RFC 5927's defence against forged
// ICMP: every segment leaves with DF set, so a router that cannot forward it says
// "fragmentation needed" with its next-hop MTU; we lower the MSS and resend what is
// outstanding in the smaller size.
#include <algorithm>
#include <array>
#include <cstdio>

#include "stack/tcp/connection.hpp"
#include "stack/text/note_buffer.hpp"

namespace tcplab::tcp {
namespace {

constexpr uint16_t kIpTcpHeaders = 40;
// RFC 791 §3.1 (Total Length), RFC 1122 §3.3.2 (EMTU_R >= 576): every host takes 576-byte
// datagrams, so MSS 536 always gets through.
constexpr uint16_t kMinPathMtu = 576;
// RFC 1191 §7, Table 7-1: the plateaus to guess from when the router left the MTU field 0.
constexpr std::array<uint16_t, 11> kPlateaus{65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};

// RFC 1191 §5: "the greatest plateau value that is less than the returned Total Length
// field" of the datagram that was too big.
uint16_t plateau_below(uint16_t total_length) {
  for (uint16_t p : kPlateaus)
    if (p < total_length) return p;
  return kPlateaus.back();
}

}  // namespace

bool Connection::quote_in_flight(Seq quoted_seq, std::string_view what) {
  // RFC 5927 §4.1: an error about a segment we sent quotes a sequence number in
  // SND.UNA =< SEG.SEQ < SND.NXT; anything else is forged or stale and is ignored.
  if (tcb_.snd_una <= quoted_seq && quoted_seq < tcb_.snd_nxt) return true;
  ctx_.drop_quote_not_in_flight(what);
  return false;
}

void Connection::fragmentation_needed(Seq quoted_seq, uint16_t next_hop_mtu, uint16_t quoted_length) {
  if (!quote_in_flight(quoted_seq, "fragmentation needed")) return;
  uint16_t reported = next_hop_mtu != 0 ? next_hop_mtu : plateau_below(quoted_length);
  // Deviation (path-mtu-floor-576): RFC 1191 §3 lets the estimate fall to 68 bytes. Like
  // Linux (min_pmtu 552), we never go below 576 (MSS 536): a forged ICMP could otherwise
  // force 28-byte segments (RFC 5927 §7), and RFC 791 §3.1 / RFC 1122 §3.3.2 guarantee that
  // every host takes 576.
  // A path that really is smaller would then drop our 576-byte DF segments for ever (a black
  // hole), so a report below 576 also makes this connection stop setting DF, as RFC 1191 §3
  // allows and Linux does below its floor: the router fragments what it cannot forward whole.
  uint16_t mtu = std::max(reported, kMinPathMtu);
  bool df_off_now = reported < kMinPathMtu && !path_below_floor_;
  if (df_off_now) path_below_floor_ = true;
  // In SYN-SENT the peer's MSS is not known yet (the MSS is the 536 default until its SYN,ACK
  // comes, RFC 9293 §3.7.1): what the path allows is kept against our own MSS, and meets the
  // peer's in effective_mss() from then on.
  uint16_t before = tcb_.state == State::SynSent ? path_mss_.value_or(ctx_.config.mss) : effective_mss();
  uint16_t after = static_cast<uint16_t>(mtu - kIpTcpHeaders);
  bool lowered = after < before;
  auto trace = [&](const char* what) {
    if (!ctx_.tracer.enabled()) return;
    text::NoteBuffer note;
    ctx_.tracer.note(ctx_.now, &tuple_,
                     reported < kMinPathMtu
                         ? note.format("path MTU %u, below %u: %s, segments leave without DF",
                                       unsigned{reported}, unsigned{kMinPathMtu}, what)
                         : note.format("path MTU %u: %s", unsigned{reported}, what));
  };
  char what[32];
  if (!lowered) {
    std::snprintf(what, sizeof what, "MSS stays %u", unsigned{before});
    trace(what);
    // Deviation (path-mtu-never-raised): RFC 1191 §6.3 raises the estimate again after a
    // while (10 minutes); we only ever lower it, for the connection's life. A report that
    // allows more changes nothing (unless it is the first below 576: DF goes off, and what
    // is outstanding is resent without it below).
    if (!df_off_now) return;
  } else {
    std::snprintf(what, sizeof what, "MSS %u -> %u", unsigned{before}, unsigned{after});
    trace(what);
    // Deviation (path-mtu-per-connection): RFC 1191 §6.2 has the IP layer keep the estimate
    // per path (a per-host route), so every later connection to that host starts from it. We
    // keep it in this connection only: the next connection to the same host starts at its
    // full MSS and learns the path again from the ICMP its first too-big segments bring back.
    path_mss_ = after;
    ++ctx_.stats.path_mtu_reductions;
  }
  if (tcb_.state == State::SynSent || tcb_.state == State::SynReceived) return;  // SYNs are small
  congestion_.set_smss(send_mss());
  if (flight_size() == 0) return;
  // RFC 1191 §6.4: "the retransmission could be done in immediate response to a notification
  // that the Path MTU has changed", in a size "no larger than the new PMTU", and "a
  // retransmission caused by a Datagram Too Big message should not change the congestion
  // window. It should, however, trigger the slow-start mechanism (i.e., only one segment
  // should be retransmitted until acknowledgements begin to arrive again)." cwnd is left alone.
  // Deviation (path-mtu-resend-in-cwnd): not one segment but everything outstanding is resent
  // from SND.UNA in the new size, go-back-N as after a timeout, as far as cwnd allows, like
  // Linux's tcp_simple_retransmit: the path, not congestion, dropped them, and one segment
  // per round trip would take many round trips to resend a window that never reached the peer.
  scoreboard_.clear();
  start_go_back_n(tcb_.snd_una, tcb_.snd_nxt, "retransmission (path MTU)");
  arm(retransmission_timer_, ctx_.now + rto_.rto());
  output();
  deliver_events();
}

}  // namespace tcplab::tcp
