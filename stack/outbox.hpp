// Packets the sans-IO core wants sent. Buffers are reused between batches, so sending a
// packet allocates nothing once the outbox has warmed up ("no allocation per packet").
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace tcplab {

class Outbox {
 public:
  // A buffer for one whole IPv4 packet; it stays in the outbox until clear(). It is reused
  // as it was left (size and bytes of an earlier packet): the caller resizes it to the packet
  // and writes every byte. Not clearing it first means resize() zero-fills nothing when the
  // sizes repeat, which is the steady state of a bulk transfer (no per-packet memset).
  std::vector<std::byte>& start_packet() {
    if (used_ == buffers_.size()) buffers_.emplace_back();
    return buffers_[used_++];
  }
  // Gives back the last buffer from start_packet() when the packet was not built after all.
  void cancel_last() {
    if (used_ > 0) --used_;
  }
  size_t size() const { return used_; }
  bool empty() const { return used_ == 0; }
  std::span<const std::byte> packet(size_t i) const { return buffers_[i]; }
  // Forgets the packets but keeps the buffers for the next batch.
  void clear() { used_ = 0; }

 private:
  std::vector<std::vector<std::byte>> buffers_;
  size_t used_ = 0;
};

}  // namespace tcplab
