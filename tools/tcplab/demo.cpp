// `tcplab demo keepalive`: the article's comparison in numbers. Each run happens in a network
// namespace of its own (a child process unshares one; it vanishes when the run ends, also on
// Ctrl-C), with the stack, the HTTP server and a kernel-TCP client inside. The figures are the
// stack's own counters; the client's TIME-WAIT is the kernel's socket table in that namespace.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "http/keepalive_demo.hpp"
#include "http/server.hpp"
#include "stack/link/fault_injector.hpp"
#include "stack/link/tun.hpp"
#include "stack/loop/event_loop.hpp"
#include "stack/loop/timed_client.hpp"
#include "stack/stack.hpp"
#include "stack/trace/segment_counter.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/demo_client.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/ladder_collector.hpp"

namespace tcplab::cli {
namespace {

namespace demo = http::demo;

struct DemoOptions {
  uint32_t delay_ms = 20;
  int assets = demo::kMaxAssets;
  Duration keepalive_timeout = seconds(2);
  uint32_t max_requests = 3;
  bool json = false;
  bool ladders = true;
};

// Inside every run's private namespace: the same addresses as `serve`'s defaults, which are
// free there by construction (the namespace has nothing else).
constexpr uint32_t kStackAddress = 0xC0000202;                    // 192.0.2.2
const ip::Ipv4Cidr kHostCidr{wire::Ipv4Address{0xC0000201}, 24};  // 192.0.2.1/24
constexpr Duration kRunLimit = seconds(60);                       // a run that takes longer has gone wrong

pid_t g_run_pid = 0;

void on_interrupt(int) {
  // The run's process group holds the stack and its client; with them gone, the namespace
  // and the TUN go too. Only async-signal-safe calls here.
  if (g_run_pid > 0) ::kill(-g_run_pid, SIGKILL);
  ::_exit(130);
}

// Kernel sockets in TIME-WAIT in this namespace, as `ss -tan state time-wait` lists them; the
// kernel's own table (/proc/net/tcp, state 06) when ss is not installed.
uint64_t kernel_time_wait_count() {
  if (std::FILE* ss = ::popen("ss -Htan state time-wait 2>/dev/null", "r")) {
    uint64_t lines = 0;
    char buf[512];
    while (std::fgets(buf, sizeof buf, ss)) ++lines;
    if (::pclose(ss) == 0) return lines;
  }
  std::ifstream table("/proc/net/tcp");
  std::string line;
  uint64_t count = 0;
  std::getline(table, line);  // the column header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "06") ++count;
  }
  return count;
}

uint64_t server_time_wait_count(Stack& stack) {
  uint64_t count = 0;
  for (const auto& c : stack.tcp().connections())
    if (c.state == tcp::State::TimeWait) ++count;
  return count;
}

// One run, in the calling (child) process: returns the row or sets `error`.
bool run_in_namespace(const demo::Plan& plan, const DemoOptions& o, uint32_t delay_ms, demo::Row& row,
                      std::string* ladder, std::string& error) {
  if (::unshare(CLONE_NEWNET) != 0) {
    error = std::string("cannot create a network namespace: ") + std::strerror(errno) +
            " (the demo needs root: sudo build/tcplab demo keepalive)";
    return false;
  }
  link::TunConfig tun_config;
  tun_config.host = kHostCidr;
  std::vector<std::string> warnings;
  auto tun = link::Tun::open(tun_config, error, warnings);
  if (!tun) return false;

  StackConfig config;
  config.address = wire::Ipv4Address{kStackAddress};
  config.link_prefix = kHostCidr;
  config.mtu = tun->mtu();
  config.tcp.mss = static_cast<uint16_t>(config.mtu - 40);
  if (getrandom(config.tcp.isn_key.data(), config.tcp.isn_key.size(), 0) !=
      static_cast<ssize_t>(config.tcp.isn_key.size())) {
    error = std::string("cannot read random bytes for the ISN key: ") + std::strerror(errno);
    return false;
  }
  trace::Tracer tracer;
  trace::SegmentCounter counter;
  tracer.add(&counter);
  LadderCollector collector;
  if (ladder) tracer.add(collector.sink());
  SteadyClock clock;
  Stack stack(config, tracer);
  stack.advance(clock.now());
  http::ServerConfig server_config;
  server_config.keepalive_timeout = o.keepalive_timeout;
  if (plan.max_requests != 0) server_config.max_requests = plan.max_requests;
  http::Server server(stack.tcp(), server_config);
  server.advance(clock.now());
  if (!server.start()) {
    error = "the HTTP server could not start: " + server.error();
    return false;
  }
  loop::EventLoop loop(tun->fd(), stack, tracer, clock);
  loop::TimedAdapter<http::Server> server_timer(server);
  loop.add_client(server_timer);
  // The emulated round trip: the link's own fault injector delays every packet both ways,
  // exactly as `serve --delay MS` does.
  std::unique_ptr<link::FaultInjector> delay;
  if (delay_ms != 0) {
    link::FaultOptions faults;
    faults.in.delay = faults.out.delay = milliseconds(delay_ms);
    delay = std::make_unique<link::FaultInjector>(faults, &tracer);
    loop.set_fault_injector(delay.get());
  }

  int result_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  const pid_t client = ::fork();
  if (client < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (client == 0) {
    ::close(result_pipe[0]);
    auto r = run_demo_client(plan, wire::Ipv4Address{kStackAddress}.to_string(), server_config.port);
    std::string line = (r.ok ? "ok " : "error ") + std::to_string(r.requests) + " " +
                       std::to_string(r.seconds) + " " + r.error + "\n";
    (void)!::write(result_pipe[1], line.data(), line.size());
    ::_exit(r.ok ? 0 : 1);
  }
  ::close(result_pipe[1]);

  const Instant give_up = clock.now() + kRunLimit;
  bool client_done = false;
  while (!client_done && clock.now() < give_up) {
    loop.run_once(milliseconds(10));
    client_done = ::waitpid(client, nullptr, WNOHANG) == client;
  }
  if (!client_done) {
    ::kill(client, SIGKILL);
    ::waitpid(client, nullptr, 0);
    error = "the client did not finish within 60 s";
    return false;
  }
  // Let the last FINs and ACKs cross the (possibly delayed) link before counting.
  const Instant settle = clock.now() + milliseconds(300) + 4 * milliseconds(delay_ms);
  while (clock.now() < settle) loop.run_once(settle - clock.now());

  std::string reply(512, '\0');
  ssize_t n = ::read(result_pipe[0], reply.data(), reply.size());
  ::close(result_pipe[0]);
  reply.resize(n > 0 ? static_cast<size_t>(n) : 0);
  std::istringstream fields(reply);
  std::string status;
  fields >> status >> row.requests >> row.seconds;
  if (status != "ok") {
    std::string why;
    std::getline(fields, why);
    error = "the client failed:" + why;
    return false;
  }
  const auto& t = stack.tcp().stats();
  row.mode = std::string(demo::mode_name(plan.mode));
  row.delay_ms = delay_ms;
  row.connections = t.passive_opens;
  row.handshakes = t.handshakes_completed;
  row.segments = counter.both().segments;
  row.header_bytes = counter.both().header_bytes;
  row.time_wait_server = server_time_wait_count(stack);
  row.time_wait_client = kernel_time_wait_count();
  if (ladder) *ladder = collector.take_ladder(false);
  return true;
}

// Forks the run so its namespace and TUN disappear with it; the row comes back over a pipe.
bool run_one(const demo::Plan& plan, const DemoOptions& o, uint32_t delay_ms, demo::Row& row,
             std::string* ladder, std::string& error) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (child == 0) {
    ::setpgid(0, 0);
    ::close(pipe_fds[0]);
    demo::Row r;
    std::string why;
    std::string line;
    std::string drawn;
    if (run_in_namespace(plan, o, delay_ms, r, ladder ? &drawn : nullptr, why)) {
      line = "ok " + std::to_string(r.requests) + " " + std::to_string(r.connections) + " " +
             std::to_string(r.handshakes) + " " + std::to_string(r.segments) + " " +
             std::to_string(r.header_bytes) + " " + std::to_string(r.seconds) + " " +
             std::to_string(r.time_wait_server) + " " + std::to_string(r.time_wait_client) + "\n" + drawn;
    } else {
      line = "error " + why + "\n";
    }
    (void)!::write(pipe_fds[1], line.data(), line.size());
    // Leave without destructors, as serve does: closing the TUN's descriptor removes it.
    ::_exit(0);
  }
  ::setpgid(child, child);
  g_run_pid = child;
  ::close(pipe_fds[1]);
  std::string reply;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  ::waitpid(child, nullptr, 0);
  g_run_pid = 0;
  std::istringstream fields(reply);
  std::string status;
  fields >> status;
  if (status != "ok") {
    std::getline(fields, error);
    if (!error.empty() && error.front() == ' ') error.erase(0, 1);
    if (error.empty()) error = "the run ended without a result";
    return false;
  }
  fields >> row.requests >> row.connections >> row.handshakes >> row.segments >> row.header_bytes >>
      row.seconds >> row.time_wait_server >> row.time_wait_client;
  if (ladder) {
    // Everything after the figures' line is the run's ladder diagram.
    auto eol = reply.find('\n');
    *ladder = eol == std::string::npos ? std::string() : reply.substr(eol + 1);
  }
  row.mode = std::string(demo::mode_name(plan.mode));
  row.delay_ms = delay_ms;
  return true;
}

FlagTable demo_flags(DemoOptions& o) {
  FlagTable flags;
  add_flag(flags, "--delay", "MS", std::to_string(o.delay_ms),
           "emulated one-way delay in each direction for the second set of runs (a round trip is twice "
           "this); 0 runs only the local, undelayed set",
           uint_into(o.delay_ms, 0, 1000));
  add_flag(flags, "--assets", "N", std::to_string(o.assets),
           "assets the page pulls in after the HTML (style, script, images), 0 to 8",
           uint_into(o.assets, 0, 8));
  add_flag(flags, "--keepalive-timeout", "SECONDS", seconds_text(o.keepalive_timeout),
           "the server's idle timeout; the idle-timeout run pauses past it",
           seconds_into(o.keepalive_timeout, 0.1, 30));
  add_flag(flags, "--max-requests", "N", std::to_string(o.max_requests),
           "the server's --max-requests in the keepalive-max-requests run",
           uint_into(o.max_requests, 1, 1000));
  add_flag(flags, "--no-ladders", "", "ladders shown",
           "leave out the ladder diagrams of a short run of each mode after the table",
           switch_into(o.ladders, false));
  add_flag(flags, "--json", "", "off", "print the rows as a JSON array on stdout (progress goes to stderr)",
           switch_into(o.json, true));
  return flags;
}

void print_help(const FlagTable& flags) {
  std::printf(
      "usage: tcplab demo keepalive [flags]\n\n"
      "Runs the keep-alive article's comparison on the demo page and prints one table: HTTP/1.0 with\n"
      "one connection per request, HTTP/1.1 keep-alive on one connection, keep-alive with a pause\n"
      "past the server's idle timeout (a new handshake), and keep-alive with a small --max-requests.\n"
      "Each mode runs once on the bare TUN and once with --delay emulated in each direction, because\n"
      "a handshake costs microseconds locally and a round trip on a real network. Every run happens\n"
      "in a network namespace of its own that disappears with it. Needs root. Lab 2\n"
      "(docs/labs/02-keepalive.md) explains each mode and what the columns show.\n\n");
  std::fputs(describe_flags(flags).c_str(), stdout);
}

}  // namespace

int demo_main(int argc, char** argv, int first) {
  DemoOptions o;
  auto flags = demo_flags(o);
  ParsedArgs args;
  if (auto error = parse_flags(flags, argc, argv, first, args, 1)) {
    std::fprintf(stderr, "tcplab demo: %s (see tcplab demo --help)\n", error->c_str());
    return kExitUsage;
  }
  if (args.help_requested) {
    print_help(flags);
    return kExitOk;
  }
  if (args.positionals.empty() || args.positionals[0] != "keepalive") {
    std::fprintf(
        stderr, "tcplab demo: %s (demos: keepalive; see tcplab demo --help)\n",
        args.positionals.empty() ? "which demo?" : ("unknown demo '" + args.positionals[0] + "'").c_str());
    return kExitUsage;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr,
                 "tcplab demo: needs root to create its own network namespace and TUN "
                 "(sudo build/tcplab demo keepalive)\n");
    return kExitRuntime;
  }
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  demo::PlanOptions plan_options;
  plan_options.assets = o.assets;
  plan_options.keepalive_timeout = o.keepalive_timeout;
  plan_options.max_requests = o.max_requests;
  std::vector<uint32_t> delays{0};
  if (o.delay_ms != 0) delays.push_back(o.delay_ms);
  std::vector<demo::Row> rows;
  for (uint32_t delay : delays) {
    plan_options.one_way_delay = milliseconds(delay);
    for (demo::Mode mode : demo::kAllModes) {
      const auto plan = demo::make_plan(mode, plan_options);
      std::fprintf(stderr, "demo: %-24s delay %3u ms: %zu request%s ... ",
                   std::string(demo::mode_name(mode)).c_str(), delay, plan.requests.size(),
                   plan.requests.size() == 1 ? "" : "s");
      std::fflush(stderr);
      demo::Row row;
      std::string error;
      if (!run_one(plan, o, delay, row, nullptr, error)) {
        std::fprintf(stderr, "failed\ntcplab demo: %s\n", error.c_str());
        return kExitRuntime;
      }
      std::fprintf(stderr, "%llu connection%s, %.3f s\n", static_cast<unsigned long long>(row.connections),
                   row.connections == 1 ? "" : "s", row.seconds);
      rows.push_back(row);
    }
  }
  if (o.json) {
    std::fputs(demo::format_json(rows).c_str(), stdout);
    return kExitOk;
  }
  std::printf("\n");
  std::fputs(demo::format_table(rows).c_str(), stdout);
  if (!o.ladders) return kExitOk;

  // A short version of each mode, drawn: the page and one asset on the bare link. The
  // --max-requests one has two assets and a cap of 2, so that its ladder shows what the cap
  // does (two requests on one connection, the server's FIN, a new handshake for the third)
  // rather than a connection per request, which would look like HTTP/1.0's.
  constexpr uint32_t kLadderMaxRequests = 2;
  demo::PlanOptions short_options = plan_options;
  short_options.assets = 1;
  short_options.one_way_delay = Duration{};
  for (demo::Mode mode : demo::kAllModes) {
    demo::PlanOptions options = short_options;
    if (mode == demo::Mode::MaxRequests) {
      options.assets = 2;
      options.max_requests = kLadderMaxRequests;
    }
    auto plan = demo::make_plan(mode, options);
    // The progress lines go to stderr, the ladders to stdout: piped, stdout is buffered, so
    // it is flushed first for the two to stay in order in `2>&1 | less`.
    std::fflush(stdout);
    std::fprintf(stderr, "demo: short %s run for its ladder ... ",
                 std::string(demo::mode_name(mode)).c_str());
    demo::Row row;
    std::string ladder, error;
    if (!run_one(plan, o, 0, row, &ladder, error)) {
      std::fprintf(stderr, "failed\ntcplab demo: %s\n", error.c_str());
      return kExitRuntime;
    }
    std::fprintf(stderr, "done\n");
    const std::string cap =
        mode == demo::Mode::MaxRequests ? " with --max-requests " + std::to_string(kLadderMaxRequests) : "";
    std::printf("\n%s: %zu requests%s, as the stack saw them\n%s", std::string(demo::mode_name(mode)).c_str(),
                plan.requests.size(), cap.c_str(), ladder.c_str());
  }
  return kExitOk;
}

}  // namespace tcplab::cli
