// The fault injector, step mode and capture flush for commands that run the stack on a TUN.
#include "tools/tcplab/loop_extras.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>

namespace tcplab::cli {

void LoopExtras::attach(Stack& stack, TraceSinks& sinks, loop::EventLoop& loop, const FaultOptions& faults,
                        bool step, bool absolute) {
  trace::Tracer& tracer = sinks.tracer();
  if (auto* pcap = sinks.pcap()) {
    // The capture is flushed on a timer too, so Wireshark sees packets while traffic pauses.
    pcap_timer_ = std::make_unique<loop::TimedAdapter<link::PcapWriter>>(*pcap);
    loop.add_client(*pcap_timer_);
  }
  if (auto* json = sinks.json()) {
    // The JSON trace file is written once per wakeup, not once per event.
    json_timer_ = std::make_unique<loop::TimedAdapter<trace::JsonSink>>(*json);
    loop.add_client(*json_timer_);
  }
  if (step) {
    // A sink that blocks the loop at every segment while the user reads the TCB.
    step_ = std::make_unique<trace::StepSink>(
        stdin, stdout, trace::StepSink::Options{colour_wanted(stdout), absolute, !isatty(STDIN_FILENO)});
    step_->set_snapshot_source([&stack](const FourTuple& t) { return stack.tcp().snapshot(t); });
    step_->set_on_quit([] { std::raise(SIGTERM); });
    // The loop stands still at the prompt, so the flush timers above cannot run: the prompt
    // flushes, and Wireshark shows what the screen showed before the step at hand.
    // Ctrl-C at the prompt reaches the loop only when it runs again: say so at once, there.
    static constexpr std::string_view kInterruptNotice =
        "\ntcplab: Ctrl-C noted: tcplab stops when the stack runs again; q stops it now, c runs on to "
        "the stop\n";
    step_->set_before_prompt([&sinks] {
      sinks.flush_at_pause();
      loop::EventLoop::set_interrupt_notice(&kInterruptNotice);
    });
    step_->set_after_prompt([] { loop::EventLoop::set_interrupt_notice(nullptr); });
    tracer.add(step_.get());
    // Every wakeup settles: the TCB after the last inbound segment is printed.
    step_timer_ = std::make_unique<loop::TimedAdapter<trace::StepSink>>(*step_);
    loop.add_client(*step_timer_);
    loop.set_paused_by_user(true);
  }
  // The fault injector sits between the TUN and the stack, both ways, only when asked for.
  if (faults.any()) {
    faults_ = std::make_unique<link::FaultInjector>(faults, &tracer);
    loop.set_fault_injector(faults_.get());
  }
}

}  // namespace tcplab::cli
