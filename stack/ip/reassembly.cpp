// IPv4 reassembly: the checks on each fragment, overlap detection, completion and the timeout.
#include "stack/ip/reassembly.hpp"

#include <algorithm>

namespace tcplab::ip {
namespace {

// RFC 792's error messages: destination unreachable, source quench, redirect, time
// exceeded, parameter problem (the rest are queries and their replies).
bool is_icmp_error_type(uint8_t type) {
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

}  // namespace

bool Reassembler::same_datagram(const wire::Ipv4Header& a, const wire::Ipv4Header& b) {
  // RFC 791 §3.2: "the source, destination, protocol, and identification" name a datagram.
  return a.source == b.source && a.destination == b.destination && a.protocol == b.protocol &&
         a.identification == b.identification;
}

Reassembler::Outcome Reassembler::refuse(DropReason reason, std::string_view detail, size_t dropped) {
  Outcome o;
  o.kind = Outcome::Kind::Refused;
  o.reason = reason;
  o.detail = detail;
  o.fragments_dropped = dropped;
  return o;
}

Reassembler::Outcome Reassembler::discard(size_t index, std::string_view detail) {
  size_t held = pending_[index].pieces.size();
  forget(index);
  return refuse(DropReason::FragmentOverlap, detail, held + 1);
}

void Reassembler::forget(size_t index) {
  bytes_held_ -= pending_[index].bytes;
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
}

bool Reassembler::evict_oldest(std::optional<size_t> keep) {
  // pending_ is in order of arrival, so the oldest is the first one that is not `keep`.
  const size_t index = keep == std::optional<size_t>(0) ? 1 : 0;
  if (index >= pending_.size()) return false;
  const Datagram& d = pending_[index];
  evicted_.push_back(Evicted{d.key, d.pieces.size(), d.bytes});
  forget(index);
  return true;
}

Reassembler::Outcome Reassembler::add(const wire::Ipv4Packet& fragment, Instant now) {
  evicted_.clear();
  const wire::Ipv4Header& h = fragment.header;
  size_t length = fragment.payload.size();
  // RFC 791 §3.1: the fragment offset counts 8-byte units, so every fragment but the last
  // carries a multiple of 8 bytes; an empty fragment carries nothing to reassemble.
  if (length == 0) return refuse(DropReason::FragmentBadLength, "an empty fragment: nothing to reassemble");
  if (h.more_fragments && length % 8 != 0)
    return refuse(DropReason::FragmentBadLength, "not a multiple of 8 bytes before the last fragment");
  size_t begin = size_t{h.fragment_offset} * 8;
  size_t end = begin + length;
  // The "ping of death": offset + length past what a datagram can hold.
  if (end > kMaxReassembledPayload) return refuse(DropReason::FragmentTooBig, "ends past 65,535 bytes");

  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Datagram& d) { return same_datagram(d.key, h); });
  size_t index = static_cast<size_t>(it - pending_.begin());
  if (it == pending_.end()) {
    // At a limit, the oldest incomplete datagram makes room (the drop-oldest RFC 4987 §3.4
    // describes for a SYN queue): refusing the new one instead would refuse every fragmented
    // datagram until the old ones time out, 30 s later, and a lossy path leaves such
    // leftovers all the time. The oldest has also had the longest to complete.
    while (pending_.size() >= limits_.max_datagrams && evict_oldest(std::nullopt)) {
    }
    if (pending_.size() >= limits_.max_datagrams)
      return refuse(DropReason::FragmentNoRoom, "too many datagrams in reassembly");
    Datagram d;
    d.key = h;
    d.deadline = now + limits_.timeout;
    pending_.push_back(std::move(d));
    index = pending_.size() - 1;  // the evictions moved the end
  } else if (it->pieces.size() >= limits_.max_fragments_per_datagram) {
    return refuse(DropReason::FragmentNoRoom, "too many fragments for one datagram");
  }
  {
    const Datagram& d = pending_[index];
    // The end of the datagram: named once by the last fragment, and nothing may lie beyond it.
    if (!h.more_fragments) {
      if (d.end && *d.end != end) return discard(index, "a second last fragment with another end");
      if (!d.pieces.empty() && d.pieces.back().end > end) return discard(index, "data held beyond the end");
    } else if (d.end && end > *d.end) {
      return discard(index, "data beyond the end");
    }
    // RFC 5722 §4 (written for IPv6, the same holds here): an overlap is never innocent, and
    // reading it either way lets an attacker choose what the upper layer sees; drop it all.
    // An exact copy of a held fragment is what a network that duplicates packets delivers.
    auto after =
        std::find_if(d.pieces.begin(), d.pieces.end(), [&](const Piece& p) { return p.begin >= begin; });
    if (after != d.pieces.end() && after->begin == begin && after->end == end)
      return refuse(DropReason::FragmentDuplicate, "a copy of a fragment already held");
    bool overlaps_next = after != d.pieces.end() && after->begin < end;
    bool overlaps_previous = after != d.pieces.begin() && std::prev(after)->end > begin;
    if (overlaps_next || overlaps_previous) return discard(index, "overlaps a fragment already held");
  }
  // Only a fragment that will be kept makes room, by evicting older datagrams (this one moves
  // up as they go); a copy or an overlap above never costs another datagram its place.
  while (bytes_held_ + length > limits_.max_bytes_held && evict_oldest(index))
    if (index > 0) --index;
  if (bytes_held_ + length > limits_.max_bytes_held) {
    if (pending_[index].pieces.empty()) forget(index);  // a new datagram that cannot fit at all
    return refuse(DropReason::FragmentNoRoom, "reassembly memory full");
  }
  Datagram& d = pending_[index];
  auto after =
      std::find_if(d.pieces.begin(), d.pieces.end(), [&](const Piece& p) { return p.begin >= begin; });

  Piece piece;
  piece.begin = static_cast<uint32_t>(begin);
  piece.end = static_cast<uint32_t>(end);
  piece.bytes.assign(fragment.payload.begin(), fragment.payload.end());
  d.pieces.insert(after, std::move(piece));
  d.bytes += length;
  bytes_held_ += length;
  if (begin == 0) {
    d.first = h;
    // RFC 1122 §3.2.2: no ICMP error about an ICMP error, so an ICMP error in fragments
    // (its type is the first data byte) keeps no quote and gets no time exceeded.
    bool icmp_error = h.protocol == static_cast<uint8_t>(wire::IpProtocol::Icmp) &&
                      is_icmp_error_type(static_cast<uint8_t>(fragment.payload[0]));
    if (!icmp_error) {
      d.quote.assign(fragment.header_bytes.begin(), fragment.header_bytes.end());
      auto data = fragment.payload.first(std::min<size_t>(8, length));
      d.quote.insert(d.quote.end(), data.begin(), data.end());
    }
  }
  if (!h.more_fragments) d.end = static_cast<uint32_t>(end);

  if (!complete(d)) return Outcome{};
  Outcome o;
  o.kind = Outcome::Kind::Complete;
  o.datagram = assemble(d);
  o.fragments = d.pieces.size();
  forget(index);
  return o;
}

bool Reassembler::complete(const Datagram& d) const {
  // RFC 815's holes, counted rather than listed: pieces never overlap, so the datagram is
  // complete when they are contiguous from 0 to the end.
  if (!d.end || !d.first) return false;
  uint32_t covered = 0;
  for (const Piece& p : d.pieces) {
    if (p.begin != covered) return false;
    covered = p.end;
  }
  return covered == *d.end;
}

wire::ConstBytes Reassembler::assemble(const Datagram& d) {
  // RFC 791 §3.2: the header comes from the first fragment (offset 0); the whole datagram
  // has neither MF nor an offset. Options are not copied: the stack ignores them anyway.
  wire::Ipv4Header header = *d.first;
  header.more_fragments = false;
  header.fragment_offset = 0;
  assembled_.resize(wire::kIpv4MinHeaderLength + *d.end);
  wire::emit_ipv4_header(header, *d.end, wire::MutableBytes(assembled_));
  for (const Piece& p : d.pieces)
    std::copy(p.bytes.begin(), p.bytes.end(),
              assembled_.begin() + static_cast<std::ptrdiff_t>(wire::kIpv4MinHeaderLength + p.begin));
  return assembled_;
}

std::vector<Reassembler::Expired> Reassembler::expire(Instant now) {
  std::vector<Expired> out;
  for (size_t i = 0; i < pending_.size();) {
    if (pending_[i].deadline > now) {
      ++i;
      continue;
    }
    out.push_back(
        Expired{pending_[i].key, pending_[i].pieces.size(), pending_[i].bytes, std::move(pending_[i].quote)});
    forget(i);
  }
  return out;
}

std::optional<Instant> Reassembler::next_deadline() const {
  std::optional<Instant> next;
  for (const Datagram& d : pending_)
    if (!next || d.deadline < *next) next = d.deadline;
  return next;
}

}  // namespace tcplab::ip
