// The poll() loop: link + self-pipe + watched descriptors, batch reads, timers by deadline,
// writes. The self-pipe turns signals into ordinary readable bytes, so no real work ever runs
// in a signal handler.
#include "stack/loop/event_loop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "stack/wire/tcp_gso.hpp"

namespace tcplab::loop {
namespace {

// The write end of the current loop's self-pipe, and the text to print at once on SIGINT
// (set_interrupt_notice); the handler may only touch these.
std::atomic<int> g_signal_pipe{-1};
std::atomic<const std::string_view*> g_interrupt_notice{nullptr};

void on_signal(int signo) {
  int saved = errno;  // write() may clobber errno under the interrupted code
  int fd = g_signal_pipe.load();
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signo);
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);  // pipe full: a wakeup is pending anyway
  }
  if (const std::string_view* notice = g_interrupt_notice.load(); signo == SIGINT && notice != nullptr) {
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, notice->data(), notice->size());
  }
  errno = saved;
}

// poll() takes whole milliseconds: round up, so we never wake just before a deadline and spin.
int poll_timeout_ms(std::optional<Instant> deadline, Instant now, std::optional<Duration> max_wait) {
  std::optional<Duration> wait;
  if (deadline) wait = *deadline > now ? *deadline - now : Duration::zero();
  if (max_wait && (!wait || *max_wait < *wait)) wait = *max_wait;
  if (!wait) return -1;  // nothing scheduled: sleep until a packet or a signal
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wait).count();
  constexpr long long kMaxPollMs = 24LL * 3600 * 1000;
  return static_cast<int>(std::min<long long>(ms, kMaxPollMs));
}

}  // namespace

EventLoop::EventLoop(int link_fd, Stack& stack, trace::Tracer& tracer, const Clock& clock)
    : link_fd_(link_fd), stack_(stack), tracer_(tracer), clock_(clock), buffer_(kReadBufferSize) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
    pipe_read_ = fds[0];
    pipe_write_ = fds[1];
  } else {
    error_ = std::string("cannot create the signal pipe: ") + std::strerror(errno);
  }
}

EventLoop::~EventLoop() {
  int expected = pipe_write_;
  g_signal_pipe.compare_exchange_strong(expected, -1);
  if (pipe_read_ >= 0) ::close(pipe_read_);
  if (pipe_write_ >= 0) ::close(pipe_write_);
}

void EventLoop::add_client(TimedClient& client) { clients_.push_back(&client); }

bool EventLoop::install_signal_handlers() {
  if (pipe_write_ < 0) return false;
  g_signal_pipe.store(pipe_write_);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signo : {SIGINT, SIGTERM, SIGUSR1}) {
    if (sigaction(signo, &action, nullptr) != 0) return false;
  }
  // The terminal closing (SIGHUP) stops us as cleanly as Ctrl-C, with the FIN goodbyes and the
  // summary; unless it is ignored already, as under nohup, which asked to outlive it.
  struct sigaction hangup {};
  if (sigaction(SIGHUP, nullptr, &hangup) == 0 && hangup.sa_handler != SIG_IGN &&
      sigaction(SIGHUP, &action, nullptr) != 0)
    return false;
  // A client that goes away must not kill us through a write to a closed pipe/socket.
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}

void EventLoop::set_interrupt_notice(const std::string_view* notice) { g_interrupt_notice.store(notice); }

void EventLoop::request_stop() {
  stopping_ = true;
  if (pipe_write_ >= 0) {
    unsigned char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(pipe_write_, &byte, 1);
  }
}

std::optional<Instant> EventLoop::earliest_deadline() const {
  std::optional<Instant> earliest = stack_.next_deadline();
  if (faults_) {
    auto d = faults_->next_deadline();
    if (d && (!earliest || *d < *earliest)) earliest = d;
  }
  for (const TimedClient* client : clients_) {
    auto d = client->next_deadline();
    if (d && (!earliest || *d < *earliest)) earliest = d;
  }
  return earliest;
}

int EventLoop::run() {
  if (!error_.empty()) return 1;
  while (run_once()) {
  }
  return error_.empty() ? 0 : 1;
}

void EventLoop::send_queued(Duration max_hold) {
  if (!error_.empty()) return;
  Instant now = clock_.now();
  if (!stack_.outbox().empty()) flush_outbox(now);
  // The fault injector may hold them (--delay): they leave when it releases them, as long as
  // that comes within max_hold; the process is about to exit and would lose them. Packets it
  // holds on their way in are not waited for: nothing would read them.
  const Instant give_up = now + max_hold;
  while (faults_) {
    const std::optional<Instant> next = faults_->next_deadline(trace::Direction::Out);
    if (!next || *next > give_up) break;
    if (*next > now) ::poll(nullptr, 0, poll_timeout_ms(*next, now, std::nullopt));
    now = clock_.now();
    faults_->advance(now);
    for (const auto& packet : faults_->take(trace::Direction::Out)) write_packet(packet);
  }
  if (faults_) count_injected_drops();
}

bool EventLoop::run_once(std::optional<Duration> max_wait) {
  if (stopping_ || !error_.empty()) return false;
  // Packets made outside the loop (an application call between iterations, a shutdown
  // drain) leave before we sleep, not after the next wakeup.
  stack_.finish_turn();
  if (!stack_.outbox().empty()) flush_outbox(clock_.now());
  // Decided while the outbox is empty (Stack::leave_tcp_checksums_to_link): with a virtio-net
  // header the kernel takes a partial checksum as it takes one from a local socket, so neither
  // side sums the payload.
  stack_.leave_tcp_checksums_to_link(checksums_to_link());
  fill_pollfds();
  std::vector<pollfd>& fds = fds_;
  const Instant before = clock_.now();
  const std::optional<Instant> deadline = earliest_deadline();
  int ready = 0;
  if (busy_poll_ > Duration::zero()) {
    Instant spin_end = last_packet_ + busy_poll_;
    if (deadline && *deadline < spin_end) spin_end = *deadline;
    if (max_wait && before + *max_wait < spin_end) spin_end = before + *max_wait;
    if (spin_end > before) ready = spin_poll(fds, spin_end - before);
  }
  if (ready == 0) {
    // Whatever the spin used comes off max_wait: run_once never waits longer than asked.
    const Instant now = clock_.now();
    std::optional<Duration> left = max_wait;
    if (left) left = std::max(*left - (now - before), Duration::zero());
    ready = ::poll(fds.data(), fds.size(), poll_timeout_ms(deadline, now, left));
  }
  if (ready < 0 && errno != EINTR) {
    error_ = std::string("poll failed: ") + std::strerror(errno);
    return false;
  }
  ++stats_.wakeups;
  Instant now = clock_.now();
  if (ready > 0 && (fds[1].revents & POLLIN)) drain_signals();
  if (ready > 0 && (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
    error_ = "the link went away (TUN deleted?)";
    return false;
  }
  // Packets the fault injector held (delay, reordering) and whose time has come go first:
  // they arrived before anything read now.
  if (faults_) {
    faults_->advance(now);
    deliver_from_injector(now);
    if (paused_by_user_) now = clock_.now();
  }
  const bool had_packets = ready > 0 && (fds[0].revents & POLLIN);
  if (had_packets) read_batch(now);
  if (ready > 0) report_watched();
  if (paused_by_user_) {
    // Step mode: what the packet's steps built leaves now, before the timers' turn, whose
    // steps may hold the loop again (a timer armed before a long pause is due at once).
    stack_.finish_turn();
    flush_outbox(now);
    now = clock_.now();
  }
  advance_all(now);
  if (paused_by_user_) now = clock_.now();  // a timer's segment may have been stepped through
  flush_outbox(now);
  if (faults_) count_injected_drops();
  // The spin's window starts when the answers have left, not when the packets came: a long
  // batch (or a trace to a slow terminal) must not use it up.
  if (had_packets) last_packet_ = clock_.now();
  return !stopping_ && error_.empty();
}

void EventLoop::count_injected_drops() {
  const link::FaultStats& s = faults_->stats();
  const uint64_t dropped = s.in().dropped + s.in().queue_full + s.out().dropped + s.out().queue_full;
  if (dropped == injected_drops_counted_) return;
  stack_.count_link_drops(DropReason::FaultInjected, dropped - injected_drops_counted_);
  injected_drops_counted_ = dropped;
}

void EventLoop::fill_pollfds() {
  fds_.assign({{link_fd_, POLLIN, 0}, {pipe_read_, POLLIN, 0}});
  polled_.clear();
  for (WatchedFd* watched : watched_) {
    if (const short events = watched->wanted_events(); events != 0) {
      fds_.push_back({watched->fd(), events, 0});
      polled_.push_back(watched);
    }
  }
}

void EventLoop::report_watched() {
  for (size_t i = 0; i < polled_.size(); ++i) {
    if (fds_[i + 2].revents != 0) polled_[i]->on_ready(fds_[i + 2].revents);
  }
}

int EventLoop::spin_poll(std::vector<pollfd>& fds, Duration budget) {
  // Bounded by the real clock whatever clock_ is, so a clock that does not move cannot make
  // it spin for ever.
  const auto end = std::chrono::steady_clock::now() + budget;
  for (bool waited = false;; waited = true) {
    int ready = ::poll(fds.data(), fds.size(), 0);
    // A packet found after at least one empty check is a wake-up saved; one already waiting
    // (more than a batch arrived) would have been found without spinning.
    if (ready > 0 && (fds[0].revents & POLLIN) && waited) ++stats_.busy_poll_hits;
    if (ready != 0) return ready;
    if (std::chrono::steady_clock::now() >= end) return 0;
    // On a busy machine the process that will send the next packet may be waiting for this
    // very core: let it run. On an idle one this returns at once.
    sched_yield();
  }
}

void EventLoop::drain_signals() {
  unsigned char bytes[64];
  for (;;) {
    ssize_t n = ::read(pipe_read_, bytes, sizeof bytes);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      int signo = bytes[i];
      if (signo == SIGINT || signo == SIGTERM || signo == SIGHUP) stopping_ = true;
      if (signo == SIGUSR1 && on_status_) on_status_();
    }
  }
}

void EventLoop::read_batch(Instant& now) {
  // In step mode every packet is a turn of its own (run_once sends its answers before the
  // timers run): the answers to one packet leave before the next is read, as the person
  // stepping expects. A batch would hold them through every later pause.
  const int limit = paused_by_user_ ? 1 : kMaxBatch;
  int count = 0;
  while (count < limit) {
    ssize_t n = ::read(link_fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      error_ = std::string("reading the link failed: ") + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    ++count;
    ++stats_.packets_read;
    LinkPacket packet{std::span<const std::byte>(buffer_.data(), static_cast<size_t>(n))};
    if (vnet_header_) {
      auto stripped = strip_vnet_header(std::span(buffer_.data(), static_cast<size_t>(n)));
      if (!stripped) continue;
      packet = *stripped;
    }
    if (faults_) {
      faults_->push(trace::Direction::In, packet.bytes, now);
      deliver_from_injector(now);
    } else {
      deliver(packet.bytes, now, packet.tcp_checksum);
    }
    if (paused_by_user_) now = clock_.now();
  }
  if (count == kMaxBatch) ++stats_.full_batches;
}

std::optional<EventLoop::LinkPacket> EventLoop::strip_vnet_header(std::span<std::byte> read) {
  auto header = wire::parse_virtio_net_header(read);
  if (!header) {
    ++stats_.vnet_refused;
    return std::nullopt;
  }
  std::span<std::byte> packet = read.subspan(wire::kVirtioNetHeaderLength);
  if (wire::inbound_header_fault(*header, packet)) {
    ++stats_.vnet_refused;
    return std::nullopt;
  }
  if (header->gso() != wire::VirtioGso::None) ++stats_.gso_reads;
  // A TSO super-packet is one IPv4 datagram of up to 64 KiB with a correct total length: the
  // stack takes it as one large segment, so nothing needs cutting. Its checksum is partial
  // (the sending socket is on this host): TCP may trust it (TcpChecksum::Trusted) rather than
  // sum every byte. Other protocols, a capture or trace (which should show the packet as it
  // would be on a wire) and the fault injector (whose packets the stack verifies) need it
  // finished, and then it is finished here, once.
  if (!header->needs_checksum()) return LinkPacket{packet};
  if (wire::partial_tcp_checksum(*header, packet) && !tracer_.enabled() && !faults_) {
    ++stats_.checksums_trusted;
    return LinkPacket{packet, TcpChecksum::Trusted};
  }
  wire::complete_partial_checksum(*header, packet);
  ++stats_.checksums_completed;
  return LinkPacket{packet, TcpChecksum::Verify};
}

void EventLoop::deliver(std::span<const std::byte> packet, Instant now, TcpChecksum tcp_checksum) {
  // The tap sits on the stack's side of the fault injector: a capture shows what the stack
  // received and sent; the injector reports what it did to a packet as a fault event.
  if (tracer_.enabled()) tracer_.packet(now, trace::Direction::In, packet);
  stack_.receive(packet, now, tcp_checksum);
}

void EventLoop::deliver_from_injector(Instant now) {
  if (!faults_->has_ready(trace::Direction::In)) return;
  for (const auto& packet : faults_->take(trace::Direction::In)) deliver(packet, now);
}

void EventLoop::advance_all(Instant now) {
  stack_.advance(now);
  for (TimedClient* client : clients_) client->advance(now);
  stack_.finish_turn();
}

void EventLoop::flush_outbox(Instant now) {
  Outbox& outbox = stack_.outbox();
  if (vnet_header_ && !faults_) {
    // The tap sees every segment as the stack made it; coalescing happens after it.
    pending_.clear();
    for (size_t i = 0; i < outbox.size(); ++i) {
      auto packet = outbox.packet(i);
      if (tracer_.enabled()) tracer_.packet(now, trace::Direction::Out, packet);
      pending_.push_back(packet);
    }
    for (size_t i = 0; i < pending_.size();) i += write_coalesced(i);
    outbox.clear();
    return;
  }
  for (size_t i = 0; i < outbox.size(); ++i) {
    auto packet = outbox.packet(i);
    if (tracer_.enabled()) tracer_.packet(now, trace::Direction::Out, packet);
    if (faults_)
      faults_->push(trace::Direction::Out, packet, now);
    else
      write_packet(packet);
  }
  outbox.clear();
  if (faults_ && faults_->has_ready(trace::Direction::Out)) {
    for (const auto& packet : faults_->take(trace::Direction::Out)) write_packet(packet);
  }
}

size_t EventLoop::write_coalesced(size_t first) {
  std::span<const wire::ConstBytes> rest(pending_.data() + first, pending_.size() - first);
  const wire::GsoRun run = wire::plan_tcp_gso(rest);
  if (run.count < 2) {
    // A lone TCP segment built with its checksum left to the link says so in its header.
    std::optional<wire::VirtioNetHeader> partial;
    if (stack_.tcp_checksums_left_to_link()) partial = wire::partial_tcp_checksum_header(rest[0]);
    if (write_packet(rest[0], partial.value_or(wire::VirtioNetHeader{})) && partial) ++stats_.checksums_left;
    return 1;
  }
  const size_t header_bytes = wire::emit_tcp_gso_headers(rest, run, gso_header_);
  parts_.clear();
  parts_.push_back(iovec{gso_header_.data(), header_bytes});
  for (size_t i = 0; i < run.count; ++i) {
    auto payload = rest[i].subspan(run.header_length);
    // writev() takes non-const pointers but only reads them.
    parts_.push_back(iovec{const_cast<std::byte*>(payload.data()), payload.size()});
  }
  if (write_parts(parts_, run.count)) {
    ++stats_.gso_writes;
    stats_.gso_segments += run.count;
  }
  return run.count;
}

bool EventLoop::write_packet(std::span<const std::byte> packet, const wire::VirtioNetHeader& vnet) {
  // writev() takes non-const pointers but only reads them.
  const iovec bytes{const_cast<std::byte*>(packet.data()), packet.size()};
  if (!vnet_header_) return write_parts(std::span(&bytes, 1), 1);
  std::array<std::byte, wire::kVirtioNetHeaderLength> header;
  wire::emit_virtio_net_header(vnet, header);
  const iovec parts[2] = {{header.data(), header.size()}, bytes};
  return write_parts(parts, 1);
}

bool EventLoop::write_parts(std::span<const iovec> parts, size_t packets) {
  ssize_t n;
  do {
    n = ::writev(link_fd_, parts.data(), static_cast<int>(parts.size()));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    // Deviation (tun-write-refused): a packet the kernel refuses (queue full, no route) is
    // lost like on a wire; TCP retransmits, ICMP does not matter. Counted so a test can notice.
    stats_.write_errors += packets;
    return false;
  }
  ++stats_.link_writes;
  stats_.packets_written += packets;
  return true;
}

}  // namespace tcplab::loop
