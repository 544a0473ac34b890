// `tcplab serve --kernel-tcp`: builds KernelTcp, the HTTP server and the services on it, and
// runs the epoll loop with the server's timers until a signal asks it to stop.
#include "tools/tcplab/serve_kernel.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <set>

#include "http/stats.hpp"
#include "stack/loop/kernel_tcp.hpp"
#include "stack/loop/status.hpp"
#include "stack/services/chargen.hpp"
#include "stack/services/discard.hpp"
#include "stack/services/echo.hpp"
#include "tools/tcplab/banner.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/status_file.hpp"

namespace tcplab::cli {
namespace {

// How long SIGTERM waits for idle HTTP connections to take their FIN before exiting.
constexpr Duration kShutdownGrace = seconds(1);

std::string status_report(const loop::KernelTcp& tcp, const http::Server* server) {
  std::string out = "tcplab: kernel TCP: " + std::to_string(tcp.stats().passive_opens) + " accepted, " +
                    std::to_string(tcp.open_sockets()) + " open; resets sent " +
                    std::to_string(tcp.stats().resets_sent) + ", received " +
                    std::to_string(tcp.stats().resets_received) +
                    " (segment counters and drops: not available on kernel sockets)\n";
  if (server) out += http::status_line(server->stats());
  // The kernel does not show its sequence numbers: "-", not zeros that would look measured.
  out += "tcplab: " + loop::format_connections(tcp.connections(), false);
  return out;
}

void print_status(const loop::KernelTcp& tcp, const http::Server* server, const std::string& status_file) {
  const std::string report = status_report(tcp, server);
  std::fputs(report.c_str(), stderr);
  std::string error;
  if (!status_file.empty() && !write_status_file(status_file, report, error))
    std::fprintf(stderr, "tcplab: warning: %s\n", error.c_str());
  std::fflush(stderr);
}

}  // namespace

std::optional<std::string> parse_kernel_endpoint(std::string_view text, wire::Ipv4Address& address,
                                                 uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::string("expected ADDR:PORT, e.g. 127.0.0.1:8080");
  auto ip = wire::Ipv4Address::parse(text.substr(0, colon));
  if (!ip) return "'" + std::string(text.substr(0, colon)) + "' is not an IPv4 address";
  auto p = parse_uint(text.substr(colon + 1), 1, 65535);
  if (!p) return "'" + std::string(text.substr(colon + 1)) + "' is not a port (1-65535)";
  address = *ip;
  port = static_cast<uint16_t>(*p);
  return std::nullopt;
}

std::optional<std::string> flag_refused_with_kernel_tcp(int argc, char** argv, int first) {
  // What still means something on kernel sockets: the HTTP server's own settings, the
  // services, the status report, and --trace (answered with a note that there is none: the
  // terminal is being watched anyway). --trace-json asks for a file, and an empty file or one
  // with no segments would read as "nothing happened", so it is refused instead.
  static const std::set<std::string_view> allowed = {"--kernel-tcp",
                                                     "--keepalive",
                                                     "--keepalive-timeout",
                                                     "--max-requests",
                                                     "--max-body",
                                                     "--max-connections",
                                                     "--header-timeout",
                                                     "--linger",
                                                     "--root",
                                                     "--echo",
                                                     "--discard",
                                                     "--chargen",
                                                     "--chargen-bytes",
                                                     "--status-file",
                                                     "--busy-poll",
                                                     "--no-nagle",
                                                     "--trace"};
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (!arg.starts_with("--")) continue;
    std::string_view name = arg.substr(0, arg.find('='));
    if (name == "--http-port")
      return std::string("--http-port: with --kernel-tcp the port is the one in ADDR:PORT");
    if (name == "--trace-json")
      return std::string("--trace-json has nothing to write with --kernel-tcp: kernel sockets show us "
                         "no segments");
    if (!allowed.contains(name))
      return std::string(name) + " has no meaning with --kernel-tcp (no TUN, the kernel's TCP)";
  }
  return std::nullopt;
}

int serve_kernel_tcp(const KernelServeOptions& o) {
  // Signals through a signalfd in the same epoll set: no handler races with the wait.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGUSR1);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0) {
    std::perror("tcplab: signalfd");
    return kExitRuntime;
  }

  SteadyClock clock;
  loop::KernelTcp tcp(o.address);
  tcp.set_busy_poll(o.busy_poll);
  tcp.advance(clock.now());
  std::unique_ptr<http::Server> server = std::make_unique<http::Server>(tcp, o.http);
  server->advance(clock.now());
  if (!server->start()) {
    std::fprintf(stderr, "tcplab: the HTTP server could not start on %s:%u: %s\n",
                 o.address.to_string().c_str(), o.http.port,
                 tcp.error().empty() ? server->error().c_str() : tcp.error().c_str());
    return kExitRuntime;
  }
  // Our HTTP responses go out as header and body writes: with Nagle's algorithm (RFC 896) the
  // body would wait for the client's delayed ACK on every keep-alive request. Our own TCP lets
  // the response's last segment pass Nagle by its push (deviation push-ends-nagle); the kernel
  // has no such call, so TCP_NODELAY stands in for it. The services keep Nagle, as they do on
  // our TCP, unless --no-nagle turns it off for them as it does there.
  tcp.set_no_delay(o.http.port);
  if (o.no_nagle) {
    for (uint16_t port : {o.echo_port, o.discard_port, o.chargen_port}) {
      if (port != 0) tcp.set_no_delay(port);
    }
  }
  services::EchoService echo(&tcp);
  services::DiscardService discard(&tcp);
  services::ChargenService chargen(&tcp, o.chargen_bytes);
  struct Start {
    services::Service& service;
    uint16_t port;
    const char* name;
  };
  for (const Start& s : {Start{echo, o.echo_port, "echo"}, Start{discard, o.discard_port, "discard"},
                         Start{chargen, o.chargen_port, "chargen"}}) {
    if (s.port != 0 && !s.service.listen(s.port)) {
      std::fprintf(stderr, "tcplab: %s could not listen on port %u: %s\n", s.name, s.port,
                   tcp.error().c_str());
      return kExitRuntime;
    }
  }

  bool stop = false;
  // The signals are blocked and come only through this descriptor: without it nothing but
  // SIGKILL could stop the server, so a failure here is fatal.
  if (!tcp.watch(sig_fd, [&] {
    signalfd_siginfo info{};
    while (read(sig_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo == SIGUSR1)
        print_status(tcp, server.get(), o.status_file);
      else
        stop = true;
    }
  })) {
    std::fprintf(stderr, "tcplab: cannot watch the signal descriptor: %s\n", tcp.error().c_str());
    return kExitRuntime;
  }

  KernelBannerInfo banner;
  banner.address = o.address;
  banner.http_port = o.http.port;
  banner.echo_port = o.echo_port;
  banner.discard_port = o.discard_port;
  banner.chargen_port = o.chargen_port;
  banner.trace_requested = o.trace_requested;
  banner.pid = static_cast<long>(getpid());
  std::fputs(kernel_banner_text(banner, current_banner_context()).c_str(), stdout);
  std::fflush(stdout);

  // One turn: the timers of the sockets and the server, then one wait for events.
  auto turn = [&](std::optional<Instant> give_up) {
    Instant now = clock.now();
    tcp.advance(now);
    server->advance(now);
    std::optional<Instant> due = server->next_deadline();
    if (auto t = tcp.next_deadline(); t && (!due || *t < *due)) due = t;
    if (give_up && (!due || *give_up < *due)) due = give_up;
    std::optional<Duration> wait;
    if (due) wait = std::max(*due - clock.now(), Duration::zero());
    return tcp.run_once(wait);
  };
  int rc = kExitOk;
  while (!stop) {
    if (!turn(std::nullopt)) {
      std::perror("tcplab: epoll_wait");
      rc = kExitRuntime;
      break;
    }
  }
  std::fprintf(stderr, "tcplab: stopping\n");
  if (rc == kExitOk && server->sessions() > 0) {
    // A clean goodbye as in the TUN mode: idle keep-alive connections get a FIN (RFC 9112 §9.5).
    server->begin_shutdown();
    stop = false;
    const Instant give_up = clock.now() + kShutdownGrace;
    while (!stop && server->sessions() > 0 && clock.now() < give_up && turn(give_up)) {
    }
  }
  print_status(tcp, server.get(), o.status_file);
  std::fflush(nullptr);
  // As in the TUN mode: leave without tearing down live connections one callback at a time;
  // the kernel closes every descriptor.
  std::_Exit(rc);
}

}  // namespace tcplab::cli
