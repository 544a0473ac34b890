// The sender's SACK scoreboard (RFC 6675 §3, RFC 2018): which bytes above SND.UNA the
// receiver reported holding. Data is never freed because it is SACKed - only the cumulative
// ACK frees it (RFC 2018 §8: the receiver may renege) - so the scoreboard only decides what
// to retransmit and how much is in the pipe.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "stack/seq.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::tcp {

class SackScoreboard {
 public:
  // A peer cannot make us track more than this many separate ranges; beyond it the lowest
  // new ones are not recorded (they only make recovery less precise, never wrong).
  static constexpr size_t kMaxRanges = 64;

  struct Update {
    size_t newly_sacked = 0;  // bytes not SACKed before
    size_t ignored = 0;       // blocks outside (SND.UNA, SND.NXT]: D-SACKs, data never sent, junk
  };
  // Records the blocks of one ACK. RFC 2018 §3 / RFC 6675 §5: a block must lie within
  // [SND.UNA, SND.NXT]; a block covering data not yet sent, or below SND.UNA, is ignored.
  Update add(std::span<const wire::SackBlock> blocks, Seq snd_una, Seq snd_nxt);
  // RFC 2883 §4: the first block of an ACK is a D-SACK - a report of data received twice,
  // not new SACK information - if it lies at or below the cumulative ACK `ack`, or inside the
  // second block.
  static bool first_is_dsack(std::span<const wire::SackBlock> blocks, Seq ack);
  // SND.UNA advanced: forget what lies below it.
  void acknowledge(Seq snd_una);
  // RFC 2018 §8: the peer reneged; everything it SACKed may be gone.
  void clear() { ranges_.clear(); }

  bool empty() const { return ranges_.empty(); }
  size_t range_count() const { return ranges_.size(); }
  // SACKed bytes in [from, to).
  size_t sacked_in(Seq from, Seq to) const;
  size_t sacked_bytes() const;
  // If `seq` is SACKed, the end of its range.
  std::optional<Seq> sacked_range_end(Seq seq) const;
  // The first SACKed byte at or after `seq` (or `limit` if none before it).
  Seq next_sacked(Seq seq, Seq limit) const;
  // The right edge of the highest SACKed range if it lies above `seq`, else `seq`.
  Seq next_sacked_end(Seq seq) const;
  // The highest unSACKed run below `high` and at or above `low`, as [first, end); nothing if
  // all of [low, high) is SACKed. RFC 6675 §4 NextSeg (4) resends the top of it.
  struct Run {
    Seq first, end;
  };
  std::optional<Run> highest_unsacked(Seq low, Seq high) const;
  // RFC 6675 §4 IsLost, for every byte below the returned point: "DupThresh discontiguous
  // SACKed sequences" above it, or more than (DupThresh - 1) * SMSS SACKed bytes above it.
  // Unsacked bytes in [snd_una, result) are presumed lost; snd_una itself means none.
  Seq lost_boundary(Seq snd_una, size_t smss) const;

  static constexpr int kDupThresh = 3;  // RFC 6675 §2 DupThresh

 private:
  struct Range {
    Seq left, right;  // [left, right)
  };
  std::vector<Range> ranges_;  // sorted, disjoint, not touching
};

}  // namespace tcplab::tcp
