// Parse results: a value or the reason it was refused. Parsing is total (architecture rule 1):
// every malformed input becomes a DropReason, never undefined behaviour.
#pragma once
#include <variant>

#include "stack/drop_reason.hpp"

namespace tcplab::wire {

template <class T>
class Parsed {
 public:
  Parsed(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Parsed(DropReason reason) : v_(reason) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const T* operator->() const { return &value(); }
  const T& operator*() const { return value(); }
  DropReason error() const { return std::get<DropReason>(v_); }

 private:
  std::variant<T, DropReason> v_;
};

}  // namespace tcplab::wire
