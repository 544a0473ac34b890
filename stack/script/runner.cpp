// The scenario runner: a virtual clock, a remote peer that injects the script's segments, a
// matcher for the segments the stack sends, and the socket calls mapped onto tcplab's API.
#include "stack/script/runner.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string_view>

#include "stack/link/fault_injector.hpp"
#include "stack/script/udp_datagram.hpp"
#include "stack/stack.hpp"
#include "stack/tcp/socket.hpp"
#include "stack/text/shell_quote.hpp"
#include "stack/trace/format.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/icmp_quote.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::scenario {
namespace {

constexpr wire::Ipv4Address kLocal{0xC0000202};   // 192.0.2.2: the stack under test
constexpr wire::Ipv4Address kRemote{0xC0000201};  // 192.0.2.1: the script's peer(s)
// 198.51.100.1 (TEST-NET-2): a router between them, the sender of ICMP errors about the path.
constexpr wire::Ipv4Address kRouter{0xC6336401};
constexpr int kMaxPeers = 16;
constexpr int kMaxTimerSteps = 100000;       // bound on timers fired between two lines
constexpr Micros kAnyHorizon = 600'000'000;  // '*' waits at most 10 virtual minutes
constexpr size_t kShownTextBytes = 32;        // payload text in tables and the history
// What fcntl(F_GETFL) returns for every socket: Linux's O_RDWR (02) | O_NONBLOCK (04000).
constexpr int64_t kNonBlockingFlags = 02 | 04000;

// Thrown by a call on a descriptor that is not open: the call returns -1 EBADF, which the
// script may expect (packetdrill's "close(4) = -1 EBADF") like any other result.
struct BadDescriptor {
  std::string fd;
};

// Thrown to stop the run with a diagnosis.
struct Stop {
  std::string headline;
  std::vector<std::string> details;
  bool script_error = false;
};

std::string seconds_text(Micros us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%06lld", us < 0 ? "-" : "",
                static_cast<long long>(std::llabs(us) / 1000000),
                static_cast<long long>(std::llabs(us) % 1000000));
  // Trim to milliseconds when the microseconds are zero: "1.000" reads better than "1.000000".
  std::string s = buf;
  if (s.ends_with("000")) s.resize(s.size() - 3);
  return s;
}

Micros micros_since_start(Instant t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - Instant{}).count();
}
Instant at(Micros us) { return Instant{} + std::chrono::microseconds(us); }

// A trace sink that writes the core's events into the run's history (--trace).
class HistorySink final : public trace::Sink {
 public:
  explicit HistorySink(std::vector<std::string>& history, const RunOptions& options)
      : history_(history), options_(options) {}
  void drop(Instant t, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) override {
    add(t, "drop " + std::string(to_string(reason)) +
               (detail.empty() ? "" : " (" + std::string(detail) + ")") + ": " + trace::packet_summary(ipv4));
  }
  void segment(Instant t, const trace::SegmentEvent& e) override {
    add(t, std::string(e.direction == trace::Direction::In ? "in  " : "out ") + trace::segment_summary(e) +
               (e.note.empty() ? "" : "  [" + std::string(e.note) + "]"));
  }
  void state_change(Instant t, const FourTuple&, std::string_view from, std::string_view to,
                    std::string_view rule) override {
    add(t, "state " + std::string(from) + " -> " + std::string(to) + " (" + std::string(rule) + ")");
  }
  void timer(Instant t, const FourTuple&, std::string_view name, trace::TimerAction action,
             Instant deadline) override {
    add(t, "timer " + std::string(name) + " " + trace::to_string(action) +
               (action == trace::TimerAction::Armed ? " for " + seconds_text(micros_since_start(deadline))
                                                    : ""));
  }
  void congestion(Instant t, const FourTuple&, uint64_t cwnd, uint64_t ssthresh,
                  std::string_view rule) override {
    add(t, "cwnd " + std::to_string(cwnd) + " ssthresh " +
               (ssthresh == UINT64_MAX ? std::string("inf") : std::to_string(ssthresh)) + " (" +
               std::string(rule) + ")");
  }
  void note(Instant t, const FourTuple*, std::string_view text) override {
    add(t, "note " + std::string(text));
  }

 private:
  void add(Instant t, const std::string& text) {
    std::string line = "  " + seconds_text(micros_since_start(t)) + "          trace: " + text;
    history_.push_back(line);
    if (options_.verbose) std::fprintf(options_.out, "#%s\n", line.c_str());
  }
  std::vector<std::string>& history_;
  const RunOptions& options_;
};

// What the runner knows about one remote endpoint 192.0.2.1:port.
struct Peer {
  uint16_t port = 0;        // the peer's own port
  uint16_t local_port = 0;  // the stack's port this peer talks to
  Seq remote_isn;           // random per run: script seq numbers are relative to it
  Seq iss{0};               // the stack's ISN as learned from its SYN/SYN-ACK (0 until then)
  bool iss_known = false;
  bool renew_iss = false;  // a new incarnation: learn the ISN again from the next SYN
  std::optional<uint32_t> first_syn_rel;
  uint32_t last_syn_rel = 0;  // relative seq of the peer's latest SYN (its data starts after it)
  // The stack's TSval clock (RFC 7323) minus script milliseconds, learned from its SYN: script
  // TS values of the stack are milliseconds of script time, whatever its random offset.
  std::optional<uint32_t> ts_base;
  // A '<' line of this peer carried payload text: its stream is no longer filler bytes, so a
  // read() that checks them fails because of the script, not of the stack.
  bool sent_text = false;
};

struct Emitted {
  Micros at = 0;
  std::vector<std::byte> bytes;
};

struct Decoded {
  std::string error;  // non-empty when the packet is not a TCP segment we can read
  wire::TcpSegment segment;
  int peer = 0;  // 1-based; 0 when no peer matches the ports
};

class Runner;

// One file descriptor of the script: a socket() not yet used, a listener, or a connection.
struct Fd final : tcp::SocketHandler {
  enum class Kind { Unbound, Listener, Connection };
  int number = 0;
  Kind kind = Kind::Unbound;
  uint16_t port = 0;
  tcp::Socket* socket = nullptr;  // null once on_closed has run
  FourTuple tuple{};              // the connection's, kept after on_closed (abort in TIME-WAIT)
  int peer = 1;
  std::optional<tcp::CloseReason> closed;
  bool connected = false;
  bool shut_wr = false;
  bool linger0 = false;
  uint64_t written = 0, read = 0;
  std::optional<uint32_t> origin;  // relative seq of the peer's SYN for this connection

  void on_connected(tcp::Socket&) override { connected = true; }
  void on_closed(tcp::Socket&, tcp::CloseReason reason) override {
    socket = nullptr;
    closed = reason;
  }
};

class Runner final : public tcp::AcceptHandler {
 public:
  Runner(const Script& script, const RunOptions& options)
      : script_(script), options_(options), sink_(history_, options) {}

  RunResult run() {
    RunResult result;
    try {
      setup();
      for (const Line& line : script_.lines) {
        if (options_.stop_requested && options_.stop_requested()) {
          result.stopped = true;
          result.stopped_line = line.number;
          return result;
        }
        current_ = &line;
        run_line(line);
      }
      current_ = nullptr;
      expect_nothing_pending("at the end of the script");
      result.passed = true;
    } catch (const Stop& stop) {
      result.script_error = stop.script_error;
      result.diagnosis.push_back(stop.headline);
      for (const auto& d : stop.details) result.diagnosis.push_back("  " + d);
      result.failure_lines = result.diagnosis.size();
      if (!stop.script_error || !history_.empty()) {
        result.diagnosis.push_back(
            "lines that ran before (virtual time, seq/ack relative to each side's ISN):");
        for (const auto& h : history_) result.diagnosis.push_back(h);
      }
      // A script read from stdin is named "stdin" in diagnoses, but a rerun reads it from "-",
      // through the pipe again: "stdin" would be taken for a file of that name.
      result.diagnosis.push_back("seed " + std::to_string(options_.seed) + ": rerun with " +
                                 options_.rerun_command + " --seed " + std::to_string(options_.seed) +
                                 " --verbose " +
                                 (script_.from_stdin ? std::string("- (the script on stdin again)")
                                                     : text::shell_quote(script_.path)));
    } catch (const std::exception& e) {
      result.diagnosis.push_back("exception from the stack: " + std::string(e.what()));
      result.failure_lines = 1;
      for (const auto& h : history_) result.diagnosis.push_back(h);
    }
    return result;
  }

  void on_acceptable(uint16_t) override { ++acceptable_; }

 private:
  // ---------------------------------------------------------------- setup and config
  [[noreturn]] void script_error(int line, const std::string& token, const std::string& message) const {
    ScriptError e{script_.path, line, 0, token, message};
    throw Stop{e.format(), {}, true};
  }
  [[noreturn]] void line_script_error(const std::string& message) const {
    script_error(current_ ? current_->number : 0, "", message);
  }

  static std::optional<uint64_t> parse_uint(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  }

  // "200ms", "1s", "1.5s", "500us", or a plain number in `plain_unit_us` units.
  static std::optional<Duration> parse_duration(std::string_view s, int64_t plain_unit_us) {
    int64_t unit = plain_unit_us;
    if (s.ends_with("ms"))
      unit = 1000, s.remove_suffix(2);
    else if (s.ends_with("us"))
      unit = 1, s.remove_suffix(2);
    else if (s.ends_with("s"))
      unit = 1000000, s.remove_suffix(1);
    auto dot = s.find('.');
    auto whole = parse_uint(s.substr(0, dot));
    if (!whole || *whole > 100000000) return std::nullopt;
    double frac = 0;
    if (dot != std::string_view::npos) {
      auto digits = s.substr(dot + 1);
      auto f = parse_uint(digits);
      if (!f || digits.size() > 6) return std::nullopt;
      frac = static_cast<double>(*f);
      for (size_t i = 0; i < digits.size(); ++i) frac /= 10;
    }
    auto us = static_cast<int64_t>((static_cast<double>(*whole) + frac) * static_cast<double>(unit) + 0.5);
    return std::chrono::microseconds(us);
  }

  void apply_config(StackConfig& sc) {
    tcp::TcpConfig& tc = sc.tcp;
    const ConfigEntry* rto_min_entry = nullptr;
    const ConfigEntry* rto_max_entry = nullptr;
    for (const ConfigEntry& e : script_.config) {
      const std::string item = e.key + "=" + e.value;
      auto bad = [&](const std::string& why) { script_error(e.line, item, why); };
      auto u = [&](uint64_t max) -> uint64_t {
        auto v = parse_uint(e.value);
        if (!v || *v > max) bad("expected a whole number up to " + std::to_string(max));
        return *v;
      };
      auto in_range = [&](uint64_t min, uint64_t max) -> uint64_t {
        auto v = parse_uint(e.value);
        if (!v || *v < min || *v > max)
          bad("expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
        return *v;
      };
      auto b = [&]() -> bool {
        if (e.value == "on" || e.value == "true" || e.value == "1") return true;
        if (e.value == "off" || e.value == "false" || e.value == "0") return false;
        bad("expected on or off");
        return false;
      };
      auto d = [&](int64_t plain_unit_us) -> Duration {
        auto v = parse_duration(e.value, plain_unit_us);
        if (!v) bad("expected a duration like 200ms or 1s");
        return *v;
      };
      const std::string& k = e.key;
      if (k == "mss")
        tc.mss = static_cast<uint16_t>(u(65535));
      // RFC 791 §3.2: "Every internet module must be able to forward a datagram of 68 octets
      // without further fragmentation"; a smaller MTU is no IPv4 link.
      else if (k == "mtu")
        sc.mtu = static_cast<uint16_t>(in_range(68, 65535));
      else if (k == "receive_buffer")
        tc.receive_buffer = u(1ull << 30);
      else if (k == "send_buffer")
        tc.send_buffer = u(1ull << 30);
      else if (k == "window_scaling")
        tc.window_scaling = b();
      else if (k == "sack")
        tc.sack = b();
      else if (k == "timestamps")
        tc.timestamps = b();
      else if (k == "keepalive") {
        // IDLE,INTERVAL,COUNT like --tcp-keepalive; durations take units, plain is seconds.
        auto c1 = e.value.find(','), c2 = e.value.rfind(',');
        if (c1 == std::string::npos || c1 == c2) bad("expected IDLE,INTERVAL,COUNT like 10,2,3");
        auto idle = parse_duration(e.value.substr(0, c1), 1000000);
        auto interval = parse_duration(e.value.substr(c1 + 1, c2 - c1 - 1), 1000000);
        auto count = parse_uint(e.value.substr(c2 + 1));
        if (!idle || !interval || !count || *count > 1000) bad("expected IDLE,INTERVAL,COUNT like 10,2,3");
        // The same bounds as --tcp-keepalive (RFC 1122 §4.2.3.6).
        tcp::TcpConfig::KeepAlive keepalive{*idle, *interval, static_cast<int>(*count)};
        if (!keepalive.within_bounds())
          bad("IDLE from 1 ms to 864000 s and INTERVAL from 1 ms to 86400 s, COUNT from 1 to 1000, as "
              "--tcp-keepalive");
        tc.keepalive = keepalive;
      } else if (k == "msl")
        tc.msl = d(1000000);
      else if (k == "fin_timeout")
        tc.fin_timeout = d(1000000);
      else if (k == "rto_initial")
        tc.rto_initial = d(1000);
      else if (k == "rto_min") {
        tc.rto_min = d(1000);
        rto_min_entry = &e;
      } else if (k == "rto_max") {
        tc.rto_max = d(1000);
        rto_max_entry = &e;
      } else if (k == "max_retransmissions")
        tc.max_retransmissions = static_cast<int>(u(1000));
      else if (k == "max_syn_retransmissions")
        tc.max_syn_retransmissions = static_cast<int>(u(1000));
      else if (k == "delayed_ack")
        tc.delayed_ack = b();
      else if (k == "delayed_ack_timeout")
        tc.delayed_ack_timeout = d(1000);
      else if (k == "nagle")
        tc.nagle = b();
      else if (k == "backlog")
        tc.backlog = u(1000000);
      else if (k == "syn_backlog")
        tc.syn_backlog = u(1000000);
      else if (k == "syn_cookies") {
        if (e.value == "auto") tc.syn_cookies = tcp::TcpConfig::SynCookieMode::Auto;
        else if (e.value == "always") tc.syn_cookies = tcp::TcpConfig::SynCookieMode::Always;
        else if (e.value == "never") tc.syn_cookies = tcp::TcpConfig::SynCookieMode::Never;
        else bad("expected auto, always or never");
      }
      else if (k == "persist_max")
        tc.persist_max = d(1000);
      else if (k == "challenge_ack_interval")
        tc.challenge_ack_interval = d(1000);
      // The older name, from when the limit was a host-wide rate: scripts that use it keep
      // working, now as the same rate per connection (RFC 5961 §7).
      else if (k == "challenge_ack_per_second") {
        const uint64_t per_second = u(1000000);
        if (per_second == 0) bad("expected a whole number from 1 to 1000000 (challenges per second)");
        tc.challenge_ack_interval = std::chrono::duration_cast<Duration>(seconds(1)) / per_second;
      }
      else if (k == "invalid_ack_interval")
        tc.invalid_ack_interval = d(1000);
      else if (k == "isn")
        tc.fixed_isn = static_cast<uint32_t>(u(0xffffffffull));
      else if (k == "max_out_of_order")
        tc.max_out_of_order = u(1ull << 30);
      else if (k == "initial_window")
        tc.initial_window_segments = static_cast<uint32_t>(u(1000));
      // The IP layer's (stack/stack.hpp StackConfig): the ICMP error token bucket and the
      // reassembly timeout.
      else if (k == "icmp_error_burst")
        sc.icmp_errors.burst = static_cast<uint32_t>(u(1000000));
      else if (k == "icmp_error_interval")
        sc.icmp_errors.interval = d(1000);
      else if (k == "reassembly_timeout")
        sc.reassembly.timeout = d(1000000);
      // The runner's own settings.
      else if (k == "tolerance")
        tolerance_ = std::chrono::duration_cast<std::chrono::microseconds>(d(1000)).count();
      // Port 0 is reserved: no peer can reach it, and listen() would fail with EADDRINUSE,
      // which blames the wrong thing.
      else if (k == "port") {
        listen_port_ = static_cast<uint16_t>(in_range(1, 65535));
        port_given_ = true;
      }
      // An application on the stack (stack/script/app.hpp): tcplab's HTTP server on PORT.
      else if (k == "http") {
        app_port_ = static_cast<uint16_t>(u(65535));
        if (*app_port_ == 0) bad("expected the port the HTTP server listens on, like http=80");
        app_line_ = e.line;
      }
      // Peer N uses remote_port + N - 1: all 16 fit up to 65535 from 65520. Port 0 is
      // reserved, as for `port` above.
      else if (k == "remote_port") {
        auto v = parse_uint(e.value);
        if (!v || *v < 1 || *v > 65536 - kMaxPeers)
          bad("expected a whole number from 1 to " + std::to_string(65536 - kMaxPeers) + " (peers #1 to #" +
              std::to_string(kMaxPeers) + " use remote_port to remote_port + " +
              std::to_string(kMaxPeers - 1) + ")");
        remote_port_ = static_cast<uint16_t>(*v);
      }
      else if (k == "remote_isn")
        remote_isn_ = static_cast<uint32_t>(u(0xffffffffull));
      else
        bad("unknown config key (see docs/scenarios.md: mss mtu receive_buffer send_buffer window_scaling "
            "msl fin_timeout "
            "rto_initial rto_min rto_max max_retransmissions max_syn_retransmissions delayed_ack "
            "delayed_ack_timeout nagle backlog syn_backlog syn_cookies persist_max "
            "challenge_ack_interval challenge_ack_per_second invalid_ack_interval isn "
            "max_out_of_order initial_window sack timestamps keepalive icmp_error_burst "
            "icmp_error_interval reassembly_timeout tolerance port remote_port remote_isn http)");
    }
    // RFC 6298 §2.4-2.5: the RTO is clamped to [min, max]; an upside-down range clamps to nonsense.
    if ((rto_min_entry || rto_max_entry) && tc.rto_min > tc.rto_max) {
      const ConfigEntry& e = rto_max_entry ? *rto_max_entry : *rto_min_entry;
      script_error(
          e.line, e.key + "=" + e.value,
          "rto_min (" +
              seconds_text(std::chrono::duration_cast<std::chrono::microseconds>(tc.rto_min).count()) +
              " s) is above rto_max (" +
              seconds_text(std::chrono::duration_cast<std::chrono::microseconds>(tc.rto_max).count()) +
              " s): rto_min must not exceed rto_max");
    }
  }

  void setup() {
    // The seed covers everything random, mixed with the script's name so scripts differ.
    uint64_t h = 1469598103934665603ull;
    for (char c : script_.name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    std::mt19937_64 rng(options_.seed ^ h);
    StackConfig sc;
    sc.address = kLocal;
    for (auto& byte : sc.tcp.isn_key) byte = static_cast<uint8_t>(rng());
    apply_config(sc);
    // The peers talk to the HTTP server unless the script names another port for them.
    if (app_port_ && !port_given_) listen_port_ = *app_port_;
    uint16_t base =
        remote_port_ ? *remote_port_ : static_cast<uint16_t>(32768 + rng() % (60999 - 32768 - kMaxPeers));
    for (int i = 0; i < kMaxPeers; ++i) {
      peers_[i].port = static_cast<uint16_t>(base + i);
      peers_[i].local_port = listen_port_;
      // Style guide: random ISNs catch code that quietly assumes 0.
      peers_[i].remote_isn = Seq(static_cast<uint32_t>(rng()));
    }
    if (remote_isn_) peers_[0].remote_isn = Seq(*remote_isn_);
    if (options_.trace) tracer_.add(&sink_);
    for (trace::Sink* s : options_.sinks) tracer_.add(s);
    stack_ = std::make_unique<Stack>(sc, tracer_);
    if (options_.faults.any()) injector_ = std::make_unique<link::FaultInjector>(options_.faults, &tracer_);
    if (options_.on_start) options_.on_start(*stack_);
    stack_->advance(now_);
    if (app_port_) start_app();
    drain();
  }

  void start_app() {
    const std::string item = "http=" + std::to_string(*app_port_);
    if (!options_.app_factory)
      script_error(app_line_, item, "this program cannot start an HTTP server (use build/scenario-tests or "
                                    "tcplab script)");
    std::string error;
    app_ = options_.app_factory(AppStart{"http", *app_port_, stack_->tcp(), tracer_, now_}, error);
    if (!app_) script_error(app_line_, item, "the HTTP server did not start: " + error);
    app_->advance(now_);
  }

  // One wakeup of the event loop at now_: the stack's timers, then the application's (which
  // also stamps what it did in socket callbacks since the last call), then what they sent.
  void advance_all() {
    stack_->advance(now_);
    if (app_) app_->advance(now_);
    drain();
  }

  // ---------------------------------------------------------------- time
  Micros resolve(TimeSpec::Kind kind, Micros value) const {
    return kind == TimeSpec::Kind::Relative ? script_time_ + value : value;
  }

  // The stack's next timer, or the fault injector's next release of a held packet.
  std::optional<Instant> next_deadline() const {
    auto deadline = stack_->next_deadline();
    if (injector_) {
      auto held = injector_->next_deadline();
      if (held && (!deadline || *held < *deadline)) deadline = held;
    }
    if (app_) {
      auto due = app_->next_deadline();
      if (due && (!deadline || *due < *deadline)) deadline = due;
    }
    return deadline;
  }

  void advance_to(Micros target_us) {
    Instant target = at(target_us);
    for (int steps = 0;; ++steps) {
      auto deadline = next_deadline();
      if (!deadline || *deadline > target) break;
      if (steps >= kMaxTimerSteps)
        throw Stop{"the core's timers never settle: next_deadline() stays at " +
                       seconds_text(micros_since_start(*deadline)) + " after advance()",
                   {}};
      if (*deadline > now_) now_ = *deadline;
      advance_all();
    }
    if (target > now_) now_ = target;
    advance_all();
  }

  // Fires timers one deadline at a time (up to `limit`) until the stack sends something.
  void advance_until_packet(Micros limit_us) {
    Instant limit = at(limit_us);
    for (int steps = 0; emitted_.empty(); ++steps) {
      auto deadline = next_deadline();
      if (!deadline || *deadline > limit || steps >= kMaxTimerSteps) return;
      if (*deadline > now_) now_ = *deadline;
      advance_all();
    }
  }

  // ---------------------------------------------------------------- packets out
  // Takes what the stack sent out of its outbox, like the event loop's write step.
  void drain() {
    stack_->finish_turn();
    Outbox& outbox = stack_->outbox();
    for (size_t i = 0; i < outbox.size(); ++i) {
      auto p = outbox.packet(i);
      if (tracer_.enabled()) tracer_.packet(now_, trace::Direction::Out, p);
      if (injector_) {
        injector_->push(trace::Direction::Out, p, now_);
      } else {
        emit(std::vector<std::byte>(p.begin(), p.end()));
      }
    }
    outbox.clear();
    if (injector_) release_held();
    if (options_.on_settle) options_.on_settle();
  }

  void emit(std::vector<std::byte> bytes) {
    emitted_.push_back(Emitted{micros_since_start(now_), std::move(bytes)});
    learn_iss(emitted_.back());
  }

  // Hands on what the fault injector lets through now: the peer's segments to the stack (whose
  // answers go through the injector in turn), the stack's segments to the script.
  void release_held() {
    injector_->advance(now_);
    for (int rounds = 0; rounds < kMaxTimerSteps; ++rounds) {
      bool moved = false;
      for (auto& p : injector_->take(trace::Direction::Out)) {
        emit(std::move(p));
        moved = true;
      }
      for (auto& p : injector_->take(trace::Direction::In)) {
        deliver(p);
        moved = true;
      }
      if (!moved) return;
    }
  }

  // One packet from the peer into the stack, and whatever the stack sends back.
  void deliver(wire::ConstBytes packet) {
    if (tracer_.enabled()) tracer_.packet(now_, trace::Direction::In, packet);
    stack_->receive(packet, now_);
    stack_->finish_turn();
    Outbox& outbox = stack_->outbox();
    for (size_t i = 0; i < outbox.size(); ++i) {
      auto p = outbox.packet(i);
      if (tracer_.enabled()) tracer_.packet(now_, trace::Direction::Out, p);
      injector_->push(trace::Direction::Out, p, now_);
    }
    outbox.clear();
  }

  Decoded decode(const Emitted& e) const {
    Decoded d;
    auto ip = wire::parse_ipv4(e.bytes);
    if (!ip) {
      d.error = "not a valid IPv4 packet (" + std::string(to_string(ip.error())) + ")";
      return d;
    }
    const auto& h = ip->header;
    if (h.protocol != static_cast<uint8_t>(wire::IpProtocol::Tcp)) {
      d.error = "IPv4 protocol " + std::to_string(h.protocol) + ", not TCP";
      return d;
    }
    if (h.source != kLocal || h.destination != kRemote) {
      d.error = "TCP from " + h.source.to_string() + " to " + h.destination.to_string() +
                " (expected 192.0.2.2 > 192.0.2.1)";
      return d;
    }
    auto tcp = wire::parse_tcp(ip->payload, h.source, h.destination, true);
    if (!tcp) {
      d.error = "TCP segment does not parse (" + std::string(to_string(tcp.error())) + ")";
      return d;
    }
    d.segment = tcp.value();
    for (int i = 0; i < kMaxPeers; ++i)
      if (peers_[i].port == d.segment.destination_port && peers_[i].local_port == d.segment.source_port)
        d.peer = i + 1;
    return d;
  }

  void learn_iss(const Emitted& e) {
    Decoded d = decode(e);
    if (!d.error.empty() || d.peer == 0 || !d.segment.flags.syn) return;
    Peer& p = peers_[d.peer - 1];
    if (!p.iss_known || p.renew_iss) {
      p.iss = d.segment.seq;
      p.iss_known = true;
      p.renew_iss = false;
      if (d.segment.options.timestamps)
        p.ts_base = d.segment.options.timestamps->value - static_cast<uint32_t>(e.at / 1000);
    }
  }

  // "S. 0:0(0) ack 1 win 65535 <mss 1460,wscale 7>" with numbers relative to the peer's view.
  std::string describe(const Emitted& e) const {
    auto ip = wire::parse_ipv4(e.bytes);
    if (ip && ip->header.protocol == static_cast<uint8_t>(wire::IpProtocol::Icmp)) return describe_icmp(*ip);
    Decoded d = decode(e);
    if (!d.error.empty()) return d.error;
    const auto& s = d.segment;
    std::string peer_text;
    Seq iss{0}, irs{0};
    if (d.peer == 0) {
      peer_text = " (to port " + std::to_string(s.destination_port) + " from port " +
                  std::to_string(s.source_port) + ": no peer of this script; numbers absolute)";
    } else {
      if (d.peer != 1) peer_text = "#" + std::to_string(d.peer) + " ";
      iss = peers_[d.peer - 1].iss;
      irs = peers_[d.peer - 1].remote_isn;
    }
    uint32_t seq = static_cast<uint32_t>(s.seq - iss);
    uint32_t len = static_cast<uint32_t>(s.payload.size());
    std::string text = (d.peer > 1 ? peer_text : "") + flags_to_string(s.flags) + " " + std::to_string(seq) +
                       ":" + std::to_string(seq + len) + "(" + std::to_string(len) + ")";
    if (s.flags.ack) text += " ack " + std::to_string(static_cast<uint32_t>(s.ack - irs));
    text += " win " + std::to_string(s.window);
    wire::TcpOptions shown = s.options;
    if (shown.timestamps && d.peer != 0 && peers_[d.peer - 1].ts_base)
      shown.timestamps->value -= *peers_[d.peer - 1].ts_base;  // script milliseconds
    std::string opts = shown.to_string(irs);                   // SACK blocks count like the ACK
    if (!opts.empty()) text += " " + opts;
    if (d.peer == 0) text += peer_text;
    return text;
  }

  // Nothing the stack sent is still unmatched; with `peer` (a "> #N none" line), nothing that
  // went to that peer: packets to other peers stay queued for their own '>' lines (and are
  // still caught before the next '<' line or call).
  void expect_nothing_pending(const std::string& where, int peer = 0) {
    std::vector<const Emitted*> unexpected;
    for (const auto& e : emitted_)
      if (peer == 0 || peer_of(e) == peer) unexpected.push_back(&e);
    if (unexpected.empty()) return;
    const std::string to = peer == 0 ? "" : "to peer #" + std::to_string(peer) + " ";
    Stop stop{script_.path + (current_ ? ":" + std::to_string(current_->number) : "") +
                  ": unexpected packet " + to + where + ": the stack sent " +
                  std::to_string(unexpected.size()) + " packet(s)" + (peer == 0 ? "" : " to it") +
                  " the script does not expect",
              {}};
    if (current_) stop.details.push_back("line " + std::to_string(current_->number) + ": " + current_->text);
    for (const Emitted* e : unexpected)
      stop.details.push_back("unexpected packet at " + seconds_text(e->at) + ": " + describe(*e));
    stop.details.push_back("(add a '>' line for it before this line, or fix the stack)");
    throw stop;
  }

  // The peer a packet of the stack's is for: a segment's by its ports, an ICMP error's by the
  // packet it quotes; 0 when it is for no peer of the script.
  int peer_of(const Emitted& e) const {
    auto ip = wire::parse_ipv4(e.bytes);
    if (ip && ip->header.protocol == static_cast<uint8_t>(wire::IpProtocol::Icmp)) {
      auto icmp = wire::parse_icmp(ip->payload);
      if (!icmp) return 0;
      auto quote = wire::parse_icmp_quote(icmp->body);
      if (!quote) return 0;
      for (int i = 0; i < kMaxPeers; ++i)
        if (peers_[i].port == quote->source_port) return i + 1;
      return 0;
    }
    return decode(e).peer;
  }

  // ---------------------------------------------------------------- history
  // Lines that act (inject, call) are recorded before they run, so the core's trace events
  // follow them in the history; their outcome is appended afterwards.
  size_t begin_record(const Line& line, Micros t) {
    char head[64];
    std::snprintf(head, sizeof head, "  %-9s line %-4d ", seconds_text(t).c_str(), line.number);
    history_.push_back(head + line.text);
    if (options_.verbose) std::fprintf(options_.out, "#%s\n", history_.back().c_str());
    return history_.size() - 1;
  }
  void finish_record(size_t index, const std::string& outcome) {
    history_[index] += "   -> " + outcome;
    if (options_.verbose)
      std::fprintf(options_.out, "#                             -> %s\n", outcome.c_str());
  }

  void record(const Line& line, Micros t, const std::string& extra = {}) {
    char head[64];
    std::snprintf(head, sizeof head, "  %-9s line %-4d ", seconds_text(t).c_str(), line.number);
    std::string entry = head + line.text + (extra.empty() ? "" : "   -> " + extra);
    history_.push_back(entry);
    if (options_.verbose) std::fprintf(options_.out, "#%s\n", entry.c_str());
  }

  // ---------------------------------------------------------------- one line
  void run_line(const Line& line) {
    Micros t;
    if (line.time.kind == TimeSpec::Kind::Any) {
      t = micros_since_start(now_);
    } else {
      t = resolve(line.time.kind, line.time.value);
      if (line.time.range_end && resolve(line.time.range_end->first, line.time.range_end->second) < t)
        script_error(line.number, line.text, "time range ends before it starts");
      if (t < script_time_)
        script_error(line.number, line.text,
                     "time goes backwards (this line is at " + seconds_text(t) + ", the previous one at " +
                         seconds_text(script_time_) + ")");
    }
    advance_to(t);
    switch (line.kind) {
      case Line::Kind::Inject:
        expect_nothing_pending("before this injected segment");
        begin_record(line, t);
        if (line.protocol == Protocol::Icmp)
          inject_icmp(line);
        else if (line.protocol == Protocol::Udp)
          inject_udp(line);
        else
          inject(line);
        script_time_ = t;
        break;
      case Line::Kind::Call: {
        expect_nothing_pending("before this call");
        script_time_ = t;
        size_t index = begin_record(line, t);
        finish_record(index, call_or_ebadf(line));
        break;
      }
      case Line::Kind::ExpectNone:
        expect_nothing_pending("where the script expects none",
                               line.segment.peer_given ? line.segment.peer : 0);
        script_time_ = t;
        record(line, t, "nothing sent, as expected");
        break;
      case Line::Kind::Expect:
        expect(line, t);
        break;
    }
  }

  // ---------------------------------------------------------------- inject
  void inject(const Line& line) {
    const SegmentSpec& spec = line.segment;
    Peer& p = peers_[spec.peer - 1];
    wire::TcpSegment seg;
    seg.source_port = p.port;
    seg.destination_port = p.local_port;
    seg.seq = p.remote_isn + spec.seq;
    seg.ack = spec.ack_given && spec.ack ? p.iss + *spec.ack : Seq(0);
    seg.flags = spec.flags;
    seg.window = static_cast<uint16_t>(spec.win.value_or(65535));
    for (const OptionSpec& o : spec.options) {
      switch (o.kind) {
        case OptionSpec::Kind::Mss:
          seg.options.mss = static_cast<uint16_t>(*o.a);
          break;
        case OptionSpec::Kind::WindowScale:
          seg.options.window_scale = static_cast<uint8_t>(*o.a);
          break;
        case OptionSpec::Kind::SackPermitted:
          seg.options.sack_permitted = true;
          break;
        case OptionSpec::Kind::Timestamps:
          // With ACK set, TSecr echoes the stack's TSval, written in script milliseconds like
          // it; without ACK (a first SYN) TSecr means nothing and is sent as written.
          seg.options.timestamps =
              wire::TcpTimestamps{*o.a, spec.flags.ack ? *o.b + p.ts_base.value_or(0) : *o.b};
          break;
        case OptionSpec::Kind::Sack:
          // Relative to the stack's ISN, like the ACK of an injected segment.
          for (const auto& [left, right] : o.blocks) {
            if (seg.options.sack_blocks < wire::kMaxSackBlocks)
              seg.options.sack[seg.options.sack_blocks] = wire::SackBlock{p.iss + left, p.iss + right};
            ++seg.options.sack_blocks;
          }
          break;
        case OptionSpec::Kind::Nop:
        case OptionSpec::Kind::Eol:
          break;  // layout is emit_tcp's job
      }
    }
    if (spec.flags.syn) {
      if (!p.first_syn_rel)
        p.first_syn_rel = spec.seq;
      else if (*p.first_syn_rel != spec.seq)
        p.renew_iss = true;  // a new incarnation (e.g. SYN in TIME-WAIT)
      p.last_syn_rel = spec.seq;
    }
    uint32_t data_start = spec.seq + (spec.flags.syn ? 1u : 0u);
    if (spec.text && spec.len > 0) p.sent_text = true;
    payload_.resize(spec.len);
    for (uint32_t i = 0; i < spec.len; ++i)
      payload_[i] = spec.text ? static_cast<std::byte>((*spec.text)[i])
                              : static_cast<std::byte>(filler_byte(data_start + i - 1));
    seg.payload = payload_;
    std::vector<std::byte> tcp(wire::kTcpMaxHeaderLength + spec.len);
    tcp.resize(wire::emit_tcp(seg, kRemote, kLocal, tcp));
    // The TCP checksum is bytes 16-17 of the TCP header (RFC 9293 §3.1); flip bits in it.
    if (spec.bad_checksum) tcp[16] ^= std::byte{0x5a};
    send_from_peer(wire::IpProtocol::Tcp, kRemote, tcp, line);
  }

  // "< udp (LEN)": a datagram from the peer's port to the listening port. tcplab has no UDP,
  // so the stack answers port unreachable (RFC 1122 §3.2.2.1), rate-limited like every ICMP
  // error (RFC 1812 §4.3.2.8): the trigger for scripts about those errors.
  void inject_udp(const Line& line) {
    const Peer& p = peers_[line.segment.peer - 1];
    send_from_peer(wire::IpProtocol::Udp, kRemote, udp_datagram(p.port, p.local_port, line.udp_len), line);
  }

  // "< icmp TYPE CODE [mtu N] [SEQ:END(LEN)]": an ICMP error about a segment the stack sent
  // to the peer. RFC 792: the error carries "Internet Header + 64 bits of Original Data
  // Datagram", so the quote is our segment's IPv4 header and the first 8 bytes of its TCP
  // header (ports and SEG.SEQ), as a router would have copied them.
  void inject_icmp(const Line& line) {
    const IcmpSpec& m = line.icmp;
    const Peer& p = peers_[line.segment.peer - 1];
    wire::TcpSegment quoted;
    quoted.source_port = p.local_port;
    quoted.destination_port = p.port;
    quoted.seq = p.iss + m.quote_seq;
    quoted.ack = Seq(0);
    quoted.flags = m.quote_flags;
    std::array<std::byte, wire::kTcpMaxHeaderLength> tcp{};
    size_t tcp_header = wire::emit_tcp(quoted, kLocal, kRemote, tcp);
    wire::Ipv4Header ours;  // DF set, as on every segment the stack sends (RFC 1191 §3)
    ours.protocol = static_cast<uint8_t>(wire::IpProtocol::Tcp);
    ours.source = kLocal;
    ours.destination = kRemote;
    // Its total length as sent, which RFC 1191 §5 reads when the router gives no MTU.
    std::vector<std::byte> quote(wire::kIpv4MinHeaderLength + 8);
    wire::emit_ipv4_header(ours, tcp_header + m.quote_len, quote);
    std::copy_n(tcp.begin(), 8, quote.begin() + wire::kIpv4MinHeaderLength);
    // RFC 1191 §4: the next-hop MTU is the low-order 16 bits of the "unused" word.
    uint32_t rest = m.mtu.value_or(0);
    std::vector<std::byte> icmp(8 + quote.size());
    wire::emit_icmp(m.type, m.code, rest, quote, icmp);
    // Port and protocol unreachable come from the peer host itself; the others (a network,
    // host or MTU on the way, a TTL run out) from a router on the path.
    bool from_host = m.type == 3 && (m.code == 2 || m.code == 3);
    send_from_peer(wire::IpProtocol::Icmp, from_host ? kRemote : kRouter, icmp, line);
  }

  // Wraps one transport payload in IPv4 and puts it on the link towards the stack: whole,
  // or only the fragment that "frag A:B" names (RFC 791 §3.2: fragments of one datagram
  // share its identification; MF on all but the last; offsets in 8-byte units).
  void send_from_peer(wire::IpProtocol protocol, wire::Ipv4Address source, std::span<const std::byte> payload,
                      const Line& line) {
    wire::Ipv4Header ip;
    ip.protocol = static_cast<uint8_t>(protocol);
    ip.source = source;
    ip.destination = kLocal;
    std::span<const std::byte> carried = payload;
    if (!line.fragment) {
      ip.identification = ++ip_id_;
    } else {
      const FragmentSpec& f = *line.fragment;
      if (f.end > payload.size())
        line_script_error("frag " + std::to_string(f.offset) + ":" + std::to_string(f.end) +
                          " ends past the datagram: its IP payload (transport header included) is " +
                          std::to_string(payload.size()) + " bytes");
      auto [entry, fresh] = datagram_ids_.try_emplace(line.datagram, uint16_t{0});
      if (fresh) entry->second = ++ip_id_;
      ip.identification = entry->second;
      ip.dont_fragment = false;
      ip.more_fragments = f.end < payload.size();
      ip.fragment_offset = static_cast<uint16_t>(f.offset / 8);
      carried = payload.subspan(f.offset, f.end - f.offset);
    }
    std::vector<std::byte> packet(wire::kIpv4MinHeaderLength + carried.size());
    wire::emit_ipv4_header(ip, carried.size(), packet);
    std::copy(carried.begin(), carried.end(), packet.begin() + wire::kIpv4MinHeaderLength);
    if (injector_) {
      injector_->push(trace::Direction::In, packet, now_);
      release_held();
    } else {
      if (tracer_.enabled()) tracer_.packet(now_, trace::Direction::In, packet);
      stack_->receive(packet, now_);
    }
    drain();
    // Like the event loop after a batch of packets: the application stamps what its socket
    // callbacks did at this very time.
    if (app_) advance_all();
  }

  // ---------------------------------------------------------------- expect
  struct Row {
    std::string field, expected, actual;
    bool ok = true;
  };

  void expect(const Line& line, Micros t) {
    const SegmentSpec& spec = line.segment;
    Micros lo, hi;
    if (line.time.kind == TimeSpec::Kind::Any) {
      // "Whenever": a packet already sent, before the clock reached this line, matches too.
      lo = 0;
      hi = t + kAnyHorizon;
    } else if (line.time.range_end) {
      lo = t;
      hi = resolve(line.time.range_end->first, line.time.range_end->second);
      if (hi < lo) script_error(line.number, line.text, "time range ends before it starts");
    } else {
      lo = std::max<Micros>(0, t - tolerance_);
      hi = t + tolerance_;
    }
    if (emitted_.empty()) advance_until_packet(hi);
    std::string when = line.time.kind == TimeSpec::Kind::Any
                           ? "at any time"
                           : "at " + seconds_text(lo) + ".." + seconds_text(hi) + " s";
    if (emitted_.empty()) {
      auto deadline = stack_->next_deadline();
      throw Stop{script_.path + ":" + std::to_string(line.number) + ": expected a packet " + when +
                     " but the stack sent nothing",
                 {"line " + std::to_string(line.number) + ": " + line.text,
                  "next timer deadline of the stack: " +
                      (deadline ? seconds_text(micros_since_start(*deadline)) + " s" : std::string("none"))}};
    }
    Emitted e = std::move(emitted_.front());
    emitted_.erase(emitted_.begin());
    std::string actual = describe(e);
    std::vector<Row> rows;
    rows.push_back({"time", when, seconds_text(e.at) + " s", e.at >= lo && e.at <= hi});
    if (line.protocol == Protocol::Icmp) {
      compare_icmp(line.icmp, spec.peer, e, rows);
    } else {
      Decoded d = decode(e);
      if (!d.error.empty()) {
        rows.push_back({"packet", "a TCP segment", d.error, false});
      } else {
        compare(spec, d, rows);
      }
    }
    bool ok = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.ok; });
    // The next relative line counts from when the packet left; an earlier packet under '*'
    // does not take the script's time back.
    if (line.time.kind == TimeSpec::Kind::Any)
      script_time_ = std::max(script_time_, e.at);
    else
      script_time_ = line.time.range_end ? e.at : t;
    if (!ok) {
      Stop stop{
          script_.path + ":" + std::to_string(line.number) + ": the stack's packet differs from the script",
          {}};
      stop.details.push_back("script: " + line.text);
      stop.details.push_back("actual: " + seconds_text(e.at) + " > " + actual);
      // Columns as wide as their longest entry ("unreachable port_unreachable"), 24 at least.
      int wide = 24;
      for (const Row& r : rows) wide = std::max({wide, static_cast<int>(r.expected.size()) + 1});
      char buf[1024];  // payload texts make the widest rows
      std::snprintf(buf, sizeof buf, "%-9s %-*s %-24s", "field", wide, "expected", "actual");
      stop.details.push_back(buf);
      for (const Row& r : rows) {
        std::snprintf(buf, sizeof buf, "%-9s %-*s %-24s%s", r.field.c_str(), wide, r.expected.c_str(),
                      r.actual.c_str(), r.ok ? "" : "  <-- differs");
        stop.details.push_back(buf);
      }
      record(line, t, "got " + actual + "   MISMATCH");
      throw stop;
    }
    record(line, e.at, "got " + actual + (spec.text ? " " + payload_preview(e) : ""));
  }

  // The first bytes of a segment's payload as a script writes them, for lines with a text.
  std::string payload_preview(const Emitted& e) const {
    Decoded d = decode(e);
    if (!d.error.empty()) return "";
    const auto& p = d.segment.payload;
    return quote_text(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()), kShownTextBytes);
  }

  static std::string opt_value(const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : "*"; }

  // A '>' icmp line: an ICMP error from the stack to the peer, of this type and code, about
  // a packet peer N sent (its quote names 192.0.2.1 and N's port), with the MTU if given.
  void compare_icmp(const IcmpSpec& want, int peer, const Emitted& e, std::vector<Row>& rows) const {
    auto ip = wire::parse_ipv4(e.bytes);
    if (!ip || ip->header.protocol != static_cast<uint8_t>(wire::IpProtocol::Icmp)) {
      rows.push_back({"packet", "an ICMP message", ip ? "not ICMP" : "not a valid IPv4 packet", false});
      return;
    }
    auto icmp = wire::parse_icmp(ip->payload);
    if (!icmp) {
      rows.push_back({"packet", "an ICMP message", "ICMP does not parse", false});
      return;
    }
    rows.push_back({"to", kRemote.to_string(), ip->header.destination.to_string(),
                    ip->header.destination == kRemote});
    rows.push_back({"icmp", icmp_to_string(want.type, want.code), icmp_to_string(icmp->type, icmp->code),
                    want.type == icmp->type && want.code == icmp->code});
    if (want.mtu) {
      auto mtu = static_cast<uint16_t>(icmp->rest & 0xffff);
      rows.push_back({"mtu", std::to_string(*want.mtu), std::to_string(mtu), mtu == *want.mtu});
    }
    // The quote names the packet's sender: peer N's address and port.
    auto quote = wire::parse_icmp_quote(icmp->body);
    std::string from = kRemote.to_string() + ":" + std::to_string(peers_[peer - 1].port);
    std::string got =
        quote ? quote->source.to_string() + ":" + std::to_string(quote->source_port) : "unreadable";
    rows.push_back({"quote", "from " + from, quote ? "from " + got : got, got == from});
  }

  // "icmp unreachable port_unreachable to 192.0.2.1 (quoting udp 192.0.2.1:40000 > 192.0.2.2:8080)"
  static std::string describe_icmp(const wire::Ipv4Packet& ip) {
    auto icmp = wire::parse_icmp(ip.payload);
    if (!icmp) return "ICMP that does not parse (" + std::string(to_string(icmp.error())) + ")";
    std::string text = "icmp " + icmp_to_string(icmp->type, icmp->code);
    if (icmp->type == 3 && icmp->code == 4) text += " mtu " + std::to_string(icmp->rest & 0xffff);
    text += " to " + ip.header.destination.to_string();
    if (icmp->type != 3 && icmp->type != 11) return text;
    auto q = wire::parse_icmp_quote(icmp->body);
    if (!q) return text + " (quote unreadable)";
    std::string proto = q->protocol == 6    ? "tcp"
                        : q->protocol == 17 ? "udp"
                                            : "protocol " + std::to_string(q->protocol);
    return text + " (quoting " + proto + " " + q->source.to_string() + ":" + std::to_string(q->source_port) +
           " > " + q->destination.to_string() + ":" + std::to_string(q->destination_port) + ")";
  }

  void compare(const SegmentSpec& spec, const Decoded& d, std::vector<Row>& rows) {
    const auto& s = d.segment;
    rows.push_back({"peer", "#" + std::to_string(spec.peer),
                    d.peer ? "#" + std::to_string(d.peer) : "port " + std::to_string(s.destination_port),
                    d.peer == spec.peer});
    const Peer& p = peers_[spec.peer - 1];
    rows.push_back({"flags", flags_to_string(spec.flags), flags_to_string(s.flags), spec.flags == s.flags});
    uint32_t seq = static_cast<uint32_t>(s.seq - p.iss);
    uint32_t len = static_cast<uint32_t>(s.payload.size());
    auto seqtext = [](uint32_t a, uint32_t n) {
      return std::to_string(a) + ":" + std::to_string(a + n) + "(" + std::to_string(n) + ")";
    };
    if (spec.len_any)
      rows.push_back({"seq", std::to_string(spec.seq) + ":*(*)", seqtext(seq, len), seq == spec.seq});
    else if (!spec.seq_any)
      rows.push_back(
          {"seq", seqtext(spec.seq, spec.len), seqtext(seq, len), seq == spec.seq && len == spec.len});
    if (spec.ack_given) {
      uint32_t ack = static_cast<uint32_t>(s.ack - p.remote_isn);
      std::string a = s.flags.ack ? std::to_string(ack) : "(no ACK flag)";
      rows.push_back({"ack", opt_value(spec.ack), a, s.flags.ack && (!spec.ack || *spec.ack == ack)});
    }
    if (spec.win_given)
      rows.push_back(
          {"win", opt_value(spec.win), std::to_string(s.window), !spec.win || *spec.win == s.window});
    if (spec.options_given && !spec.options_any) compare_options(spec, s.options, rows);
    if (spec.text) {
      compare_text(*spec.text, s.payload, rows);
      return;
    }
    // Payload bytes: what the script wrote (filler) at the same stream offset.
    for (uint32_t i = 0; i < len; ++i) {
      uint32_t rel = seq + (s.flags.syn ? 1u : 0u) + i;
      char want = filler_byte(rel - 1);
      char got = static_cast<char>(s.payload[i]);
      if (want != got) {
        rows.push_back({"payload", "'" + std::string(1, want) + "' at byte " + std::to_string(i),
                        "'" + std::string(std::isprint(static_cast<unsigned char>(got)) ? 1 : 0, got) +
                            "' (" + std::to_string(static_cast<uint8_t>(got)) + ")",
                        false});
        break;
      }
    }
  }

  // A '>' line's "TEXT": the payload starts with it (a prefix: a student checks the status line
  // of a response without spelling out its Date). Both sides are shown as the script writes them.
  static void compare_text(const std::string& want, std::span<const std::byte> payload,
                           std::vector<Row>& rows) {
    std::string_view got(reinterpret_cast<const char*>(payload.data()), payload.size());
    bool ok = got.starts_with(want);
    rows.push_back({"payload", "starts " + quote_text(want, kShownTextBytes),
                    quote_text(got, std::max(want.size(), kShownTextBytes)), ok});
  }

  void compare_options(const SegmentSpec& spec, const wire::TcpOptions& o, std::vector<Row>& rows) {
    const OptionSpec *mss = nullptr, *ws = nullptr, *ts = nullptr, *blocks = nullptr;
    bool sack = false;
    for (const auto& x : spec.options) {
      if (x.kind == OptionSpec::Kind::Sack) blocks = &x;
      if (x.kind == OptionSpec::Kind::Mss) mss = &x;
      if (x.kind == OptionSpec::Kind::WindowScale) ws = &x;
      if (x.kind == OptionSpec::Kind::Timestamps) ts = &x;
      if (x.kind == OptionSpec::Kind::SackPermitted) sack = true;
    }
    auto num = [](const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : std::string("*"); };
    auto present = [](bool b) { return b ? std::string("present") : std::string("absent"); };
    rows.push_back({"mss", mss ? num(mss->a) : "absent", o.mss ? std::to_string(*o.mss) : "absent",
                    mss ? (o.mss && (!mss->a || *mss->a == *o.mss)) : !o.mss});
    rows.push_back({"wscale", ws ? num(ws->a) : "absent",
                    o.window_scale ? std::to_string(*o.window_scale) : "absent",
                    ws ? (o.window_scale && (!ws->a || *ws->a == *o.window_scale)) : !o.window_scale});
    rows.push_back({"sackOK", present(sack), present(o.sack_permitted), sack == o.sack_permitted});
    const Peer& peer = peers_[spec.peer - 1];
    uint32_t ts_val = o.timestamps ? o.timestamps->value - peer.ts_base.value_or(0) : 0;
    std::string ts_actual =
        o.timestamps ? "val " + std::to_string(ts_val) + " ecr " + std::to_string(o.timestamps->echo_reply)
                     : "absent";
    bool ts_ok =
        ts ? (o.timestamps && (!ts->a || *ts->a == ts_val) && (!ts->b || *ts->b == o.timestamps->echo_reply))
           : !o.timestamps;
    rows.push_back({"TS", ts ? "val " + num(ts->a) + " ecr " + num(ts->b) : "absent", ts_actual, ts_ok});
    // SACK blocks, relative to the peer's ISN like the ACK, in the order sent (RFC 2018 §4).
    const Peer& p = peer;
    std::string want = "absent", got = "absent";
    if (blocks) {
      want.clear();
      for (const auto& [l, r] : blocks->blocks)
        want += (want.empty() ? "" : " ") + std::to_string(l) + ":" + std::to_string(r);
    }
    if (o.sack_blocks) {
      got.clear();
      for (size_t b = 0; b < std::min<size_t>(o.sack_blocks, wire::kMaxSackBlocks); ++b)
        got += (got.empty() ? "" : " ") + std::to_string(seq_distance(p.remote_isn, o.sack[b].left)) + ":" +
               std::to_string(seq_distance(p.remote_isn, o.sack[b].right));
    }
    rows.push_back({"sack", want, got, want == got});
  }

  // ---------------------------------------------------------------- calls
  Fd& fd_arg(const CallSpec& c, size_t i = 0) {
    if (c.args.size() <= i) line_script_error(c.name + "() needs a file descriptor argument");
    auto n = parse_uint(c.args[i]);
    if (!n) line_script_error(c.name + "(): '" + c.args[i] + "' is not a file descriptor number");
    auto it = fds_.find(static_cast<int>(*n));
    if (it == fds_.end()) throw BadDescriptor{c.args[i]};
    return *it->second;
  }

  // A call whose descriptor is not open fails with EBADF, as the kernel's does; the script
  // expecting that is right, any other expectation fails the line.
  std::string call_or_ebadf(const Line& line) {
    const CallSpec& c = line.call;
    try {
      return call(line);
    } catch (const BadDescriptor& bad) {
      if (!c.result_is_word && c.result == -1 && c.error == "EBADF") return "returned -1 EBADF";
      throw Stop{script_.path + ":" + std::to_string(current_->number) + ": " + c.name + "() on fd " +
                     bad.fd + ", which is not open, returned -1 EBADF, the script expects " +
                     expected_text(c),
                 {"line " + std::to_string(current_->number) + ": " + current_->text}};
    }
  }

  size_t count_arg(const CallSpec& c, size_t i) {
    if (c.args.size() <= i)
      line_script_error(c.name + "() needs a byte count as argument " + std::to_string(i + 1));
    auto n = parse_uint(c.args[i]);
    if (!n || *n > kMaxCallCount)
      line_script_error(c.name + "(): byte count '" + c.args[i] + "' is not a number up to 64 MiB");
    return static_cast<size_t>(*n);
  }

  // The script's "= N" / "= -1 ENAME", as the messages quote it.
  static std::string expected_text(const CallSpec& c) {
    return c.result_is_word ? c.error : std::to_string(c.result) + (c.result == -1 ? " " + c.error : "");
  }

  // Like the kernel, a new descriptor is the lowest number not in use (0-2 are stdio).
  Fd& new_fd(const CallSpec& c) {
    int number = 3;
    while (fds_.count(number)) ++number;
    if (c.result_is_word || c.result != number)
      throw Stop{
          script_.path + ":" + std::to_string(current_->number) + ": " + c.name + "() returned fd " +
              std::to_string(number) + ", the script expects " +
              expected_text(c),
          {"line " + std::to_string(current_->number) + ": " + current_->text}};
    fd_storage_.push_back(std::make_unique<Fd>());
    Fd& fd = *fd_storage_.back();
    fd.number = number;
    fds_[number] = &fd;
    return fd;
  }

  // Compares the call's real result with the script's "= N" / "= -1 ENAME".
  std::string check_result(const CallSpec& c, int64_t value, const std::string& error = {}) {
    std::string actual = std::to_string(value) + (value == -1 ? " " + error : "");
    std::string expected = expected_text(c);
    // Linux defines EWOULDBLOCK as EAGAIN: one errno under two names, either may be written.
    auto same = [](const std::string& want, const std::string& got) {
      return want == got || (want == "EWOULDBLOCK" && got == "EAGAIN");
    };
    bool ok = !c.result_is_word && c.result == value && (value != -1 || same(c.error, error));
    if (!ok)
      throw Stop{script_.path + ":" + std::to_string(current_->number) + ": " + c.name + "() returned " +
                     actual + ", the script expects " + expected,
                 {"line " + std::to_string(current_->number) + ": " + current_->text}};
    return "returned " + actual;
  }

  static std::string errno_for(tcp::CloseReason r) {
    switch (r) {
      case tcp::CloseReason::ResetByPeer:
        return "ECONNRESET";
      case tcp::CloseReason::TimedOut:
        return "ETIMEDOUT";
      case tcp::CloseReason::Refused:
      case tcp::CloseReason::PortUnreachable:  // Linux's icmp_err_convert
        return "ECONNREFUSED";
      case tcp::CloseReason::ProtocolUnreachable:
        return "ENOPROTOOPT";
      case tcp::CloseReason::Aborted:
        return "ECONNABORTED";
      case tcp::CloseReason::Normal:
        return "EPIPE";
    }
    return "EIO";
  }

  Peer* peer_by_remote_port(uint16_t port) {
    for (auto& p : peers_)
      if (p.port == port) return &p;
    return nullptr;
  }

  std::string call(const Line& line) {
    const CallSpec& c = line.call;
    const std::string& n = c.name;
    if (n == "socket") {
      new_fd(c);
      return "fd " + std::to_string(c.result);
    }
    if (n == "fcntl") {
      // tcplab's sockets never block (the parser admits only F_SETFL with O_NONBLOCK and
      // F_GETFL): setting the flag succeeds and changes nothing, and F_GETFL reports it.
      fd_arg(c);
      if (c.args.size() > 1 && c.args[1] == "F_GETFL")
        return check_result(c, kNonBlockingFlags) + " (O_RDWR|O_NONBLOCK)";
      return check_result(c, 0) + " (tcplab sockets never block)";
    }
    if (n == "bind") {
      fd_arg(c);
      return check_result(c, 0);
    }
    if (n == "setsockopt") return setsockopt(c);
    if (n == "getsockopt") return getsockopt(c);
    if (n == "listen") {
      Fd& fd = fd_arg(c);
      size_t backlog = 0;
      if (c.args.size() > 1) {
        auto n = parse_uint(c.args[1]);
        if (!n || *n > kMaxCallCount) line_script_error(backlog_range_text() + ", not '" + c.args[1] + "'");
        backlog = static_cast<size_t>(*n);
      }
      if (fd.kind != Fd::Kind::Unbound) line_script_error("listen() on a descriptor that is already in use");
      // listen(fd, 0) would mean "config.backlog" to TcpHost; Linux treats 0 as a queue of 1.
      bool ok = stack_->tcp().listen(listen_port_, this, backlog == 0 ? 1 : backlog);
      drain();
      if (ok) {
        fd.kind = Fd::Kind::Listener;
        fd.port = listen_port_;
      }
      return check_result(c, ok ? 0 : -1, "EADDRINUSE");
    }
    if (n == "accept") {
      Fd& listener = fd_arg(c);
      if (listener.kind != Fd::Kind::Listener)
        line_script_error("accept() on a descriptor that is not listening");
      tcp::Socket* s = stack_->tcp().accept(listener.port);
      drain();
      if (!s) return check_result(c, -1, "EAGAIN");
      Fd& fd = new_fd(c);
      fd.kind = Fd::Kind::Connection;
      fd.socket = s;
      fd.tuple = s->tuple();
      fd.connected = true;
      if (Peer* p = peer_by_remote_port(s->tuple().remote_port)) {
        fd.peer = static_cast<int>(p - peers_.data()) + 1;
        fd.origin = p->last_syn_rel;
      }
      s->set_handler(&fd);
      drain();
      return "fd " + std::to_string(c.result) + " (" + s->tuple().to_string() + ")";
    }
    if (n == "connect") {
      Fd& fd = fd_arg(c);
      if (fd.kind != Fd::Kind::Unbound) line_script_error("connect() on a descriptor that is already in use");
      if (c.result_is_word || c.result != -1 || c.error != "EINPROGRESS")
        line_script_error("tcplab sockets are non-blocking: write connect(...) = -1 EINPROGRESS");
      Peer& p = peers_[0];
      tcp::Socket* s = stack_->tcp().connect(kRemote, p.port, &fd);
      if (!s) {
        drain();
        return check_result(c, -1, "EADDRNOTAVAIL");
      }
      fd.kind = Fd::Kind::Connection;
      fd.socket = s;
      fd.tuple = s->tuple();
      fd.peer = 1;
      p.local_port = s->tuple().local_port;
      p.renew_iss = true;
      drain();
      return check_result(c, -1, "EINPROGRESS") + " (local port " + std::to_string(p.local_port) + ")";
    }
    if (n == "write" || n == "send") return write(c);
    if (n == "read" || n == "recv") return read(c);
    if (n == "shutdown") {
      Fd& fd = fd_arg(c);
      if (c.args.size() < 2 || (c.args[1] != "SHUT_WR" && c.args[1] != "SHUT_RDWR"))
        line_script_error(
            "shutdown() supports SHUT_WR (and SHUT_RDWR): our close() sends FIN and keeps receiving");
      if (fd.kind != Fd::Kind::Connection) return check_result(c, -1, "ENOTCONN");
      if (fd.socket && !fd.shut_wr) fd.socket->close();
      fd.shut_wr = true;
      drain();
      return check_result(c, 0);
    }
    if (n == "close" || n == "abort") {
      Fd& fd = fd_arg(c);
      std::string what = "closed";
      if (fd.kind == Fd::Kind::Connection && fd.socket) {
        if (n == "abort" || fd.linger0) {
          fd.socket->abort();
          what = "aborted (RST)";
        } else {
          if (!fd.shut_wr) fd.socket->close();
          // close(2) gives the descriptor up: the application will never read this socket
          // again, so TCP finishes alone (Linux's orphaned socket; --fin-timeout applies).
          // shutdown(SHUT_WR) keeps it.
          // close() in SYN-SENT deletes the connection at once: on_closed already ran.
          if (fd.socket && fd.socket->release()) fd.socket = nullptr;
        }
      } else if (fd.kind == Fd::Kind::Connection && (n == "abort" || fd.linger0)) {
        // on_closed came in TIME-WAIT (both FINs exchanged), but ABORT still deletes the TCB
        // there (RFC 9293 §3.10.5), compact record or not.
        if (stack_->tcp().abort_time_wait(fd.tuple, now_)) what = "aborted (TIME-WAIT deleted, no RST)";
      } else if (fd.kind == Fd::Kind::Listener) {
        // RFC 9293 §3.10.4 CLOSE in LISTEN: delete the TCB; the port is closed.
        stack_->tcp().stop_listening(fd.port, now_);
        what = "closed (no longer listening)";
      }
      fds_.erase(fd.number);
      drain();
      return check_result(c, 0) + ", " + what;
    }
    if (n == "state") return state(c);
    line_script_error("unknown call " + n + "()");
  }

  std::string setsockopt(const CallSpec& c) {
    Fd& fd = fd_arg(c);
    if (c.args.size() < 3) line_script_error("setsockopt(fd, level, name, value, length)");
    const std::string& opt = c.args[2];
    if (opt == "SO_REUSEADDR" || opt == "SO_REUSEPORT") return check_result(c, 0) + " (ignored)";
    if (opt == "SO_LINGER") {
      // struct linger's two fields, read as numbers: a substring test took linger=05 or
      // linger=00 for "linger=0", and onoff=10 for "onoff=1".
      auto value = linger_value(c.args.size() > 3 ? c.args[3] : "");
      if (!value)
        line_script_error("SO_LINGER takes {onoff=N, linger=SECONDS} with numbers, like {onoff=1, linger=0}");
      fd.linger0 = value->first != 0 && value->second == 0;
      return check_result(c, 0) + (fd.linger0 ? " (close() will abort with RST)" : "");
    }
    if (opt == "TCP_FASTOPEN" || opt == "TCP_FASTOPEN_CONNECT")
      line_script_error(opt + ": TCP Fast Open (RFC 7413) is not implemented by tcplab");
    if (opt == "TCP_NODELAY")
      line_script_error("TCP_NODELAY is per stack in tcplab: use '// config: nagle=off' instead");
    if (opt == "SO_RCVBUF" || opt == "SO_SNDBUF")
      line_script_error(opt + " is per stack in tcplab: use '// config: receive_buffer=N' or send_buffer=N");
    line_script_error("setsockopt " + opt + " is not supported by the scenario runner");
  }

  // "{onoff=1, linger=0}" (packetdrill's struct linger): onoff and linger, in either order.
  static std::optional<std::pair<uint64_t, uint64_t>> linger_value(std::string_view v) {
    v = trim_text(v);
    if (v.size() < 2 || v.front() != '{' || v.back() != '}') return std::nullopt;
    v = v.substr(1, v.size() - 2);
    std::optional<uint64_t> onoff, linger;
    while (!v.empty()) {
      size_t comma = std::min(v.find(','), v.size());
      std::string_view item = trim_text(v.substr(0, comma));
      v = comma < v.size() ? v.substr(comma + 1) : std::string_view{};
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      std::string_view name = trim_text(item.substr(0, eq));
      auto number = parse_uint(trim_text(item.substr(eq + 1)));
      if (!number) return std::nullopt;
      if (name == "onoff" && !onoff) onoff = number;
      else if (name == "linger" && !linger) linger = number;
      else return std::nullopt;
    }
    if (!onoff || !linger) return std::nullopt;
    return std::pair{*onoff, *linger};
  }

  std::string getsockopt(const CallSpec& c) {
    Fd& fd = fd_arg(c);
    if (c.args.size() >= 4 && c.args[2] == "TCP_INFO") return tcp_info(c, fd);
    if (c.args.size() < 4 || c.args[2] != "SO_ERROR")
      line_script_error(
          "getsockopt supports SO_ERROR and TCP_INFO: getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0");
    std::string want = c.args[3];
    if (want.size() < 2 || want.front() != '[' || want.back() != ']')
      line_script_error("write the expected SO_ERROR in brackets: [0] or [ECONNREFUSED]");
    want = want.substr(1, want.size() - 2);
    std::string actual = fd.closed && *fd.closed != tcp::CloseReason::Normal ? errno_for(*fd.closed) : "0";
    if (want != actual)
      throw Stop{script_.path + ":" + std::to_string(current_->number) + ": SO_ERROR is " + actual +
                     ", the script expects " + want,
                 {"line " + std::to_string(current_->number) + ": " + current_->text}};
    return check_result(c, 0) + ", SO_ERROR " + actual;
  }

  // getsockopt(fd, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_rto=200000, ...}, LEN):
  // the fields tcplab keeps are compared; the others are ignored and named in the history.
  std::string tcp_info(const CallSpec& c, Fd& fd) {
    std::string want = c.args[3];
    if (want.size() < 2 || want.front() != '{' || want.back() != '}')
      line_script_error("write the expected TCP_INFO fields in braces: {tcpi_state=TCP_ESTABLISHED, ...}");
    std::optional<tcp::TcbSnapshot> snap;
    std::optional<tcp::ConnectionInfo> info;
    if (fd.socket) {
      snap = stack_->tcp().snapshot(fd.socket->tuple());
      for (const auto& i : stack_->tcp().connections())
        if (i.tuple == fd.socket->tuple()) info = i;
    }
    auto micros = [](Duration d) {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    };
    std::vector<std::string> compared, ignored;
    std::string body = want.substr(1, want.size() - 2);
    size_t start = 0;
    while (start <= body.size()) {
      size_t comma = body.find(',', start);
      if (comma == std::string::npos) comma = body.size();
      std::string item(trim_text(std::string_view(body).substr(start, comma - start)));
      start = comma + 1;
      if (item.empty()) continue;
      auto eq = item.find('=');
      if (eq == std::string::npos) line_script_error("TCP_INFO field '" + item + "' needs =VALUE");
      std::string field(trim_text(std::string_view(item).substr(0, eq)));
      std::string value(trim_text(std::string_view(item).substr(eq + 1)));
      std::string actual;
      bool numeric = true;
      if (field == "tcpi_state") {
        numeric = false;
        actual = fd.socket ? std::string(to_string(fd.socket->state()))
                           : (fd.kind == Fd::Kind::Listener ? "LISTEN" : "CLOSED");
        value = rfc_state_name(value, true).value_or(value);  // checked by the parser
      } else if (!snap || (field == "tcpi_total_retrans" && !info)) {
        // Without a connection tcplab has none of these numbers: skipping the field would pass
        // whatever the script claims, so a field it does keep fails; others stay ignored.
        if (std::find(std::begin(kTcpInfoNumbers), std::end(kTcpInfoNumbers), field) ==
            std::end(kTcpInfoNumbers)) {
          ignored.push_back(field + " (no connection)");
          continue;
        }
        const std::string what = fd.kind == Fd::Kind::Listener ? "a listener"
                                 : fd.kind == Fd::Kind::Unbound ? "not connected"
                                                                : "its connection is closed";
        throw Stop{script_.path + ":" + std::to_string(current_->number) + ": TCP_INFO " + field +
                       " has no value: fd " + std::to_string(fd.number) + " has no connection (" + what +
                       "), the script expects " + value,
                   {"line " + std::to_string(current_->number) + ": " + current_->text,
                    "(tcplab keeps " + field + " per connection; leave it out of this call)"}};
      } else if (field == "tcpi_rto") {
        actual = std::to_string(micros(snap->rto));
      } else if (field == "tcpi_rtt") {
        actual = std::to_string(micros(snap->srtt));
      } else if (field == "tcpi_snd_cwnd") {
        actual = std::to_string(snap->send_mss ? snap->cwnd / snap->send_mss : 0);
      } else if (field == "tcpi_snd_ssthresh") {
        actual = snap->ssthresh == SIZE_MAX || !snap->send_mss
                     ? std::to_string(0x7fffffff)
                     : std::to_string(snap->ssthresh / snap->send_mss);
      } else if (field == "tcpi_snd_mss") {
        actual = std::to_string(snap->send_mss);
      } else if (field == "tcpi_total_retrans" && info) {
        actual = std::to_string(info->retransmissions);
      } else {
        ignored.push_back(field);
        continue;
      }
      // Numbers are compared as numbers, as the kernel's struct holds them: 010 is 10. The
      // parser has checked the digits and the 32-bit range.
      std::string_view digits = value;
      while (numeric && digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
      const auto want_number = numeric ? parse_uint(digits) : std::nullopt;
      if (numeric && !want_number)
        line_script_error("TCP_INFO field " + field + ": '" + value + "' is not a number");
      if (numeric ? want_number != parse_uint(actual) : value != actual)
        throw Stop{script_.path + ":" + std::to_string(current_->number) + ": TCP_INFO " + field + " is " +
                       actual + ", the script expects " + value,
                   {"line " + std::to_string(current_->number) + ": " + current_->text}};
      compared.push_back(field + "=" + actual);
    }
    std::string out = check_result(c, 0) + ", TCP_INFO";
    for (const auto& f : compared) out += " " + f;
    if (!ignored.empty()) {
      out += "; not kept by tcplab, ignored:";
      for (const auto& f : ignored) out += " " + f;
    }
    return out;
  }

  static std::string_view trim_text(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }

  std::string write(const CallSpec& c) {
    Fd& fd = fd_arg(c);
    size_t count = count_arg(c, 2);
    if (fd.kind != Fd::Kind::Connection) return check_result(c, -1, "ENOTCONN");
    if (fd.shut_wr) return check_result(c, -1, "EPIPE");
    if (!fd.socket) return check_result(c, -1, fd.closed ? errno_for(*fd.closed) : "EPIPE");
    payload_.resize(count);
    for (size_t i = 0; i < count; ++i)
      payload_[i] = static_cast<std::byte>(filler_byte(static_cast<uint32_t>(fd.written + i)));
    size_t taken = fd.socket->send(payload_);
    fd.written += taken;
    drain();
    if (taken == 0 && count > 0) return check_result(c, -1, "EAGAIN");
    return check_result(c, static_cast<int64_t>(taken));
  }

  std::string read(const CallSpec& c) {
    Fd& fd = fd_arg(c);
    size_t count = count_arg(c, 2);
    if (fd.kind != Fd::Kind::Connection) return check_result(c, -1, "ENOTCONN");
    if (!fd.socket) {
      if (!fd.closed || *fd.closed == tcp::CloseReason::Normal)
        return check_result(c, 0) + " (end of stream)";
      return check_result(c, -1, errno_for(*fd.closed));
    }
    if (!fd.origin) fd.origin = peers_[fd.peer - 1].last_syn_rel;
    payload_.assign(count, std::byte{0});
    size_t got = fd.socket->receive(payload_);
    drain();
    for (size_t i = 0; i < got; ++i) {
      char want = filler_byte(static_cast<uint32_t>(*fd.origin + fd.read + i));
      char have = static_cast<char>(payload_[i]);
      if (want == have) continue;
      const std::string where = script_.path + ":" + std::to_string(current_->number) + ": read() returned " +
                                quote_text(std::string_view(&have, 1), 1) + " at stream byte " +
                                std::to_string(fd.read + i);
      const std::string line_text = "line " + std::to_string(current_->number) + ": " + current_->text;
      // With payload text the peer did not send filler bytes: saying it did, and hinting at
      // a stack bug, would send the reader looking in the wrong place.
      if (peers_[fd.peer - 1].sent_text)
        throw Stop{
            where + " where read() expects the filler byte " + quote_text(std::string_view(&want, 1), 1),
            {line_text,
             "(read() checks filler bytes only; this peer's '<' lines send payload text, which is "
             "for an application on the stack: // config: http=PORT)"}};
      throw Stop{
          where + ", the peer sent " + quote_text(std::string_view(&want, 1), 1) + " (the filler byte there)",
          {line_text, "(bytes were delivered out of order, duplicated or lost)"}};
    }
    fd.read += got;
    if (got == 0 && count > 0) {
      if (fd.socket && fd.socket->peer_closed()) return check_result(c, 0) + " (end of stream)";
      if (!fd.socket && fd.closed && *fd.closed != tcp::CloseReason::Normal)
        return check_result(c, -1, errno_for(*fd.closed));
      if (!fd.socket) return check_result(c, 0) + " (end of stream)";
      return check_result(c, -1, "EAGAIN");
    }
    return check_result(c, static_cast<int64_t>(got));
  }

  std::string state(const CallSpec& c) {
    // The parser admits one result that is not a name: -1 EBADF, which call_or_ebadf()
    // accepts when the descriptor is not open; on an open one the state is the answer.
    if (!c.result_is_word && (c.result != -1 || c.error != "EBADF"))
      line_script_error("state() = NAME, like state(4) = ESTABLISHED or state(#1) = TIME-WAIT");
    if (c.args.size() != 1) line_script_error("state() takes one argument: a descriptor or a peer like #1");
    std::string actual = "CLOSED";
    if (!c.args[0].empty() && c.args[0][0] == '#') {
      auto k = parse_uint(std::string_view(c.args[0]).substr(1));
      if (!k || *k < 1 || *k > kMaxPeers) line_script_error("peers are #1 to #16");
      const Peer& p = peers_[*k - 1];
      for (const auto& info : stack_->tcp().connections())
        if (info.tuple.remote_port == p.port && info.tuple.local_port == p.local_port &&
            info.state != tcp::State::Listen)
          actual = std::string(to_string(info.state));
    } else {
      Fd& fd = fd_arg(c);
      if (fd.socket)
        actual = std::string(to_string(fd.socket->state()));
      else if (fd.kind == Fd::Kind::Listener)
        actual = "LISTEN";
    }
    std::string want = c.result_is_word ? rfc_state_name(c.error, false).value_or(c.error)  // parser-checked
                                        : expected_text(c);
    if (want != actual)
      throw Stop{script_.path + ":" + std::to_string(current_->number) + ": the connection is in " + actual +
                     ", the script expects " + want,
                 {"line " + std::to_string(current_->number) + ": " + current_->text}};
    return actual;
  }

  // ---------------------------------------------------------------- members
  const Script& script_;
  const RunOptions& options_;
  std::vector<std::string> history_;
  HistorySink sink_;
  // Handlers outlive the stack (declared before it): the core may call them while it closes.
  // The app's sessions are handlers too.
  std::vector<std::unique_ptr<Fd>> fd_storage_;
  std::map<int, Fd*> fds_;
  std::unique_ptr<ScriptApp> app_;  // `// config: http=PORT`: tcplab's HTTP server
  trace::Tracer tracer_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<link::FaultInjector> injector_;  // only when options_.faults asks for faults
  std::array<Peer, kMaxPeers> peers_{};
  std::vector<Emitted> emitted_;
  std::vector<std::byte> payload_;
  Instant now_{};
  Micros script_time_ = 0;
  Micros tolerance_ = 10'000;  // 10 ms
  uint16_t listen_port_ = 8080;
  bool port_given_ = false;
  std::optional<uint16_t> app_port_;
  int app_line_ = 0;
  std::optional<uint16_t> remote_port_;
  std::optional<uint32_t> remote_isn_;
  uint16_t ip_id_ = 0;
  std::map<std::string, uint16_t> datagram_ids_;  // "frag" lines' datagram text -> its IP id
  uint64_t acceptable_ = 0;
  const Line* current_ = nullptr;
};

}  // namespace

RunResult run_script(const Script& script, const RunOptions& options) {
  Runner runner(script, options);
  return runner.run();
}

}  // namespace tcplab::scenario
