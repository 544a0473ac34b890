// Step mode: the pause decision, the command parser and the TCB printout (step_sink.hpp).
#include "stack/trace/step_sink.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "stack/tcp/state.hpp"
#include "stack/text/escape_unprintable.hpp"
#include "stack/trace/format.hpp"

namespace tcplab::trace {

namespace {

constexpr std::array<std::string_view, 11> kStateNames = {
    "CLOSED",     "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",     "TIME-WAIT"};

// ANSI SGR codes (ECMA-48 §8.3.117).
constexpr const char* kBold = "1";
constexpr const char* kChanged = "1;33";  // bold yellow
constexpr const char* kIn = "36";         // cyan
constexpr const char* kOut = "32";        // green
constexpr const char* kAlarm = "1;31";    // bold red: RST, retransmission
constexpr const char* kState = "1;35";    // bold magenta

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "syn_recv", "Established", "TCP_FIN_WAIT1": the RFC name, or empty if it is none.
std::string state_name(const std::string& s) {
  auto state = tcp::state_from_name(s);
  return state ? std::string(tcp::to_string(*state)) : std::string();
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

constexpr const char* kHelp =
    "  Enter or n   next: stop at the next segment (before an inbound one is processed,\n"
    "               after an outbound one is built)\n"
    "  c            continue without stopping\n"
    "  b STATE      run until a connection enters STATE (b ESTABLISHED, b TIME-WAIT)\n"
    "  b rst        run until a segment with RST goes either way\n"
    "  b retransmission   run until the stack retransmits\n"
    "  p            print the TCB again\n"
    "  q            quit cleanly\n";

}  // namespace

StepCommand parse_step_command(std::string_view line) {
  StepCommand c;
  std::string text = trim(line);
  std::string word = lower(text.substr(0, text.find_first_of(" \t")));
  std::string rest = text.size() > word.size() ? trim(std::string_view(text).substr(word.size())) : "";
  auto simple = [&](StepCommand::Kind kind) {
    if (!rest.empty()) {
      c.error = "'" + word + "' takes no argument (h for help)";
      return c;
    }
    c.kind = kind;
    return c;
  };
  if (word.empty() || word == "n" || word == "next") return simple(StepCommand::Kind::Next);
  if (word == "c" || word == "continue") return simple(StepCommand::Kind::Continue);
  if (word == "p" || word == "print") return simple(StepCommand::Kind::Print);
  if (word == "q" || word == "quit") return simple(StepCommand::Kind::Quit);
  if (word == "h" || word == "help" || word == "?") return simple(StepCommand::Kind::Help);
  if (word == "b" || word == "break") {
    if (rest.empty() || rest.find_first_of(" \t") != std::string::npos) {
      c.error = "b needs one state (b ESTABLISHED) or event (b rst, b retransmission)";
      return c;
    }
    std::string what = lower(rest);
    if (what == "rst" || what == "reset") {
      c.kind = StepCommand::Kind::BreakRst;
      return c;
    }
    if (what == "retransmission" || what == "retransmit" || what == "rtx") {
      c.kind = StepCommand::Kind::BreakRetransmission;
      return c;
    }
    c.state = state_name(rest);
    if (c.state.empty()) {
      c.error = "'" + rest + "' is neither a state (";
      for (size_t i = 0; i < kStateNames.size(); ++i) c.error += (i ? " " : "") + std::string(kStateNames[i]);
      c.error += ") nor an event (rst retransmission)";
      return c;
    }
    c.kind = StepCommand::Kind::BreakState;
    return c;
  }
  // Typed text is echoed escaped: an arrow key (ESC [ A) would move the cursor instead.
  c.error = "unknown command '" + text::escape_unprintable(text) + "' (h for help)";
  return c;
}

bool should_pause(const StepGoal& goal, const StepEvent& event) {
  bool segment = event.kind != StepEvent::Kind::StateChange;
  switch (goal.kind) {
    case StepGoal::Kind::EverySegment:
      return segment;
    case StepGoal::Kind::Never:
      return false;
    case StepGoal::Kind::State:
      return event.kind == StepEvent::Kind::StateChange && event.to_state == goal.state;
    case StepGoal::Kind::Rst:
      return segment && event.rst;
    case StepGoal::Kind::Retransmission:
      return event.kind == StepEvent::Kind::SegmentOut && event.retransmission;
  }
  return false;
}

StepSink::StepSink(std::FILE* in, std::FILE* out, Options options) : in_(in), out_(out), options_(options) {}

std::string StepSink::paint(std::string_view text, const char* code) const {
  if (!options_.colour) return std::string(text);
  return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
}

double StepSink::seconds(Instant t) {
  if (!origin_) origin_ = t;
  return seconds_since(*origin_, t);
}

void StepSink::segment(Instant t, const SegmentEvent& e) {
  if (quit_) return;
  last_event_ = t;
  bool in = e.direction == Direction::In;
  // A new inbound segment: the previous one is fully processed, show what it did first.
  if (in) settle();
  StepEvent ev;
  ev.kind = in ? StepEvent::Kind::SegmentIn : StepEvent::Kind::SegmentOut;
  ev.rst = e.segment.flags.rst;
  ev.retransmission = !in && e.note.find("retransmi") != std::string_view::npos;
  if (!should_pause(goal_, ev)) return;

  char time[32];
  std::snprintf(time, sizeof time, "%.6f", seconds(t));
  std::string line = paint("step " + std::to_string(pauses_ + 1), kBold) + "  " + time + "  ";
  line += paint(in ? "In " : "Out", in ? kIn : kOut);
  line += " " + segment_endpoints(e.direction, e.tuple) + "  ";
  std::string summary = segment_summary(e, options_.absolute);
  line += ev.rst ? paint(summary, kAlarm) : summary;
  if (!e.note.empty())
    line += " " + paint("[" + std::string(e.note) + "]", ev.retransmission ? kAlarm : kBold);
  // Inbound: the TCB as the segment finds it; its effect is shown once it is processed.
  pause_at(e.tuple, line, in ? "before" : "now");
}

void StepSink::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                            std::string_view rule) {
  if (quit_) return;
  last_event_ = t;
  StepEvent ev;
  ev.kind = StepEvent::Kind::StateChange;
  ev.to_state = to;
  if (!should_pause(goal_, ev)) return;
  char time[32];
  std::snprintf(time, sizeof time, "%.6f", seconds(t));
  std::string line = paint("step " + std::to_string(pauses_ + 1), kBold) + "  " + time + "  state " +
                     c.local_ip.to_string() + ":" + std::to_string(c.local_port) + " <> " +
                     c.remote_ip.to_string() + ":" + std::to_string(c.remote_port) + "  " +
                     paint(std::string(from) + " -> " + std::string(to), kState);
  if (!rule.empty()) line += " (" + std::string(rule) + ")";
  pause_at(c, line, "now");
}

void StepSink::settle() {
  if (quit_) {
    unsettled_.clear();
    return;
  }
  for (const FourTuple& tuple : unsettled_) {
    std::optional<tcp::TcbSnapshot> snap = snapshot_ ? snapshot_(tuple) : std::nullopt;
    auto it = shown_.find(tuple);
    bool changed = false;
    if (!snap || it == shown_.end()) {
      changed = snap.has_value() || it != shown_.end();
    } else {
      TcbText before = tcb_text(it->second), now = tcb_text(*snap);
      changed = before.values != now.values || before.timer_key != now.timer_key;
      // "in 0.990" alone moves with the clock; it is not a change.
      if (changed && before.timer_key == now.timer_key) {
        before.values.back() = now.values.back();
        changed = before.values != now.values;
      }
    }
    if (changed) print_tcb(tuple, "after", true);
  }
  unsettled_.clear();
  std::fflush(out_);
}

void StepSink::pause_at(const FourTuple& tuple, const std::string& headline, const char* tcb_label) {
  ++pauses_;
  if (std::find(unsettled_.begin(), unsettled_.end(), tuple) == unsettled_.end()) unsettled_.push_back(tuple);
  std::fprintf(out_, "%s\n", headline.c_str());
  print_tcb(tuple, tcb_label, true);
  prompt(tuple);
}

void StepSink::prompt(const FourTuple& tuple) {
  // What the screen shows is on disk while the user reads it: Wireshark can open the capture
  // now, and an interrupt at the prompt loses nothing that was shown.
  if (before_prompt_) before_prompt_();
  struct LeavingPrompt {
    const std::function<void()>& hook;
    ~LeavingPrompt() {
      if (hook) hook();
    }
  } leaving{after_prompt_};
  for (;;) {
    std::fputs("step> ", out_);
    std::fflush(out_);
    std::string line;
    int ch;
    while ((ch = std::fgetc(in_)) != EOF && ch != '\n') line += static_cast<char>(ch);
    if (ch == EOF && line.empty()) {
      std::fputs("\n(end of input: continuing without stopping)\n", out_);
      goal_ = {StepGoal::Kind::Never, {}};
      return;
    }
    if (options_.echo) std::fprintf(out_, "%s\n", text::escape_unprintable(line).c_str());
    StepCommand c = parse_step_command(line);
    switch (c.kind) {
      case StepCommand::Kind::Next:
        goal_ = {StepGoal::Kind::EverySegment, {}};
        return;
      case StepCommand::Kind::Continue:
        goal_ = {StepGoal::Kind::Never, {}};
        return;
      case StepCommand::Kind::BreakState:
        std::fprintf(out_, "(running until a connection enters %s)\n", c.state.c_str());
        goal_ = {StepGoal::Kind::State, c.state};
        return;
      case StepCommand::Kind::BreakRst:
        std::fputs("(running until a segment with RST)\n", out_);
        goal_ = {StepGoal::Kind::Rst, {}};
        return;
      case StepCommand::Kind::BreakRetransmission:
        std::fputs("(running until a retransmission)\n", out_);
        goal_ = {StepGoal::Kind::Retransmission, {}};
        return;
      case StepCommand::Kind::Print:
        print_tcb(tuple, "now", false);
        break;
      case StepCommand::Kind::Quit:
        std::fputs("(quit)\n", out_);
        std::fflush(out_);
        quit_ = true;
        goal_ = {StepGoal::Kind::Never, {}};
        unsettled_.clear();
        if (on_quit_) on_quit_();
        return;
      case StepCommand::Kind::Help:
        std::fputs(kHelp, out_);
        break;
      case StepCommand::Kind::Invalid:
        std::fprintf(out_, "%s\n", c.error.c_str());
        break;
    }
  }
}

StepSink::TcbText StepSink::tcb_text(const tcp::TcbSnapshot& s) {
  bool abs = options_.absolute;
  // The peer's ISN is unknown until its SYN arrives (SYN-SENT): no relative RCV.NXT yet.
  bool irs_known = s.state != tcp::State::SynSent && s.state != tcp::State::Closed;
  auto rel = [&](Seq origin, Seq v) { return std::to_string(abs ? v.raw() : seq_distance(origin, v)); };
  TcbText text;
  std::string timers;
  for (const auto& t : s.timers) {
    if (!timers.empty()) timers += ", ";
    // A deadline already passed (the loop was paused, or the timer fires in this very step)
    // says so instead of a negative wait.
    const double wait = seconds_since(last_event_, t.deadline);
    timers += std::string(t.name) + " at " + seconds_text(seconds(t.deadline)) +
              (wait >= 0 ? " (in " + seconds_text(wait) + ")" : " (due " + seconds_text(-wait) + " ago)");
    text.timer_key += std::string(t.name) + "@" + std::to_string(t.deadline.time_since_epoch().count()) + ";";
  }
  text.values = {std::string(tcp::to_string(s.state)),
                 rel(s.iss, s.snd_una),
                 rel(s.iss, s.snd_nxt),
                 std::to_string(s.snd_wnd),
                 irs_known || abs ? rel(s.irs, s.rcv_nxt) : std::string("-"),
                 std::to_string(s.rcv_wnd),
                 seconds_text(std::chrono::duration<double>(s.rto).count()) + "s",
                 // A record's 0 is no window: it would read as a collapse at TIME-WAIT.
                 s.congestion_kept ? std::to_string(s.cwnd) : std::string("- (compact record)"),
                 timers.empty() ? std::string("none") : timers};
  return text;
}

void StepSink::print_tcb(const FourTuple& tuple, const char* label, bool diff) {
  if (!snapshot_) return;
  std::optional<tcp::TcbSnapshot> snap = snapshot_(tuple);
  char head[32];
  std::snprintf(head, sizeof head, "  %-7s", (std::string(label) + ":").c_str());
  if (!snap) {
    std::fprintf(out_, "%s no TCB for this connection%s\n", head,
                 shown_.erase(tuple) ? " any more" : " (yet)");
    return;
  }
  static constexpr std::array<const char*, 9> kNames = {"",        "snd.una", "snd.nxt", "snd.wnd", "rcv.nxt",
                                                        "rcv.wnd", "RTO",     "cwnd",    "timers:"};
  auto it = shown_.find(tuple);
  std::optional<TcbText> before;
  if (diff && it != shown_.end()) before = tcb_text(it->second);
  TcbText now = tcb_text(*snap);
  std::string lines[2];
  for (size_t i = 0; i < kNames.size(); ++i) {
    std::string value = now.values[i];
    bool timers = i == kNames.size() - 1;
    if (before && timers && before->timer_key != now.timer_key) {
      value = paint(value, kChanged) + "  (was " + before->values[i] + ")";
    } else if (before && !timers && before->values[i] != value) {
      value = paint(before->values[i] + "->" + value, kChanged);
    }
    std::string& out = lines[i < 6 ? 0 : 1];
    if (!out.empty()) out += "  ";
    out += *kNames[i] ? std::string(kNames[i]) + " " + value : value;
  }
  std::fprintf(out_, "%s %s\n  %-7s %s\n", head, lines[0].c_str(), "", lines[1].c_str());
  shown_[tuple] = *snap;
}

}  // namespace tcplab::trace
