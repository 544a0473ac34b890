// Selective acknowledgment (RFC 2018) for one connection, both ways: as receiver, the SACK
// blocks our ACKs carry while we hold out-of-order data (§4); as sender, the blocks the peer
// reports, recorded on the scoreboard that RFC 6675 recovery reads (connection_recovery.cpp).
#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {

// Sender: RFC 2018 §3 / RFC 6675 §5, record the blocks of an acceptable ACK.
void Connection::take_sack_blocks(const wire::TcpSegment& seg) {
  if (!sack_ok_ || seg.options.sack_blocks == 0) return;
  size_t n = std::min<size_t>(seg.options.sack_blocks, wire::kMaxSackBlocks);
  auto update = scoreboard_.add(std::span(seg.options.sack.data(), n), tcb_.snd_una, tcb_.snd_nxt);
  if (update.ignored > 0 && ctx_.tracer.enabled())
    ctx_.tracer.note(
        ctx_.now, &tuple_,
        "SACK block outside SND.UNA..SND.NXT ignored (RFC 2018 §3: it covers no data in flight)");
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

// RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data
// containing the segment which triggered this ACK"; the others repeat the most recently
// reported blocks, then the rest. emit_tcp keeps as many as fit (3 beside timestamps).
void Connection::add_sack_blocks(wire::TcpOptions& options, size_t payload) const {
  const auto& ranges = receive_.out_of_order_ranges();
  if (!sack_ok_ || ranges.empty()) return;
  uint8_t n = 0;
  auto add_range = [&](size_t index) {
    wire::SackBlock b{tcb_.rcv_nxt + static_cast<uint32_t>(ranges[index].begin),
                      tcb_.rcv_nxt + static_cast<uint32_t>(ranges[index].end)};
    for (uint8_t i = 0; i < n; ++i) {
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
  // RFC 6691 §2: data and options together stay within the peer's MSS, so a full-sized
  // data segment carries fewer blocks (or none) rather than exceed the path's MTU.
  while (options.sack_blocks > 0 && payload > 0 && payload + options.emitted_length() > effective_mss())
    --options.sack_blocks;
}

}  // namespace tcplab::tcp
