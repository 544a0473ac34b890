// `tcplab serve --kernel-tcp ADDR:PORT`: the same HTTP server (and services) on kernel sockets,
// no TUN and no TCP of ours, for comparing against the kernel's TCP. Needs no root.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/server.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::cli {

struct KernelServeOptions {
  wire::Ipv4Address address;
  http::ServerConfig http;  // http.port is the PORT of ADDR:PORT
  uint16_t echo_port = 0, discard_port = 0, chargen_port = 0;
  uint64_t chargen_bytes = 0;
  bool trace_requested = false;  // --trace: said once that there is none
  std::string status_file;
  Duration busy_poll{};  // --busy-poll, as EventLoop::set_busy_poll
  bool no_nagle = false;  // --no-nagle: TCP_NODELAY on the services' sockets too
};

// "127.0.0.1:8080" into address and port; an error line otherwise.
std::optional<std::string> parse_kernel_endpoint(std::string_view text, wire::Ipv4Address& address,
                                                 uint16_t& port);
// The first flag in argv[first..] that has no meaning without a TUN and our TCP, or nothing.
std::optional<std::string> flag_refused_with_kernel_tcp(int argc, char** argv, int first);
// Runs until SIGINT/SIGTERM; returns the exit code.
int serve_kernel_tcp(const KernelServeOptions& options);

}  // namespace tcplab::cli
