// The shared flag groups and the trace sinks they open.
#include "tools/tcplab/stack_flags.hpp"

#include <cerrno>
#include <cstring>

namespace tcplab::cli {

namespace {
constexpr uint64_t kMaxBuffer = uint64_t{1} << 30;
}

void add_link_flags(FlagTable& flags, LinkOptions& o) {
  add_flag(flags, "--tun", "NAME", o.tun.name,
           "TUN device to create, or an existing persistent TUN to attach to (an admin can make one for you: "
           "sudo ip tuntap add mode tun user $USER name tcplab0)",
           [&o](std::string_view v) -> std::optional<std::string> {
             o.tun.name = std::string(v);
             if (auto bad = link::check_interface_name(o.tun.name)) return *bad;
             return std::nullopt;
           });
  add_flag(flags, "--host-ip", "CIDR|none", o.tun.host ? o.tun.host->to_string() : "none",
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
  add_flag(flags, "--ip", "ADDR", o.ip.to_string(),
           "the stack's own address (TEST-NET-1, RFC 5737, never a real LAN)",
           [&o](std::string_view v) -> std::optional<std::string> {
             auto a = wire::Ipv4Address::parse(v);
             if (!a) return std::string("expected a dotted IPv4 address like 192.0.2.2");
             o.ip = *a;
             return std::nullopt;
           });
  add_flag(flags, "--mtu", "N", std::to_string(o.tun.mtu), "link MTU in bytes; the TCP MSS is MTU - 40",
           uint_into(o.tun.mtu, 576, 65535));
  add_flag(flags, "--ttl", "N", std::to_string(o.ttl), "IPv4 time to live of the packets we send",
           uint_into(o.ttl, 1, 255));
}

void add_trace_flags(FlagTable& flags, TraceOptions& o) {
  add_flag(flags, "--trace", "", "off",
           "print every event to stdout: segments, state changes, timers, drops with their reason",
           switch_into(o.trace, true));
  add_flag(flags, "--trace-json", "FILE", "off",
           "write the same events as JSON lines to FILE ('-' for stdout)", file_into(o.trace_json));
  add_flag(flags, "--pcap", "FILE", "off",
           "capture every packet to FILE (pcap, opens in Wireshark while running)", file_into(o.pcap));
}

void add_tcp_flags(FlagTable& flags, tcp::TcpConfig& o) {
  const tcp::TcpConfig d;  // defaults for the help text
  add_flag(flags, "--backlog", "N", std::to_string(d.backlog),
           "accept queue length per listening port (established connections not yet accepted)",
           uint_into(o.backlog, 1, 65535));
  add_flag(
      flags, "--msl", "SECONDS", seconds_text(d.msl),
      "maximum segment lifetime; TIME-WAIT lasts 2 x MSL. RFC 9293 suggests 120 s, Linux uses 30 s (60 s "
      "TIME-WAIT); labs pass 1 or 2 so TIME-WAIT can be watched ending",
      seconds_into(o.msl, 0.001, 600));
  add_flag(flags, "--isn", "N", "RFC 6528 keyed hash",
           "fix the initial sequence number (0..4294967295) for reproducible traces",
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
             auto idle = parse_seconds(v.substr(0, c1), 0.001, 864000);
             auto interval = parse_seconds(v.substr(c1 + 1, c2 - c1 - 1), 0.001, 86400);
             auto count = parse_uint(v.substr(c2 + 1), 1, 1000);
             if (!idle || !interval || !count) return usage;
             o.keepalive = tcp::TcpConfig::KeepAlive{from_seconds(*idle), from_seconds(*interval),
                                                     static_cast<int>(*count)};
             return std::nullopt;
           });
  add_flag(flags, "--recv-buffer", "BYTES", std::to_string(d.receive_buffer),
           "receive buffer per connection; bounds the advertised window",
           uint_into(o.receive_buffer, 1, kMaxBuffer));
  add_flag(flags, "--send-buffer", "BYTES", std::to_string(d.send_buffer),
           "send buffer per connection; send() takes no more than this",
           uint_into(o.send_buffer, 1, kMaxBuffer));
}

std::optional<std::string> check_link(const LinkOptions& o) {
  if (!o.tun.host) return std::nullopt;
  const auto& host = *o.tun.host;
  if (o.ip == host.address) return "--ip " + o.ip.to_string() + " is the host's own address (--host-ip)";
  if (!host.contains(o.ip)) {
    return "--ip " + o.ip.to_string() + " is outside " + host.to_string() +
           ", so the kernel would not route to it; pick an address inside --host-ip's prefix";
  }
  if (host.prefix_length <= 30 && (o.ip == host.network() || o.ip == host.broadcast())) {
    return "--ip " + o.ip.to_string() + " is the network or broadcast address of " + host.to_string();
  }
  return std::nullopt;
}

bool TraceSinks::open(const TraceOptions& o, std::string& error) {
  if (o.trace) {
    // Line-buffered, so a trace piped into a file or `grep` shows each event as it happens.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    text_ = std::make_unique<trace::TextSink>(stdout);
    tracer_.add(text_.get());
  }
  if (!o.trace_json.empty()) {
    json_file_.reset(o.trace_json == "-" ? stdout : std::fopen(o.trace_json.c_str(), "w"));
    if (!json_file_) {
      error = "cannot write the JSON trace " + o.trace_json + ": " + std::strerror(errno);
      return false;
    }
    if (json_file_.get() != stdout) std::setvbuf(json_file_.get(), nullptr, _IOLBF, 0);
    json_ = std::make_unique<trace::JsonSink>(json_file_.get());
    tracer_.add(json_.get());
  }
  if (!o.pcap.empty()) {
    pcap_ = std::make_unique<link::PcapWriter>(o.pcap);
    if (!pcap_->ok()) {
      error = pcap_->error();
      return false;
    }
    tracer_.add(pcap_.get());
  }
  return true;
}

void TraceSinks::flush() {
  if (pcap_) pcap_->flush();
  if (json_file_) std::fflush(json_file_.get());
  std::fflush(stdout);
}

}  // namespace tcplab::cli
