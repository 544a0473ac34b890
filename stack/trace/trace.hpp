// Events the core reports at every step (architecture rule 5), and the fan-out to sinks.
// Sinks (text, JSON, pcap, step) live beside this file. With no sink attached, each report
// is one predictable branch: callers test enabled() before building anything costly.
#pragma once
#include <algorithm>
#include <span>
#include <string_view>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/four_tuple.hpp"
#include "stack/seq.hpp"
#include "stack/time.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::trace {

enum class Direction { In, Out };

enum class TimerAction { Armed, Fired, Cancelled };

// A TCP segment as the connection saw it, with what is needed to print Wireshark-style
// relative numbers: seq relative to the sender's ISN, ack relative to the receiver's ISN.
struct SegmentEvent {
  Direction direction;
  FourTuple tuple;  // always local/remote from the stack's point of view
  const wire::TcpSegment& segment;
  bool relative = false;       // iss/irs known (false for RSTs to closed ports)
  Seq iss;                     // our initial sequence number
  Seq irs;                     // the peer's initial sequence number
  std::string_view note = {};  // "retransmission", "challenge ACK", "window probe", ...
  // Sent again, and counted in the stack's "retransmissions" (exit summary, SIGUSR1, /stats).
  // The notes of such segments vary ("fast retransmit", "retransmission (SACK recovery)", ...)
  // and some notes that mention a retransmission are not one ("ACK of retransmitted FIN").
  bool retransmission = false;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Every IPv4 packet crossing the link, both ways, before any parsing (pcap tap).
  virtual void packet(Instant, Direction, std::span<const std::byte> /*ipv4*/) {}
  // A packet refused by the stack, with the reason and an optional detail.
  virtual void drop(Instant, DropReason, std::span<const std::byte> /*ipv4*/, std::string_view /*detail*/) {}
  virtual void segment(Instant, const SegmentEvent&) {}
  // rule: the RFC section that caused the change, e.g. "RFC 9293 §3.10.7.2".
  virtual void state_change(Instant, const FourTuple&, std::string_view /*from*/, std::string_view /*to*/,
                            std::string_view /*rule*/) {}
  virtual void timer(Instant, const FourTuple&, std::string_view /*name*/, TimerAction,
                     Instant /*deadline*/) {}
  // The congestion window or slow-start threshold changed (RFC 5681), with the rule.
  // ssthresh == SIZE_MAX means "not set yet" (infinite, RFC 5681 §3.1).
  virtual void congestion(Instant, const FourTuple&, uint64_t /*cwnd*/, uint64_t /*ssthresh*/,
                          std::string_view /*rule*/) {}
  // Anything else worth a line: ICMP replies, accept-queue events, HTTP decisions.
  virtual void note(Instant, const FourTuple* /*may be null*/, std::string_view /*text*/) {}
  // A fault injected on purpose (stack/link/fault_injector): what happened ("dropped (drop
  // out data#3)") and the packet as the stack sent it (Out) or as it will receive it (In).
  virtual void fault(Instant, Direction, std::string_view /*what*/, std::span<const std::byte> /*ipv4*/) {}
};

class Tracer {
 public:
  void add(Sink* sink) { sinks_.push_back(sink); }
  void clear() { sinks_.clear(); }
  bool enabled() const { return !sinks_.empty(); }
  // The latest time of any event so far: a layer whose own clock was read earlier in the
  // same turn (the HTTP server between advances) stamps its notes no earlier than this, so
  // a trace never goes back in time.
  Instant latest() const { return latest_; }

  void packet(Instant t, Direction d, std::span<const std::byte> ip) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->packet(t, d, ip);
  }
  void drop(Instant t, DropReason r, std::span<const std::byte> ip, std::string_view detail = {}) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->drop(t, r, ip, detail);
  }
  void segment(Instant t, const SegmentEvent& e) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->segment(t, e);
  }
  void state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                    std::string_view rule) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->state_change(t, c, from, to, rule);
  }
  void timer(Instant t, const FourTuple& c, std::string_view name, TimerAction a, Instant deadline) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->timer(t, c, name, a, deadline);
  }
  void congestion(Instant t, const FourTuple& c, uint64_t cwnd, uint64_t ssthresh, std::string_view rule) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->congestion(t, c, cwnd, ssthresh, rule);
  }
  void note(Instant t, const FourTuple* c, std::string_view text) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->note(t, c, text);
  }
  void fault(Instant t, Direction d, std::string_view what, std::span<const std::byte> ip) {
    latest_ = std::max(latest_, t);
    for (auto* s : sinks_) s->fault(t, d, what, ip);
  }

 private:
  std::vector<Sink*> sinks_;
  Instant latest_{};
};

// A sink that hands every event on to another tracer: how one run's events reach a second
// set of sinks (tcplab script's text/JSON/pcap sinks, a ladder kept in memory). Every event
// kind is forwarded, so a new kind added to Sink must be added here too, once.
class ForwardingSink final : public Sink {
 public:
  explicit ForwardingSink(Tracer& to) : to_(to) {}
  void packet(Instant t, Direction d, std::span<const std::byte> ip) override { to_.packet(t, d, ip); }
  void drop(Instant t, DropReason r, std::span<const std::byte> ip, std::string_view detail) override {
    to_.drop(t, r, ip, detail);
  }
  void segment(Instant t, const SegmentEvent& e) override { to_.segment(t, e); }
  void state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                    std::string_view rule) override {
    to_.state_change(t, c, from, to, rule);
  }
  void timer(Instant t, const FourTuple& c, std::string_view name, TimerAction a, Instant deadline) override {
    to_.timer(t, c, name, a, deadline);
  }
  void congestion(Instant t, const FourTuple& c, uint64_t cwnd, uint64_t ssthresh,
                  std::string_view rule) override {
    to_.congestion(t, c, cwnd, ssthresh, rule);
  }
  void note(Instant t, const FourTuple* c, std::string_view text) override { to_.note(t, c, text); }
  void fault(Instant t, Direction d, std::string_view what, std::span<const std::byte> ip) override {
    to_.fault(t, d, what, ip);
  }

 private:
  Tracer& to_;
};

}  // namespace tcplab::trace
