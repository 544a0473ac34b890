// The keep-alive demo's client: the kernel's own TCP (blocking sockets, run in a child process
// inside the demo's namespace) making the plan's requests the way a browser would: reuse the
// connection while the server keeps it open, open a new one when it has closed.
#pragma once
#include <cstdint>
#include <string>

#include "http/keepalive_demo.hpp"

namespace tcplab::cli {

struct DemoClientResult {
  bool ok = false;
  uint64_t requests = 0;  // responses received
  uint64_t connects = 0;  // connections the client opened
  double seconds = 0;     // first connect to last response
  std::string error;      // when !ok: what went wrong, one line
};

DemoClientResult run_demo_client(const http::demo::Plan& plan, const std::string& address, uint16_t port);

}  // namespace tcplab::cli
