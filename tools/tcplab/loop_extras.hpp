// What a command that runs the stack on a TUN may add to its event loop, shared by serve and
// get: the fault injector between the TUN and the stack, step mode, and the capture's flush
// and JSON trace's flushes. Each is built only when its flags ask for it.
#pragma once
#include <memory>

#include "stack/link/fault_injector.hpp"
#include "stack/link/pcap_writer.hpp"
#include "stack/loop/event_loop.hpp"
#include "stack/loop/timed_client.hpp"
#include "stack/stack.hpp"
#include "stack/trace/step_sink.hpp"
#include "tools/tcplab/stack_flags.hpp"

namespace tcplab::cli {

class LoopExtras {
 public:
  // `step`: pause at every segment (--step); q raises SIGTERM, so the command's own shutdown
  // runs as it would on Ctrl-C. Everything attached lives as long as this object.
  void attach(Stack& stack, TraceSinks& sinks, loop::EventLoop& loop, const FaultOptions& faults, bool step,
              bool absolute);
  const link::FaultInjector* faults() const { return faults_.get(); }
  bool stepping() const { return step_ != nullptr; }

 private:
  std::unique_ptr<link::FaultInjector> faults_;
  std::unique_ptr<trace::StepSink> step_;
  std::unique_ptr<loop::TimedAdapter<trace::StepSink>> step_timer_;
  std::unique_ptr<loop::TimedAdapter<link::PcapWriter>> pcap_timer_;
  std::unique_ptr<loop::TimedAdapter<trace::JsonSink>> json_timer_;
};

// The one line step mode prints when it starts with real clients on the other side.
inline constexpr const char* kStepWithRealClients =
    "tcplab: step mode: the stack stops at every segment, but real clients keep their own clocks: "
    "a long pause makes them retransmit, and the stack's own timers fire when it goes on (Enter = next, "
    "c = continue, h = help)";

}  // namespace tcplab::cli
