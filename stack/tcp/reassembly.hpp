// Bookkeeping for out-of-order data (RFC 9293 §3.10.7.4 seventh: segments beyond RCV.NXT
// are kept for later): which byte ranges past the in-order point are already held.
// Offsets are relative to the in-order point (RCV.NXT), so they shift as it moves.
#pragma once
#include <cstddef>
#include <vector>

namespace tcplab::tcp {

class Reassembly {
 public:
  // Bounds the bookkeeping: a peer cannot make us track more than this many holes.
  static constexpr size_t kMaxRanges = 32;

  // Holds no memory while there is no hole: most connections never see one, and an idle
  // connection should cost its TCB and little else. The first hole takes room for all
  // kMaxRanges at once (no allocation per segment), given back when the holes are filled.

  // Records bytes [begin, end) as held, merging with neighbours (overlaps and duplicates
  // collapse). False, and nothing recorded, when that would need more than kMaxRanges.
  bool add(size_t begin, size_t end);
  // The in-order point moved forward by n bytes (in-order data arrived): ranges below it
  // are forgotten. Returns how many further bytes are now contiguous with it; those are
  // consumed too, so the caller can move RCV.NXT by n plus the result.
  size_t advance(size_t n);
  // Bytes held out of order (counted once even if they arrived several times).
  size_t bytes() const;
  bool empty() const { return ranges_.empty(); }
  size_t range_count() const { return ranges_.size(); }

  struct Range {
    size_t begin, end;  // offsets from the in-order point
  };
  // The held ranges, lowest first (for SACK blocks, RFC 2018 §4).
  const std::vector<Range>& ranges() const { return ranges_; }

 private:
  std::vector<Range> ranges_;  // sorted, disjoint, not touching
};

}  // namespace tcplab::tcp
