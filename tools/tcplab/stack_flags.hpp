// The flag groups every subcommand that runs the stack shares (serve, get, script, demo):
// link (TUN, addresses, MTU), trace and capture, and TCP tuning. One definition each, so a
// flag means the same thing, with the same default and help, wherever it appears.
#pragma once
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "stack/link/pcap_writer.hpp"
#include "stack/link/tun.hpp"
#include "stack/tcp/config.hpp"
#include "stack/trace/json_sink.hpp"
#include "stack/trace/text_sink.hpp"
#include "stack/trace/trace.hpp"
#include "stack/wire/ipv4.hpp"
#include "tools/tcplab/flags.hpp"

namespace tcplab::cli {

struct LinkOptions {
  link::TunConfig tun;
  wire::Ipv4Address ip{0xC0000202};  // 192.0.2.2
  uint8_t ttl = wire::kDefaultTtl;
};

struct TraceOptions {
  bool trace = false;      // text trace on stdout
  std::string trace_json;  // JSON lines to a file, "-" for stdout
  std::string pcap;        // capture file
};

// --tun, --host-ip, --ip, --mtu, --ttl
void add_link_flags(FlagTable& flags, LinkOptions& o);
// --trace, --trace-json, --pcap
void add_trace_flags(FlagTable& flags, TraceOptions& o);
// --backlog, --msl, --isn, --rto-min, --no-delayed-ack, --no-nagle, --no-sack, --no-timestamps,
// --tcp-keepalive, --recv-buffer, --send-buffer
void add_tcp_flags(FlagTable& flags, tcp::TcpConfig& o);

// Checks the link group as a whole (is --ip inside --host-ip's prefix, ...). A usage error or nothing.
std::optional<std::string> check_link(const LinkOptions& o);

// The sinks the trace group asks for, opened and attached to one tracer. Opening comes before
// anything touches the network, so a capture file we cannot write is reported first.
class TraceSinks {
 public:
  // Returns false with `error` set (one line) when a file cannot be written.
  bool open(const TraceOptions& o, std::string& error);
  trace::Tracer& tracer() { return tracer_; }
  link::PcapWriter* pcap() { return pcap_.get(); }
  // Writes everything buffered to disk (before exit).
  void flush();

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const {
      if (f != stdout) std::fclose(f);
    }
  };
  trace::Tracer tracer_;
  std::unique_ptr<trace::TextSink> text_;
  std::unique_ptr<std::FILE, FileCloser> json_file_;
  std::unique_ptr<trace::JsonSink> json_;
  std::unique_ptr<link::PcapWriter> pcap_;
};

}  // namespace tcplab::cli
