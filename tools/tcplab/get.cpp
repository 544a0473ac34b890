// `tcplab get`: the other half of the lab. tcplab is the HTTP client on its own TCP (active
// open) and the kernel is the server. Parses flags and URLs, opens the TUN and the stack the
// way serve does, runs http::ClientSession on the event loop, prints what happened to each
// URL and each connection, and stays while our side holds TIME-WAIT.
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/client_session.hpp"
#include "stack/link/pcap_writer.hpp"
#include "stack/loop/buffered_output.hpp"
#include "stack/loop/event_loop.hpp"
#include "stack/loop/timed_client.hpp"
#include "stack/stack.hpp"
#include "tools/tcplab/commands.hpp"
#include "tools/tcplab/flags.hpp"
#include "tools/tcplab/loop_extras.hpp"
#include "tools/tcplab/same_file.hpp"
#include "tools/tcplab/stack_flags.hpp"
#include "tools/tcplab/stack_setup.hpp"

namespace tcplab::cli {
namespace {

// -L: how many redirects one URL may follow (browsers allow 20).
constexpr unsigned kMaxRedirects = 20;

// RFC 6335 §6: the dynamic (ephemeral) port range.
constexpr uint32_t kFirstEphemeral = 49152;

struct GetOptions {
  LinkOptions link;
  TraceOptions trace;
  FaultOptions faults;
  bool step = false;
  tcp::TcpConfig tcp;
  std::vector<std::string> outputs;  // -o FILE, paired with the URLs in order
  bool http10 = false;
  std::optional<bool> keepalive;  // unset: on for HTTP/1.1, off for HTTP/1.0
  bool follow_redirects = false;  // -L
  Duration timeout = seconds(10);
};

FlagTable get_flags(GetOptions& o) {
  FlagTable flags;
  add_link_flags(flags, o.link);
  add_trace_flags(flags, o.trace);
  add_step_flag(flags, o.step);
  add_fault_flags(flags, o.faults);
  add_tcp_flags(flags, o.tcp);
  add_flag(
      flags, "-o", "FILE", "bodies are discarded",
      "write the body of the next URL (in order) to FILE, exactly as decoded (chunked framing removed); "
      "'-' is stdout, which then carries only bodies (all else tcplab prints goes to stderr). An "
      "existing FILE keeps its contents until that body begins (a URL that fails before then loses "
      "nothing). Each "
      "file may be named once; /dev/null and '-' may repeat",
      [&o](std::string_view v) -> std::optional<std::string> {
        if (v.empty()) return std::string("expected a file name");
        o.outputs.emplace_back(v);
        return std::nullopt;
      },
      true);
  add_flag(flags, "--http1.0", "", "HTTP/1.1",
           "send HTTP/1.0 requests: the connection closes after each response unless keep-alive is "
           "negotiated (--keepalive on sends Connection: keep-alive)",
           switch_into(o.http10, true));
  add_flag(
      flags, "--keepalive", "on|off", "on; off with --http1.0",
      "off sends Connection: close, so every URL gets its own connection; on reuses one connection while "
      "the server allows",
      [&o](std::string_view v) -> std::optional<std::string> {
        if (v == "on")
          o.keepalive = true;
        else if (v == "off")
          o.keepalive = false;
        else
          return std::string("expected on or off");
        return std::nullopt;
      });
  add_flag(flags, "-L", "", "redirects are answers",
           "follow redirects (300, 301, 302, 303, 307 and 308 with a Location) as curl -L does, at most " +
               std::to_string(kMaxRedirects) +
               " for each URL (as browsers; curl allows 50): each hop is printed, the next request goes "
               "to the Location (on the same connection if it is the same server), and -o gets only the "
               "last response's body",
           switch_into(o.follow_redirects, true));
  add_flag(flags, "--timeout", "SECONDS", seconds_text(o.timeout),
           "a fetch fails when its connection makes no progress for this long; a connection we "
           "closed that does not finish closing in this long (a server that keeps sending after its "
           "response and never closes, say) is aborted with RST",
           seconds_into(o.timeout, 0.001, 3600));
  return flags;
}

// How -o, --trace-json and --pcap name their file in messages.
std::string shown_name(const std::string& name) { return name == "-" ? "stdout" : name; }

// RFC 1122 §4.2.3.10: "A TCP implementation MUST reject as an error a local OPEN call for an
// invalid remote IP address (e.g., a broadcast or multicast address)": the addresses no host
// has, the TUN prefix's own network and broadcast addresses, and the stack's own address,
// which has no server behind it. Why `remote` is one of them, or nothing.
std::optional<std::string> refused_remote(wire::Ipv4Address remote, wire::Ipv4Address ours,
                                          const std::optional<ip::Ipv4Cidr>& host) {
  constexpr std::string_view kRule = " (RFC 1122 §4.2.3.10: no connection to it)";
  if (remote == ours)
    return "is the stack's own address: tcplab get fetches from a server on the host's side of the TUN" +
           (host ? ", such as " + host->address.to_string() : std::string());
  if (auto why = ip::unusable_link_address(remote)) return *why + std::string(kRule);
  if (host && host->contains(remote))
    if (auto why = ip::unusable_host_address(ip::Ipv4Cidr{remote, host->prefix_length}))
      return *why + std::string(kRule);
  return std::nullopt;
}

// A usage error when two of the files get writes (-o, --trace-json, --pcap) are one file, or
// when a body and the JSON trace both ask for stdout. Several `-o -` follow each other on
// stdout, in URL order, as curl's do.
std::optional<std::string> shared_output(const GetOptions& o) {
  std::vector<std::pair<std::string, std::string>> writers;  // flag, file
  for (const auto& name : o.outputs) writers.emplace_back("-o", name);
  if (!o.trace.trace_json.empty()) writers.emplace_back("--trace-json", o.trace.trace_json);
  if (!o.trace.pcap.empty()) writers.emplace_back("--pcap", o.trace.pcap);
  for (size_t i = 0; i < writers.size(); ++i) {
    for (size_t j = i + 1; j < writers.size(); ++j) {
      const auto& [flag_a, a] = writers[i];
      const auto& [flag_b, b] = writers[j];
      if (a == "-" && b == "-") {
        if (flag_a == "-o" && flag_b == "-o") continue;
        return flag_a + " - and " + flag_b + " - both write to stdout; give one of them a file";
      }
      if (a == "-" || b == "-" || !same_regular_file(a, b)) continue;
      return flag_a + " " + a + " and " + flag_b + " " + b +
             " name the same file, so one would overwrite the other; give each its own file";
    }
  }
  return std::nullopt;
}

// Writes bodies to the -o outputs and prints each result as it happens. Several `-o -` share
// one output (stdout). An output never blocks the event loop: one that cannot keep up makes
// body_blocked() true, and the session stops reading until it drains.
class Printer final : public http::ClientEvents {
 public:
  Printer(std::vector<loop::BufferedOutput*> outputs, std::vector<std::string> names, Duration msl)
      : outputs_(std::move(outputs)), names_(std::move(names)), msl_(msl) {}

  void on_body(size_t index, std::string_view bytes) override {
    if (index >= outputs_.size() || outputs_[index] == nullptr) return;
    outputs_[index]->write(bytes);
  }

  bool body_blocked(size_t index) const override {
    return index < outputs_.size() && outputs_[index] != nullptr && outputs_[index]->full();
  }

  void on_fetched(const http::FetchReport& r) override {
    // A body that was empty still replaces what the file held.
    if (r.ok && r.redirect_to.empty() && r.index < outputs_.size() && outputs_[r.index] != nullptr)
      outputs_[r.index]->start();
    std::string conn = r.conn == 0 ? std::string("no connection")
                                   : "conn " + std::to_string(r.conn) + (r.reused ? " (reused)" : " (new)");
    if (r.retried) conn += ", retried: the kept connection closed before any response (RFC 9112 §9.3.1)";
    if (!r.ok) {
      std::printf("%s: failed on %s\n", r.url.c_str(), conn.c_str());
      std::fprintf(stderr, "tcplab get: %s: %s\n", r.url.c_str(), r.error.c_str());
    } else {
      std::string saved;
      if (!r.redirect_to.empty()) {
        saved = " -> redirect to " + r.redirect_to + " (-L)";
      } else if (r.index < names_.size()) {
        saved = " -> " + shown_name(names_[r.index]);
        // Not "saved" when the file refused the bytes (EIO, a full disk): the error follows.
        if (r.index < outputs_.size() && outputs_[r.index] != nullptr && outputs_[r.index]->failed())
          saved += " (writing it failed)";
      }
      // RFC 9112 §4: the reason phrase may be empty, and then there is nothing after the code.
      std::string reason = r.reason.empty() ? std::string() : " " + r.reason;
      // RFC 9110 §15: codes above 599 are not HTTP's (libraries use them internally); a
      // client takes such a response as a 5xx, which is how it was read (no redirect, a body).
      if (r.status > 599) reason += " (not an HTTP status code: read as a 5xx, RFC 9110 §15)";
      std::string interim;
      if (r.interim_bytes > 0) {
        interim = " (plus " + std::to_string(r.interim_bytes) + " bytes of 1xx responses)";
      }
      std::printf("%s: HTTP/1.%d %d%s; header %llu bytes%s, body %llu bytes (%.*s)%s; %s\n", r.url.c_str(),
                  r.minor, r.status, reason.c_str(), static_cast<unsigned long long>(r.header_bytes),
                  interim.c_str(), static_cast<unsigned long long>(r.body_bytes),
                  static_cast<int>(http::to_string(r.framing).size()), http::to_string(r.framing).data(),
                  saved.c_str(), conn.c_str());
      std::printf("  conn %u %s: %s\n", r.conn, r.persistence.keep_open ? "stays open" : "closes",
                  r.persistence.why.c_str());
    }
    std::fflush(stdout);
  }

  void on_connection_closed(const http::ConnectionReport& r) override {
    std::string id = "conn " + std::to_string(r.conn) + " (" + r.tuple.to_string(false) + ")";
    if (r.time_wait_ours) {
      std::printf(
          "%s: we closed first: TIME-WAIT on our side for 2 x MSL = %s s (--msl); tcplab stays until "
          "it ends (Ctrl-C leaves now)\n",
          id.c_str(), seconds_text(2 * msl_).c_str());
    } else if (r.reason == tcp::CloseReason::Normal) {
      std::printf("%s: the server closed first: TIME-WAIT is on the server's side\n", id.c_str());
    } else if (r.reason != tcp::CloseReason::Refused && r.reason != tcp::CloseReason::PortUnreachable &&
               r.reason != tcp::CloseReason::ProtocolUnreachable) {
      std::printf("%s: ended (%.*s)\n", id.c_str(), static_cast<int>(tcp::to_string(r.reason).size()),
                  tcp::to_string(r.reason).data());
    }
    std::fflush(stdout);
  }

  // A body could not be written (`-o - | head -c 10`: a closed pipe); said once, on stderr.
  bool write_failed() {
    for (size_t i = 0; i < outputs_.size() && !write_failed_; ++i) {
      if (outputs_[i] != nullptr && outputs_[i]->failed()) {
        write_failed_ = true;
        std::fprintf(stderr, "tcplab get: cannot write %s: %s\n", shown_name(names_[i]).c_str(),
                     outputs_[i]->error().c_str());
      }
    }
    return write_failed_;
  }
  // Body bytes still wait for a slow reader.
  bool unwritten() const {
    for (const auto* out : outputs_) {
      if (out != nullptr && out->buffered() > 0 && !out->failed()) return true;
    }
    return false;
  }

 private:
  std::vector<loop::BufferedOutput*> outputs_;  // by URL index; null: discarded
  std::vector<std::string> names_;
  Duration msl_;
  bool write_failed_ = false;
};

}  // namespace

int get_main(int argc, char** argv, int first) {
  GetOptions o;
  auto flags = get_flags(o);
  ParsedArgs args;
  auto usage = [](const std::string& error) {
    std::fprintf(stderr, "tcplab get: %s (see tcplab get --help)\n", error.c_str());
    return kExitUsage;
  };
  if (auto error = parse_flags(flags, argc, argv, first, args, SIZE_MAX)) {
    // A listening server's flags: get only opens connections, so say where they belong.
    for (const char* listening : {"--backlog", "--syn-backlog", "--syn-cookies"}) {
      if (error->starts_with("unknown flag '" + std::string(listening) + "'"))
        *error += " (it sets how a listening port takes connections: a flag of tcplab serve)";
    }
    return usage(*error);
  }
  if (args.help_requested) {
    std::printf(
        "usage: tcplab get URL... [-o FILE|-]... [flags]\n\n"
        "The other half of the lab: tcplab is the HTTP client on its own TCP, the kernel the server\n"
        "(python3 -m http.server in the namespace, say). Fetches each http://ADDR[:PORT]/path in order,\n"
        "reusing one connection while keep-alive allows, and prints per URL the status line, the sizes\n"
        "and the connection used, then who closed each connection first. When we close first, tcplab\n"
        "stays for TIME-WAIT (2 x --msl). With -o - a body goes to stdout, like curl's, and all else\n"
        "tcplab prints goes to stderr:\n\n"
        "  tcplab get -o - http://192.0.2.1:8000/big.bin | sha256sum\n\n"
        "A slow reader (or an -o FIFO) never stalls tcplab: while the output cannot take more,\n"
        "tcplab stops reading the connection, so the server sees a zero window (its probes are\n"
        "answered), and that wait does not count towards --timeout. An -o FIFO that no process\n"
        "reads yet is waited for before anything starts, with a line on stderr saying so; Ctrl-C\n"
        "then ends tcplab as the signal does (exit 130), nothing having been sent.\n\n"
        "A RST or an ICMP port unreachable answering the SYN (a firewall's reject rule) fails that\n"
        "URL at once: connection refused, as with curl. An ICMP protocol unreachable (no TCP\n"
        "there) fails it at once too. A kept connection the server closes or resets before any byte\n"
        "of the next response is retried once on a new connection (RFC 9112 §9.3.1). Bytes after a\n"
        "complete response are discarded, never progress: see --timeout.\n\n"
        "No connection goes to an address no one host has (multicast, broadcast, 0.0.0.0/8, the\n"
        "TUN prefix's network and broadcast addresses: RFC 1122 §4.2.3.10) or to the stack's own:\n"
        "such a URL is a usage error, such a redirect fails its URL at once.\n\n"
        "Exit 0 if every URL got a response (with -L a final one: a redirect it cannot or may no\n"
        "longer follow fails its URL), 1 if not, 2 on a usage error (two -o naming the same file\n"
        "among them); Ctrl-C once every URL has its answer exits by those answers.\n\n");
    std::fputs(describe_flags(flags).c_str(), stdout);
    return kExitOk;
  }
  if (args.positionals.empty()) return usage("expected at least one URL (http://ADDR[:PORT]/path)");
  if (o.outputs.size() > args.positionals.size()) {
    return usage(std::to_string(o.outputs.size()) + " -o files for " +
                 std::to_string(args.positionals.size()) + " URLs; each -o pairs with one URL, in order");
  }
  if (auto error = shared_output(o)) return usage(*error);
  if (auto error = check_trace_dependents(o.trace, o.step, args)) return usage(*error);
  if (auto error = check_opposite_switches(args)) return usage(*error);
  if (auto error = check_link(o.link)) return usage(*error);
  std::vector<http::Url> urls;
  for (const auto& text : args.positionals) {
    std::string error;
    auto url = http::parse_url(text, error);
    if (!url) return usage(error);
    urls.push_back(*url);
  }

  // --- runtime from here: errors exit 1 ---
  std::vector<std::unique_ptr<loop::BufferedOutput>> owned_outputs;
  std::vector<loop::BufferedOutput*> outputs;  // by URL index
  loop::BufferedOutput* body_stdout = nullptr;
  for (const auto& name : o.outputs) {
    std::string error;
    if (name == "-" && body_stdout == nullptr) {
      std::FILE* kept = claim_stdout("the bodies", "wb", error);
      if (kept != nullptr) {
        owned_outputs.push_back(loop::BufferedOutput::adopt(fileno(kept), error));
        body_stdout = owned_outputs.back().get();
      }
      if (body_stdout == nullptr) {
        std::fprintf(stderr, "tcplab get: %s\n", error.c_str());
        return kExitRuntime;
      }
    } else if (name != "-") {
      // An existing file keeps its contents until this URL's body begins (as curl's -o): a URL
      // that fails before then, or a redirect that cannot be followed, loses nothing.
      owned_outputs.push_back(
          loop::BufferedOutput::open_kept_until_written(name, error, fifo_reader_notice("the body", name)));
      if (owned_outputs.back() == nullptr) {
        std::fprintf(stderr, "tcplab get: %s\n", error.c_str());
        return kExitRuntime;
      }
    }
    outputs.push_back(name == "-" ? body_stdout : owned_outputs.back().get());
  }

  SteadyClock clock;
  StackRuntime runtime;
  no_offload_with_faults(o.link, o.faults);
  // A URL no connection may go to (refused_remote: the stack's own address, whose SYN would
  // come back to the stack itself, a broadcast or multicast address ...) is a usage error,
  // found once the addresses are chosen, before the TUN is made and the capture or trace files
  // are opened. A redirect to one fails its URL (ClientConfig::refuse_address).
  bool refused_url = false;
  wire::Ipv4Address ours;
  std::optional<ip::Ipv4Cidr> host;
  auto no_url_refused = [&](const LinkOptions& link) {
    ours = link.ip;
    host = link.tun.host;
    for (const http::Url& url : urls) {
      auto why = refused_remote(url.address, ours, host);
      if (!why) continue;
      refused_url = true;
      usage(url.address == ours ? url.text + " names the stack's own address " + ours.to_string() +
                                      why->substr(why->find(':'))
                                : url.text + " names " + url.address.to_string() + ", which " + *why);
      return false;
    }
    return true;
  };
  if (!open_stack(o.link, o.trace, o.tcp, clock, runtime, no_url_refused))
    return refused_url ? kExitUsage : kExitRuntime;
  Stack& stack = *runtime.stack;
  trace::Tracer& tracer = runtime.sinks.tracer();

  http::ClientConfig config;
  config.request.minor = o.http10 ? 0 : 1;
  config.request.keepalive = o.keepalive.value_or(!o.http10);
  config.request.user_agent = std::string("tcplab/") + kVersion;
  config.timeout = o.timeout;
  config.max_redirects = o.follow_redirects ? kMaxRedirects : 0;
  config.refuse_address = [&ours, &host](wire::Ipv4Address a) { return refused_remote(a, ours, host); };
  Printer printer(outputs, o.outputs, o.tcp.msl);
  // RFC 6056 §3.3.1: start the ephemeral ports at a random place. Counting from the same port
  // on every run would meet, on the very same 4-tuple, the TIME-WAIT the server kept from
  // the previous run, and the new SYN would be answered with an ACK for the old connection.
  uint16_t next_port = 0;
  if (getrandom(&next_port, sizeof next_port, 0) != static_cast<ssize_t>(sizeof next_port)) next_port = 0;
  next_port = static_cast<uint16_t>(kFirstEphemeral + next_port % (65536 - kFirstEphemeral));
  http::ClientSession session(
      urls, config,
      [&stack, &next_port](wire::Ipv4Address address, uint16_t port, tcp::SocketHandler* handler) {
        uint16_t local = next_port;
        next_port = next_port == 65535 ? kFirstEphemeral : static_cast<uint16_t>(next_port + 1);
        tcp::Socket* socket = stack.tcp().connect(address, port, handler, local);
        // That 4-tuple is still in use: let the host pick the next free port.
        return socket != nullptr ? socket : stack.tcp().connect(address, port, handler);
      },
      printer);
  session.set_tracer(&tracer);

  loop::EventLoop loop(runtime.tun->fd(), stack, tracer, clock);
  loop.set_busy_poll(o.link.busy_poll);
  loop.set_vnet_header(runtime.tun->vnet_header());
  loop::TimedAdapter<http::ClientSession> session_timer(session);
  loop.add_client(session_timer);
  // A full output is watched for POLLOUT, so the loop writes it out as its reader takes the
  // bytes and never waits in write() (ACKs, window updates and timers go on meanwhile).
  for (auto& output : owned_outputs) loop.add_watch(*output);
  LoopExtras extras;
  extras.attach(stack, runtime.sinks, loop, o.faults, o.step, o.trace.absolute);
  if (extras.stepping()) std::printf("%s\n", kStepWithRealClients);
  if (!loop.install_signal_handlers()) {
    std::fprintf(stderr, "tcplab: cannot install signal handlers: %s\n", loop.error().c_str());
    return kExitRuntime;
  }

  session.start(clock.now());
  // A body that cannot be written (`-o - | head -c 10`: a closed pipe) stops the download,
  // as it does in curl: nothing would take the rest. Bytes a slow reader has not taken yet
  // keep the loop going after the last fetch.
  while ((!session.finished() || printer.unwritten()) && !printer.write_failed() && loop.run_once()) {
  }
  int rc = session.failures() == 0 && !printer.write_failed() ? kExitOk : kExitRuntime;
  if (!loop.error().empty()) {
    std::fprintf(stderr, "tcplab: %s\n", loop.error().c_str());
    rc = kExitRuntime;
  } else if (printer.write_failed() && !session.finished()) {
    std::fprintf(stderr, "tcplab get: stopped: a body could not be written\n");
    rc = kExitRuntime;
  } else if (!session.all_fetched()) {
    std::fprintf(stderr, "tcplab get: interrupted before every URL was fetched\n");
    rc = kExitRuntime;
  } else if (printer.unwritten()) {
    std::fprintf(stderr, "tcplab get: interrupted before every body was written out\n");
    rc = kExitRuntime;
  } else if (!session.finished()) {
    // Every URL has its answer: the exit says how they went, not that a close was cut short.
    std::fprintf(stderr, "tcplab get: interrupted while closing a connection (every URL was fetched)\n");
  } else {
    // RFC 9293 §3.6: the side that closed first waits 2 x MSL in TIME-WAIT, answering a
    // retransmitted FIN; we stay so that our side really does (SIGINT leaves at once).
    while (stack.tcp().stats().connections_time_wait > 0 && loop.run_once()) {
    }
  }
  // A connection still open (interrupted, or stopped by a failed write) is reset before the
  // TUN goes, as a kernel resets the sockets of a process that exits: the server stops
  // sending at once instead of holding the rest of the body for a peer that is gone.
  if (loop.error().empty() && stack.tcp().abort_all(clock.now()) > 0) loop.send_queued();
  if (!runtime.sinks.flush() && rc == kExitOk) rc = kExitRuntime;
  // Closing also puts back a shared stdout's flags (BufferedOutput::adopt).
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i] != nullptr && !outputs[i]->close() && rc == kExitOk) {
      std::fprintf(stderr, "tcplab get: cannot write %s: %s\n", shown_name(o.outputs[i]).c_str(),
                   outputs[i]->error().c_str());
      rc = kExitRuntime;
    }
  }
  std::fflush(nullptr);
  runtime.tun->leave_as_found();
  // Deviation (exit-without-teardown), as in serve: the kernel closes the TUN (removing one
  // we created) and every file is flushed above.
  std::_Exit(rc);
}

}  // namespace tcplab::cli
