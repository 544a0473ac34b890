// Building the ladder model (see ladder.hpp): group events into connections, number them
// Wireshark's way, find retransmissions, and place state changes on the rows that caused them.
#include "stack/ladder/ladder.hpp"

#include <map>

#include "stack/tcp/state.hpp"

namespace tcplab::ladder {

namespace {

using tcp::State;
constexpr int kClient = 0;
constexpr int kServer = 1;

int64_t event_time(const Event& e) {
  return std::visit([](const auto& v) { return v.time_ns; }, e);
}

bool is_lost(const std::vector<std::string>& notes) {
  for (const auto& n : notes)
    if (n.find("fault") != std::string::npos && n.find("drop") != std::string::npos) return true;
  return false;
}

bool mentions(const std::vector<std::string>& notes, std::string_view word) {
  for (const auto& n : notes)
    if (n.find(word) != std::string::npos) return true;
  return false;
}

// The states both ends must be in, inferred from the segments alone (RFC 9293 §3.3.2
// Figure 5; §3.10.7 for what an arriving segment does). The capture point sees a segment
// sent and received at once, so sender and receiver change on the same row.
class Inference {
 public:
  explicit Inference(const SegmentInput& first) {
    if (first.flags.syn && !first.flags.ack) {
      state_[kClient] = State::Closed;
      state_[kServer] = State::Listen;
    } else if (first.flags.syn) {
      state_[kClient] = State::SynSent;
      state_[kServer] = State::SynReceived;
    } else {
      state_[kClient] = state_[kServer] = State::Established;  // the file starts mid-connection
    }
  }
  State state(int side) const { return state_[side]; }
  // Whether the last segment showed that `side`'s FIN crossed the peer's: the CLOSE-WAIT
  // inferred when the peer's FIN was seen was FIN-WAIT-1 (cleared by the next segment).
  bool fin_crossed(int side) const { return crossed_fin_[side]; }

  // Applies a segment from side `a`; `lost` segments change only their sender.
  void on_segment(int a, const SegmentInput& s, bool lost) {
    int b = 1 - a;
    crossed_fin_[0] = crossed_fin_[1] = false;
    const auto& f = s.flags;
    State& sender = state_[a];
    if (f.syn) syn_seq_[a] = s.seq;
    if (f.rst) {
      sender = State::Closed;
    } else {
      if (f.syn && !f.ack && sender == State::Closed) sender = State::SynSent;
      if (f.fin) {
        fin_end_[a] = s.seq + s.payload_length + (f.syn ? 1u : 0u) + 1u;
        if (sender == State::Established || sender == State::SynReceived) sender = State::FinWait1;
        if (sender == State::CloseWait) {
          // A FIN whose ACK falls short of the peer's FIN was sent before that FIN arrived
          // (an ACK carries RCV.NXT): the two crossed, a simultaneous close (RFC 9293 §3.6,
          // Figure 13). The sender was in FIN-WAIT-1, not CLOSE-WAIT, and the peer's FIN takes
          // it to CLOSING.
          const bool acks_peer_fin = f.ack && fin_end_[b] && s.ack >= *fin_end_[b];
          sender = acks_peer_fin ? State::LastAck : State::Closing;
          crossed_fin_[a] = !acks_peer_fin;
        }
      }
    }
    if (lost) return;
    State& receiver = state_[b];
    if (f.rst) {
      // §3.10.7.3: a reset in SYN-RECEIVED from a passive open returns to LISTEN.
      receiver = (receiver == State::SynReceived && b == kServer) ? State::Listen : State::Closed;
      return;
    }
    if (f.syn && !f.ack) {
      if (receiver == State::Listen || receiver == State::SynSent) receiver = State::SynReceived;
      return;
    }
    if (f.ack) {
      bool acks_syn = syn_seq_[b] && s.ack > *syn_seq_[b];
      bool acks_fin = fin_end_[b] && s.ack >= *fin_end_[b];
      if (f.syn && receiver == State::SynSent && acks_syn) receiver = State::Established;
      if (!f.syn && receiver == State::SynReceived && acks_syn) receiver = State::Established;
      if (acks_fin) {
        if (receiver == State::FinWait1) receiver = State::FinWait2;
        if (receiver == State::Closing) receiver = State::TimeWait;
        if (receiver == State::LastAck) receiver = State::Closed;
      }
    }
    if (f.fin) {
      if (receiver == State::Established || receiver == State::SynReceived) receiver = State::CloseWait;
      if (receiver == State::FinWait1) receiver = State::Closing;
      if (receiver == State::FinWait2) receiver = State::TimeWait;
    }
  }

 private:
  State state_[2] = {State::Closed, State::Closed};
  bool crossed_fin_[2] = {false, false};
  std::optional<Seq> syn_seq_[2];
  std::optional<Seq> fin_end_[2];
};

struct Group {
  Endpoint client, server;
  std::vector<const Event*> events;
  std::optional<Seq> client_isn;
  bool syn_seen = false;
};

std::vector<Group> group_connections(const Input& input) {
  std::vector<Group> groups;
  std::map<std::pair<Endpoint, Endpoint>, size_t> current;
  auto key = [](const Endpoint& x, const Endpoint& y) { return x < y ? std::pair(x, y) : std::pair(y, x); };
  for (const Event& e : input.events) {
    if (const auto* s = std::get_if<SegmentInput>(&e)) {
      auto k = key(s->src, s->dst);
      auto it = current.find(k);
      bool pure_syn = s->flags.syn && !s->flags.ack;
      bool start = it == current.end();
      if (!start && pure_syn) {
        const Group& g = groups[it->second];
        // A SYN with a new ISN from the client is a new incarnation of the same four-tuple;
        // a SYN after a connection that began mid-stream starts one too.
        if (!g.syn_seen || (s->src == g.client && g.client_isn && *g.client_isn != s->seq)) start = true;
      }
      if (start) {
        Group g;
        if (pure_syn) {
          g.client = s->src;
          g.server = s->dst;
        } else if (s->flags.syn) {
          g.client = s->dst;
          g.server = s->src;
        } else {
          // No handshake in the file: the higher (ephemeral) port is most likely the client.
          bool src_client = s->src.port > s->dst.port;
          g.client = src_client ? s->src : s->dst;
          g.server = src_client ? s->dst : s->src;
        }
        current[k] = groups.size();
        groups.push_back(std::move(g));
        it = current.find(k);
      }
      Group& g = groups[it->second];
      if (pure_syn && s->src == g.client) {
        g.syn_seen = true;
        g.client_isn = s->seq;
      }
      g.events.push_back(&e);
    } else {
      const Endpoint& local = std::holds_alternative<StateInput>(e) ? std::get<StateInput>(e).local
                                                                    : std::get<NoteInput>(e).local;
      const Endpoint& remote = std::holds_alternative<StateInput>(e) ? std::get<StateInput>(e).remote
                                                                     : std::get<NoteInput>(e).remote;
      auto it = current.find(key(local, remote));
      if (it != current.end()) groups[it->second].events.push_back(&e);
    }
  }
  return groups;
}

class Builder {
 public:
  Builder(const Group& g, const LadderOptions& options, int64_t origin, Connection& out)
      : g_(g), options_(options), origin_(origin), c_(out) {}

  void run() {
    c_.client = g_.client;
    c_.server = g_.server;
    const SegmentInput& first = std::get<SegmentInput>(*g_.events.front());
    c_.handshake_seen = first.flags.syn && !first.flags.ack;
    Inference inference(first);
    find_exact_sides(first);
    for (int side : {kClient, kServer}) {
      StateCell& initial = side == kClient ? c_.client_initial : c_.server_initial;
      initial = exact_[side] ? StateCell{first_exact_[side], false, ""}
                             : StateCell{std::string(tcp::to_string(inference.state(side))), true, ""};
    }
    for (size_t i = 0; i < g_.events.size(); ++i) {
      const Event& e = *g_.events[i];
      if (const auto* s = std::get_if<SegmentInput>(&e))
        segment(*s, inference);
      else if (const auto* st = std::get_if<StateInput>(&e))
        state(*st, i);
      else
        note(std::get<NoteInput>(e));
    }
  }

 private:
  int side_of(const Endpoint& e) const { return e == c_.client ? kClient : kServer; }
  StateCell& cell(Row& r, int side) { return side == kClient ? r.client_state : r.server_state; }

  // Which sides the input names states for. The JSON trace says the local endpoint; capture
  // comments do not, so the first one is matched against what the flags imply.
  void find_exact_sides(const SegmentInput& first) {
    std::optional<Inference> dry;
    for (const Event* e : g_.events) {
      if (const auto* st = std::get_if<StateInput>(e)) {
        int side = side_of(st->local);
        if (!exact_[side]) first_exact_[side] = st->from;
        exact_[side] = true;
      }
      const auto* s = std::get_if<SegmentInput>(e);
      if (!s) continue;
      if (!dry) dry.emplace(first);
      if (!comment_side_ && !s->state_comments.empty()) {
        const StateComment& c = s->state_comments.front();
        if (c.from == "LISTEN" || c.to == "SYN-RECEIVED" || c.from == "SYN-RECEIVED") {
          comment_side_ = kServer;
        } else if (c.from == "SYN-SENT" || c.to == "SYN-SENT") {
          comment_side_ = kClient;
        } else {
          // The side whose state the flags put in `from`, before or after this segment.
          Inference after = *dry;
          after.on_segment(side_of(s->src), *s, is_lost(s->notes));
          auto matches = [&](int side) {
            return tcp::to_string(dry->state(side)) == c.from || tcp::to_string(after.state(side)) == c.to;
          };
          comment_side_ = (matches(kClient) && !matches(kServer)) ? kClient : kServer;
        }
        if (!exact_[*comment_side_]) first_exact_[*comment_side_] = c.from;
        exact_[*comment_side_] = true;
      }
      dry->on_segment(side_of(s->src), *s, is_lost(s->notes));
    }
  }

  void put_state(int side, StateCell value, int64_t time_ns) {
    if (!c_.rows.empty() && cell(c_.rows.back(), side).empty() && c_.rows.back().time_ns == time_ns) {
      cell(c_.rows.back(), side) = std::move(value);
      return;
    }
    Row r;
    r.kind = RowKind::State;
    r.time_ns = time_ns;
    cell(r, side) = std::move(value);
    c_.rows.push_back(std::move(r));
  }

  void segment(const SegmentInput& s, Inference& inference) {
    int a = side_of(s.src), b = 1 - a;
    const auto& f = s.flags;
    if (f.syn) base_[a] = s.seq;
    if (!base_[a]) base_[a] = s.seq - 1;  // mid-stream: the first byte seen is 1, as in Wireshark
    if (f.ack && !base_[b]) base_[b] = s.ack - 1;
    uint32_t seq = options_.absolute ? s.seq.raw() : seq_distance(*base_[a], s.seq);
    uint32_t ack = options_.absolute ? s.ack.raw() : seq_distance(*base_[b], s.ack);
    Row r;
    r.kind = RowKind::Segment;
    r.time_ns = s.time_ns - origin_;
    r.to_server = a == kClient;
    r.label = segment_label(f, seq, ack, s.payload_length, s.window);
    r.notes = s.notes;
    // A segment whose sequence space was all sent before is a retransmission (as Wireshark's
    // analysis calls it); the input may already say so. The fault injector's second copy of a
    // duplicated segment is not one: the sender sent it once.
    uint32_t space = s.payload_length + (f.syn ? 1u : 0u) + (f.fin ? 1u : 0u);
    if (space > 0) {
      Seq end = s.seq + space;
      if (max_end_[a] && s.seq < *max_end_[a] && !mentions(r.notes, "retransmi") &&
          !mentions(r.notes, "fault injector: duplicated"))
        r.notes.push_back(end <= *max_end_[a] ? "retransmission" : "retransmission (partly new data)");
      if (!max_end_[a] || end > *max_end_[a]) max_end_[a] = end;
    }
    r.lost = is_lost(r.notes);
    State before[2] = {inference.state(kClient), inference.state(kServer)};
    inference.on_segment(a, s, r.lost);
    for (int side : {kClient, kServer}) {
      if (exact_[side]) continue;
      if (inference.fin_crossed(side) && close_wait_row_[side]) {
        cell(c_.rows[*close_wait_row_[side]], side) =
            StateCell{std::string(tcp::to_string(State::FinWait1)), true, ""};
      }
      if (inference.state(side) == before[side]) continue;
      cell(r, side) = StateCell{std::string(tcp::to_string(inference.state(side))), true, ""};
      if (inference.state(side) == State::CloseWait) close_wait_row_[side] = c_.rows.size();
    }
    // Exact changes the trace reported just before this segment left its sender.
    if (!pending_[a].empty() && cell(r, a).empty()) {
      cell(r, a) = pending_[a].front();
      pending_[a].erase(pending_[a].begin());
    }
    ++c_.segments;
    c_.rows.push_back(std::move(r));
    for (const auto& p : pending_[a]) put_state(a, p, s.time_ns - origin_);
    pending_[a].clear();
    if (comment_side_)
      for (const auto& sc : s.state_comments)
        put_state(*comment_side_, StateCell{sc.to, false, sc.rule}, s.time_ns - origin_);
  }

  void state(const StateInput& st, size_t index) {
    int side = side_of(st.local);
    StateCell value{st.to, false, st.rule};
    int64_t t = st.time_ns - origin_;
    // RFC 9293 §3.10.7 (SEGMENT ARRIVES) and RFC 4987 (an ACK carrying a SYN cookie) name
    // changes a received segment caused; the others come from a user call (§3.10.4 CLOSE,
    // made while the application answered that very segment) or a timeout (§3.10.8), and
    // belong on the segment the side sends because of them.
    const bool caused_by_arrival =
        st.rule.find("§3.10.7") != std::string::npos || st.rule.find("RFC 4987") != std::string::npos;
    if (!caused_by_arrival && before_own_segment(side, st, index)) return;
    // A change caused by a segment the side received: on that segment's row.
    if (!c_.rows.empty()) {
      const Row& last = c_.rows.back();
      bool received = last.kind == RowKind::Segment && last.to_server == (side == kServer);
      if (received && last.time_ns == t && cell(c_.rows.back(), side).empty()) {
        cell(c_.rows.back(), side) = value;
        return;
      }
    }
    if (caused_by_arrival && before_own_segment(side, st, index)) return;
    put_state(side, value, t);
  }

  // A change made just before the side sends a segment (close() then FIN): kept for that
  // segment's row. False when the side's next event is not a segment it sends at once.
  bool before_own_segment(int side, const StateInput& st, size_t index) {
    for (size_t j = index + 1; j < g_.events.size(); ++j) {
      const auto* next = std::get_if<SegmentInput>(g_.events[j]);
      if (!next) {
        if (std::holds_alternative<StateInput>(*g_.events[j])) continue;
        return false;
      }
      if (side_of(next->src) == side && next->time_ns == st.time_ns) {
        pending_[side].push_back(StateCell{st.to, false, st.rule});
        return true;
      }
      return false;
    }
    return false;
  }

  void note(const NoteInput& n) {
    Row r;
    r.kind = RowKind::Note;
    r.time_ns = n.time_ns - origin_;
    r.label = n.text;
    r.note_from_client = side_of(n.local) == kClient;
    c_.rows.push_back(std::move(r));
  }

  const Group& g_;
  const LadderOptions& options_;
  int64_t origin_;
  Connection& c_;
  bool exact_[2] = {false, false};
  std::string first_exact_[2];
  std::optional<int> comment_side_;
  std::optional<Seq> base_[2];
  std::optional<Seq> max_end_[2];
  std::vector<StateCell> pending_[2];
  std::optional<size_t> close_wait_row_[2];  // the row that showed a side's inferred CLOSE-WAIT
};

}  // namespace

std::string segment_label(const wire::TcpFlags& flags, uint32_t seq, uint32_t ack, uint32_t len,
                          uint16_t window) {
  std::string s = flags.to_string() + " seq=" + std::to_string(seq);
  if (flags.ack) s += " ack=" + std::to_string(ack);
  s += " len=" + std::to_string(len) + " win=" + std::to_string(window);
  return s;
}

Ladder build_ladder(const Input& input, const LadderOptions& options) {
  Ladder ladder;
  ladder.skipped = input.skipped;
  ladder.unsupported_linktypes = input.unsupported_linktypes;
  ladder.header_cut = input.header_cut;
  ladder.fragments = input.fragments;
  ladder.fragments_cut = input.fragments_cut;
  ladder.truncated = input.truncated;
  ladder.source = input.source;
  int64_t origin = input.events.empty() ? 0 : event_time(input.events.front());
  for (const Group& g : group_connections(input)) {
    Connection c;
    c.number = static_cast<int>(ladder.connections.size()) + 1;
    Builder(g, options, origin, c).run();
    ladder.connections.push_back(std::move(c));
  }
  for (const auto& c : ladder.connections) {
    if (c.client_initial.inferred || c.server_initial.inferred) ladder.any_inferred = true;
    for (const auto& r : c.rows)
      if (r.client_state.inferred || r.server_state.inferred) ladder.any_inferred = true;
  }
  return ladder;
}

}  // namespace tcplab::ladder
