// A first-in first-out queue in one growing array used as a ring: unlike std::deque, which
// allocates a block every few dozen entries as it moves along, it allocates only when it
// holds more than it ever has, so a queue that is pushed and popped once per request costs no
// allocation per request. Its storage stays at the largest size it has reached.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace tcplab::http {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  const T& front() const { return slots_[head_]; }
  void pop_front() {
    head_ = next(head_);
    --count_;
  }
  void push_back(T value) {
    if (count_ == slots_.size()) grow();
    slots_[wrap(head_ + count_)] = std::move(value);
    ++count_;
  }
  // Drops the entries `remove` says so, keeping the others in order.
  template <typename Predicate>
  void erase_if(Predicate remove) {
    size_t kept = 0;
    for (size_t i = 0; i < count_; ++i) {
      T& entry = slots_[wrap(head_ + i)];
      if (!remove(entry)) slots_[wrap(head_ + kept++)] = std::move(entry);
    }
    count_ = kept;
  }

 private:
  size_t wrap(size_t i) const { return i >= slots_.size() ? i - slots_.size() : i; }
  size_t next(size_t i) const { return wrap(i + 1); }
  void grow() {
    std::vector<T> bigger(slots_.empty() ? 64 : 2 * slots_.size());
    for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[wrap(head_ + i)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace tcplab::http
