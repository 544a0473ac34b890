// `tcplab serve`: parse flags, open the TUN, build the stack with its services and the HTTP
// server, attach the trace sinks, print the readiness line, and run the event loop.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "http/stats.hpp"
#include "stack/ip/cidr.hpp"
#include "stack/link/fault_injector.hpp"
#include "stack/link/netlink_view.hpp"
#include "stack/link/pcap_writer.hpp"
#include "stack/link/tun.hpp"
#include "stack/loop/event_loop.hpp"
#include "stack/loop/status.hpp"
#include "stack/loop/timed_client.hpp"
#include "stack/services/chargen.hpp"
#include "stack/services/discard.hpp"
#include "stack/services/echo.hpp"
#include "stack/stack.hpp"
#include "stack/trace/json_sink.hpp"
#include "stack/trace/step_sink.hpp"
#include "stack/trace/text_sink.hpp"
#include "tools/tcplab/banner.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/loop_extras.hpp"
#include "tools/tcplab/same_file.hpp"
#include "tools/tcplab/serve_kernel.hpp"
#include "tools/tcplab/stack_flags.hpp"
#include "tools/tcplab/stack_setup.hpp"
#include "tools/tcplab/status_file.hpp"

namespace tcplab::cli {
namespace {

struct ServeOptions {
  LinkOptions link;
  TraceOptions trace;
  StatusOptions status;
  FaultOptions faults;
  tcp::TcpConfig tcp;
  uint16_t echo_port = 0, discard_port = 0, chargen_port = 0;
  uint64_t chargen_bytes = 0;
  http::ServerConfig http;
  bool step = false;
  std::optional<KernelServeOptions> kernel;  // --kernel-tcp ADDR:PORT
};

// How long SIGTERM waits for idle HTTP connections to take their FIN, and for responses being
// sent to finish, before what is still open is reset and tcplab exits.
constexpr Duration kShutdownGrace = seconds(1);

FlagTable serve_flags(ServeOptions& o) {
  const http::ServerConfig h;  // defaults for the help text
  FlagTable flags;
  auto add = [&](std::string name, std::string value_name, std::string default_text, std::string help,
                 FlagSetter set) {
    add_flag(flags, std::move(name), std::move(value_name), std::move(default_text), std::move(help),
             std::move(set));
  };

  add_link_flags(flags, o.link);
  add_trace_flags(flags, o.trace);
  add_step_flag(flags, o.step);
  add_listening_flags(flags, o.tcp);
  add_tcp_flags(flags, o.tcp);
  add_status_flags(flags, o.status);
  add_fault_flags(flags, o.faults);

  // --- services ---
  add("--echo", "PORT", "off", "run the echo service (RFC 862) on PORT", uint_into(o.echo_port, 1, 65535));
  add("--discard", "PORT", "off", "run the discard service (RFC 863) on PORT",
      uint_into(o.discard_port, 1, 65535));
  add("--chargen", "PORT", "off", "run the character generator (RFC 864) on PORT",
      uint_into(o.chargen_port, 1, 65535));
  add("--chargen-bytes", "N", "0",
      "chargen sends exactly N bytes of its pattern, then closes; 0 sends until the client closes",
      uint_into(o.chargen_bytes, 0, uint64_t{1} << 48));

  // --- HTTP ---
  add("--http-port", "N", std::to_string(h.port), "HTTP server port; 0 runs no HTTP server",
      uint_into(o.http.port, 0, 65535));
  add("--keepalive", "on|off", h.keepalive ? "on" : "off",
      "off answers every request with Connection: close (one connection per request)",
      [&o](std::string_view v) -> std::optional<std::string> {
        if (v == "on")
          o.http.keepalive = true;
        else if (v == "off")
          o.http.keepalive = false;
        else
          return std::string("expected on or off");
        return std::nullopt;
      });
  add("--keepalive-timeout", "SECONDS", seconds_text(h.keepalive_timeout),
      "close an idle persistent connection after this long: no request and no ACK of the last "
      "response's bytes for this long (IIS uses 120, Apache 5); a response the client takes none "
      "of for this long is reset",
      seconds_into(o.http.keepalive_timeout, 0.001, 3600));
  add("--max-requests", "N", std::to_string(h.max_requests), "close a persistent connection after N requests",
      uint_into(o.http.max_requests, 1, 1000000));
  add("--max-connections", "N", std::to_string(h.max_connections),
      "connections the HTTP server holds at once; at the limit the one idle the longest is closed to "
      "make room, and a client is refused only when none is idle",
      uint_into(o.http.max_connections, 1, 10000000));
  add("--max-body", "BYTES", std::to_string(h.max_body),
      "largest request body taken (POST /echo returns it); a larger one gets 413 before it is sent "
      "(Expect: 100-continue) or while it arrives",
      uint_into(o.http.max_body, 0, 256u << 20));
  add("--header-timeout", "SECONDS", seconds_text(h.header_timeout),
      "close a connection whose request headers have not arrived within this time (408), or whose "
      "request body stops arriving for this long",
      seconds_into(o.http.header_timeout, 0.001, 3600));
  add("--linger", "SECONDS", seconds_text(h.linger),
      "lingering close: after Connection: close or an error while request bytes are still arriving, read "
      "and discard this long, then RST if the client has not closed (an idle close is a plain FIN)",
      seconds_into(o.http.linger, 0.001, 3600));
  add("--kernel-tcp", "ADDR:PORT", "off",
      "for comparing against the kernel's TCP: the same HTTP server (and services) on kernel sockets "
      "bound to ADDR, HTTP on PORT; no TUN, no root, no trace of TCP",
      [&o](std::string_view v) -> std::optional<std::string> {
        KernelServeOptions k;
        if (auto error = parse_kernel_endpoint(v, k.address, k.http.port)) return error;
        o.kernel = k;
        return std::nullopt;
      });
  add("--root", "DIR", "built-in demo site",
      "serve files from DIR instead (a directory's index.html for its URL with the trailing slash, "
      "a 301 to it without, \"/sub%2f\" included; files up to 64 KiB are kept in memory and the URL "
      "is resolved and the file opened again once a second, so an edit, a removed or re-pointed "
      "symlink or a chmod shows within a second; a file the server may not read, or one in a "
      "directory it may not enter, is 403, and 503 when it is out of file descriptors, with a line "
      "on stderr and out_of_descriptors in /stats). Files carry an ETag and a Last-Modified, and "
      "If-None-Match or If-Modified-Since that finds the file unchanged answers 304 (curl "
      "--etag-compare, curl -z); files and /bytes/N take one byte range, 206 (curl -r, curl -C -). "
      "A file that shrinks or cannot be read while it is sent ends its response there and the "
      "connection is closed, so the client sees it incomplete (curl exit 18), and /stats counts it "
      "in responses_cut_off. The built-in paths keep their "
      "meaning and hide files of the same name: /stats, /stats.html, /tcp, /tcp.html, /echo, and "
      "everything under /bytes/ and /stream/",
      [&o](std::string_view v) -> std::optional<std::string> {
        struct stat st {};
        std::string dir(v);
        if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::string("not a directory");
        o.http.root = dir;
        return std::nullopt;
      });
  return flags;
}

// The HTTP server's own flags: they mean nothing with --http-port 0.
constexpr const char* kHttpServerFlags[] = {
    "--keepalive", "--keepalive-timeout", "--max-requests", "--max-connections",
    "--max-body",  "--header-timeout",    "--linger",       "--root"};

// Checks that need several flags at once. Returns a usage error or nothing.
std::optional<std::string> check_combination(const ServeOptions& o, const ParsedArgs& given) {
  if (auto error = check_opposite_switches(given)) return error;
  if (auto error = check_link(o.link)) return error;
  if (auto error = check_trace(o.trace)) return error;
  // A flag that only changes another one is refused without it, rather than silently ignored.
  if (auto error = check_trace_dependents(o.trace, o.step, given)) return error;
  if (was_given(given, "--chargen-bytes") && o.chargen_port == 0)
    return std::string("--chargen-bytes sets what the --chargen PORT service sends: give --chargen too");
  if (!o.http.keepalive && was_given(given, "--max-requests"))
    return std::string("--max-requests limits requests per persistent connection, which --keepalive off "
                       "turns off: every connection already carries one");
  if (o.http.port == 0) {
    for (const char* name : kHttpServerFlags)
      if (was_given(given, name))
        return std::string(name) + " changes the HTTP server, which --http-port 0 turns off";
  }
  if (!o.status.status_file.empty()) {
    // The status report is rewritten whole at every report: it would wipe a capture or trace.
    for (const auto& [flag, path] : {std::pair{"--pcap", o.trace.pcap}, {"--trace-json", o.trace.trace_json}})
      if (!path.empty() && path != "-" && same_regular_file(o.status.status_file, path))
        return o.status.source() + " " + o.status.status_file + " and " + flag + " " + path +
               " name the same file, so one would overwrite the other; give each its own file";
    if (auto problem = status_file_refused_at_start(o.status.status_file, o.status.source())) return problem;
  }
  struct Use {
    const char* name;
    uint16_t port;
  };
  // With --kernel-tcp ADDR:PORT, the HTTP port is that flag's unless --http-port was given.
  const char* http_port_flag =
      o.kernel && !was_given(given, "--http-port") ? "--kernel-tcp's PORT" : "--http-port";
  const Use uses[] = {{"--echo", o.echo_port},
                      {"--discard", o.discard_port},
                      {"--chargen", o.chargen_port},
                      {http_port_flag, o.http.port}};
  for (size_t i = 0; i < std::size(uses); ++i) {
    for (size_t j = i + 1; j < std::size(uses); ++j) {
      if (uses[i].port != 0 && uses[i].port == uses[j].port) {
        return std::string(uses[i].name) + " and " + uses[j].name + " both use port " +
               std::to_string(uses[i].port);
      }
    }
  }
  return std::nullopt;
}

// "in drop 3, dup 1; out drop 2" or "none": what the fault injector did, per direction.
std::string format_faults(const link::FaultStats& stats) {
  std::string out;
  for (auto d : {trace::Direction::In, trace::Direction::Out}) {
    const auto& c = d == trace::Direction::In ? stats.in() : stats.out();
    std::string part;
    auto add = [&](const char* name, uint64_t n) {
      if (n) part += (part.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(n);
    };
    add("drop", c.dropped);
    add("dup", c.duplicated);
    add("reorder", c.reordered);
    add("corrupt", c.corrupted);
    add("delayed", c.delayed);
    add("queue-full drop", c.queue_full);
    if (part.empty()) continue;
    out += (out.empty() ? "" : "; ") + std::string(d == trace::Direction::In ? "in " : "out ") + part;
  }
  return out.empty() ? "none" : out;
}

// The packets the kernel dropped on the TUN because its queue towards tcplab was full: they
// are in a capture on the TUN and never reached tcplab's. Counted from the start of this run
// (a persistent TUN keeps its counter between runs).
class TunQueueDrops {
 public:
  explicit TunQueueDrops(const link::Tun& tun) : name_(tun.name()), at_start_(link::read_tx_dropped(name_)) {}
  // "tcplab: packets the TUN dropped before tcplab read them N (...)" when there were any.
  std::string report_line() const {
    const std::optional<uint64_t> now = link::read_tx_dropped(name_);
    if (!now || !at_start_ || *now <= *at_start_) return {};
    const std::string dropped = std::to_string(*now - *at_start_);
    return "tcplab: packets the TUN dropped before tcplab read them " + dropped +
           " (its queue towards tcplab was full; " + name_ + "'s tx_dropped; `ip link` shows the queue " +
           "as qlen)\n";
  }

 private:
  std::string name_;
  std::optional<uint64_t> at_start_;
};

// The status report: drop counters, packet and TCP counters, faults, the connection table.
std::string status_report(Stack& stack, const loop::EventLoop& loop, const link::FaultInjector* faults,
                          const TunQueueDrops& tun_drops) {
  const auto& ip = stack.ip_stats();
  const auto& l = loop.stats();
  auto n = [](uint64_t v) { return std::to_string(v); };
  std::string out = "tcplab: " + loop::format_drops(stack.drops()) + "\n";
  out += "tcplab: packets in " + n(l.packets_read) + ", out " + n(l.packets_written) + " (write errors " +
         n(l.write_errors) + "); echo replies " + n(ip.echo_replies) + ", unreachables " +
         n(ip.unreachables_sent) + "\n";
  out += tun_drops.report_line();
  // --busy-poll: how often the spin found the next packet (each one a process wake-up saved).
  if (l.busy_poll_hits > 0)
    out += "tcplab: wake-ups " + n(l.wakeups) + ", of them " + n(l.busy_poll_hits) +
           " found packets by busy polling\n";
  if (loop.vnet_header())
    out += "tcplab: offload: link writes " + n(l.link_writes) + ", of them GSO super-packets " +
           n(l.gso_writes) + " carrying " + n(l.gso_segments) +
           " segments, single segments with checksum left " + n(l.checksums_left) +
           "; TSO super-packets read " + n(l.gso_reads) + ", checksums completed " +
           n(l.checksums_completed) + ", trusted " + n(l.checksums_trusted) + ", refused " +
           n(l.vnet_refused) + "\n";
  const auto& t = stack.tcp().stats();
  out += "tcplab: tcp segments in " + n(t.segments_received) + ", out " + n(t.segments_sent) +
         ", retransmissions " + n(t.retransmissions) + " (" + n(t.retransmitted_bytes) +
         " bytes); handshakes " + n(t.handshakes_completed) + "; resets sent " + n(t.resets_sent) +
         ", received " + n(t.resets_received) + "\n";
  // RFC 4987 §3.6: only once the SYN queue has overflowed (or --syn-cookies always).
  if (t.syn_cookies_sent + t.syn_cookies_rejected > 0)
    out += "tcplab: syn cookies sent " + n(t.syn_cookies_sent) + ", validated " + n(t.syn_cookies_validated) +
           ", rejected " + n(t.syn_cookies_rejected) + "\n";
  if (faults) out += "tcplab: faults injected: " + format_faults(faults->stats()) + "\n";
  out += "tcplab: " + loop::format_connections(stack.tcp().connections());
  return out;
}

// SIGUSR1 and exit: the report to stderr, and to --status-file if one was asked for.
void print_status(Stack& stack, const loop::EventLoop& loop, const StatusOptions& status,
                  const link::FaultInjector* faults, const http::Server* http_server,
                  const TunQueueDrops& tun_drops) {
  std::string report = status_report(stack, loop, faults, tun_drops);
  if (http_server) report += http::status_line(http_server->stats());
  std::fputs(report.c_str(), stderr);
  std::string error;
  if (!status.status_file.empty() && !write_status_file(status.status_file, report, error)) {
    std::fprintf(stderr, "tcplab: warning: %s\n", error.c_str());
  }
  std::fflush(stderr);
}

}  // namespace

int serve_main(int argc, char** argv, int first) {
  ServeOptions o;
  auto flags = serve_flags(o);
  ParsedArgs args;
  if (auto error = parse_flags(flags, argc, argv, first, args)) {
    std::fprintf(stderr, "tcplab serve: %s (see tcplab serve --help)\n", error->c_str());
    return kExitUsage;
  }
  if (args.help_requested) {
    std::printf(
        "usage: tcplab serve [flags]\n\n"
        "Creates the TUN device (or attaches to a persistent one), gives the kernel's side --host-ip,\n"
        "and answers as --ip: ping, TCP services, HTTP. Without flags it picks an address range that\n"
        "nothing on this machine uses (any address, route of any table, or gateway) and says which;\n"
        "an explicit --host-ip or --ip that clashes is refused before anything is touched. The lines\n"
        "printed after 'tcplab: up on ...' work as printed, also from outside its network namespace.\n"
        "Stop with Ctrl-C (SIGINT) or SIGTERM; SIGUSR1 prints drop counters and the connection table\n"
        "to stderr (and to --status-file).\n\n"
        "With --kernel-tcp ADDR:PORT it runs the same HTTP server (and --echo/--discard/--chargen) on\n"
        "the kernel's TCP instead, for comparing against it: no TUN, no root, no trace of TCP (--trace\n"
        "says so once); the link, fault, capture, --trace-json and TCP flags are refused, but for\n"
        "--no-nagle; --busy-poll applies to its epoll loop. HTTP sockets get TCP_NODELAY (for the\n"
        "push our TCP gives a response's last segment); the services keep Nagle's algorithm, as on\n"
        "our TCP, unless --no-nagle turns it off for them too. Its lines after 'tcplab: up on ...'\n"
        "carry the way into its network namespace as well.\n\n");
    std::fputs(describe_flags(flags).c_str(), stdout);
    return kExitOk;
  }
  if (o.kernel) {
    if (auto error = flag_refused_with_kernel_tcp(argc, argv, first)) {
      std::fprintf(stderr, "tcplab serve: %s (see tcplab serve --help)\n", error->c_str());
      return kExitUsage;
    }
    KernelServeOptions k = *o.kernel;
    const uint16_t port = k.http.port;
    k.http = o.http;
    k.http.port = port;
    k.echo_port = o.echo_port;
    k.discard_port = o.discard_port;
    k.chargen_port = o.chargen_port;
    k.chargen_bytes = o.chargen_bytes;
    k.trace_requested = o.trace.trace;  // --trace-json is refused above
    k.status_file = o.status.status_file;
    k.busy_poll = o.link.busy_poll;
    k.no_nagle = !o.tcp.nagle;
    o.http.port = port;  // for the port-clash check below
    if (auto error = check_combination(o, args)) {
      std::fprintf(stderr, "tcplab serve: %s (see tcplab serve --help)\n", error->c_str());
      return kExitUsage;
    }
    return serve_kernel_tcp(k);
  }
  if (auto error = check_combination(o, args)) {
    std::fprintf(stderr, "tcplab serve: %s (see tcplab serve --help)\n", error->c_str());
    return kExitUsage;
  }

  // --- runtime from here: errors exit 1 ---
  SteadyClock clock;
  StackRuntime runtime;
  no_offload_with_faults(o.link, o.faults);
  if (!open_stack(o.link, o.trace, o.tcp, clock, runtime)) return kExitRuntime;
  TraceSinks& sinks = runtime.sinks;
  trace::Tracer& tracer = sinks.tracer();
  auto& tun = runtime.tun;
  Stack& stack = *runtime.stack;
  services::EchoService echo(&stack.tcp());
  services::DiscardService discard(&stack.tcp());
  services::ChargenService chargen(&stack.tcp(), o.chargen_bytes);
  struct Start {
    services::Service& service;
    uint16_t port;
    const char* name;
  };
  for (const Start& s : {Start{echo, o.echo_port, "echo"}, Start{discard, o.discard_port, "discard"},
                         Start{chargen, o.chargen_port, "chargen"}}) {
    if (s.port != 0 && !s.service.listen(s.port)) {
      std::fprintf(stderr, "tcplab: warning: %s could not listen on port %u (TCP not ready?)\n", s.name,
                   s.port);
    }
  }
  std::unique_ptr<http::Server> http_server;
  bool http_up = false;
  if (o.http.port != 0) {
    http_server = std::make_unique<http::Server>(stack.tcp(), o.http);
    // Before start(): the idle-timeout and close notes go to the same trace as the segments.
    http_server->set_tracer(&tracer);
    http_server->advance(clock.now());
    http_up = http_server->start();
    if (!http_up) {
      std::fprintf(stderr, "tcplab: the HTTP server could not start on port %u: %s\n", o.http.port,
                   http_server->error().c_str());
      return kExitRuntime;
    }
  }

  loop::EventLoop loop(tun->fd(), stack, tracer, clock);
  loop.set_busy_poll(o.link.busy_poll);
  loop.set_vnet_header(tun->vnet_header());
  std::unique_ptr<loop::TimedAdapter<http::Server>> http_timer;
  if (http_server) {
    http_timer = std::make_unique<loop::TimedAdapter<http::Server>>(*http_server);
    loop.add_client(*http_timer);
  }
  LoopExtras extras;
  extras.attach(stack, sinks, loop, o.faults, o.step, o.trace.absolute);
  const link::FaultInjector* faults = extras.faults();
  const TunQueueDrops tun_drops(*tun);
  loop.on_status_request([&] { print_status(stack, loop, o.status, faults, http_server.get(), tun_drops); });
  if (!loop.install_signal_handlers()) {
    std::fprintf(stderr, "tcplab: cannot install signal handlers: %s\n", loop.error().c_str());
    return kExitRuntime;
  }

  // The readiness line (tests and tools wait for it, so it goes out at once), then lines to
  // paste that reach the namespace this runs in.
  BannerInfo banner;
  banner.tun = tun->name();
  banner.ip = o.link.ip;
  banner.host_text =
      o.link.tun.host ? o.link.tun.host->to_string() : std::string("as configured on ") + tun->name();
  banner.note = o.link.address_note;
  banner.http_port = http_up ? o.http.port : 0;
  banner.echo_port = o.echo_port;
  banner.discard_port = o.discard_port;
  banner.chargen_port = o.chargen_port;
  banner.pid = static_cast<long>(getpid());
  banner.status_file = o.status.status_file;
  std::fputs(banner_text(banner, current_banner_context()).c_str(), stdout);
  if (extras.stepping()) std::printf("%s\n", kStepWithRealClients);
  // Not a line to paste: says which faults this run injects, so a capture can be read.
  if (faults) std::printf("tcplab: %s\n", link::describe(o.faults).c_str());
  std::fflush(stdout);

  int rc = loop.run();
  if (rc != kExitOk) std::fprintf(stderr, "tcplab: %s\n", loop.error().c_str());
  std::fprintf(stderr, "tcplab: stopping\n");
  const bool http_open = http_server && http_server->sessions() > 0;
  const bool services_open = echo.active() + discard.active() + chargen.active() > 0;
  if (rc == kExitOk && (http_open || services_open)) {
    // A clean goodbye: idle keep-alive connections get a FIN instead of vanishing, so their
    // clients see the close (RFC 9112 §9.5), and so does every echo, discard or chargen
    // client (nc would otherwise wait forever). Bounded; a second signal ends it at once.
    if (http_server) http_server->begin_shutdown();
    echo.close_all();
    discard.close_all();
    chargen.close_all();
    loop.resume();
    const Instant give_up = clock.now() + kShutdownGrace;
    // Sessions let go of their sockets once the FIN is queued; TCP still owes the FIN's
    // retransmission and the ACK of the client's FIN, so the drain also waits for every
    // connection short of TIME-WAIT (a FIN-WAIT-2 record counts) to finish.
    auto closing = [&] {
      return (http_server && http_server->sessions() > 0) || stack.tcp().stats().connections_current > 0;
    };
    while (closing() && clock.now() < give_up && loop.run_once(give_up - clock.now())) {
    }
  }
  if (rc == kExitOk) {
    // What the drain did not finish (a response still being sent, a request still arriving, a
    // FIN not yet acknowledged) is reset before the TUN goes, as a kernel resets the sockets of
    // a process that exits: its client fails at once instead of hanging, and a response cut
    // short this way counts as cut off in the report below.
    if (const uint64_t resets = stack.tcp().abort_all(clock.now()); resets > 0) {
      loop.send_queued();
      std::fprintf(stderr, "tcplab: reset %llu connection%s still open at exit\n",
                   static_cast<unsigned long long>(resets), resets == 1 ? "" : "s");
    }
  }
  print_status(stack, loop, o.status, faults, http_server.get(), tun_drops);
  if (!sinks.flush() && rc == kExitOk) rc = kExitRuntime;
  std::fflush(nullptr);
  tun->leave_as_found();
  // Deviation (exit-without-teardown): we leave without running destructors. The kernel closes
  // the TUN descriptor, which removes a TUN we created (it was never made persistent), and
  // every file is flushed above; tearing down live connections one by one would only add
  // callbacks into half-destroyed applications.
  std::_Exit(rc);
}

}  // namespace tcplab::cli
