// The shared flag groups and the trace sinks they open.
#include "tools/tcplab/stack_flags.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "stack/link/netlink_view.hpp"
#include "stack/link/open_output.hpp"
#include "tools/tcplab/same_file.hpp"

namespace tcplab::cli {

namespace {

// A burst of JSON events per write() (see TraceSinks::open).
constexpr size_t kJsonFileBuffer = 256 * 1024;
constexpr uint64_t kMaxBuffer = uint64_t{1} << 30;
constexpr uint64_t kMinBuffer = 536;  // RFC 9293 §3.7.1: the segment size every TCP takes
}

Duration default_busy_poll() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) < 2) return Duration::zero();
  return microseconds(50);
}

void add_link_flags(FlagTable& flags, LinkOptions& o) {
  add_flag(flags, "--tun", "NAME", o.tun.name,
           "TUN device to create, or an existing persistent TUN to attach to (an admin can make one for you: "
           "sudo ip tuntap add mode tun user STUDENT name tcplab0, STUDENT being your login name)",
           [&o](std::string_view v) -> std::optional<std::string> {
             o.tun.name = std::string(v);
             if (auto bad = link::check_interface_name(o.tun.name)) return *bad;
             return std::nullopt;
           });
  add_flag(flags, "--host-ip", "CIDR|auto|none", "auto",
           "address of the kernel's side of the TUN. auto takes the address an admin already gave the TUN, "
           "else the first of 192.0.2.1/24, 198.51.100.1/24, 203.0.113.1/24, 100.64.0-255.1/24 that overlaps "
           "no address, route (of any table) or gateway on another interface; an explicit CIDR that overlaps "
           "one is refused, never applied. 'none' leaves the addresses of an admin-configured persistent TUN "
           "alone, and is refused unless that TUN exists and already carries an IPv4 address whose prefix "
           "holds --ip, or a route to --ip through it. Multicast, broadcast, 0.0.0.0/8, 127.0.0.0/8 and "
           "240.0.0.0/4 addresses are refused, as are a prefix's own network and broadcast addresses; "
           "packets from those two are dropped (ipv4-bad-source)",
           [&o](std::string_view v) -> std::optional<std::string> {
             if (v == "none" || v == "auto") {
               o.host_choice = v == "none" ? ip::HostChoice::None : ip::HostChoice::Auto;
               o.tun.host.reset();
               return std::nullopt;
             }
             auto c = ip::Ipv4Cidr::parse(v);
             if (!c) return std::string("expected ADDRESS/PREFIX like 192.0.2.1/24, auto or none");
             if (auto why = ip::unusable_host_address(*c))
               return c->address.to_string() + " " + *why + "; give a unicast address like 192.0.2.1/24";
             o.host_choice = ip::HostChoice::Given;
             o.tun.host = *c;
             return std::nullopt;
           });
  add_flag(flags, "--ip", "ADDR", "the address next to --host-ip's",
           "the stack's own address; with --host-ip auto, the host side becomes .1 of its /24 (.2 if ADDR "
           "is .1; documentation ranges, RFC 5737, are never a real LAN)",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto a = wire::Ipv4Address::parse(v);
             if (!a) return std::string("expected a dotted IPv4 address like 192.0.2.2");
             if (auto why = ip::unusable_link_address(*a))
               return a->to_string() + " " + *why + "; give a unicast address like 192.0.2.2";
             o.ip = *a;
             o.ip_given = true;
             return std::nullopt;
           });
  add_flag(flags, "--mtu", "N", std::to_string(o.tun.mtu), "link MTU in bytes; the TCP MSS is MTU - 40",
           uint_into(o.tun.mtu, 576, 65535));
  add_flag(flags, "--ttl", "N", std::to_string(o.ttl), "IPv4 time to live of the packets we send",
           uint_into(o.ttl, 1, 255));
  add_flag(flags, "--busy-poll", "MICROSECONDS", "50 on 2+ CPUs, else 0",
           "after handling packets, keep checking the link this long before sleeping, so the next "
           "packet of a conversation is read at once instead of after a process wake-up (like Linux's "
           "net.core.busy_poll); costs CPU only right after traffic. 0 sleeps at once",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto us = parse_uint(v, 0, 1'000'000);
             if (!us) return std::string("expected microseconds, a whole number from 0 to 1000000");
             o.busy_poll = microseconds(*us);
             return std::nullopt;
           });
  const char* offload_default = o.tun.offload ? "offloads on" : "offloads off";
  add_flag(flags, "--offload", "", offload_default,
           "TUN offloads (IFF_VNET_HDR): runs of our segments leave as one 64 KiB GSO write, the "
           "kernel may hand us 64 KiB TSO segments, and TCP checksums are left to the kernel unless "
           "a trace or capture runs; off while any fault flag is given",
           switch_into(o.tun.offload, true));
  add_flag(flags, "--no-offload", "", offload_default,
           "no TUN offloads: one read() or write() per MTU-sized packet", switch_into(o.tun.offload, false));
}

void add_trace_flags(FlagTable& flags, TraceOptions& o) {
  add_flag(flags, "--trace", "", "off",
           "print every event to stdout: segments, state changes, timers, drops with their reason",
           switch_into(o.trace, true));
  add_flag(flags, "--trace-json", "FILE", "off",
           "write the same events as JSON lines to FILE ('-': stdout, which then carries only the JSON; "
           "all else tcplab prints goes to stderr)", file_into(o.trace_json));
  add_flag(flags, "--pcap", "FILE", "off",
           "capture every packet to FILE (opens in Wireshark while running); in pcapng each packet that "
           "changed a state, was retransmitted, dropped or hit by a fault carries a comment saying so",
           [&o](std::string_view v) -> std::optional<std::string> {
             // stdout carries tcplab's own text, and a capture is binary; a named file can be
             // read while it grows (Wireshark: View > Reload), so stdout is not offered.
             if (v == "-") return std::string("a capture cannot go to stdout; give a file name");
             return file_into(o.pcap)(v);
           });
  add_flag(flags, "--pcap-format", "pcapng|pcap", "pcapng",
           "capture file format: pcapng with packet comments, or classic pcap (no comments)",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto f = link::parse_pcap_format(v);
             if (!f) return std::string("expected pcapng or pcap");
             o.pcap_format = *f;
             return std::nullopt;
           });
  add_flag(flags, "--absolute", "", "relative",
           "print raw sequence numbers in the trace instead of counting from each side's ISN",
           switch_into(o.absolute, true));
}

void add_step_flag(FlagTable& flags, bool& step) {
  add_flag(flags, "--step", "", "off",
           "pause before each inbound segment is processed and after each outbound one is built; "
           "show the TCB and what changed; commands from stdin (n, c, b STATE, b rst, b retransmission, "
           "p, q); the JSON trace and the capture are flushed at each pause",
           switch_into(step, true));
}

bool colour_wanted(std::FILE* out) {
  const char* no_colour = std::getenv("NO_COLOR");
  return isatty(fileno(out)) && (no_colour == nullptr || *no_colour == '\0');
}

void add_fault_flags(FlagTable& flags, FaultOptions& o, bool with_seed) {
  using link::RandomFaultKind;
  auto random = [&o](RandomFaultKind kind) {
    return [&o, kind](std::string_view v) { return link::apply_random_fault(o, kind, v); };
  };
  const char* both = " Prefix in: or out: for one direction (both by default).";
  add_flag(flags, "--drop", "[in:|out:]P", "0",
           std::string("lose each packet with probability P (0.05 or 5%), injected between the TUN and the "
                       "stack.") +
               both,
           random(RandomFaultKind::Drop), true);
  add_flag(flags, "--dup", "[in:|out:]P", "0",
           std::string("deliver each packet twice with probability P.") + both, random(RandomFaultKind::Dup),
           true);
  add_flag(flags, "--reorder", "[in:|out:]P", "0",
           std::string("with probability P hold a packet back until the next one in its direction has "
                       "passed (at most 10 ms).") +
               both,
           random(RandomFaultKind::Reorder), true);
  add_flag(flags, "--corrupt", "[in:|out:]P", "0",
           std::string("flip one random bit of a packet with probability P (checksums catch it).") + both,
           random(RandomFaultKind::Corrupt), true);
  add_flag(flags, "--delay", "[in:|out:]MS[:JITTER]", "0",
           std::string("one-way delay in milliseconds added to every packet in each direction it applies "
                       "to, spread uniformly by +/- JITTER (which may reorder); --delay 20 makes a ping RTT "
                       "of about 40 ms.") +
               both,
           random(RandomFaultKind::Delay), true);
  if (with_seed)
    add_flag(flags, "--seed", "N", std::to_string(o.seed),
             "seed of the fault injector's random numbers: the same seed and traffic make the same faults",
             uint_into(o.seed, 0, UINT64_MAX));
  add_flag(
      flags, "--fault", "'ACTION DIR KIND[#N] [MS]'", "none",
      "a targeted fault on every connection: ACTION is drop, dup, corrupt or delay MS; DIR in or out; "
      "KIND syn, synack, ack, ack-of-synack, ack-of-fin, data, fin, rst or any; #N the Nth segment of that "
      "kind in that "
      "direction (retransmissions count; default 1), e.g. 'drop out data#3' or 'delay in syn 2000'",
      [&o](std::string_view v) -> std::optional<std::string> {
        std::string error;
        auto f = link::parse_targeted_fault(v, error);
        if (!f) return error;
        o.targeted.push_back(std::move(*f));
        return std::nullopt;
      },
      true);
}

void add_listening_flags(FlagTable& flags, tcp::TcpConfig& o) {
  const tcp::TcpConfig d;  // defaults for the help text
  add_flag(flags, "--backlog", "N", std::to_string(d.backlog),
           "accept queue length per listening port (established connections not yet accepted)",
           uint_into(o.backlog, 1, 65535));
  add_flag(flags, "--syn-backlog", "N", std::to_string(d.syn_backlog),
           "SYN queue length per listening port (half-open connections in SYN-RECEIVED); when it is "
           "full, SYN cookies answer (see --syn-cookies)",
           uint_into(o.syn_backlog, 1, 1000000));
  add_flag(flags, "--syn-cookies", "auto|always|never", "auto",
           "RFC 4987 SYN cookies: auto answers with a cookie when the SYN queue is full, always for every "
           "SYN (labs), never drops the oldest half-open connection instead; a SYN that reopens "
           "TIME-WAIT gets a TCB either way. A cookie keeps the MSS, and "
           "window scale, SACK and timestamps when the SYN has timestamps (they ride in our TSval); "
           "without them (or with --no-timestamps) only the MSS",
           [&o](std::string_view v) -> std::optional<std::string> {
             using Mode = tcp::TcpConfig::SynCookieMode;
             if (v == "auto") o.syn_cookies = Mode::Auto;
             else if (v == "always") o.syn_cookies = Mode::Always;
             else if (v == "never") o.syn_cookies = Mode::Never;
             else return std::string("expected auto, always or never");
             return std::nullopt;
           });
}

void add_tcp_flags(FlagTable& flags, tcp::TcpConfig& o) {
  const tcp::TcpConfig d;  // defaults for the help text
  add_flag(
      flags, "--msl", "SECONDS", seconds_text(d.msl),
      "maximum segment lifetime; TIME-WAIT lasts 2 x MSL. RFC 9293 suggests 120 s, Linux uses 30 s (60 s "
      "TIME-WAIT); labs pass 1 or 2 so TIME-WAIT can be watched ending",
      seconds_into(o.msl, 0.001, 600));
  add_flag(flags, "--max-time-wait", "N", std::to_string(d.max_time_wait),
           "TIME-WAIT records held at most; past that the oldest ends early (like Linux's "
           "net.ipv4.tcp_max_tw_buckets): a server that closes first holds one per connection for "
           "2 x MSL, about 200 bytes each (a 168-byte record, its list node and its index entry)",
           uint_into(o.max_time_wait, 1, 100000000));
  add_flag(flags, "--fin-timeout", "SECONDS", seconds_text(d.fin_timeout),
           "how long a connection its application has closed waits in FIN-WAIT-2 for the peer's FIN "
           "after ours was acknowledged, then is dropped silently (no RST); like Linux's "
           "tcp_fin_timeout, not in RFC 9293",
           seconds_into(o.fin_timeout, 0.001, 3600));
  add_flag(flags, "--isn", "N", "RFC 6528 keyed hash",
           "fix the initial sequence number (0..4294967295) for reproducible traces; otherwise the hash's "
           "key is kept in /run/tcplab/isn-key until reboot (root only; a fresh key per run without root)",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto n = parse_uint(v, 0, 0xFFFFFFFFu);
             if (!n) return std::string("expected a whole number from 0 to 4294967295");
             o.fixed_isn = static_cast<uint32_t>(*n);
             return std::nullopt;
           });
  add_flag(flags, "--rto-min", "MS",
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d.rto_min).count()),
           "lowest retransmission timeout (RFC 6298 §2.4 says 1000; Linux uses 200)",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto n = parse_uint(v, 1, 60000);
             if (!n) return std::string("expected milliseconds from 1 to 60000");
             o.rto_min = std::chrono::milliseconds(*n);
             return std::nullopt;
           });
  add_flag(flags, "--no-delayed-ack", "", "delayed ACK on",
           "ACK every segment at once (RFC 9293 §3.8.6.3 delayed ACK off)",
           switch_into(o.delayed_ack, false));
  add_flag(flags, "--no-nagle", "", "Nagle on", "send small segments at once (RFC 896 Nagle algorithm off)",
           switch_into(o.nagle, false));
  add_flag(flags, "--no-sack", "", "SACK on",
           "neither offer nor accept selective acknowledgments (RFC 2018); recovery is NewReno only",
           switch_into(o.sack, false));
  add_flag(flags, "--no-timestamps", "", "timestamps on",
           "neither offer nor accept TCP timestamps (RFC 7323: RTT measurement, PAWS)",
           switch_into(o.timestamps, false));
  add_flag(flags, "--tcp-keepalive", "IDLE,INTERVAL,COUNT", "off",
           "RFC 1122 keep-alive: after IDLE seconds without a segment from the peer, probe every INTERVAL "
           "seconds; reset the connection after COUNT unanswered probes (Linux: 7200,75,9)",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto c1 = v.find(','), c2 = v.rfind(',');
             const std::string usage = "expected IDLE,INTERVAL,COUNT like 60,10,5 (seconds, seconds, probes)";
             if (c1 == std::string_view::npos || c1 == c2) return usage;
             auto idle = parse_seconds(v.substr(0, c1), 0, 864000);
             auto interval = parse_seconds(v.substr(c1 + 1, c2 - c1 - 1), 0, 86400);
             auto count = parse_uint(v.substr(c2 + 1), 1, 1000);
             if (!idle || !interval || !count) return usage;
             tcp::TcpConfig::KeepAlive keepalive{from_seconds(*idle), from_seconds(*interval),
                                                 static_cast<int>(*count)};
             if (!keepalive.within_bounds()) return usage;
             o.keepalive = keepalive;
             return std::nullopt;
           });
  // RFC 9293 §3.7.1: every TCP must take 536-byte segments; a window below one of them would
  // have the peer trickle a few bytes per segment (SWS avoidance waiting on every one), and an
  // HTTP request would time out before it arrived.
  add_flag(flags, "--recv-buffer", "BYTES", std::to_string(d.receive_buffer),
           "receive buffer per connection, at least 536 (the segment every TCP takes); bounds the "
           "advertised window",
           uint_into(o.receive_buffer, kMinBuffer, kMaxBuffer));
  add_flag(flags, "--send-buffer", "BYTES", std::to_string(d.send_buffer),
           "send buffer per connection, at least 536; send() takes no more than this",
           uint_into(o.send_buffer, kMinBuffer, kMaxBuffer));
}

void add_status_flags(FlagTable& flags, StatusOptions& o) {
  const char* from_env = std::getenv("TCPLAB_STATUS_FILE");
  if (from_env != nullptr) {
    o.status_file = from_env;
    o.from_environment = true;
  }
  add_flag(flags, "--status-file", "FILE", "$TCPLAB_STATUS_FILE, else off",
           "on SIGUSR1 and at exit also write the status report (drops, counters, connection table) to "
           "FILE, replaced whole each time; tools/lab run sets TCPLAB_STATUS_FILE so `tools/lab table` "
           "can show it; refused at start if no report can be written there",
           [&o](std::string_view v) -> std::optional<std::string> {
             if (v.empty()) return std::string("expected a file name");
             o.status_file = std::string(v);
             o.from_environment = false;
             return std::nullopt;
           });
}

std::optional<std::string> check_trace_dependents(const TraceOptions& o, bool step, const ParsedArgs& given) {
  if (was_given(given, "--pcap-format") && o.pcap.empty())
    return std::string("--pcap-format sets the format of the --pcap FILE capture: give --pcap too");
  if (was_given(given, "--absolute") && !o.trace && !step)
    return std::string("--absolute changes the numbers --trace and --step print (and script's --ladder): "
                       "give one of them too");
  return std::nullopt;
}

std::optional<std::string> check_opposite_switches(const ParsedArgs& given) {
  // Both halves of an on/off pair: which one counts would depend on their order, so neither is taken.
  if (was_given(given, "--offload") && was_given(given, "--no-offload"))
    return std::string("--offload and --no-offload contradict each other; give one of them");
  return std::nullopt;
}

std::optional<std::string> check_trace(const TraceOptions& o) {
  // "-" for --trace-json is stdout, and --pcap refuses "-": they cannot meet there.
  if (o.trace_json.empty() || o.pcap.empty() || o.trace_json == "-") return std::nullopt;
  if (!same_regular_file(o.trace_json, o.pcap)) return std::nullopt;
  return "--trace-json " + o.trace_json + " and --pcap " + o.pcap +
         " name the same file, so one would overwrite the other; give each its own file";
}

std::optional<std::string> check_link(const LinkOptions& o) {
  // The host side the addresses will have, as far as the flags alone decide it.
  std::optional<ip::Ipv4Cidr> host;
  if (o.host_choice == ip::HostChoice::Given) host = o.tun.host;
  if (o.host_choice == ip::HostChoice::Auto && o.ip_given) host = ip::host_range_around(o.ip);
  if (!host) return std::nullopt;
  wire::Ipv4Address stack = o.ip;
  if (!o.ip_given) {
    auto next = ip::stack_address_next_to(*host);
    if (!next)
      return "--host-ip " + host->to_string() + " leaves no address for the stack; give a shorter prefix";
    stack = *next;
  }
  if (stack == host->address) return "--ip " + stack.to_string() + " is the host's own address (--host-ip)";
  if (!host->contains(stack)) {
    return "--ip " + stack.to_string() + " is outside " + host->to_string() +
           ", so the kernel would not route to it; pick an address inside --host-ip's prefix";
  }
  if (host->prefix_length <= 30 && (stack == host->network() || stack == host->broadcast())) {
    return "--ip " + stack.to_string() + " is the network or broadcast address of " + host->to_string();
  }
  return std::nullopt;
}

ip::AddressRequest address_request(const LinkOptions& o) {
  ip::AddressRequest request;
  request.host_choice = o.host_choice;
  request.host = o.tun.host;
  if (o.ip_given) request.ip = o.ip;
  request.default_ip = o.ip;
  request.interface = o.tun.name;
  request.user = link::current_user_name();
  return request;
}

bool resolve_link_addresses(LinkOptions& o, std::string& error) {
  auto view = link::read_network_view(error);
  if (!view) {
    error = "cannot check which addresses are free: " + error;
    return false;
  }
  ip::AddressDecision decision = ip::decide_addresses(address_request(o), *view);
  if (!decision.ok()) {
    error = decision.message();
    return false;
  }
  o.tun.host = decision.host;
  o.ip = decision.ip;
  o.address_note = decision.note;
  auto refusal = ip::check_admin_addressed(address_request(o), *view);
  o.unreachable = refusal ? refusal->message() : "";
  return true;
}

std::function<void()> fifo_reader_notice(const char* what, const std::string& path) {
  return [what, path] {
    std::fprintf(stderr, "tcplab: waiting for a process to read the FIFO %s (%s goes there); Ctrl-C stops\n",
                 path.c_str(), what);
  };
}

std::FILE* claim_stdout(const char* what, const char* mode, std::string& error) {
  std::fflush(stdout);
  // A copy above 2 (a closed stdin or stderr must not be reused for it), closed on exec, and
  // wrapped before stdout is redirected: a failure on the way leaves stdout as it was.
  const int fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  std::FILE* kept = fd < 0 ? nullptr : ::fdopen(fd, mode);
  if (kept == nullptr || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    error = std::string("cannot keep stdout for ") + what + ": " + std::strerror(errno);
    if (kept != nullptr) {
      std::fclose(kept);
    } else if (fd >= 0) {
      ::close(fd);
    }
    return nullptr;
  }
  return kept;
}

bool TraceSinks::open(const TraceOptions& o, std::string& error) {
  // `--trace-json -`: stdout carries JSON Lines only, so that it pipes into jq or a file that
  // `tcplab ladder` reads; what tcplab would print there besides (the banner, the text trace,
  // script results) goes to stderr instead.
  std::FILE* json_stdout = nullptr;
  if (o.trace_json == "-") {
    if ((json_stdout = claim_stdout("the JSON trace", "w", error)) == nullptr) return false;
  }
  if (o.trace) {
    // Line-buffered, so a trace piped into a file or `grep` shows each event as it happens.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    text_ = std::make_unique<trace::TextSink>(stdout,
                                              trace::TextSink::Options{colour_wanted(stdout), o.absolute});
    tracer_.add(text_.get());
  }
  if (!o.trace_json.empty()) {
    json_path_ = json_stdout ? "on stdout" : o.trace_json;
    // Write-only: a FIFO or `>(jq ...)` opened read-write would make tcplab its own reader, so
    // a reader that never comes or goes away would block the event loop instead of failing
    // the write. After a failed write JsonSink reads a regular file back on its own.
    if (json_stdout != nullptr) {
      json_file_.reset(json_stdout);
    } else {
      const int fd = link::open_output(o.trace_json, fifo_reader_notice("the JSON trace", o.trace_json));
      json_file_.reset(fd < 0 ? nullptr : ::fdopen(fd, "w"));
      if (fd >= 0 && !json_file_) ::close(fd);
    }
    if (!json_file_) {
      error = "cannot write the JSON trace " + o.trace_json + ": " + std::strerror(errno);
      return false;
    }
    // A file (or stdout) fills a large buffer that the event loop flushes once per wakeup
    // (JsonSink::advance), so a bulk transfer costs one write() per wakeup, not one per
    // event, and a line is still out before the packets it describes leave.
    json_buffer_.resize(kJsonFileBuffer);
    std::setvbuf(json_file_.get(), json_buffer_.data(), _IOFBF, json_buffer_.size());
    json_ = std::make_unique<trace::JsonSink>(json_file_.get());
    tracer_.add(json_.get());
  }
  if (!o.pcap.empty()) {
    pcap_ = std::make_unique<link::PcapWriter>(o.pcap, o.pcap_format,
                                               fifo_reader_notice("the capture", o.pcap));
    if (!pcap_->ok()) {
      error = pcap_->error();
      return false;
    }
    tracer_.add(pcap_.get());
  }
  return true;
}

void TraceSinks::flush_at_pause() {
  if (pcap_) pcap_->flush_complete();
  if (json_) json_->flush();
  std::fflush(stdout);
}

bool TraceSinks::flush() {
  bool whole = true;
  if (pcap_) {
    pcap_->flush();
    if (!pcap_->ok()) {
      std::fprintf(stderr, "tcplab: the capture is incomplete: %s\n", pcap_->error().c_str());
      whole = false;
    }
  }
  if (json_) {
    json_->flush();
    if (auto e = json_->write_error()) {
      std::fprintf(stderr, "tcplab: the JSON trace %s is incomplete: cannot write: %s\n",
                   json_path_.c_str(), std::strerror(*e));
      whole = false;
    }
  }
  // The text trace goes to stdout, often redirected to a file: a full disk shows here.
  errno = 0;
  if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && text_) {
    // The first failed line's errno: errno itself may be long overwritten by now.
    const int e = text_->write_error().value_or(errno != 0 ? errno : EIO);
    std::fprintf(stderr, "tcplab: the text trace on stdout is incomplete: a write failed (%s)\n",
                 std::strerror(e));
    whole = false;
  }
  return whole;
}

}  // namespace tcplab::cli
