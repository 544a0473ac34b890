// Out-of-order range bookkeeping: sorted disjoint ranges, merged on insert.
#include "stack/tcp/reassembly.hpp"

#include <algorithm>

namespace tcplab::tcp {

bool Reassembly::add(size_t begin, size_t end) {
  if (begin >= end) return true;
  if (ranges_.capacity() == 0) ranges_.reserve(kMaxRanges);
  // First range that ends at or after `begin` (touching counts, so neighbours merge).
  auto first = std::find_if(ranges_.begin(), ranges_.end(), [&](const Range& r) { return r.end >= begin; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= end) ++last;
  if (first == last) {
    if (ranges_.size() >= kMaxRanges) return false;
    ranges_.insert(first, Range{begin, end});
    return true;
  }
  // [first, last) all overlap or touch [begin, end): fold them into one.
  first->begin = std::min(first->begin, begin);
  first->end = std::max((last - 1)->end, end);
  ranges_.erase(first + 1, last);
  return true;
}

size_t Reassembly::advance(size_t n) {
  if (ranges_.empty()) return 0;
  size_t extra = 0;
  // Ranges wholly below the new in-order point are duplicates of what just arrived.
  while (!ranges_.empty() && ranges_.front().begin <= n) {
    if (ranges_.front().end > n) extra = ranges_.front().end - n;
    ranges_.erase(ranges_.begin());
    if (extra > 0) break;
  }
  size_t moved = n + extra;
  for (auto& r : ranges_) {
    r.begin -= moved;
    r.end -= moved;
  }
  if (ranges_.empty()) ranges_ = std::vector<Range>();  // every hole filled: give the room back
  return extra;
}

size_t Reassembly::bytes() const {
  size_t sum = 0;
  for (const auto& r : ranges_) sum += r.end - r.begin;
  return sum;
}

}  // namespace tcplab::tcp
