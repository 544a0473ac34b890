// The kernel's TCP behind tcplab's socket API: a SocketProvider over non-blocking kernel
// sockets and an epoll loop, so the same HTTP server (and services) run with no TUN and no
// TCP of ours. For comparing against the kernel's TCP; it touches file descriptors, so it
// lives beside the event loop, outside the sans-IO core. Kernel sockets give no TCP trace.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "stack/tcp/provider.hpp"
#include "stack/time.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::loop {

class KernelSocket;

class KernelTcp final : public tcp::SocketProvider {
 public:
  // Listeners bind to `address` (listen(port) binds address:port).
  explicit KernelTcp(wire::Ipv4Address address);
  ~KernelTcp() override;
  KernelTcp(const KernelTcp&) = delete;
  KernelTcp& operator=(const KernelTcp&) = delete;

  bool listen(uint16_t port, tcp::AcceptHandler* handler) override;
  tcp::Socket* accept(uint16_t port) override;
  std::vector<tcp::ConnectionInfo> connections() const override;
  const tcp::TcpStats& stats() const override { return stats_; }
  const DropCounters& drops() const override { return no_drops_; }
  bool tcp_internals_available() const override { return false; }
  bool sends_leave_at_turn_end() const override { return false; }
  std::string_view tcp_name() const override { return "kernel"; }

  // Sockets accepted on `port` from now on get TCP_NODELAY (Nagle's algorithm off). Off by
  // default, as on our own TCP; serve sets it for HTTP, and for the services with --no-nagle.
  void set_no_delay(uint16_t port) { no_delay_ports_.insert(port); }
  // Why the last listen() failed (errno text).
  const std::string& error() const { return error_; }
  // Another descriptor for the loop to watch (a signalfd): `on_ready` runs when it is readable.
  bool watch(int fd, std::function<void()> on_ready);
  // One wakeup: waits at most `max_wait` (forever if none), calls the handlers of every
  // ready descriptor, then finishes sockets that closed. False on an epoll error.
  bool run_once(std::optional<Duration> max_wait);
  // The same busy polling as EventLoop::set_busy_poll: after events, check again without
  // sleeping for up to `budget`, so the comparison with tcplab's TCP stays like for like.
  void set_busy_poll(Duration budget) { busy_poll_ = budget; }
  // The FIN-WAIT timeout of sockets we closed whose peer never closes (see kernel_tcp.cpp).
  void advance(Instant now);
  std::optional<Instant> next_deadline() const;
  size_t open_sockets() const { return sockets_.size(); }

  // For KernelSocket: a socket whose on_closed is owed at the next safe point.
  void finish_later(KernelSocket* socket);
  Instant now() const { return now_; }
  tcp::TcpStats& counters() { return stats_; }

 private:
  struct Listener {
    int fd = -1;
    tcp::AcceptHandler* handler = nullptr;
    bool paused = false;  // out of descriptors: not watched until a socket closes
  };
  void finish_closed();
  void set_listening_paused(uint16_t port, Listener& listener, bool paused);

  wire::Ipv4Address address_;
  int epoll_fd_ = -1;
  std::unordered_map<uint16_t, Listener> listeners_;
  std::unordered_map<int, std::function<void()>> watched_;
  std::unordered_set<uint16_t> no_delay_ports_;
  // Keyed by address, not fd: abort() closes the fd before on_closed, and the kernel may hand
  // the same number to the next accept.
  std::unordered_map<KernelSocket*, std::unique_ptr<KernelSocket>> sockets_;
  std::vector<KernelSocket*> finishing_;
  tcp::TcpStats stats_;
  DropCounters no_drops_;
  Instant now_{};
  Instant next_scan_{};  // when advance() next looks for overdue closes
  std::string error_;
  Duration busy_poll_{};
  std::chrono::steady_clock::time_point last_event_{};
};

}  // namespace tcplab::loop
