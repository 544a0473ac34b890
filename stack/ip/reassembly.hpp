// IPv4 reassembly (RFC 791 §3.2, RFC 815, RFC 1122 §3.3.2), sans-IO: fragments of one
// datagram - same source, destination, protocol and identification - are held until every
// byte from 0 to the end named by the last fragment is there, then handed back as one
// datagram. Memory is bounded (datagrams, fragments per datagram, bytes held, 65,535 bytes
// per datagram) and time too: a datagram incomplete after the timeout is dropped. Fragments
// that overlap drop their whole datagram (RFC 5722's reasoning for IPv6: overlaps only come
// from attacks on reassembly, and no answer is safe).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/time.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::ip {

struct ReassemblyLimits {
  size_t max_datagrams = 16;                // datagrams in reassembly at once
  size_t max_fragments_per_datagram = 128;  // 64 KiB in 552-byte pieces (MTU 576) needs 119
  size_t max_bytes_held = 256 * 1024;       // fragment payload held, all datagrams together
  // RFC 1122 §3.3.2 asks for a fixed timeout from the first fragment; RFC 791 suggests 15 s,
  // RFC 1122 60-120 s; 30 s is what Linux uses (net.ipv4.ipfrag_time).
  Duration timeout = seconds(30);
};

// RFC 791 §3.1: the total length field is 16 bits, so a datagram, our 20-byte header
// included, ends at 65,535 bytes.
constexpr size_t kMaxReassembledPayload = 65535 - wire::kIpv4MinHeaderLength;

class Reassembler {
 public:
  struct Outcome {
    enum class Kind { Held, Complete, Refused };
    Kind kind = Kind::Held;
    DropReason reason = DropReason::FragmentOverlap;  // when Refused
    size_t fragments_dropped = 0;  // when Refused: this fragment and any held ones dropped with it
    std::string_view detail;       // when Refused: why, in words
    wire::ConstBytes datagram;     // when Complete: header + payload, valid until the next call
    size_t fragments = 0;          // when Complete: how many fragments carried it (copies not counted)
  };
  // A datagram dropped before its time: the oldest incomplete one, to make room for a newer
  // one when the limits are reached (as an attacker's or a lossy path's leftovers would
  // otherwise refuse every fragmented datagram until they time out).
  struct Evicted {
    wire::Ipv4Header header;  // of a fragment of it: source, destination, protocol, identification
    size_t fragments = 0;
    size_t bytes = 0;
  };
  struct Expired {
    wire::Ipv4Header header;  // of a fragment of it: source, destination, protocol, identification
    size_t fragments = 0;
    size_t bytes = 0;
    // Fragment zero's header and first 8 data bytes as received, for the ICMP time exceeded
    // message (RFC 792); empty if fragment zero never came (RFC 1122 §3.3.2: then no message).
    std::vector<std::byte> quote;
  };

  explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

  // One fragment (MF set or offset != 0) that passed the IPv4 header checks. Datagrams it
  // evicted to make room are then in evicted(), until the next call.
  Outcome add(const wire::Ipv4Packet& fragment, Instant now);
  const std::vector<Evicted>& evicted() const { return evicted_; }
  // Drops every datagram whose timeout has passed at `now` and says which.
  std::vector<Expired> expire(Instant now);
  std::optional<Instant> next_deadline() const;

  size_t datagrams_held() const { return pending_.size(); }
  size_t bytes_held() const { return bytes_held_; }
  const ReassemblyLimits& limits() const { return limits_; }

 private:
  struct Piece {
    uint32_t begin = 0, end = 0;  // payload bytes [begin, end) of the datagram
    std::vector<std::byte> bytes;
  };
  struct Datagram {
    wire::Ipv4Header key;                   // the first fragment that arrived: the key fields and the header
    std::optional<wire::Ipv4Header> first;  // the offset-0 fragment's header, once it came
    std::vector<std::byte> quote;           // its header and first 8 data bytes (Expired)
    std::optional<uint32_t> end;            // known from the last fragment (MF clear)
    std::vector<Piece> pieces;              // sorted by begin, never overlapping
    size_t bytes = 0;
    Instant deadline;
  };

  static bool same_datagram(const wire::Ipv4Header& a, const wire::Ipv4Header& b);
  Outcome refuse(DropReason reason, std::string_view detail, size_t dropped = 1);
  Outcome discard(size_t index, std::string_view detail);
  bool complete(const Datagram& d) const;
  wire::ConstBytes assemble(const Datagram& d);
  void forget(size_t index);
  // Evicts the oldest datagram other than `keep` (an index, or none); false if there is none.
  bool evict_oldest(std::optional<size_t> keep);

  ReassemblyLimits limits_;
  std::vector<Datagram> pending_;  // few (max_datagrams): a linear search is the clearest
  size_t bytes_held_ = 0;
  std::vector<std::byte> assembled_;  // the last complete datagram, reused
  std::vector<Evicted> evicted_;      // by the last add()
};

}  // namespace tcplab::ip
