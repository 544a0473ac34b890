// Kernel sockets behind tcp::Socket: every connection is a non-blocking fd in one edge-triggered
// epoll set; readiness becomes the SocketHandler callbacks tcplab's own TCP would make.
#include "stack/loop/kernel_tcp.hpp"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tcplab::loop {
namespace {

// What send_space() promises while the kernel has not refused a write: the kernel's own send
// buffer is the real limit, and a short write tells us it is full.
constexpr size_t kSendSpaceEstimate = 256 * 1024;
// Deviation (kernel-tcp-close-timeout): unlike a kernel-only server, which would leave an
// orphaned FIN-WAIT-2 socket to the kernel's tcp_fin_timeout, we keep the fd open after
// close() to read the peer's FIN (and tell the application on_closed), so a peer that never
// closes would hold it forever. This ends it.
constexpr Duration kCloseTimeout = seconds(60);
constexpr Duration kCloseScanInterval = seconds(1);
constexpr Duration kAckQueryInterval = milliseconds(100);  // see last_acknowledged()
constexpr int kMaxEvents = 256;

// epoll's 64-bit cookie: what kind of descriptor woke, and which one.
enum class Kind : uint64_t { Listener = 1, Watched = 2, Socket = 3 };
uint64_t cookie(Kind kind, uint64_t value) { return (static_cast<uint64_t>(kind) << 56) | value; }
Kind kind_of(uint64_t c) { return static_cast<Kind>(c >> 56); }
uint64_t value_of(uint64_t c) { return c & ((uint64_t{1} << 56) - 1); }

wire::Ipv4Address from_sockaddr(const sockaddr_in& a) { return wire::Ipv4Address{ntohl(a.sin_addr.s_addr)}; }

tcp::State from_kernel_state(uint8_t s) {
  switch (s) {
    case TCP_ESTABLISHED:
      return tcp::State::Established;
    case TCP_SYN_SENT:
      return tcp::State::SynSent;
    case TCP_SYN_RECV:
      return tcp::State::SynReceived;
    case TCP_FIN_WAIT1:
      return tcp::State::FinWait1;
    case TCP_FIN_WAIT2:
      return tcp::State::FinWait2;
    case TCP_TIME_WAIT:
      return tcp::State::TimeWait;
    case TCP_CLOSE_WAIT:
      return tcp::State::CloseWait;
    case TCP_LAST_ACK:
      return tcp::State::LastAck;
    case TCP_LISTEN:
      return tcp::State::Listen;
    case TCP_CLOSING:
      return tcp::State::Closing;
    default:
      return tcp::State::Closed;
  }
}

}  // namespace

class KernelSocket final : public tcp::Socket {
 public:
  KernelSocket(KernelTcp& owner, int fd, const FourTuple& tuple) : owner_(owner), fd_(fd), tuple_(tuple) {}
  ~KernelSocket() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void set_handler(tcp::SocketHandler* handler) override {
    handler_ = handler;
    if (handler_ && !done_ && (readable() > 0 || rdhup_)) handler_->on_readable(*this);
  }

  size_t send(std::span<const std::byte> data) override {
    if (fd_ < 0 || done_ || close_called_ || data.empty()) return 0;
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        blocked_ = true;
      } else {
        fail(errno);
      }
      return 0;
    }
    // A short write: the kernel's send buffer is full; EPOLLOUT's edge says when it drains.
    if (static_cast<size_t>(n) < data.size()) blocked_ = true;
    bytes_sent_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }

  size_t send_space() const override {
    if (fd_ < 0 || done_ || close_called_ || blocked_) return 0;
    return kSendSpaceEstimate;
  }

  size_t send_queued() const override {
    // SIOCOUTQ (tcp(7)): bytes in the send queue not yet acknowledged by the peer.
    int queued = 0;
    if (fd_ < 0 || ::ioctl(fd_, SIOCOUTQ, &queued) < 0 || queued < 0) return 0;
    return static_cast<size_t>(queued);
  }

  size_t receive(std::span<std::byte> out) override {
    if (fd_ < 0 || done_ || out.empty()) return 0;
    ssize_t n = ::recv(fd_, out.data(), out.size(), MSG_DONTWAIT);
    if (n > 0) {
      bytes_received_ += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
    if (n == 0) {
      eof_ = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(errno);
    }
    return 0;
  }

  size_t readable() const override {
    if (fd_ < 0 || done_) return 0;
    int n = 0;
    if (::ioctl(fd_, FIONREAD, &n) != 0 || n < 0) return 0;
    return static_cast<size_t>(n);
  }

  bool peer_closed() const override { return eof_ || ((rdhup_ || done_) && readable() == 0); }

  // When an ACK last acknowledged new data, so that the HTTP server keeps a slow reader that
  // is still taking a response (RFC 9112 §9.5) rather than resetting it at its idle timeout.
  // The kernel reports no such time; what it does report: how many sent bytes are still
  // unacknowledged (SIOCOUTQ) and how long ago the last ACK came (TCP_INFO's
  // tcpi_last_ack_recv, in ms). If more bytes are acknowledged than at the last call, that
  // last ACK took new data; if none are, the time found before stands.
  // The server asks at every visit of the session; two system calls each time would slow the
  // kernel-TCP rows of the benchmark, so the answer is asked of the kernel at most every
  // kAckQueryInterval, far below any idle timeout.
  std::optional<Instant> last_acknowledged() const override {
    if (fd_ < 0 || done_ || bytes_sent_ == 0) return acked_at_;
    if (asked_at_ && owner_.now() - *asked_at_ < kAckQueryInterval) return acked_at_;
    asked_at_ = owner_.now();
    const uint64_t acked = bytes_sent_ - std::min<uint64_t>(send_queued(), bytes_sent_);
    if (acked <= acked_seen_) return acked_at_;
    tcp_info info{};
    socklen_t length = sizeof info;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return acked_at_;
    acked_seen_ = acked;
    acked_at_ = owner_.now() - milliseconds(info.tcpi_last_ack_recv);
    return acked_at_;
  }

  // RFC 9293 §3.10.4 CLOSE on the kernel: shutdown(SHUT_WR) sends our FIN after queued data;
  // the fd stays open to read until the peer's FIN, then it is closed and on_closed follows.
  void close() override {
    if (close_called_ || done_) return;
    close_called_ = true;
    closed_at_ = owner_.now();
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
    drain_after_close();
  }

  // RFC 9293 §3.10.5 ABORT: SO_LINGER with a zero timeout makes close() send RST.
  void abort() override {
    if (done_) return;
    if (fd_ >= 0) {
      linger l{1, 0};
      // Without SO_LINGER 0 the close below would be a FIN, not the RST ABORT promises.
      const bool rst = ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0;
      ::close(fd_);
      fd_ = -1;
      if (rst) ++owner_.counters().resets_sent;
    }
    finish(tcp::CloseReason::Aborted);
  }

  const FourTuple& tuple() const override { return tuple_; }

  tcp::State state() const override {
    if (done_ || fd_ < 0) return tcp::State::Closed;
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return tcp::State::Closed;
    return from_kernel_state(ti.tcpi_state);
  }

  // What the kernel tells through TCP_INFO. The sequence numbers, the send window and the buffer
  // memory are not shown to us and stay 0; tcp_internals_available() is false, so /tcp prints
  // them as null ("not available"), never as these zeros.
  tcp::ConnectionInfo info() const override {
    tcp::ConnectionInfo c;
    c.tuple = tuple_;
    c.state = state();
    c.bytes_received = bytes_received_;
    c.bytes_sent = bytes_sent_;
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (fd_ >= 0 && ::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
      c.srtt = microseconds(ti.tcpi_rtt);
      c.rto = microseconds(ti.tcpi_rto);
      c.retransmissions = ti.tcpi_total_retrans;
      c.rcv_wnd = ti.tcpi_rcv_space;
    }
    return c;
  }

  // One epoll report for this fd, turned into callbacks.
  void on_events(uint32_t events) {
    if (done_) return;
    if (events & EPOLLERR) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(err);
    }
    if (events & (EPOLLRDHUP | EPOLLHUP)) rdhup_ = true;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && handler_) {
      handler_->on_readable(*this);
      if (done_) return;
      if (rdhup_ && !fin_told_ && handler_) {
        fin_told_ = true;
        handler_->on_peer_fin(*this);
        if (done_) return;
      }
    }
    if (close_called_) drain_after_close();
    if (done_) return;
    if ((events & EPOLLOUT) && blocked_) {
      blocked_ = false;
      if (handler_) handler_->on_writable(*this);
    }
  }

  // Ends a socket closed by us whose peer never sent its FIN (see kCloseTimeout).
  bool close_overdue(Instant now) const {
    return close_called_ && !done_ && now - closed_at_ >= kCloseTimeout;
  }
  void time_out() {
    ++owner_.counters().timeouts;
    finish(tcp::CloseReason::TimedOut);
  }

  // Called once by KernelTcp at a safe point: closes the fd and tells the application.
  void deliver_closed() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (handler_) handler_->on_closed(*this, reason_);
  }

 private:
  // After our close() the application may still read (a lingering close discards that way);
  // what it leaves is read and discarded here so the peer's FIN can be seen.
  void drain_after_close() {
    std::byte sink[16384];
    while (fd_ >= 0 && !done_) {
      ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n == 0) {
        eof_ = true;
        finish(tcp::CloseReason::Normal);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(errno);
      }
      return;
    }
  }

  void fail(int err) {
    if (done_) return;
    if (err == ECONNRESET || err == EPIPE) ++owner_.counters().resets_received;
    finish(err == ETIMEDOUT ? tcp::CloseReason::TimedOut : tcp::CloseReason::ResetByPeer);
  }

  void finish(tcp::CloseReason reason) {
    if (done_) return;
    done_ = true;
    reason_ = reason;
    owner_.finish_later(this);
  }

  KernelTcp& owner_;
  int fd_;
  FourTuple tuple_;
  tcp::SocketHandler* handler_ = nullptr;
  bool blocked_ = false;       // the kernel refused bytes; on_writable owed on EPOLLOUT
  bool rdhup_ = false;         // the peer's FIN (or a hang-up) has arrived
  bool eof_ = false;           // read() returned 0: every byte before the FIN was read
  bool fin_told_ = false;      // on_peer_fin was called
  bool close_called_ = false;  // the application called close()
  bool done_ = false;          // on_closed is owed or given; the socket is dead
  Instant closed_at_{};
  tcp::CloseReason reason_ = tcp::CloseReason::Normal;
  uint64_t bytes_received_ = 0, bytes_sent_ = 0;
  // last_acknowledged(): the bytes found acknowledged at its last call, and the ACK time then.
  mutable uint64_t acked_seen_ = 0;
  mutable std::optional<Instant> acked_at_;
  mutable std::optional<Instant> asked_at_;  // when the kernel was last asked
};

KernelTcp::KernelTcp(wire::Ipv4Address address)
    : address_(address), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {}

KernelTcp::~KernelTcp() {
  sockets_.clear();
  for (auto& [port, l] : listeners_) ::close(l.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool KernelTcp::listen(uint16_t port, tcp::AcceptHandler* handler) {
  auto fail = [this](const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
  };
  if (epoll_fd_ < 0) return fail("epoll_create1");
  if (listeners_.contains(port)) {
    errno = EADDRINUSE;
    return fail("listen");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(address_.value);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    bool ok = fail(("bind " + address_.to_string() + ":" + std::to_string(port)).c_str());
    ::close(fd);
    return ok;
  }
  // Level-triggered: connections the application leaves queued wake the loop again.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = cookie(Kind::Listener, port);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    bool ok = fail("epoll_ctl");
    ::close(fd);
    return ok;
  }
  listeners_[port] = Listener{fd, handler};
  return true;
}

tcp::Socket* KernelTcp::accept(uint16_t port) {
  auto it = listeners_.find(port);
  if (it == listeners_.end()) return nullptr;
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  int fd = ::accept4(it->second.fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    // Out of descriptors: the connection waits in the kernel's queue. The listener stays
    // readable, so stop watching it until one of our sockets closes, instead of spinning.
    if (errno == EMFILE || errno == ENFILE) set_listening_paused(port, it->second, true);
    return nullptr;
  }
  // Only where the caller asked (set_no_delay): everywhere else Nagle's algorithm (RFC 896)
  // stays on, as on our TCP, so a service behaves the same on both.
  if (no_delay_ports_.contains(port)) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  sockaddr_in local{};
  socklen_t local_len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
  FourTuple tuple{from_sockaddr(local), ntohs(local.sin_port), from_sockaddr(peer), ntohs(peer.sin_port)};
  auto socket = std::make_unique<KernelSocket>(*this, fd, tuple);
  KernelSocket* raw = socket.get();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = cookie(Kind::Socket, reinterpret_cast<uintptr_t>(raw));
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    return nullptr;  // the socket's destructor closes fd
  sockets_.emplace(raw, std::move(socket));
  ++stats_.passive_opens;
  ++stats_.handshakes_completed;
  stats_.connections_current = sockets_.size();
  return raw;
}

std::vector<tcp::ConnectionInfo> KernelTcp::connections() const {
  std::vector<tcp::ConnectionInfo> out;
  out.reserve(sockets_.size());
  for (const auto& [raw, s] : sockets_) out.push_back(s->info());
  return out;
}

bool KernelTcp::watch(int fd, std::function<void()> on_ready) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = cookie(Kind::Watched, static_cast<uint64_t>(fd));
  if (epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  watched_[fd] = std::move(on_ready);
  return true;
}

bool KernelTcp::run_once(std::optional<Duration> max_wait) {
  const auto start = std::chrono::steady_clock::now();
  epoll_event events[kMaxEvents];
  int n = 0;
  if (busy_poll_ > Duration::zero()) {
    auto spin_end = last_event_ + busy_poll_;
    if (max_wait && start + *max_wait < spin_end) spin_end = start + *max_wait;
    while (n == 0 && std::chrono::steady_clock::now() < spin_end) {
      n = ::epoll_wait(epoll_fd_, events, kMaxEvents, 0);
      if (n == 0) sched_yield();  // as EventLoop::spin_poll: a waiting process goes first
    }
  }
  if (n == 0) {
    // max_wait is the next timer's deadline: what the spin used comes off it.
    int timeout_ms = -1;
    if (max_wait) {
      Duration left = std::max(*max_wait - (std::chrono::steady_clock::now() - start), Duration::zero());
      auto us = std::chrono::duration_cast<microseconds>(left).count();
      timeout_ms = static_cast<int>(std::min<int64_t>((us + 999) / 1000, 60'000));
    }
    n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  }
  if (n < 0) return errno == EINTR;
  for (int i = 0; i < n; ++i) {
    uint64_t c = events[i].data.u64;
    switch (kind_of(c)) {
      case Kind::Listener: {
        auto it = listeners_.find(static_cast<uint16_t>(value_of(c)));
        if (it != listeners_.end() && it->second.handler) it->second.handler->on_acceptable(it->first);
        break;
      }
      case Kind::Watched: {
        auto it = watched_.find(static_cast<int>(value_of(c)));
        if (it != watched_.end()) it->second();
        break;
      }
      case Kind::Socket:
        // Sockets are freed only in finish_closed below, so the pointer is still valid here.
        reinterpret_cast<KernelSocket*>(static_cast<uintptr_t>(value_of(c)))->on_events(events[i].events);
        break;
    }
  }
  finish_closed();
  // The spin's window starts once the handlers have answered (as EventLoop's).
  if (n > 0 && busy_poll_ > Duration::zero()) last_event_ = std::chrono::steady_clock::now();
  return true;
}

void KernelTcp::finish_later(KernelSocket* socket) { finishing_.push_back(socket); }

void KernelTcp::set_listening_paused(uint16_t port, Listener& listener, bool paused) {
  if (listener.paused == paused) return;
  listener.paused = paused;
  epoll_event ev{};
  ev.events = paused ? 0u : static_cast<uint32_t>(EPOLLIN);
  ev.data.u64 = cookie(Kind::Listener, port);
  // A listener left paused would never accept again: say so rather than go quiet.
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listener.fd, &ev) != 0 && error_.empty())
    error_ = std::string("epoll_ctl on the listener: ") + std::strerror(errno);
}

void KernelTcp::finish_closed() {
  std::vector<KernelSocket*> batch;
  while (!finishing_.empty()) {
    batch.swap(finishing_);
    for (KernelSocket* s : batch) {
      auto it = sockets_.find(s);
      if (it == sockets_.end()) continue;
      std::unique_ptr<KernelSocket> owned = std::move(it->second);
      sockets_.erase(it);
      stats_.connections_current = sockets_.size();
      owned->deliver_closed();
    }
    // A descriptor came free: listeners paused at the limit may accept again.
    for (auto& [port, l] : listeners_) set_listening_paused(port, l, false);
    batch.clear();
  }
}

void KernelTcp::advance(Instant now) {
  now_ = now;
  if (now >= next_scan_) {
    // A scan once a second, and only while connections exist: cheaper than a timer per socket.
    next_scan_ = now + kCloseScanInterval;
    for (auto& [raw, s] : sockets_) {
      if (s->close_overdue(now)) s->time_out();
    }
  }
  finish_closed();
}

std::optional<Instant> KernelTcp::next_deadline() const {
  if (!finishing_.empty()) return now_;
  if (sockets_.empty()) return std::nullopt;
  return next_scan_;
}

}  // namespace tcplab::loop
