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

namespace tcplab::cli {
namespace {

struct ServeOptions {
  link::TunConfig tun;
  wire::Ipv4Address ip{0xC0000202};  // 192.0.2.2
  uint8_t ttl = wire::kDefaultTtl;
  bool trace = false;
  std::string trace_json;
  std::string pcap;
  tcp::TcpConfig tcp;
  uint16_t echo_port = 0, discard_port = 0, chargen_port = 0;
  uint64_t chargen_bytes = 0;
  http::ServerConfig http;
};

Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

std::string seconds_text(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms) / 1000.0);
  return buf;
}

// Setters that check a value and store it; each returns an error text or nothing.
template <class T>
auto uint_into(T& target, uint64_t min, uint64_t max) {
  return [&target, min, max](std::string_view v) -> std::optional<std::string> {
    auto n = parse_uint(v, min, max);
    if (!n) return "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    target = static_cast<T>(*n);
    return std::nullopt;
  };
}
auto seconds_into(Duration& target, double min, double max) {
  return [&target, min, max](std::string_view v) -> std::optional<std::string> {
    auto s = parse_seconds(v, min, max);
    if (!s)
      return "expected seconds from " + seconds_text(from_seconds(min)) + " to " +
             seconds_text(from_seconds(max));
    target = from_seconds(*s);
    return std::nullopt;
  };
}

constexpr uint64_t kMaxBuffer = uint64_t{1} << 30;
// How long SIGTERM waits for idle HTTP connections to take their FIN before exiting.
constexpr Duration kShutdownGrace = seconds(1);

std::vector<Flag> serve_flags(ServeOptions& o) {
  const tcp::TcpConfig d;  // defaults for the help text
  const http::ServerConfig h;
  std::vector<Flag> flags;
  auto add = [&](std::string name, std::string value_name, std::string default_text, std::string help,
                 std::function<std::optional<std::string>(std::string_view)> set) {
    flags.push_back(Flag{std::move(name), std::move(value_name), std::move(default_text), std::move(help),
                         std::move(set)});
  };
  auto on = [](bool& b, bool value) {
    return [&b, value](std::string_view) -> std::optional<std::string> {
      b = value;
      return std::nullopt;
    };
  };

  // --- link and IP (issue 2) ---
  add("--tun", "NAME", o.tun.name,
      "TUN device to create, or an existing persistent TUN to attach to (an admin can make one for you: "
      "sudo ip tuntap add mode tun user $USER name tcplab0)",
      [&o](std::string_view v) -> std::optional<std::string> {
        o.tun.name = std::string(v);
        if (auto bad = link::check_interface_name(o.tun.name)) return *bad;
        return std::nullopt;
      });
  add("--host-ip", "CIDR|none", o.tun.host->to_string(),
      "address given to the kernel's side of the TUN before bringing it up; 'none' leaves the addresses "
      "of an admin-configured persistent TUN alone",
      [&o](std::string_view v) -> std::optional<std::string> {
        if (v == "none") {
          o.tun.host.reset();
          return std::nullopt;
        }
        auto c = ip::Ipv4Cidr::parse(v);
        if (!c) return std::string("expected ADDRESS/PREFIX like 192.0.2.1/24, or none");
        o.tun.host = *c;
        return std::nullopt;
      });
  add("--ip", "ADDR", o.ip.to_string(), "the stack's own address (TEST-NET-1, RFC 5737, never a real LAN)",
      [&o](std::string_view v) -> std::optional<std::string> {
        auto a = wire::Ipv4Address::parse(v);
        if (!a) return std::string("expected a dotted IPv4 address like 192.0.2.2");
        o.ip = *a;
        return std::nullopt;
      });
  add("--mtu", "N", std::to_string(o.tun.mtu), "link MTU in bytes; the TCP MSS is MTU - 40",
      uint_into(o.tun.mtu, 576, 65535));
  add("--ttl", "N", std::to_string(o.ttl), "IPv4 time to live of the packets we send",
      uint_into(o.ttl, 1, 255));

  // --- observability ---
  add("--trace", "", "off",
      "print every event to stdout: segments, state changes, timers, drops with their reason",
      on(o.trace, true));
  add("--trace-json", "FILE", "off", "write the same events as JSON lines to FILE ('-' for stdout)",
      [&o](std::string_view v) -> std::optional<std::string> {
        if (v.empty()) return std::string("expected a file name");
        o.trace_json = std::string(v);
        return std::nullopt;
      });
  add("--pcap", "FILE", "off", "capture every packet to FILE (pcap, opens in Wireshark while running)",
      [&o](std::string_view v) -> std::optional<std::string> {
        if (v.empty()) return std::string("expected a file name");
        o.pcap = std::string(v);
        return std::nullopt;
      });

  // --- TCP (issue 3) ---
  add("--backlog", "N", std::to_string(d.backlog),
      "accept queue length per listening port (established connections not yet accepted)",
      uint_into(o.tcp.backlog, 1, 65535));
  add("--msl", "SECONDS", seconds_text(d.msl),
      "maximum segment lifetime; TIME-WAIT lasts 2 x MSL. RFC 9293 suggests 120 s, Linux uses 30 s (60 s "
      "TIME-WAIT); labs pass 1 or 2 so TIME-WAIT can be watched ending",
      seconds_into(o.tcp.msl, 0.001, 600));
  add("--isn", "N", "RFC 6528 keyed hash",
      "fix the initial sequence number (0..4294967295) for reproducible traces",
      [&o](std::string_view v) -> std::optional<std::string> {
        auto n = parse_uint(v, 0, 0xFFFFFFFFu);
        if (!n) return std::string("expected a whole number from 0 to 4294967295");
        o.tcp.fixed_isn = static_cast<uint32_t>(*n);
        return std::nullopt;
      });
  add("--echo", "PORT", "off", "run the echo service (RFC 862) on PORT", uint_into(o.echo_port, 1, 65535));
  add("--discard", "PORT", "off", "run the discard service (RFC 863) on PORT",
      uint_into(o.discard_port, 1, 65535));
  add("--chargen", "PORT", "off", "run the character generator (RFC 864) on PORT",
      uint_into(o.chargen_port, 1, 65535));
  add("--chargen-bytes", "N", "0",
      "chargen sends exactly N bytes of its pattern, then closes; 0 sends until the client closes",
      uint_into(o.chargen_bytes, 0, uint64_t{1} << 48));
  add("--rto-min", "MS",
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d.rto_min).count()),
      "lowest retransmission timeout (RFC 6298 §2.4 says 1000; Linux uses 200)",
      [&o](std::string_view v) -> std::optional<std::string> {
        auto n = parse_uint(v, 1, 60000);
        if (!n) return std::string("expected milliseconds from 1 to 60000");
        o.tcp.rto_min = std::chrono::milliseconds(*n);
        return std::nullopt;
      });
  add("--no-delayed-ack", "", "delayed ACK on",
      "ACK every segment at once (RFC 9293 §3.8.6.3 delayed ACK off)", on(o.tcp.delayed_ack, false));
  add("--no-nagle", "", "Nagle on", "send small segments at once (RFC 896 Nagle algorithm off)",
      on(o.tcp.nagle, false));
  add("--recv-buffer", "BYTES", std::to_string(d.receive_buffer),
      "receive buffer per connection; bounds the advertised window",
      uint_into(o.tcp.receive_buffer, 1, kMaxBuffer));
  add("--send-buffer", "BYTES", std::to_string(d.send_buffer),
      "send buffer per connection; send() takes no more than this",
      uint_into(o.tcp.send_buffer, 1, kMaxBuffer));

  // --- HTTP (issue 4) ---
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
  if (o.tun.host) {
    const auto& host = *o.tun.host;
    if (o.ip == host.address) return "--ip " + o.ip.to_string() + " is the host's own address (--host-ip)";
    if (!host.contains(o.ip)) {
      return "--ip " + o.ip.to_string() + " is outside " + host.to_string() +
             ", so the kernel would not route to it; pick an address inside --host-ip's prefix";
    }
    if (host.prefix_length <= 30 && (o.ip == host.network() || o.ip == host.broadcast())) {
      return "--ip " + o.ip.to_string() + " is the network or broadcast address of " + host.to_string();
    }
  }
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

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != stdout) std::fclose(f);
  }
};

void print_status(Stack& stack, const loop::EventLoop& loop) {
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
  std::fprintf(stderr, "tcplab: %s", loop::format_connections(stack.tcp().connections()).c_str());
  std::fflush(stderr);
}

}  // namespace

void print_serve_help() {
  ServeOptions defaults;
  std::fputs(describe_flags(serve_flags(defaults)).c_str(), stdout);
}

int serve_main(int argc, char** argv, int first) {
  ServeOptions o;
  auto flags = serve_flags(o);
  bool help = false;
  if (auto error = parse_flags(flags, argc, argv, first, help)) {
    std::fprintf(stderr, "tcplab serve: %s (see tcplab serve --help)\n", error->c_str());
    return kExitUsage;
  }
  if (help) {
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
  if (auto holder = link::interface_with_address(o.ip)) {
    std::fprintf(
        stderr,
        "tcplab: the stack's address %s is already on interface %s, so the kernel would answer for it; "
        "pick another --ip\n",
        o.ip.to_string().c_str(), holder->c_str());
    return kExitRuntime;
  }

  // Sinks first: a capture file we cannot write is reported before touching the network.
  trace::Tracer tracer;
  std::unique_ptr<trace::TextSink> text_sink;
  std::unique_ptr<std::FILE, FileCloser> json_file;
  std::unique_ptr<trace::JsonSink> json_sink;
  std::unique_ptr<link::PcapWriter> pcap;
  if (o.trace) {
    // Line-buffered, so a trace piped into a file or `grep` shows each event as it happens.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    text_sink = std::make_unique<trace::TextSink>(stdout);
    tracer.add(text_sink.get());
  }
  if (!o.trace_json.empty()) {
    json_file.reset(o.trace_json == "-" ? stdout : std::fopen(o.trace_json.c_str(), "w"));
    if (!json_file) {
      std::fprintf(stderr, "tcplab: cannot write the JSON trace %s: %s\n", o.trace_json.c_str(),
                   std::strerror(errno));
      return kExitRuntime;
    }
    if (json_file.get() != stdout) std::setvbuf(json_file.get(), nullptr, _IOLBF, 0);
    json_sink = std::make_unique<trace::JsonSink>(json_file.get());
    tracer.add(json_sink.get());
  }
  if (!o.pcap.empty()) {
    pcap = std::make_unique<link::PcapWriter>(o.pcap);
    if (!pcap->ok()) {
      std::fprintf(stderr, "tcplab: %s\n", pcap->error().c_str());
      return kExitRuntime;
    }
    tracer.add(pcap.get());
  }

  std::string error;
  std::vector<std::string> warnings;
  auto tun = link::Tun::open(o.tun, error, warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "tcplab: warning: %s\n", w.c_str());
  if (!tun) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return kExitRuntime;
  }

  StackConfig config;
  config.address = o.ip;
  config.mtu = tun->mtu();
  config.ttl = o.ttl;
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
  loop.on_status_request([&] { print_status(stack, loop); });
  if (!loop.install_signal_handlers()) {
    std::fprintf(stderr, "tcplab: cannot install signal handlers: %s\n", loop.error().c_str());
    return kExitRuntime;
  }

  // The readiness line: tests and tools wait for it, so it goes out at once.
  std::string host = o.tun.host ? o.tun.host->to_string() : std::string("as configured on ") + tun->name();
  std::printf("tcplab: up on %s, stack %s, host %s\n", tun->name().c_str(), o.ip.to_string().c_str(),
              host.c_str());
  const std::string ip = o.ip.to_string();
  if (http_up) {
    std::printf("  curl http://%s%s/\n", ip.c_str(),
                o.http.port == 80 ? "" : (":" + std::to_string(o.http.port)).c_str());
  }
  std::printf("  ping %s\n", ip.c_str());
  if (o.echo_port) std::printf("  nc %s %u    (echo)\n", ip.c_str(), o.echo_port);
  if (o.discard_port) std::printf("  nc %s %u    (discard)\n", ip.c_str(), o.discard_port);
  if (o.chargen_port) std::printf("  nc %s %u    (chargen)\n", ip.c_str(), o.chargen_port);
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
  print_status(stack, loop);
  if (pcap) pcap->flush();
  std::fflush(nullptr);
  // Deviation from tidy teardown: we leave without running destructors. The kernel closes
  // the TUN descriptor, which removes a TUN we created (it was never made persistent), and
  // every file is flushed above; tearing down live connections one by one would only add
  // callbacks into half-destroyed applications.
  std::_Exit(rc);
}

}  // namespace tcplab::cli
