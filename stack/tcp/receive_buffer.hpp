// The receive side's bytes: in-order data waiting for the application, and out-of-order
// segments parked at their place right after it until the hole before them fills
// (RFC 9293 §3.10.7.4 seventh). The free space is what we advertise as RCV.WND (§3.8.6.2); a
// few bytes of headroom beyond the capacity hold what a scaled window rounded up to its unit
// promises (receive_window.hpp).
#pragma once
#include <cstddef>

#include "stack/tcp/byte_ring.hpp"
#include "stack/tcp/reassembly.hpp"

namespace tcplab::tcp {

class ReceiveBuffer {
 public:
  ReceiveBuffer(size_t capacity, size_t max_out_of_order, size_t headroom = 0)
      : ring_(capacity + headroom), capacity_(capacity), max_out_of_order_(max_out_of_order) {}

  enum class Stored { InOrder, OutOfOrder, Refused };
  struct InsertResult {
    Stored stored;
    size_t advanced;  // bytes that became readable (RCV.NXT moves by this much)
  };

  // Stores `data` that starts `offset` bytes after the in-order point. The caller has
  // trimmed it to the window, so offset + data.size() <= room().
  InsertResult insert(size_t offset, wire::ConstBytes data);
  // Copies in-order bytes to the application and frees their space.
  size_t read(wire::MutableBytes out);
  // Frees every in-order byte unread (nobody will read them); returns how many.
  size_t discard() {
    const size_t n = ring_.size();
    ring_.pop(n);
    if (reassembly_.empty()) ring_.release_if_empty();
    return n;
  }

  size_t readable() const { return ring_.size(); }
  // Space after the in-order bytes within the capacity; out-of-order bytes live inside it.
  size_t free() const { return ring_.size() < capacity_ ? capacity_ - ring_.size() : 0; }
  // Space after the in-order bytes, headroom included: the most a window may promise.
  size_t room() const { return ring_.free(); }
  size_t capacity() const { return capacity_; }
  size_t out_of_order_bytes() const { return reassembly_.bytes(); }
  bool has_out_of_order() const { return !reassembly_.empty(); }
  // Frees the storage if the application has read everything and no out-of-order bytes wait.
  void release_if_empty() {
    if (reassembly_.empty()) ring_.release_if_empty();
  }
  size_t storage_bytes() const { return ring_.allocated(); }
  // Out-of-order ranges as offsets from the in-order point, lowest first.
  const std::vector<Reassembly::Range>& out_of_order_ranges() const { return reassembly_.ranges(); }

 private:
  ByteRing ring_;
  size_t capacity_;
  Reassembly reassembly_;
  size_t max_out_of_order_;
};

}  // namespace tcplab::tcp
