// Parse results: a value or the reason it was refused. Parsing is total (architecture rule 1):
// every malformed input becomes a DropReason, never undefined behaviour.
#pragma once
#include <string_view>
#include <variant>

#include "stack/drop_reason.hpp"

namespace tcplab::wire {

template <class T>
class Parsed {
 public:
  Parsed(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  // `detail`, for the trace, says which rule the input broke when the reason alone does not
  // (ipv4-bad-option: which one); it must be a literal, as it outlives the parse.
  Parsed(DropReason reason, std::string_view detail = {}) : v_(Refusal{reason, detail}) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const T* operator->() const { return &value(); }
  const T& operator*() const { return value(); }
  DropReason error() const { return std::get<Refusal>(v_).reason; }
  std::string_view detail() const { return std::get<Refusal>(v_).detail; }

 private:
  struct Refusal {
    DropReason reason;
    std::string_view detail;
  };
  std::variant<T, Refusal> v_;
};

}  // namespace tcplab::wire
