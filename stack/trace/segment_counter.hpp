// A sink that counts TCP segments and their header bytes (IPv4 + TCP, options included) in
// each direction: what a connection costs on the wire besides the data it carries. The
// keep-alive demo reads it to show what one handshake per request adds up to.
#pragma once
#include <cstdint>

#include "stack/trace/trace.hpp"

namespace tcplab::trace {

struct SegmentCount {
  uint64_t segments = 0;
  uint64_t header_bytes = 0;   // IPv4 header + TCP header with options
  uint64_t payload_bytes = 0;  // TCP payload
};

class SegmentCounter final : public Sink {
 public:
  void packet(Instant t, Direction direction, std::span<const std::byte> ipv4) override;

  const SegmentCount& in() const { return in_; }
  const SegmentCount& out() const { return out_; }
  SegmentCount both() const;

 private:
  SegmentCount in_;
  SegmentCount out_;
};

}  // namespace tcplab::trace
