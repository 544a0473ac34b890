// A fixed-capacity ring of bytes, the storage under the send and receive buffers. Storage is
// allocated on first use, and never touched per byte beyond the copy; an empty ring may give
// it back (release_storage_if_empty).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "stack/wire/bytes.hpp"

namespace tcplab::tcp {

class ByteRing {
 public:
  explicit ByteRing(size_t capacity) : capacity_(capacity) {}

  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  size_t free() const { return capacity_ - size_; }

  // Appends as much of `data` as fits; returns how many bytes were taken.
  size_t push(wire::ConstBytes data) {
    size_t n = std::min(data.size(), free());
    write_after_end(0, data.first(n));
    size_ += n;
    return n;
  }
  // Writes `data` `offset` bytes past the end without growing size (out-of-order bytes
  // parked in the receive buffer). Caller guarantees size + offset + data.size() <= capacity.
  void write_after_end(size_t offset, wire::ConstBytes data) {
    if (data.empty()) return;
    ensure_storage();
    size_t at = wrap(head_ + size_ + offset);
    size_t first = std::min(data.size(), capacity_ - at);
    std::memcpy(storage_.get() + at, data.data(), first);
    if (first < data.size()) std::memcpy(storage_.get(), data.data() + first, data.size() - first);
  }
  // Counts `n` bytes already written past the end as stored.
  void grow(size_t n) { size_ += n; }
  // Copies out.size() bytes starting `offset` bytes after the head.
  void copy_out(size_t offset, wire::MutableBytes out) const {
    if (out.empty()) return;
    size_t at = wrap(head_ + offset);
    size_t first = std::min(out.size(), capacity_ - at);
    std::memcpy(out.data(), storage_.get() + at, first);
    if (first < out.size()) std::memcpy(out.data() + first, storage_.get(), out.size() - first);
  }
  // Forgets the first n bytes.
  void pop(size_t n) {
    n = std::min(n, size_);
    head_ = wrap(head_ + n);
    size_ -= n;
  }
  // With nothing stored, restart at the front so later copies rarely wrap.
  void rewind_if_empty() {
    if (size_ == 0) head_ = 0;
  }
  // With nothing stored, gives the storage back (a connection that will hold nothing for a
  // long while, e.g. in FIN-WAIT-2 or TIME-WAIT); a later write allocates it again.
  void release_storage_if_empty() {
    if (size_ != 0) return;
    storage_.reset();
    head_ = 0;
  }
  // Bytes of memory the ring holds right now (0 until the first write, and after a release).
  size_t storage_bytes() const { return storage_ ? capacity_ : 0; }

 private:
  size_t wrap(size_t i) const { return i >= capacity_ ? i - capacity_ : i; }
  void ensure_storage() {
    if (!storage_) storage_ = std::make_unique_for_overwrite<std::byte[]>(capacity_);
  }

  std::unique_ptr<std::byte[]> storage_;
  size_t capacity_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace tcplab::tcp
