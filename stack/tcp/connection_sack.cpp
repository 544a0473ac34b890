// Selective acknowledgment (RFC 2018) for one connection, both ways: as receiver, the SACK
// blocks our ACKs carry while we hold out-of-order data (§4), led by a D-SACK block when a
// segment brought data we already had (RFC 2883); as sender, the blocks the peer reports,
// recorded on the scoreboard that RFC 6675 recovery reads (connection_recovery.cpp).
#include <algorithm>
#include <string>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Sender: RFC 2018 §3 / RFC 6675 §5, record the blocks of an acceptable ACK. Returns the
// bytes SACKed for the first time (RFC 3042 §2 and RFC 6675 ask whether an ACK brought "new
// SACK information").
size_t Connection::take_sack_blocks(const wire::TcpSegment& seg) {
  if (!sack_ok_ || seg.options.sack_blocks == 0) return 0;
  size_t n = std::min<size_t>(seg.options.sack_blocks, wire::kMaxSackBlocks);
  std::span blocks(seg.options.sack.data(), n);
  // RFC 2883 §4: a D-SACK first block reports a duplicate the peer received - no new SACK
  // information, and nothing to put on the scoreboard (the block after it covers it if it
  // lies above SND.UNA).
  if (SackScoreboard::first_is_dsack(blocks, seg.ack)) {
    const auto& first = blocks[0];
    if (ctx_.tracer.enabled())
      ctx_.tracer.note(ctx_.now, &tuple_,
                       "D-SACK " + std::to_string(seq_distance(tcb_.iss, first.left)) + ":" +
                           std::to_string(seq_distance(tcb_.iss, first.right)) +
                           " (RFC 2883: the peer received these bytes twice; not new SACK "
                           "information, not reneging)");
    blocks = blocks.subspan(1);
    peer_sends_sack_blocks_ = true;
  }
  auto update = scoreboard_.add(blocks, tcb_.snd_una, tcb_.snd_nxt);
  // Only blocks that make sense show a peer that reports with SACK (count_duplicate_ack): one
  // whose blocks all fall outside our data (a middlebox that rewrote sequence numbers but not
  // the blocks) keeps RFC 5681's count, or no loss would ever be found but by the timer.
  if (update.ignored < blocks.size()) peer_sends_sack_blocks_ = true;
  if (update.ignored > 0 && ctx_.tracer.enabled())
    ctx_.tracer.note(
        ctx_.now, &tuple_,
        "SACK block outside SND.UNA..SND.NXT ignored (our reading of RFC 2018 §3: a block "
        "reports data received, so it must lie in data in flight)");
  return update.newly_sacked;
}

// Sender: RFC 2018 §8, "the data receiver is permitted to discard data in its queue that
// has not been acknowledged to the data sender, even if the data has already been reported
// in a SACK option" (reneging). A new
// cumulative ACK that stops at or inside data the peer SACKed shows it did: a receiver still
// holding that data would have acknowledged past it. The scoreboard is then wrong, so it is
// cleared, and a recovery under way resends in order from the new SND.UNA (go-back-N), as
// after a timeout. Called before the ACK's own blocks are recorded.
void Connection::detect_reneging(Seq ack) {
  if (!scoreboard_.sacked_range_end(ack)) return;
  scoreboard_.clear();
  if (ctx_.tracer.enabled())
    ctx_.tracer.note(ctx_.now, &tuple_,
                     "SACK reneging: the cumulative ACK stops inside SACKed data; scoreboard "
                     "cleared, that data goes again (RFC 2018 §8)");
  if (recovery_ == Recovery::None) return;
  start_go_back_n(ack, rtx_end_, "retransmission (SACK reneging)");  // recovery's end stays
}

// Receiver: an out-of-order segment starting at `seq` arrived; it leads the next SACK option.
void Connection::remember_out_of_order(Seq seq) {
  auto* begin = sack_recent_.data();
  auto* end = begin + sack_recent_count_;
  auto* found = std::find(begin, end, seq);
  if (found == end) {
    if (sack_recent_count_ < sack_recent_.size()) ++sack_recent_count_;
    found = begin + sack_recent_count_ - 1;
  }
  std::rotate(begin, found, found + 1);  // most recent first
  *begin = seq;
}

// Receiver: RFC 2883 §4, the segment's text [seq, seq + length) (not yet stored) may repeat
// bytes we hold: below RCV.NXT, or in an out-of-order block. The first such contiguous run
// becomes the D-SACK block of our next ACK ("each duplicate contiguous sequence of data
// received is reported in at most one D-SACK block"). Only with SACK in use (RFC 2883 §4:
// D-SACK is an extension of RFC 2018).
void Connection::note_duplicate(Seq seq, size_t length) {
  if (!sack_ok_ || length == 0 || dsack_) return;
  Seq end = seq + static_cast<uint32_t>(length);
  if (seq < tcb_.rcv_nxt) {
    dsack_ = wire::SackBlock{seq, std::min(end, tcb_.rcv_nxt)};
  } else {
    size_t from = seq_distance(tcb_.rcv_nxt, seq), to = from + length;
    for (const auto& r : receive_.out_of_order_ranges()) {
      size_t lo = std::max(r.begin, from), hi = std::min(r.end, to);
      if (lo < hi) {
        dsack_ = wire::SackBlock{tcb_.rcv_nxt + static_cast<uint32_t>(lo),
                                 tcb_.rcv_nxt + static_cast<uint32_t>(hi)};
        break;
      }
    }
  }
  if (dsack_ && ctx_.tracer.enabled())
    ctx_.tracer.note(ctx_.now, &tuple_,
                     "D-SACK " + std::to_string(seq_distance(tcb_.irs, dsack_->left)) + ":" +
                         std::to_string(seq_distance(tcb_.irs, dsack_->right)) +
                         " (RFC 2883 §4: these bytes arrived twice; our ACK reports them first)");
}

// RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data
// containing the segment which triggered this ACK"; the others repeat the most recently
// reported blocks, then the rest. RFC 2883 §4: a D-SACK block goes before all of them, and
// the block holding the duplicate (if above RCV.NXT) follows it even when the two are equal,
// so the sender can tell. emit_tcp keeps as many as fit (3 beside timestamps).
void Connection::add_sack_blocks(wire::TcpOptions& options, size_t payload) const {
  const auto& ranges = receive_.out_of_order_ranges();
  if (!sack_ok_ || (ranges.empty() && !dsack_)) return;
  uint8_t n = 0;
  if (dsack_) options.sack[n++] = *dsack_;
  const uint8_t first_regular = n;
  auto add_range = [&](size_t index) {
    wire::SackBlock b{tcb_.rcv_nxt + static_cast<uint32_t>(ranges[index].begin),
                      tcb_.rcv_nxt + static_cast<uint32_t>(ranges[index].end)};
    for (uint8_t i = first_regular; i < n; ++i) {
      if (options.sack[i] == b) return;
    }
    if (n < wire::kMaxSackBlocks) options.sack[n++] = b;
  };
  for (size_t r = 0; r < sack_recent_count_ && n < wire::kMaxSackBlocks; ++r) {
    Seq s = sack_recent_[r];
    if (s < tcb_.rcv_nxt) continue;  // delivered since: no longer out of order
    size_t offset = seq_distance(tcb_.rcv_nxt, s);
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].begin <= offset && offset < ranges[i].end) add_range(i);
    }
  }
  for (size_t i = ranges.size(); i-- > 0 && n < wire::kMaxSackBlocks;) add_range(i);
  options.sack_blocks = n;
  // RFC 9293 §3.7.1 (was RFC 6691 §2): data and options together stay within the peer's MSS,
  // so a full-sized data segment carries fewer blocks (or none) rather than exceed the path's
  // MTU.
  // Deviation (sack-blocks-yield-to-data): RFC 2018 §4 says SACK options SHOULD be in every ACK
  // while data is missing; a full-sized data segment drops them rather than its data (Linux
  // shortens the data), so only our pure ACKs and short segments carry them.
  while (options.sack_blocks > 0 && payload > 0 && payload + options.emitted_length() > effective_mss())
    --options.sack_blocks;
}

}  // namespace tcplab::tcp
