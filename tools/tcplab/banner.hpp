// What `tcplab serve` prints once it is up: the readiness line scripts wait for, then lines a
// newcomer can paste into another terminal as printed. When the stack runs in a network
// namespace, a bare `curl` in another terminal would go to the machine's own network (and
// `ping` might even be answered there), so the lines carry the prefix that enters the namespace.
#pragma once
#include <cstdint>
#include <string>

#include "stack/link/network_namespace.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::cli {

using link::NetworkNamespace;

// Compares /proc/self/ns/net with every /run/netns entry (by device and inode), then with
// /proc/1/ns/net, or, when that is refused, /proc/self/net with /proc/1/net (see
// stack/link/network_namespace.hpp), then with the ancestor processes' namespaces. When none of
// that tells, the namespace is Unknown, never assumed to be the default one.
NetworkNamespace current_network_namespace();

// tools/lab beside the binary's own directory (build/tcplab -> tools/lab), if it is there.
std::string lab_script_path();

struct BannerInfo {
  std::string tun;
  wire::Ipv4Address ip;
  std::string host_text;   // "198.51.100.1/24" or "as configured on tcplab0"
  std::string note;        // why the automatic choice skipped a range; may be empty
  uint16_t http_port = 0;  // 0: no HTTP server
  uint16_t echo_port = 0, discard_port = 0, chargen_port = 0;
  long pid = 0;
  std::string status_file;  // --status-file, may be empty
};

// Where the lines go and who may run them.
struct BannerContext {
  NetworkNamespace where;
  std::string lab_path;    // empty: no tools/lab found
  bool sudo = false;       // entering the namespace needs `sudo ` (started through sudo, or not root)
  bool kill_sudo = false;  // signalling us needs `sudo ` (started through sudo)
};

// The whole banner. The first line is exactly "tcplab: up on NAME, stack ADDR, host CIDR" (with
// --host-ip none "host as configured on NAME": BannerInfo::host_text).
std::string banner_text(const BannerInfo& info, const BannerContext& context);

// What `serve --kernel-tcp ADDR:PORT` has running.
struct KernelBannerInfo {
  wire::Ipv4Address address;
  uint16_t http_port = 0;
  uint16_t echo_port = 0, discard_port = 0, chargen_port = 0;
  bool trace_requested = false;  // --trace: say once that there is none
  long pid = 0;
};

// The kernel-TCP banner, with the same paste-able lines (and namespace prefix) as the TUN's.
// The first line is exactly "tcplab: up on ADDR:PORT (the kernel's TCP, no TUN)".
std::string kernel_banner_text(const KernelBannerInfo& info, const BannerContext& context);

// The context of this process: namespace, tools/lab, and whether sudo is needed.
BannerContext current_banner_context();

}  // namespace tcplab::cli
