// The event loop (architecture: "the only place that waits"): poll the link and a signal
// self-pipe, feed packets in batches to the sans-IO stack with the time, write what it
// queued, and sleep exactly until the earliest timer deadline.
#pragma once
#include <poll.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/link/fault_injector.hpp"
#include "stack/loop/timed_client.hpp"
#include "stack/loop/watched_fd.hpp"
#include "stack/stack.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/virtio_net_header.hpp"

namespace tcplab::loop {

// Packets read per wakeup before timers run and replies are written: enough to amortise a
// poll() over a ping flood, small enough that timers are never starved.
constexpr int kMaxBatch = 64;
// Large enough for any IPv4 packet after a virtio-net header, so a read never truncates.
constexpr size_t kReadBufferSize = 65535 + wire::kVirtioNetHeaderLength;

struct LoopStats {
  uint64_t wakeups = 0;
  uint64_t packets_read = 0;
  uint64_t packets_written = 0;
  uint64_t write_errors = 0;  // the kernel refused a packet we wrote (counted, not fatal)
  uint64_t full_batches = 0;  // wakeups that read kMaxBatch packets (more were waiting)
  uint64_t busy_poll_hits = 0;  // wakeups whose packets were found by spinning, not by sleeping
  // With a virtio-net header on the link (--offload):
  uint64_t link_writes = 0;     // write system calls that succeeded (one per packet without)
  uint64_t gso_writes = 0;      // of them, GSO super-packets ...
  uint64_t gso_segments = 0;    // ... carrying this many of our segments
  uint64_t gso_reads = 0;       // TSO super-packets the kernel handed us (gso_type TCPV4)
  uint64_t checksums_completed = 0;  // reads whose partial checksum (NEEDS_CSUM) we finished
  uint64_t checksums_trusted = 0;    // TCP reads with one left partial: TCP need not verify it
  uint64_t checksums_left = 0;       // single TCP segments written with theirs left partial
  uint64_t vnet_refused = 0;    // reads with a virtio-net header we could not honour (dropped)
};

class EventLoop {
 public:
  // `link_fd` is a non-blocking descriptor on which one read()/write() is one IPv4 packet:
  // the TUN device, or a SOCK_SEQPACKET socketpair in tests. Not owned.
  EventLoop(int link_fd, Stack& stack, trace::Tracer& tracer, const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Another timed client, advanced after the stack on every wakeup (not owned).
  void add_client(TimedClient& client);
  // Another descriptor to wait on, as it asks (not owned): see WatchedFd.
  void add_watch(WatchedFd& watched) { watched_.push_back(&watched); }
  // Puts a fault injector between the link and the stack, both ways (not owned; null for
  // none). The loop wakes for its held packets. Call before run().
  void set_fault_injector(link::FaultInjector* injector) { faults_ = injector; }
  // After handling packets, keep checking the link for up to `budget` before sleeping in
  // poll(): a packet that comes within it is read at once, without the wake-up of a sleeping
  // process (the largest cost of a one-client request/response, see docs/performance.md).
  // Zero sleeps at once. Never spins past a timer deadline or run_once's max_wait.
  void set_busy_poll(Duration budget) { busy_poll_ = budget; }
  // Every read()/write() on the link starts with a virtio-net header (link::Tun::vnet_header):
  // reads finish partial checksums, and runs of segments leave as GSO super-packets unless a
  // fault injector is set (it sees and writes single packets). Call before run().
  void set_vnet_header(bool on) { vnet_header_ = on; }
  // A trace sink may hold the loop for as long as a person reads (step mode): the clock is
  // then read again after every packet handed to the stack, so what comes after a pause
  // (packets read, timers due, timestamps sent) carries the real time, not the batch's start.
  void set_paused_by_user(bool on) { paused_by_user_ = on; }
  bool vnet_header() const { return vnet_header_; }
  // Called (outside any signal handler) when SIGUSR1 arrives.
  void on_status_request(std::function<void()> callback) { on_status_ = std::move(callback); }

  // Routes SIGINT, SIGTERM, SIGHUP (unless ignored) and SIGUSR1 to this loop through its
  // self-pipe. One loop per process.
  bool install_signal_handlers();
  // Text the SIGINT handler writes to stderr at once (null: none), for a loop a sink may hold
  // (step mode), which acts on the signal only when it runs again. Must outlive the handlers.
  static void set_interrupt_notice(const std::string_view* notice);
  // Runs until stop is requested (SIGINT/SIGTERM or request_stop()). Returns 0 then, or 1 on a
  // link error (see error()).
  int run();
  // One wakeup: waits at most until the earliest deadline (and at most `max_wait` if given),
  // then reads, advances and writes. False once stopping or after a link error.
  bool run_once(std::optional<Duration> max_wait = std::nullopt);
  // Makes run() return; safe from a signal handler.
  void request_stop();
  // Clears a stop request so a short drain can follow (serve's graceful shutdown); a new
  // SIGINT/SIGTERM during the drain stops it again.
  void resume() { stopping_ = false; }
  // Writes what the stack has queued now, even after a stop (the RSTs of a shutdown),
  // waiting up to `max_hold` for the outbound packets a fault injector holds (--delay) to be
  // released; inbound ones it holds are left there.
  void send_queued(Duration max_hold = std::chrono::seconds(1));

  const LoopStats& stats() const { return stats_; }
  const std::string& error() const { return error_; }

 private:
  void read_batch(Instant& now);
  void advance_all(Instant now);
  void flush_outbox(Instant now);
  // Hands one inbound packet to the stack, through the tap.
  void deliver(std::span<const std::byte> packet, Instant now,
               TcpChecksum tcp_checksum = TcpChecksum::Verify);
  // Hands the packets the fault injector releases to the stack.
  void deliver_from_injector(Instant now);
  // Writes one packet to the link, behind `vnet` if the link has a virtio-net header (a zero
  // one: no GSO, checksums complete); write errors are counted. True if the kernel took it.
  bool write_packet(std::span<const std::byte> packet, const wire::VirtioNetHeader& vnet = {});
  // Writes outbox packets from `first` on, as one GSO super-packet when several merge;
  // returns how many it took.
  size_t write_coalesced(size_t first);
  // Whether the TCP segments built from now on may leave their checksums to the link: with a
  // virtio-net header, no fault injector (it and the stack verify what it passes on) and
  // nothing tracing or capturing (which must show checksums as a wire carries them).
  bool checksums_to_link() const { return vnet_header_ && !faults_ && !tracer_.enabled(); }
  // Strips and honours the virtio-net header of a packet read; nothing if it is refused.
  // What follows a read's virtio-net header, and whether TCP may trust its checksum.
  struct LinkPacket {
    std::span<const std::byte> bytes;
    TcpChecksum tcp_checksum = TcpChecksum::Verify;
  };
  std::optional<LinkPacket> strip_vnet_header(std::span<std::byte> read);
  // One write system call of `parts`; counts success or error for `packets` packets.
  bool write_parts(std::span<const iovec> parts, size_t packets);
  void drain_signals();
  // Polls without sleeping until something is ready or `budget` has passed; the poll() result.
  int spin_poll(std::vector<pollfd>& fds, Duration budget);
  // The link, the self-pipe, then every watched descriptor that wants an event now.
  void fill_pollfds();
  // Tells the stack's drop counters of the packets the fault injector dropped since last time.
  void count_injected_drops();
  // Tells the watched descriptors what poll() found for them.
  void report_watched();
  std::optional<Instant> earliest_deadline() const;

  int link_fd_;
  Stack& stack_;
  trace::Tracer& tracer_;
  const Clock& clock_;
  std::vector<TimedClient*> clients_;
  std::vector<WatchedFd*> watched_;
  std::vector<pollfd> fds_;          // reused: what run_once polls
  std::vector<WatchedFd*> polled_;   // the watched descriptors in fds_, from fds_[2] on
  link::FaultInjector* faults_ = nullptr;
  uint64_t injected_drops_counted_ = 0;  // of the injector's drops, those told to the stack
  std::function<void()> on_status_;
  std::vector<std::byte> buffer_;
  bool vnet_header_ = false;
  bool paused_by_user_ = false;
  std::vector<wire::ConstBytes> pending_;  // the outbox as spans, for plan_tcp_gso
  std::vector<iovec> parts_;               // reused: headers + one slice per payload
  // Virtio-net header + the largest IPv4 (60) and TCP (60) headers.
  std::array<std::byte, wire::kVirtioNetHeaderLength + 120> gso_header_{};
  int pipe_read_ = -1;
  int pipe_write_ = -1;
  bool stopping_ = false;
  std::string error_;
  LoopStats stats_;
  Duration busy_poll_{};
  Instant last_packet_{};  // when the link last had packets to read (the spin's start)
};

}  // namespace tcplab::loop
