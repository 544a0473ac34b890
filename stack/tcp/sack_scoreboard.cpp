// The SACK scoreboard (see sack_scoreboard.hpp): ranges kept sorted and merged.
#include "stack/tcp/sack_scoreboard.hpp"

#include <algorithm>

namespace tcplab::tcp {

SackScoreboard::Update SackScoreboard::add(std::span<const wire::SackBlock> blocks, Seq snd_una,
                                           Seq snd_nxt) {
  Update u;
  for (const auto& b : blocks) {
    // RFC 2018 §3: left < right; RFC 6675 §5 / RFC 2883: a block at or below SND.UNA is a
    // D-SACK or stale; one beyond SND.NXT reports data we never sent. Neither is used.
    if (!(b.left < b.right) || !(snd_una < b.right) || b.left < snd_una || b.right > snd_nxt) {
      ++u.ignored;
      continue;
    }
    size_t before = sacked_in(b.left, b.right);
    // Merge with every range it overlaps or touches.
    Seq left = b.left, right = b.right;
    auto first =
        std::find_if(ranges_.begin(), ranges_.end(), [&](const Range& r) { return left <= r.right; });
    auto last = first;
    while (last != ranges_.end() && last->left <= right) {
      left = std::min(left, last->left);
      right = std::max(right, last->right);
      ++last;
    }
    if (first == last && ranges_.size() >= kMaxRanges) {
      ++u.ignored;  // a new separate range, and no room: bounded bookkeeping
      continue;
    }
    auto at = ranges_.erase(first, last);
    ranges_.insert(at, Range{left, right});
    u.newly_sacked += seq_distance(b.left, b.right) - before;
  }
  return u;
}

bool SackScoreboard::first_is_dsack(std::span<const wire::SackBlock> blocks, Seq ack) {
  if (blocks.empty() || !(blocks[0].left < blocks[0].right)) return false;
  const auto& first = blocks[0];
  if (first.right <= ack) return true;
  return blocks.size() >= 2 && blocks[1].left <= first.left && first.right <= blocks[1].right;
}

void SackScoreboard::acknowledge(Seq snd_una) {
  auto keep = std::find_if(ranges_.begin(), ranges_.end(), [&](const Range& r) { return snd_una < r.right; });
  ranges_.erase(ranges_.begin(), keep);
  if (!ranges_.empty() && ranges_.front().left < snd_una) ranges_.front().left = snd_una;
}

size_t SackScoreboard::sacked_in(Seq from, Seq to) const {
  size_t n = 0;
  for (const auto& r : ranges_) {
    Seq l = std::max(r.left, from), h = std::min(r.right, to);
    if (l < h) n += seq_distance(l, h);
  }
  return n;
}

size_t SackScoreboard::sacked_bytes() const {
  size_t n = 0;
  for (const auto& r : ranges_) n += seq_distance(r.left, r.right);
  return n;
}

std::optional<Seq> SackScoreboard::sacked_range_end(Seq seq) const {
  for (const auto& r : ranges_) {
    if (r.left <= seq && seq < r.right) return r.right;
  }
  return std::nullopt;
}

Seq SackScoreboard::next_sacked(Seq seq, Seq limit) const {
  for (const auto& r : ranges_) {
    if (seq < r.right) return std::min(std::max(r.left, seq), limit);
  }
  return limit;
}

Seq SackScoreboard::next_sacked_end(Seq seq) const {
  if (ranges_.empty() || !(seq < ranges_.back().right)) return seq;
  return ranges_.back().right;
}

std::optional<SackScoreboard::Run> SackScoreboard::highest_unsacked(Seq low, Seq high) const {
  Seq end = high;
  for (size_t i = ranges_.size(); i-- > 0;) {
    if (ranges_[i].left < end && end <= ranges_[i].right) {
      end = ranges_[i].left;  // the top is SACKed: look below this range
    } else if (ranges_[i].right < end) {
      break;
    }
  }
  if (!(low < end)) return std::nullopt;
  Seq first = low;
  for (const auto& r : ranges_) {
    if (first < r.right && r.right <= end) first = r.right;
  }
  return Run{first, end};
}

Seq SackScoreboard::lost_boundary(Seq snd_una, size_t smss) const {
  // Walk down from the highest range: the hole just below range i has ranges i.. above it.
  size_t above_bytes = 0;
  int above_ranges = 0;
  for (size_t i = ranges_.size(); i-- > 0;) {
    above_bytes += seq_distance(ranges_[i].left, ranges_[i].right);
    ++above_ranges;
    if (above_ranges >= kDupThresh || above_bytes > size_t(kDupThresh - 1) * smss)
      return std::max(ranges_[i].left, snd_una);
  }
  return snd_una;
}

}  // namespace tcplab::tcp
