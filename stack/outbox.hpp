// Packets the sans-IO core wants sent. Buffers are reused between batches, so sending a
// packet allocates nothing once the outbox has warmed up ("no allocation per packet").
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace tcplab {

class Outbox {
 public:
  // A cleared buffer for one whole IPv4 packet; it stays in the outbox until clear().
  std::vector<std::byte>& start_packet() {
    if (used_ == buffers_.size()) buffers_.emplace_back();
    auto& buffer = buffers_[used_++];
    buffer.clear();
    return buffer;
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
