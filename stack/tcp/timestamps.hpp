// TCP timestamps for one connection (RFC 7323 §3-§5): the TSval clock, TS.Recent and the
// rules for which TSval to echo (§4.3), RTT samples from TSecr (§4.1), and the PAWS test
// (§5.3 R1) with TS.Recent's 24-day validity (§5.5). Clock-free: callers pass `now`.
#pragma once
#include <cstdint>
#include <optional>

#include "stack/seq.hpp"
#include "stack/time.hpp"

namespace tcplab::tcp {

class Timestamps {
 public:
  // RFC 7323 §5.4: the clock ticks between 1 ms and 1 s; ours ticks every millisecond.
  static constexpr Duration kTick = milliseconds(1);
  // RFC 7323 §5.5: a TS.Recent older than 24 days may be older than half the TSval space
  // of a 1 ms clock, so it no longer proves anything.
  static constexpr Duration kRecentValidity = std::chrono::hours(24 * 24);

  // RFC 7323 §5.4 and §7.1: a per-connection random offset, so TSval does not reveal the
  // host's uptime (the connection's ISN serves: it is a keyed hash, RFC 6528).
  void set_offset(uint32_t offset) { offset_ = offset; }
  // Our TSval at `now`.
  uint32_t value(Instant now) const;

  // Both SYNs carried the option (RFC 7323 §3.2): from now on every non-RST segment carries
  // it, and the peer's SYN TSval is the first TS.Recent.
  void enable(uint32_t peer_syn_tsval, Instant now);
  bool enabled() const { return enabled_; }
  uint32_t recent() const { return recent_; }

  // RFC 7323 §5.3 R1 (PAWS): SEG.TSval < TS.Recent, with TS.Recent still valid (§5.5).
  bool paws_rejects(uint32_t seg_tsval, Instant now) const;
  // RFC 7323 §4.3 (2) / §5.3 R3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent,
  // then SEG.TSval is copied to TS.Recent" - so we echo the TSval of the segment that
  // advanced the left edge, and delayed or out-of-order segments do not shorten the RTT.
  void note_arrival(uint32_t seg_tsval, Seq seg_seq, Seq last_ack_sent, Instant now);
  // RFC 7323 §4.1: RTT = now - TSecr, for an ACK of new data. Nothing if TSecr is in the
  // future (a broken or malicious echo).
  std::optional<Duration> rtt(uint32_t seg_tsecr, Instant now) const;

 private:
  uint32_t offset_ = 0;
  bool enabled_ = false;
  uint32_t recent_ = 0;
  Instant recent_at_{};
};

}  // namespace tcplab::tcp
