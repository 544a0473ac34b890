// A fake tcp::Socket for service tests: the test plays TCP (bytes arriving, send space,
// the peer's FIN) and reads back what the application sent and whether it closed.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "stack/tcp/socket.hpp"

namespace tcplab::services::test {

class FakeSocket final : public tcp::Socket {
 public:
  // --- the test's side ---
  void arrive(std::span<const std::byte> bytes) {
    inbound_.insert(inbound_.end(), bytes.begin(), bytes.end());
    if (handler_) handler_->on_readable(*this);
  }
  void peer_fin() {
    fin_ = true;
    if (handler_) handler_->on_peer_fin(*this);
  }
  // More send buffer frees up (the peer ACKed data); tells the app if it was blocked.
  void grant(size_t bytes) {
    space_ += bytes;
    if (blocked_ && handler_) {
      blocked_ = false;
      handler_->on_writable(*this);
    }
  }
  // The connection ends (both FINs done, or reset): the socket's last call.
  void finish(tcp::CloseReason why = tcp::CloseReason::Normal) {
    if (handler_) handler_->on_closed(*this, why);
  }
  std::vector<std::byte> sent;
  bool closed = false;
  bool aborted = false;

  // --- tcp::Socket ---
  void set_handler(tcp::SocketHandler* h) override {
    handler_ = h;
    if (h && (!inbound_.empty() || fin_)) h->on_readable(*this);
  }
  size_t send(std::span<const std::byte> data) override {
    REQUIRE_FALSE(closed);  // sending after close() is an application bug
    size_t n = std::min(space_, data.size());
    sent.insert(sent.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    space_ -= n;
    // Like the real TCP (socket.hpp): on_writable is promised after a short send() or after
    // send_space() reported a full buffer.
    if (n < data.size()) blocked_ = true;
    return n;
  }
  size_t send_space() const override {
    if (space_ == 0) blocked_ = true;
    return space_;
  }
  size_t receive(std::span<std::byte> out) override {
    size_t n = std::min(out.size(), inbound_.size());
    std::copy_n(inbound_.begin(), n, out.begin());
    inbound_.erase(inbound_.begin(), inbound_.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
  size_t readable() const override { return inbound_.size(); }
  bool peer_closed() const override { return fin_ && inbound_.empty(); }
  void close() override { closed = true; }
  void abort() override { aborted = true; }
  const FourTuple& tuple() const override { return tuple_; }
  tcp::State state() const override { return tcp::State::Established; }
  tcp::ConnectionInfo info() const override { return {}; }

  size_t space_ = 1 << 20;

 private:
  tcp::SocketHandler* handler_ = nullptr;
  std::deque<std::byte> inbound_;
  bool fin_ = false;
  mutable bool blocked_ = false;  // set by send_space() too, as in the real TCP
  FourTuple tuple_;
};

}  // namespace tcplab::services::test
