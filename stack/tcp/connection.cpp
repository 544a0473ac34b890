// A connection's life: opening (passive and active), the one set_state, closing, and the
// delivery of application events at points where the TCB is consistent.
#include "stack/tcp/connection.hpp"

#include <algorithm>
#include <cstdio>

namespace tcplab::tcp {
namespace {

// RFC 9293 §3.7.1: without an MSS option the peer can take 536 bytes (576 - 40).
constexpr uint16_t kDefaultPeerMss = 536;
// Deviation (min-peer-mss): a peer announcing a tiny MSS would make us cut data into slivers;
// like Linux (which clamps at 48-88 bytes) we never go below this.
constexpr uint16_t kMinMss = 64;
// RFC 7323 §2.3: a shift above 14 would let the window exceed 2^30, beyond what
// sequence-number comparison can tell apart.
constexpr uint8_t kMaxWindowShift = 14;

bool counts_as_current(State s) { return s != State::Closed && s != State::Listen && s != State::TimeWait; }

}  // namespace

Connection::Connection(HostContext& ctx, const FourTuple& tuple, Origin origin)
    : ctx_(ctx),
      tuple_(tuple),
      origin_(origin),
      send_(ctx.config.send_buffer),
      receive_(ctx.config.receive_buffer, ctx.config.max_out_of_order,
               scaling_headroom(window_shift_for(ctx.config.receive_buffer))),
      rto_(ctx.config.rto_initial, ctx.config.rto_min, ctx.config.rto_max) {
  ++ctx_.stats.full_tcbs;
}

Connection::~Connection() {
  --ctx_.stats.full_tcbs;
  // Keep the host's gauges right even when the host itself is torn down mid-connection
  // (no trace here: sinks may already be gone).
  if (counts_as_current(tcb_.state)) --ctx_.stats.connections_current;
  if (tcb_.state == State::TimeWait) --ctx_.stats.connections_time_wait;
}

void Connection::set_state(State next, std::string_view rule) {
  State prev = tcb_.state;
  if (prev == next) return;
  if (counts_as_current(prev)) --ctx_.stats.connections_current;
  if (counts_as_current(next)) ++ctx_.stats.connections_current;
  if (prev == State::TimeWait) --ctx_.stats.connections_time_wait;
  if (next == State::TimeWait) ++ctx_.stats.connections_time_wait;
  if (next == State::Established) ++ctx_.stats.handshakes_completed;
  tcb_.state = next;
  if (ctx_.tracer.enabled())
    ctx_.tracer.state_change(ctx_.now, tuple_, to_string(prev), to_string(next), rule);
}

// RFC 7323 §2.3: the smallest shift that lets the 16-bit field cover our whole buffer,
// at most 14.
uint8_t Connection::window_shift_for(size_t buffer) {
  uint8_t shift = 0;
  while (shift < 14 && (buffer >> shift) > 65535) ++shift;
  return shift;
}

uint8_t Connection::our_window_shift() const { return window_shift_for(ctx_.config.receive_buffer); }

void Connection::take_syn_options(const wire::TcpSegment& syn) {
  uint16_t peer_mss = syn.options.mss.value_or(kDefaultPeerMss);
  tcb_.mss = std::max<uint16_t>(kMinMss, std::min(peer_mss, ctx_.config.mss));
  // RFC 7323 §2.2: scaling is on only if both SYNs carry the option; §2.3: a shift above
  // 14 is treated as 14.
  peer_syn_.window_scale = syn.options.window_scale.has_value();
  // RFC 2018 §4: no SACK blocks to a peer whose SYN did not carry SACK-permitted; and, as in
  // BSD and Linux, SACK is used only if both SYNs carried it.
  peer_syn_.sack = syn.options.sack_permitted;
  sack_ok_ = ctx_.config.sack && syn.options.sack_permitted;
  // RFC 7323 §3.2: timestamps only if both SYNs carried them; TS.Recent starts at the
  // peer's SYN TSval.
  peer_syn_.timestamps = syn.options.timestamps.has_value();
  if (ctx_.config.timestamps && syn.options.timestamps) {
    timestamps_.enable(syn.options.timestamps->value, ctx_.now);
    ts_sampled_until_ = tcb_.iss;
  }
  if (ctx_.config.window_scaling && syn.options.window_scale) {
    tcb_.snd_wscale = std::min(*syn.options.window_scale, kMaxWindowShift);
    // The In line shows the value as sent; the note says what was used.
    ctx_.note_window_scale_above_14(tuple_, *syn.options.window_scale);
    tcb_.rcv_wscale = window_shift_for(ctx_.config.receive_buffer);
  } else {
    tcb_.snd_wscale = 0;
    tcb_.rcv_wscale = 0;
  }
  // RFC 7323 §2.2: the window in a SYN is never scaled.
  tcb_.snd_wnd = syn.window;
  tcb_.snd_wl1 = syn.seq;
  max_snd_wnd_ = std::max(max_snd_wnd_, tcb_.snd_wnd);
}

void Connection::open_passive(const wire::TcpSegment& syn, std::optional<Seq> iss_above) {
  // RFC 9293 §3.10.7.2 third: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, select an ISS,
  // send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SND.NXT = ISS+1, SND.UNA = ISS.
  tcb_.irs = syn.seq;
  tcb_.rcv_nxt = syn.seq + 1;
  tcb_.iss = ctx_.isn.next(tuple_, ctx_.now);
  // RFC 9293 §3.6.1 (MAY-2), condition (1): a connection reopened from TIME-WAIT takes an ISS
  // larger than any sequence number of the previous incarnation. The clock-driven ISN moves
  // 250,000 a second, which a transfer outruns, so the old SND.NXT decides; one unscaled
  // window beyond it keeps old segments outside the new connection's window, as BSD and
  // Linux do.
  if (iss_above && !(tcb_.iss > *iss_above)) tcb_.iss = *iss_above + 65536;
  tcb_.snd_una = tcb_.iss;
  tcb_.snd_nxt = tcb_.iss;
  timestamps_.set_offset(tcb_.iss.raw());
  take_syn_options(syn);
  ++ctx_.stats.passive_opens;
  // The new TCB is the listener's, specialised to this peer (RFC 9293 §3.10.7.2): it starts
  // in LISTEN so the trace shows the RFC's own transition, LISTEN -> SYN-RECEIVED.
  tcb_.state = State::Listen;
  set_state(State::SynReceived, "RFC 9293 §3.10.7.2 (SYN in LISTEN)");
  send_syn(true, {});
}

void Connection::open_active() {
  // RFC 9293 §3.10.1 OPEN, active: select an ISS, send <SEQ=ISS><CTL=SYN>, SND.UNA = ISS,
  // SND.NXT = ISS+1, enter SYN-SENT.
  tcb_.iss = ctx_.isn.next(tuple_, ctx_.now);
  tcb_.snd_una = tcb_.iss;
  tcb_.snd_nxt = tcb_.iss;
  tcb_.mss = std::min(kDefaultPeerMss, ctx_.config.mss);
  timestamps_.set_offset(tcb_.iss.raw());
  ++ctx_.stats.active_opens;
  set_state(State::SynSent, "RFC 9293 §3.10.1 (active OPEN)");
  send_syn(false, {});
}

void Connection::discard(std::string_view rule) {
  cancel_all_timers();
  set_state(State::Closed, rule);
  handler_ = nullptr;
  events_.closed.reset();
  events_.closed_delivered = true;
  if (!finished_) {
    finished_ = true;
    ctx_.owner.finished(*this);
  }
}

void Connection::close_connection(CloseReason reason, std::string_view rule) {
  cancel_all_timers();
  set_state(State::Closed, rule);
  if (!events_.closed_delivered) events_.closed = reason;
}

void Connection::deliver_events() {
  if (events_.delivering || finished_) return;
  events_.delivering = true;
  // One callback at a time, re-checking after each: the application may send, read, close
  // or abort from inside any of them. on_closed is always last.
  while (handler_ != nullptr) {
    if (events_.connected) {
      events_.connected = false;
      handler_->on_connected(*this);
    } else if (events_.readable) {
      events_.readable = false;
      handler_->on_readable(*this);
    } else if (events_.peer_fin) {
      events_.peer_fin = false;
      handler_->on_peer_fin(*this);
    } else if (events_.writable) {
      events_.writable = false;
      handler_->on_writable(*this);
    } else if (events_.closed) {
      CloseReason reason = *events_.closed;
      events_.closed.reset();
      events_.closed_delivered = true;
      SocketHandler* h = handler_;
      handler_ = nullptr;
      h->on_closed(*this, reason);
    } else {
      break;
    }
  }
  // A read from a callback: send the window update now unless what the application sent
  // meanwhile already carried it (transmit() moves RCV.WUP on every ACK).
  if (ack_.window_update_owed || events_.output_owed) {
    const bool after_read = ack_.window_update_owed;
    ack_.window_update_owed = false;
    events_.output_owed = false;
    if (tcb_.state != State::Closed) output(after_read);
  }
  // Nobody attached (a connection still in the accept queue): nobody to tell.
  if (events_.closed && handler_ == nullptr) {
    events_.closed.reset();
    events_.closed_delivered = true;
  }
  events_.delivering = false;
  if (tcb_.state == State::Closed && !finished_) {
    finished_ = true;
    ctx_.owner.finished(*this);
  }
}

ConnectionInfo Connection::info() const {
  ConnectionInfo i;
  i.tuple = tuple_;
  i.state = tcb_.state;
  i.snd_una = seq_distance(tcb_.iss, tcb_.snd_una);
  i.snd_nxt = seq_distance(tcb_.iss, tcb_.snd_nxt);
  i.rcv_nxt = seq_distance(tcb_.irs, tcb_.rcv_nxt);
  i.snd_wnd = tcb_.snd_wnd;
  i.rcv_wnd = tcb_.rcv_wnd;
  i.srtt = rto_.srtt();
  i.rto = rto_.rto();
  i.bytes_received = bytes_received_;
  i.bytes_sent = bytes_sent_;
  i.retransmissions = retransmissions_;
  i.buffer_bytes = send_.storage_bytes() + receive_.storage_bytes();
  i.icmp_soft_error = soft_error_;
  return i;
}

}  // namespace tcplab::tcp
