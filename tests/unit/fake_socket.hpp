// One in-memory tcp::Socket for the application tests (HTTP sessions, the classic services):
// the test plays TCP - bytes arriving, send space freeing up, the peer's FIN, the end - and
// reads back what the application sent. It keeps the real socket's promises (socket.hpp), so
// an application that relies on more than TCP gives it fails here first:
//  - on_writable comes only after send() took less than offered or send_space() reported 0,
//    and only once per such promise;
//  - send() after close() takes nothing (and fails the test: it is an application bug);
//  - on_closed is the last call, after which the handler is forgotten.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "stack/tcp/socket.hpp"

namespace tcplab::testing {

class FakeSocket final : public tcp::Socket {
 public:
  std::string inbound;  // sent by the client, not yet read by the application
  std::string sent;     // everything the application sent
  size_t space = std::numeric_limits<size_t>::max() / 2;  // free send buffer
  // Added to what send_space() reports, as the kernel's sockets (serve --kernel-tcp) only
  // estimate their space: send() may then take fewer bytes than send_space() said.
  size_t overstated_space = 0;
  size_t unacknowledged = 0;  // of what was sent: bytes the client has not acknowledged
  std::optional<Instant> acknowledged_at;  // when the client last acknowledged new bytes
  std::optional<bool> window_shut;         // the client's window: shut, open, or not known
  bool fin_in = false;
  bool closed = false;
  // release() succeeds after close(), as tcplab's TCP does; by default it fails, as the
  // kernel's sockets (serve --kernel-tcp) do.
  bool releasable = false;
  bool released = false;
  bool aborted = false;
  bool sent_after_close = false;
  bool gone = false;
  int sends = 0;           // send() calls that took bytes
  int writable_calls = 0;  // on_writable callbacks delivered
  tcp::State st = tcp::State::Established;
  tcp::SocketHandler* handler = nullptr;
  FourTuple t{};
  // Runs after every client action, as the event loop advances its clients after each batch.
  std::function<void()> after_event;

  // --- the client's (and TCP's) side ---
  void client_send(std::string_view bytes) {
    inbound.append(bytes);
    if (handler) handler->on_readable(*this);
    if (after_event) after_event();
  }
  void arrive(std::span<const std::byte> bytes) {
    client_send({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  }
  // The peer's FIN: readable (the end of the stream can be read), then on_peer_fin.
  void client_fin() {
    fin_in = true;
    if (st == tcp::State::Established) st = tcp::State::CloseWait;
    if (st == tcp::State::FinWait2) st = tcp::State::TimeWait;
    if (handler) {
      handler->on_readable(*this);
      if (handler) handler->on_peer_fin(*this);
    }
    if (after_event) after_event();
  }
  void peer_fin() { client_fin(); }
  // The client acknowledged n bytes: send space frees up, and on_writable follows if it was
  // promised (as connection_input.cpp does on a new ACK).
  void drain(size_t n) {
    space += n;
    if (want_writable_ && space > 0 && handler) {
      want_writable_ = false;
      ++writable_calls;
      handler->on_writable(*this);
    }
    if (after_event) after_event();
  }
  void grant(size_t n) { drain(n); }
  // The connection ends (both FINs done, or reset): the socket's last call.
  void finish(tcp::CloseReason reason = tcp::CloseReason::Normal) {
    if (gone) return;
    gone = true;
    auto* h = handler;
    handler = nullptr;
    if (h) h->on_closed(*this, reason);
  }
  bool writable_promised() const { return want_writable_; }

  // --- tcp::Socket ---
  void set_handler(tcp::SocketHandler* h) override {
    handler = h;
    if (h && (!inbound.empty() || fin_in)) h->on_readable(*this);
  }
  size_t send(std::span<const std::byte> data) override {
    if (closed) {
      sent_after_close = true;
      FAIL_CHECK("the application called send() after close()");
      return 0;
    }
    size_t n = std::min(space, data.size());
    if (n > 0) ++sends;
    sent.append(reinterpret_cast<const char*>(data.data()), n);
    space -= n;
    if (n < data.size()) want_writable_ = true;
    return n;
  }
  size_t send_space() const override {
    if (closed) return 0;
    if (space == 0 && overstated_space == 0) want_writable_ = true;
    return space + overstated_space;
  }
  size_t send_queued() const override { return unacknowledged; }
  std::optional<Instant> last_acknowledged() const override { return acknowledged_at; }
  std::optional<bool> peer_window_shut() const override { return window_shut; }
  size_t receive(std::span<std::byte> out) override {
    size_t n = std::min(out.size(), inbound.size());
    std::memcpy(out.data(), inbound.data(), n);
    inbound.erase(0, n);
    return n;
  }
  size_t readable() const override { return inbound.size(); }
  bool peer_closed() const override { return fin_in && inbound.empty(); }
  void close() override {
    closed = true;
    if (st == tcp::State::Established) st = tcp::State::FinWait1;
    if (st == tcp::State::CloseWait) st = tcp::State::LastAck;
  }
  bool release(std::optional<Duration> = std::nullopt) override {
    if (!releasable || !closed || released) return false;
    released = true;
    handler = nullptr;
    return true;
  }
  void abort() override {
    aborted = true;
    finish(tcp::CloseReason::Aborted);
  }
  const FourTuple& tuple() const override { return t; }
  tcp::State state() const override { return st; }
  tcp::ConnectionInfo info() const override { return {}; }

 private:
  mutable bool want_writable_ = false;  // set by send_space() too, as in the real TCP
};

}  // namespace tcplab::testing
