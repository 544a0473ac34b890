// `tcplab serve`: parse flags, open the TUN, build the stack with its services and the HTTP
// server, attach the trace sinks, print the readiness line, and run the event loop.
#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "stack/ip/cidr.hpp"
#include "stack/link/fault_injector.hpp"
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
#include "stack/trace/text_sink.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/stack_flags.hpp"

namespace tcplab::cli {
namespace {

struct ServeOptions {
  LinkOptions link;
  TraceOptions trace;
  FaultOptions faults;
  tcp::TcpConfig tcp;
  uint16_t echo_port = 0, discard_port = 0, chargen_port = 0;
  uint64_t chargen_bytes = 0;
  http::ServerConfig http;
};

// How long SIGTERM waits for idle HTTP connections to take their FIN before exiting.
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
  add_tcp_flags(flags, o.tcp);
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
      "close an idle persistent connection after this long (IIS uses 120, Apache 5)",
      seconds_into(o.http.keepalive_timeout, 0.001, 3600));
  add("--max-requests", "N", std::to_string(h.max_requests), "close a persistent connection after N requests",
      uint_into(o.http.max_requests, 1, 1000000));
  add("--header-timeout", "SECONDS", seconds_text(h.header_timeout),
      "close a connection whose request headers have not arrived within this time",
      seconds_into(o.http.header_timeout, 0.001, 3600));
  add("--root", "DIR", "built-in demo site", "serve files from DIR instead",
      [&o](std::string_view v) -> std::optional<std::string> {
        struct stat st {};
        std::string dir(v);
        if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::string("not a directory");
        o.http.root = dir;
        return std::nullopt;
      });
  return flags;
}

// Checks that need several flags at once. Returns a usage error or nothing.
std::optional<std::string> check_combination(const ServeOptions& o) {
  if (auto error = check_link(o.link)) return error;
  struct Use {
    const char* name;
    uint16_t port;
  };
  const Use uses[] = {{"--echo", o.echo_port},
                      {"--discard", o.discard_port},
                      {"--chargen", o.chargen_port},
                      {"--http-port", o.http.port}};
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

void print_status(Stack& stack, const loop::EventLoop& loop, const link::FaultInjector* faults) {
  const auto& ip = stack.ip_stats();
  const auto& l = loop.stats();
  std::fprintf(stderr, "tcplab: %s\n", loop::format_drops(stack.drops()).c_str());
  std::fprintf(
      stderr, "tcplab: packets in %llu, out %llu (write errors %llu); echo replies %llu, unreachables %llu\n",
      static_cast<unsigned long long>(l.packets_read), static_cast<unsigned long long>(l.packets_written),
      static_cast<unsigned long long>(l.write_errors), static_cast<unsigned long long>(ip.echo_replies),
      static_cast<unsigned long long>(ip.unreachables_sent));
  const auto& t = stack.tcp().stats();
  std::fprintf(
      stderr,
      "tcplab: tcp segments in %llu, out %llu, retransmissions %llu; handshakes %llu; resets sent %llu, "
      "received %llu\n",
      static_cast<unsigned long long>(t.segments_received), static_cast<unsigned long long>(t.segments_sent),
      static_cast<unsigned long long>(t.retransmissions),
      static_cast<unsigned long long>(t.handshakes_completed), static_cast<unsigned long long>(t.resets_sent),
      static_cast<unsigned long long>(t.resets_received));
  if (faults) std::fprintf(stderr, "tcplab: faults injected: %s\n", format_faults(faults->stats()).c_str());
  std::fprintf(stderr, "tcplab: %s", loop::format_connections(stack.tcp().connections()).c_str());
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
        "and answers as --ip: ping, TCP services, HTTP. Stop with Ctrl-C (SIGINT) or SIGTERM; SIGUSR1\n"
        "prints drop counters and the connection table to stderr.\n\n");
    std::fputs(describe_flags(flags).c_str(), stdout);
    return kExitOk;
  }
  if (auto error = check_combination(o)) {
    std::fprintf(stderr, "tcplab serve: %s (see tcplab serve --help)\n", error->c_str());
    return kExitUsage;
  }

  // --- runtime from here: errors exit 1 ---
  if (auto holder = link::interface_with_address(o.link.ip)) {
    std::fprintf(
        stderr,
        "tcplab: the stack's address %s is already on interface %s, so the kernel would answer for it; "
        "pick another --ip\n",
        o.link.ip.to_string().c_str(), holder->c_str());
    return kExitRuntime;
  }

  // Sinks first: a capture file we cannot write is reported before touching the network.
  TraceSinks sinks;
  std::string error;
  if (!sinks.open(o.trace, error)) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return kExitRuntime;
  }
  trace::Tracer& tracer = sinks.tracer();
  link::PcapWriter* pcap = sinks.pcap();

  std::vector<std::string> warnings;
  auto tun = link::Tun::open(o.link.tun, error, warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "tcplab: warning: %s\n", w.c_str());
  if (!tun) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return kExitRuntime;
  }

  StackConfig config;
  config.address = o.link.ip;
  config.mtu = tun->mtu();
  config.ttl = o.link.ttl;
  config.tcp = o.tcp;
  // RFC 9293 §3.7.1: MSS = MTU - 20 (IPv4) - 20 (TCP).
  config.tcp.mss = static_cast<uint16_t>(config.mtu - 40);
  // RFC 6528: the ISN hash needs a secret key, fresh for every run.
  if (getrandom(config.tcp.isn_key.data(), config.tcp.isn_key.size(), 0) !=
      static_cast<ssize_t>(config.tcp.isn_key.size())) {
    std::fprintf(stderr, "tcplab: cannot read random bytes for the ISN key: %s\n", std::strerror(errno));
    return kExitRuntime;
  }

  SteadyClock clock;
  Stack stack(config, tracer);
  // The core learns the time from advance(); give it the real time before anything (listen,
  // trace notes) happens, so the first trace line is not stamped with the clock's epoch.
  stack.advance(clock.now());
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
    http_server = std::make_unique<http::Server>(stack, o.http);
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
  std::unique_ptr<loop::TimedAdapter<http::Server>> http_timer;
  if (http_server) {
    http_timer = std::make_unique<loop::TimedAdapter<http::Server>>(*http_server);
    loop.add_client(*http_timer);
  }
  std::unique_ptr<loop::TimedAdapter<link::PcapWriter>> pcap_timer;
  if (pcap) {
    pcap_timer = std::make_unique<loop::TimedAdapter<link::PcapWriter>>(*pcap);
    loop.add_client(*pcap_timer);
  }
  // The fault injector sits between the TUN and the stack, both ways, only when asked for.
  std::unique_ptr<link::FaultInjector> faults;
  if (o.faults.any()) {
    faults = std::make_unique<link::FaultInjector>(o.faults, &tracer);
    loop.set_fault_injector(faults.get());
  }
  loop.on_status_request([&] { print_status(stack, loop, faults.get()); });
  if (!loop.install_signal_handlers()) {
    std::fprintf(stderr, "tcplab: cannot install signal handlers: %s\n", loop.error().c_str());
    return kExitRuntime;
  }

  // The readiness line: tests and tools wait for it, so it goes out at once.
  std::string host =
      o.link.tun.host ? o.link.tun.host->to_string() : std::string("as configured on ") + tun->name();
  std::printf("tcplab: up on %s, stack %s, host %s\n", tun->name().c_str(), o.link.ip.to_string().c_str(),
              host.c_str());
  const std::string ip = o.link.ip.to_string();
  if (http_up) {
    std::printf("  curl http://%s%s/\n", ip.c_str(),
                o.http.port == 80 ? "" : (":" + std::to_string(o.http.port)).c_str());
  }
  std::printf("  ping %s\n", ip.c_str());
  if (o.echo_port) std::printf("  nc %s %u    (echo)\n", ip.c_str(), o.echo_port);
  if (o.discard_port) std::printf("  nc %s %u    (discard)\n", ip.c_str(), o.discard_port);
  if (o.chargen_port) std::printf("  nc %s %u    (chargen)\n", ip.c_str(), o.chargen_port);
  if (faults) std::printf("  %s\n", link::describe(o.faults).c_str());
  std::fflush(stdout);

  int rc = loop.run();
  if (rc != kExitOk) std::fprintf(stderr, "tcplab: %s\n", loop.error().c_str());
  std::fprintf(stderr, "tcplab: stopping\n");
  if (rc == kExitOk && http_server && http_server->sessions() > 0) {
    // A clean goodbye: idle keep-alive connections get a FIN instead of vanishing, so their
    // clients see the close (RFC 9112 §9.6). Bounded; a second signal ends it at once.
    http_server->begin_shutdown();
    loop.resume();
    const Instant give_up = clock.now() + kShutdownGrace;
    while (http_server->sessions() > 0 && clock.now() < give_up && loop.run_once(give_up - clock.now())) {
    }
  }
  print_status(stack, loop, faults.get());
  sinks.flush();
  std::fflush(nullptr);
  // Deviation from tidy teardown: we leave without running destructors. The kernel closes
  // the TUN descriptor, which removes a TUN we created (it was never made persistent), and
  // every file is flushed above; tearing down live connections one by one would only add
  // callbacks into half-destroyed applications.
  std::_Exit(rc);
}

}  // namespace tcplab::cli
