// The fault injector: a sans-IO stage between the link and the stack that drops, duplicates,
// reorders, delays and corrupts packets on purpose, at random (--drop 5%) or targeted at one
// segment of each connection (--fault 'drop out data#3'). Packets and `now` go in with
// push(); what may cross comes out of take(), possibly later (next_deadline()/advance()).
// The event loop puts it between the TUN and the stack; tests and the scenario runner put it
// between a virtual peer and the stack. Every fault is reported to the tracer.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "stack/link/fault_classifier.hpp"
#include "stack/link/fault_random.hpp"
#include "stack/link/fault_spec.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/bytes.hpp"

namespace tcplab::link {

// A packet chosen for reordering waits for the next packet in its direction, at most this long.
constexpr Duration kReorderHoldLimit = std::chrono::milliseconds(10);
// Packets held (delayed or reordered) at once; beyond this a packet is dropped, like a full
// router queue, so a huge --delay under load cannot eat memory.
constexpr size_t kMaxHeldPackets = 10000;

struct FaultCounts {
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t delayed = 0;  // packets held by --delay or a targeted delay
  uint64_t corrupted = 0;
  uint64_t queue_full = 0;  // dropped because kMaxHeldPackets were held

  uint64_t faults() const { return dropped + duplicated + reordered + corrupted + queue_full; }
};

struct FaultStats {
  std::array<FaultCounts, 2> by_direction;  // indexed by trace::Direction
  const FaultCounts& in() const { return by_direction[0]; }
  const FaultCounts& out() const { return by_direction[1]; }
};

class FaultInjector {
 public:
  // `tracer` (not owned, may be null) receives one fault event per injected fault.
  explicit FaultInjector(FaultOptions options, trace::Tracer* tracer = nullptr);

  // A packet about to cross in `direction` (In: link to stack, Out: stack to link).
  void push(trace::Direction direction, wire::ConstBytes packet, Instant now);
  // Releases held packets whose time has come.
  void advance(Instant now);
  // When advance() next has something to release, or nullopt.
  std::optional<Instant> next_deadline() const;
  // The same for the packets held in one direction only: a process about to exit waits for
  // what it sent (its RSTs), not for what it will never read.
  std::optional<Instant> next_deadline(trace::Direction direction) const;
  // The packets that may now cross in `direction`, oldest first; the queue is emptied.
  std::vector<std::vector<std::byte>> take(trace::Direction direction);
  bool has_ready(trace::Direction direction) const { return !ready_[index(direction)].empty(); }

  const FaultStats& stats() const { return stats_; }
  const FaultOptions& options() const { return options_; }
  size_t held() const;

 private:
  struct Held {
    trace::Direction direction;
    std::vector<std::byte> bytes;
    bool reorder = false;
  };
  static size_t index(trace::Direction d) { return d == trace::Direction::In ? 0 : 1; }
  void report(Instant now, trace::Direction d, const std::string& what, wire::ConstBytes bytes);
  // Flips one random bit; returns its index.
  size_t corrupt(std::vector<std::byte>& bytes);
  void schedule(Held held, Instant release);
  bool held_count_would_overflow() const;
  void make_ready(Held held, Instant now);

  FaultOptions options_;
  trace::Tracer* tracer_;
  FaultRandom random_;
  SegmentClassifier classifier_;
  FaultStats stats_;
  uint64_t sequence_ = 0;  // keeps packets with equal release times in arrival order
  // Delayed packets by release time, one queue per direction (indexed like ready_).
  std::array<std::map<std::pair<Instant, uint64_t>, Held>, 2> delayed_;
  std::array<std::optional<std::pair<Instant, Held>>, 2> reorder_slot_;  // (release by, packet)
  std::array<std::vector<std::vector<std::byte>>, 2> ready_;
};

}  // namespace tcplab::link
