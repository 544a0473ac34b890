// Tells the fault injector what kind of TCP segment a packet is ("the third data segment
// out", "the ACK that acknowledges the SYN-ACK") by parsing it with stack/wire and keeping
// small per-connection counters. Sans-IO: bytes in, a classification out.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "stack/four_tuple.hpp"
#include "stack/link/fault_spec.hpp"
#include "stack/seq.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/bytes.hpp"

namespace tcplab::link {

struct SegmentClass {
  bool tcp = false;  // false for anything that is not a well-formed TCP segment (ICMP, junk)
  FourTuple tuple;   // local/remote from the stack's point of view
  // For each kind the segment is, its number among that kind's segments in its direction on
  // its connection (1 for the first); 0 for kinds it is not.
  std::array<uint32_t, kSegmentKindCount> nth{};

  bool is(SegmentKind k) const { return nth[static_cast<size_t>(k)] != 0; }
};

// How many connections are tracked before idle ones are forgotten.
constexpr size_t kMaxTrackedConnections = 4096;
// A connection with no segment for this long is forgotten when the table is full.
constexpr Duration kTrackedConnectionIdle = std::chrono::seconds(120);

class SegmentClassifier {
 public:
  // Classifies the packet and counts it. Call once per packet, in the order packets cross.
  SegmentClass classify(trace::Direction direction, wire::ConstBytes ipv4, Instant now);

  size_t tracked_connections() const { return connections_.size(); }

 private:
  struct Side {  // one direction of a connection
    std::array<uint32_t, kSegmentKindCount> count{};
    std::optional<Seq> syn_seq;     // the ISN of this side's SYN or SYN-ACK
    std::optional<Seq> synack_end;  // the ACK number that acknowledges this side's SYN-ACK
    std::optional<Seq> fin_end;     // the ACK number that acknowledges this side's FIN
    bool sent_data_or_fin = false;  // after this, a pure ACK no longer completes a handshake
  };
  struct Connection {
    std::array<Side, 2> sides;  // indexed by trace::Direction
    Instant last_seen;
  };
  Connection& lookup(const FourTuple& tuple, Instant now);

  std::unordered_map<FourTuple, Connection, FourTupleHash> connections_;
};

}  // namespace tcplab::link
