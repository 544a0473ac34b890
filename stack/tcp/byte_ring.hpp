// A bounded ring of bytes, the storage under the send and receive buffers. `capacity` is the
// limit (what the window and backpressure see); the storage behind it is only as large as the
// bytes need: it starts small when data arrives, doubles as it fills, and is given back when
// the ring empties. An idle connection (a keep-alive connection between requests, one in
// TIME-WAIT) then holds no buffer memory at all, and a small response never costs a large
// allocation.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "stack/wire/bytes.hpp"

namespace tcplab::tcp {

class ByteRing {
 public:
  // The first storage allocated: enough for a request or a small response.
  static constexpr size_t kInitialStorage = 4096;

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
    reserve(size_ + offset + data.size());
    size_t at = wrap(head_ + size_ + offset);
    size_t first = std::min(data.size(), allocated_ - at);
    std::memcpy(storage_.get() + at, data.data(), first);
    if (first < data.size()) std::memcpy(storage_.get(), data.data() + first, data.size() - first);
  }
  // Counts `n` bytes already written past the end as stored.
  void grow(size_t n) { size_ += n; }
  // Copies out.size() bytes starting `offset` bytes after the head.
  void copy_out(size_t offset, wire::MutableBytes out) const {
    if (out.empty()) return;
    size_t at = wrap(head_ + offset);
    size_t first = std::min(out.size(), allocated_ - at);
    std::memcpy(out.data(), storage_.get() + at, first);
    if (first < out.size()) std::memcpy(out.data() + first, storage_.get(), out.size() - first);
  }
  // Forgets the first n bytes.
  void pop(size_t n) {
    n = std::min(n, size_);
    if (n == 0) return;
    head_ = wrap(head_ + n);
    size_ -= n;
  }
  // With nothing stored, gives the storage back. The owner calls it only when no bytes are
  // parked past the end (the receive buffer's out-of-order data lives there).
  void release_if_empty() {
    if (size_ != 0) return;
    if (allocated_ == kInitialStorage && !spare_first_storage) {
      spare_first_storage = std::move(storage_);
    } else {
      storage_.reset();
    }
    allocated_ = 0;
    head_ = 0;
  }
  // Bytes of storage held now (for tests and memory accounting).
  size_t allocated() const { return allocated_; }
  // Whether a given-back first storage waits for the next ring of this thread (for tests).
  static bool spare_storage_waiting() { return spare_first_storage != nullptr; }

 private:
  size_t wrap(size_t i) const { return i >= allocated_ ? i - allocated_ : i; }
  // Makes the storage hold at least `needed` bytes from the head (needed <= capacity), keeping
  // every byte already there (also those parked past the end) at the same distance from it.
  void reserve(size_t needed) {
    if (needed <= allocated_) return;
    size_t grown = std::max(allocated_ * 2, kInitialStorage);
    while (grown < needed) grown *= 2;
    grown = std::min(grown, capacity_);
    std::unique_ptr<std::byte[]> bigger;
    if (grown == kInitialStorage && spare_first_storage)
      bigger = std::move(spare_first_storage);
    else
      bigger = std::make_unique_for_overwrite<std::byte[]>(grown);
    if (allocated_ != 0) {
      // Unwrapped into the front of the new storage: head_ becomes 0.
      const size_t first = allocated_ - head_;
      std::memcpy(bigger.get(), storage_.get() + head_, first);
      std::memcpy(bigger.get() + first, storage_.get(), head_);
    }
    storage_ = std::move(bigger);
    allocated_ = grown;
    head_ = 0;
  }

  // One first-size storage given back by any ring of this thread, handed to the next ring that
  // needs one. A bulk receiver's ring empties after every segment the application reads and
  // fills again with the next: without this, a malloc and a free per packet. It belongs to no
  // connection, so an idle connection still holds no buffer memory; at most 4 KiB in all.
  static inline thread_local std::unique_ptr<std::byte[]> spare_first_storage;

  std::unique_ptr<std::byte[]> storage_;
  size_t capacity_;
  size_t allocated_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace tcplab::tcp
