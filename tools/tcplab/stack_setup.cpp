// open_stack: the address check, sinks, TUN and Stack construction shared by serve and get.
#include "tools/tcplab/stack_setup.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "stack/loop/boot_isn_key.hpp"
#include "tools/tcplab/commands.hpp"

namespace tcplab::cli {

void no_offload_with_faults(LinkOptions& link, const FaultOptions& faults) {
  if (!link.tun.offload || !faults.any()) return;
  std::fprintf(stderr, "tcplab: warning: --offload is off while faults are injected\n");
  link.tun.offload = false;
}

bool open_stack(LinkOptions& link, const TraceOptions& trace, const tcp::TcpConfig& tcp,
                const Clock& clock, StackRuntime& out,
                const std::function<bool(const LinkOptions&)>& addresses_settled) {
  // Addresses first: a clash with the machine's own network is refused before anything exists.
  std::string error;
  if (!resolve_link_addresses(link, error)) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return false;
  }
  if (addresses_settled && !addresses_settled(link)) return false;

  // Sinks next: a capture file we cannot write is reported before touching the network.
  if (!out.sinks.open(trace, error)) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return false;
  }

  std::vector<std::string> warnings;
  out.tun = link::Tun::open(link.tun, error, warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "tcplab: warning: %s\n", w.c_str());
  if (!out.tun) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return false;
  }
  // --host-ip none on a TUN nobody addressed: up, but unreachable. Closing the TUN removes
  // it again if tcplab created it.
  if (!link.unreachable.empty()) {
    std::fprintf(stderr, "tcplab: %s\n", link.unreachable.c_str());
    out.tun.reset();
    return false;
  }

  StackConfig config;
  config.address = link.ip;
  config.link_prefix = link.tun.host;
  config.mtu = out.tun->mtu();
  config.ttl = link.ttl;
  config.tcp = tcp;
  // RFC 9293 §3.7.1: MSS = MTU - 20 (IPv4) - 20 (TCP).
  config.tcp.mss = static_cast<uint16_t>(config.mtu - 40);
  // RFC 9293 §3.4.1 (was RFC 6528 §3): the ISN hash needs a secret key. One for the whole boot, so the
  // ISNs and TSvals of a 4-tuple only go up from one run to the next (RFC 6191, RFC 7323 §5.4).
  auto key = loop::boot_isn_key(loop::kBootIsnKeyDirectory, error);
  if (!key) {
    std::fprintf(stderr, "tcplab: %s\n", error.c_str());
    return false;
  }
  config.tcp.isn_key = key->bytes;
  // Without root a fresh key is expected (README); as root it means the shared one is broken,
  // and every run until the next boot would quietly draw its own: say so once per run.
  if (!key->shared && ::geteuid() == 0)
    std::fprintf(stderr, "tcplab: note: ISN key not shared with other runs: %s\n", key->why_fresh.c_str());

  out.stack = std::make_unique<Stack>(config, out.sinks.tracer());
  // The core learns the time from advance(); give it the real time before anything (listen,
  // connect, trace notes) happens, so the first trace line is not stamped with the clock's epoch.
  out.stack->advance(clock.now());
  return true;
}

}  // namespace tcplab::cli
