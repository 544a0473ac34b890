// The start-up steps every command that runs the stack on a TUN shares (serve, get): settle
// addresses that clash with nothing on the machine, open the trace sinks, open or attach to the TUN, and
// build the Stack with this boot's ISN key. One place, so both commands fail the same way.
#pragma once
#include <functional>
#include <memory>
#include <optional>

#include "stack/link/tun.hpp"
#include "stack/stack.hpp"
#include "stack/tcp/config.hpp"
#include "stack/time.hpp"
#include "tools/tcplab/stack_flags.hpp"

namespace tcplab::cli {

// What open_stack builds. Constructed in place by the caller and never moved: the Stack
// keeps a reference to the sinks' tracer.
struct StackRuntime {
  StackRuntime() = default;
  StackRuntime(const StackRuntime&) = delete;
  StackRuntime& operator=(const StackRuntime&) = delete;

  TraceSinks sinks;
  std::optional<link::Tun> tun;
  std::unique_ptr<Stack> stack;
};

// The fault injector acts on single packets: with any fault flag the link runs without offloads
// (a warning says so if --offload asked for them).
void no_offload_with_faults(LinkOptions& link, const FaultOptions& faults);

// Runs the steps in order (the address choice is settled into `link`, as --host-ip auto asks); on failure
// prints one line ("tcplab: ...") to stderr and returns false. On success the stack has been advanced to
// clock.now(). `addresses_settled`, if given, runs once the addresses are known and before anything
// is opened or created; returning false stops there (it prints its own message).
bool open_stack(LinkOptions& link, const TraceOptions& trace, const tcp::TcpConfig& tcp, const Clock& clock,
                StackRuntime& out, const std::function<bool(const LinkOptions&)>& addresses_settled = {});

}  // namespace tcplab::cli
