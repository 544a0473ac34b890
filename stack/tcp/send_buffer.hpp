// The send side's bytes (RFC 9293 §3.8.6 "send buffer"): everything from SND.UNA on, i.e.
// sent-but-unacknowledged bytes followed by bytes the application queued but we have not sent.
#pragma once
#include <cstddef>

#include "stack/tcp/byte_ring.hpp"

namespace tcplab::tcp {

class SendBuffer {
 public:
  explicit SendBuffer(size_t capacity) : ring_(capacity) {}

  // Queues what fits (backpressure); returns how many bytes were taken.
  size_t push(wire::ConstBytes data) { return ring_.push(data); }
  // Bytes held (unacknowledged + unsent).
  size_t size() const { return ring_.size(); }
  size_t free() const { return ring_.free(); }
  size_t capacity() const { return ring_.capacity(); }
  // The peer acknowledged the first n bytes: they are never needed again.
  void acknowledge(size_t n) {
    ring_.pop(n);
    ring_.release_if_empty();
  }
  // Frees the storage if nothing is held (everything sent was acknowledged).
  void release_if_empty() { ring_.release_if_empty(); }
  size_t storage_bytes() const { return ring_.allocated(); }
  // Copies bytes [offset, offset + out.size()) into a segment being built.
  void copy_out(size_t offset, wire::MutableBytes out) const { ring_.copy_out(offset, out); }

 private:
  ByteRing ring_;
};

}  // namespace tcplab::tcp
