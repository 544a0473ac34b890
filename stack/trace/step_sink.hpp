// Step mode (`--step`, docs/observability.md): a trace sink that pauses the stack before each
// inbound segment is processed and after each outbound one is built, prints the segment and
// the connection's TCB with what changed, and waits for a command (next, continue, break on a
// state or event, print, quit). Blocking the caller is the point: the event loop or the
// scenario runner stands still while the student reads.
#pragma once
#include <array>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stack/tcp/tcb_snapshot.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::trace {

// One line typed at the step prompt, parsed.
struct StepCommand {
  enum class Kind {
    Next,                 // Enter or n: pause at the next segment
    Continue,             // c: run without pausing
    BreakState,           // b STATE: run until a connection enters STATE
    BreakRst,             // b rst: run until a segment with RST (either direction)
    BreakRetransmission,  // b retransmission: run until we retransmit
    Print,                // p: print the TCB again
    Quit,                 // q: stop cleanly
    Help,                 // h or ?: list the commands
    Invalid,              // anything else: `error` says why
  };
  Kind kind = Kind::Invalid;
  std::string state;  // BreakState: the RFC 9293 name, e.g. "ESTABLISHED"
  std::string error;  // Invalid: one line for the user
};

// "n", "", "c", "b ESTABLISHED", "b syn_received", "b rst", "b retransmission", "p", "q".
// State names are case-insensitive and may use '_' (Linux style) for '-'.
StepCommand parse_step_command(std::string_view line);

// What the stepper runs until: the last command that resumed it.
struct StepGoal {
  enum class Kind { EverySegment, Never, State, Rst, Retransmission };
  Kind kind = Kind::EverySegment;
  std::string state;  // Kind::State
};

// An event the stepper may stop at.
struct StepEvent {
  enum class Kind { SegmentIn, SegmentOut, StateChange };
  Kind kind = Kind::SegmentIn;
  bool rst = false;             // segments: RST flag set
  bool retransmission = false;  // outbound segments: the trace note says it is a retransmission
  std::string_view to_state;    // StateChange: the new state
};

// The decision, kept pure so it can be tested without a stack: does `event` end the run
// towards `goal`?
bool should_pause(const StepGoal& goal, const StepEvent& event);

class StepSink final : public Sink {
 public:
  using SnapshotSource = std::function<std::optional<tcp::TcbSnapshot>(const FourTuple&)>;
  struct Options {
    bool colour = false;    // ANSI colour for the headline and changed fields
    bool absolute = false;  // raw sequence numbers instead of relative to the ISNs
    bool echo = false;      // echo each command read (input is not a terminal: the output reads
                            // like a session)
  };

  // Reads commands from `in` and writes to `out` (neither owned).
  StepSink(std::FILE* in, std::FILE* out, Options options);

  // How to copy a connection's TCB (TcpHost::snapshot); without it only segments are shown.
  void set_snapshot_source(SnapshotSource source) { snapshot_ = std::move(source); }
  // Called once when the user types q (serve stops its event loop, script stops the run).
  void set_on_quit(std::function<void()> on_quit) { on_quit_ = std::move(on_quit); }
  // Called each time the sink is about to wait for a command: the command flushes its capture
  // and JSON trace there, so the files hold what the screen shows.
  void set_before_prompt(std::function<void()> hook) { before_prompt_ = std::move(hook); }
  // Called when the prompt is left (the user's command read, or the end of input).
  void set_after_prompt(std::function<void()> hook) { after_prompt_ = std::move(hook); }
  // Times are printed as seconds since `origin` (default: the first event).
  void set_origin(Instant origin) { origin_ = origin; }
  // Forgets the TCBs shown so far (a new script starts).
  void reset() {
    shown_.clear();
    unsettled_.clear();
  }

  void segment(Instant t, const SegmentEvent& e) override;
  void state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                    std::string_view rule) override;

  // The caller finished processing what arrived or fell due (end of Stack::receive, of a timer
  // run, of a loop wakeup): prints "after:" for each connection paused at since the last
  // settle whose TCB has changed since it was shown.
  void settle();
  // For loop::TimedAdapter: the step sink has no deadlines; every wakeup settles.
  std::optional<Instant> next_deadline() const { return std::nullopt; }
  void advance(Instant) { settle(); }

  bool quit_requested() const { return quit_; }
  uint64_t pauses() const { return pauses_; }

 private:
  void pause_at(const FourTuple& tuple, const std::string& headline, const char* tcb_label);
  void prompt(const FourTuple& tuple);
  // A TCB as printed: nine fields of text (state ... timers) plus the timers' identity, so
  // "changed" means "reads differently" and timers compare by deadline, not by "in ...".
  struct TcbText {
    std::array<std::string, 9> values;
    std::string timer_key;
  };
  TcbText tcb_text(const tcp::TcbSnapshot& s);
  void print_tcb(const FourTuple& tuple, const char* label, bool diff);
  std::string paint(std::string_view text, const char* code) const;
  double seconds(Instant t);

  std::FILE* in_;
  std::FILE* out_;
  Options options_;
  SnapshotSource snapshot_;
  std::function<void()> on_quit_;
  std::function<void()> before_prompt_;
  std::function<void()> after_prompt_;
  std::optional<Instant> origin_;
  Instant last_event_{};  // "in ..." of the timers counts from here
  StepGoal goal_;
  bool quit_ = false;
  uint64_t pauses_ = 0;
  // The TCB of each connection as last printed, so the next print can show what changed.
  std::unordered_map<FourTuple, tcp::TcbSnapshot, FourTupleHash> shown_;
  // Connections paused at since the last settle(): their "after:" TCB may be owed.
  std::vector<FourTuple> unsettled_;
};

}  // namespace tcplab::trace
