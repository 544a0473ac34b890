// What the fault injector should do, as plain values, and the parsers for the command-line
// spellings ("5%", "in:0.05", "20:5", "drop out data#3"). The injector itself is in
// fault_injector.hpp; tools/tcplab/stack_flags.cpp turns flags into a FaultOptions.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/time.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::link {

// Random faults for one direction. Probabilities are in [0, 1].
struct RandomFaults {
  double drop = 0;
  double dup = 0;
  double reorder = 0;
  double corrupt = 0;
  Duration delay{};   // one-way delay added to every packet
  Duration jitter{};  // each packet's delay is uniform in [delay - jitter, delay + jitter]

  bool any() const {
    return drop > 0 || dup > 0 || reorder > 0 || corrupt > 0 || delay > Duration::zero() ||
           jitter > Duration::zero();
  }
};

enum class FaultAction { Drop, Dup, Delay, Corrupt };

// What a targeted fault matches. A segment may be of several kinds at once (a FIN with data
// is `data` and `fin`; every TCP segment is `any`).
enum class SegmentKind {
  Syn,          // SYN without ACK
  SynAck,       // SYN and ACK
  Ack,          // pure ACK: no data, no SYN, FIN or RST
  AckOfSynAck,  // a pure ACK that acknowledges the other side's SYN-ACK (third handshake step)
  AckOfFin,     // an ACK without FIN that acknowledges the other side's FIN (end of a teardown)
  Data,         // carries payload
  Fin,
  Rst,
  Any,
};
constexpr size_t kSegmentKindCount = 9;

// "ack-of-synack"; parse_segment_kind is the inverse.
const char* to_string(SegmentKind kind);
std::optional<SegmentKind> parse_segment_kind(std::string_view text);

// One --fault: "drop out data#3", "delay in syn 2000".
struct TargetedFault {
  FaultAction action = FaultAction::Drop;
  trace::Direction direction = trace::Direction::Out;
  SegmentKind kind = SegmentKind::Any;
  uint32_t nth = 1;  // the nth segment of that kind, per connection and direction
  Duration delay{};  // for FaultAction::Delay
  std::string text;  // the spec as written, normalised ("drop out data#3"), for traces
};

struct FaultOptions {
  RandomFaults in;   // packets from the TUN to the stack
  RandomFaults out;  // packets from the stack to the TUN
  uint64_t seed = 1;
  std::vector<TargetedFault> targeted;
  // Which directions each random fault flag has set (bit 0 in, bit 1 out, by RandomFaultKind),
  // so that a second value for a direction is refused instead of silently replacing the first.
  std::array<uint8_t, 5> random_given{};

  bool any() const { return in.any() || out.any() || !targeted.empty(); }
  const RandomFaults& random(trace::Direction d) const { return d == trace::Direction::In ? in : out; }
};

// The random fault flags, by the name the option has on the command line.
enum class RandomFaultKind { Drop, Dup, Reorder, Corrupt, Delay };

// Parses one random-fault value, with an optional "in:" / "out:" prefix (both directions
// without one), and stores it in `options`. Probabilities are "0.05" or "5%"; delays are
// "MS" or "MS:JITTER" in milliseconds. Returns an error text or nothing; a direction this
// kind already has a value for is an error (`--drop 1 --drop 0`, `--delay 20 --delay out:30`).
std::optional<std::string> apply_random_fault(FaultOptions& options, RandomFaultKind kind,
                                              std::string_view value);

// Parses "ACTION DIRECTION KIND[#N] [MS]"; returns the fault or an error text in `error`.
std::optional<TargetedFault> parse_targeted_fault(std::string_view text, std::string& error);

// Whole-string probability: "0.05", "5%", "1", "100%". Nothing if malformed or outside [0, 1].
std::optional<double> parse_probability(std::string_view text);

// One line describing the options for a startup banner: "faults: out drop 5%, ...; seed 1".
std::string describe(const FaultOptions& options);

}  // namespace tcplab::link
