// The flag groups every subcommand that runs the stack shares (serve, get, script, demo):
// link (TUN, addresses, MTU), trace and capture, and TCP tuning. One definition each, so a
// flag means the same thing, with the same default and help, wherever it appears.
#pragma once
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stack/ip/address_choice.hpp"
#include "stack/link/fault_spec.hpp"
#include "stack/link/pcap_writer.hpp"
#include "stack/link/tun.hpp"
#include "stack/tcp/config.hpp"
#include "stack/trace/json_sink.hpp"
#include "stack/trace/text_sink.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/ipv4.hpp"
#include "tools/tcplab/flags.hpp"

namespace tcplab::cli {

// 50 µs where this process may run on two or more CPUs, else 0: on one CPU a spinning
// server would only take the time its clients need.
Duration default_busy_poll();

struct LinkOptions {
  // tun.host and ip hold the final addresses once resolve_link_addresses has run; before
  // that, tun.host is what --host-ip gave (with host_choice Given) and ip what --ip gave.
  link::TunConfig tun;
  ip::HostChoice host_choice = ip::HostChoice::Auto;
  wire::Ipv4Address ip{0xC0000202};  // 192.0.2.2
  bool ip_given = false;
  uint8_t ttl = wire::kDefaultTtl;
  // How long the event loop keeps checking the link after packets before it sleeps
  // (--busy-poll); default_busy_poll() until a flag says otherwise.
  Duration busy_poll = default_busy_poll();
  // Why auto did not take the first range (for the banner); set by resolve_link_addresses.
  std::string address_note;
  // With --host-ip none, why nothing could reach the stack (ip::check_admin_addressed), one
  // line; set by resolve_link_addresses, reported by open_stack once the TUN has opened.
  std::string unreachable;
};

struct StatusOptions {
  std::string status_file;  // where SIGUSR1 also writes the status report; empty: stderr only
  bool from_environment = false;  // status_file came from TCPLAB_STATUS_FILE, not the flag
  // How a message names where status_file came from.
  std::string source() const { return from_environment ? "TCPLAB_STATUS_FILE" : "--status-file"; }
};

struct TraceOptions {
  bool trace = false;      // text trace on stdout
  std::string trace_json;  // JSON lines to a file, "-" for stdout
  std::string pcap;        // capture file
  bool absolute = false;   // raw sequence numbers in the text trace and step mode
  link::PcapFormat pcap_format = link::PcapFormat::Pcapng;
};

// The fault injector's settings (stack/link/fault_spec.hpp); FaultOptions::any() says
// whether the injector is wanted at all.
using FaultOptions = link::FaultOptions;

// --tun, --host-ip, --ip, --mtu, --ttl, --busy-poll, --offload, --no-offload
void add_link_flags(FlagTable& flags, LinkOptions& o);
// --trace, --trace-json, --pcap, --pcap-format, --absolute
void add_trace_flags(FlagTable& flags, TraceOptions& o);
// --step: pause at every segment (stack/trace/step_sink.hpp); each command wires it itself.
void add_step_flag(FlagTable& flags, bool& step);
// --drop, --dup, --reorder, --corrupt, --delay, --seed, --fault (all but --seed repeatable)
// `with_seed` false leaves --seed to a command that has its own (tcplab script).
void add_fault_flags(FlagTable& flags, FaultOptions& o, bool with_seed = true);

// Colour on `out` only for a terminal and when NO_COLOR (no-color.org) is unset or empty.
bool colour_wanted(std::FILE* out);
// --backlog, --syn-backlog, --syn-cookies: how a listening port takes connections (serve only)
void add_listening_flags(FlagTable& flags, tcp::TcpConfig& o);
// --msl, --max-time-wait, --fin-timeout, --isn, --rto-min, --no-delayed-ack, --no-nagle, --no-sack,
// --no-timestamps, --tcp-keepalive, --recv-buffer, --send-buffer
void add_tcp_flags(FlagTable& flags, tcp::TcpConfig& o);

// --status-file (default: $TCPLAB_STATUS_FILE, which tools/lab run sets)
void add_status_flags(FlagTable& flags, StatusOptions& o);

// A flag of the trace group given without the one it changes (--pcap-format without --pcap,
// --absolute without --trace or --step): a usage error, so it is not silently ignored.
std::optional<std::string> check_trace_dependents(const TraceOptions& o, bool step, const ParsedArgs& given);
// --offload with --no-offload: refused.
std::optional<std::string> check_opposite_switches(const ParsedArgs& given);

// Checks the link group as a whole (is --ip inside --host-ip's prefix, ...). A usage error or nothing.
std::optional<std::string> check_link(const LinkOptions& o);

// Checks the trace group as a whole: --trace-json and --pcap may not name one file (each
// would write over the other, leaving a file nothing reads). A usage error or nothing.
std::optional<std::string> check_trace(const TraceOptions& o);

// What the link flags ask of the address choice (stack/ip/address_choice.hpp); doctor asks
// the same question serve does.
ip::AddressRequest address_request(const LinkOptions& o);

// Reads the namespace's addresses and routes (every table) and settles --host-ip and --ip:
// auto picks a free range, an explicit choice that overlaps anything on another interface is
// refused. Touches nothing. Returns false with `error` set to one line naming the clash and a
// free alternative (a runtime error: exit 1).
bool resolve_link_addresses(LinkOptions& o, std::string& error);

// What an output opened on a FIFO with no reader yet prints before waiting for one
// (link::open_output): "tcplab: waiting for a process to read the FIFO PATH (WHAT goes
// there); Ctrl-C stops", so the wait is never a silent hang.
std::function<void()> fifo_reader_notice(const char* what, const std::string& path);

// `--trace-json -` and `get -o -`: hands the real stdout over as a new stream opened with `mode`
// and points file descriptor 1 at stderr, so that everything else tcplab prints (banner, text
// trace, results) goes there and the data on stdout stays clean for a pipe. Nothing, with
// `error` set to one line naming `what`, when the descriptors cannot be duplicated.
std::FILE* claim_stdout(const char* what, const char* mode, std::string& error);

// The sinks the trace group asks for, opened and attached to one tracer. Opening comes before
// anything touches the network, so a capture file we cannot write is reported first.
class TraceSinks {
 public:
  // Returns false with `error` set (one line) when a file cannot be written.
  bool open(const TraceOptions& o, std::string& error);
  trace::Tracer& tracer() { return tracer_; }
  link::PcapWriter* pcap() { return pcap_.get(); }
  trace::JsonSink* json() { return json_.get(); }
  trace::TextSink* text() { return text_.get(); }
  // Writes everything buffered to disk (before exit). False, after saying on stderr which file
  // is incomplete and why (a full disk), when a JSON trace or capture could not all be written.
  bool flush();
  // At a step-mode pause: the JSON trace whole, the capture up to the packet being processed
  // (its comments come after the pause). Errors are left for flush() to report at exit.
  void flush_at_pause();

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const {
      if (f != stdout) std::fclose(f);
    }
  };
  trace::Tracer tracer_;
  std::unique_ptr<trace::TextSink> text_;
  std::vector<char> json_buffer_;  // the JSON file's stdio buffer: declared first, freed last
  std::unique_ptr<std::FILE, FileCloser> json_file_;
  std::string json_path_;  // for messages: '-' is stdout
  std::unique_ptr<trace::JsonSink> json_;
  std::unique_ptr<link::PcapWriter> pcap_;
};

}  // namespace tcplab::cli
