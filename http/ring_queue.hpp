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
    slots_[head_] = T{};  // what it held goes now, not when the slot is next written
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
      if (remove(entry)) continue;
      if (kept != i) slots_[wrap(head_ + kept)] = std::move(entry);  // never onto itself
      ++kept;
    }
    for (size_t i = kept; i < count_; ++i) slots_[wrap(head_ + i)] = T{};
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
