// Anything the event loop must wake up for besides packets: the stack's timers, the HTTP
// server's idle timers, a capture file's flush. The loop sleeps until the earliest deadline.
#pragma once
#include <optional>

#include "stack/time.hpp"

namespace tcplab::loop {

class TimedClient {
 public:
  virtual ~TimedClient() = default;
  // The earliest moment advance() has something to do, or nullopt for "nothing pending".
  virtual std::optional<Instant> next_deadline() const = 0;
  // Does whatever is due at `now` (called on every wakeup, due or not).
  virtual void advance(Instant now) = 0;
};

// Wraps an object that already has next_deadline() and advance(now) (http::Server, Stack).
template <class T>
class TimedAdapter final : public TimedClient {
 public:
  explicit TimedAdapter(T& target) : target_(target) {}
  std::optional<Instant> next_deadline() const override { return target_.next_deadline(); }
  void advance(Instant now) override { target_.advance(now); }

 private:
  T& target_;
};

}  // namespace tcplab::loop
