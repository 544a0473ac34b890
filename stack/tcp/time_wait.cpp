// TimeWaitTable: RFC 9293 §3.10.7.4 for a connection in TIME-WAIT (or in FIN-WAIT-2 after its
// application let go) held as a compact record. Each step answers exactly as Connection's own
// code for that state (connection_input.cpp, connection_fin_wait_2.cpp, invalid_ack_limit.cpp,
// connection_output.cpp), with the same trace lines, drops and counters;
// tests/unit/tcp_time_wait_test.cpp and tcp_fin_wait_2_record_test.cpp replay segments
// against both and compare.
#include "stack/tcp/time_wait.hpp"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>

#include "stack/tcp/acceptability.hpp"
#include "stack/tcp/receive_window.hpp"
#include "stack/tcp/sack_scoreboard.hpp"
#include "stack/tcp/segment_trim.hpp"

namespace tcplab::tcp {
namespace {

// RCV.WND as the peer knows it: from RCV.NXT to the right edge we last advertised.
uint32_t advertised_window(const TimeWaitRecord& r) {
  return r.rcv_adv > r.rcv_nxt ? seq_distance(r.rcv_nxt, r.rcv_adv) : 0;
}

// The connection's timer this record's expiry stands for.
std::string_view timer_name(const TimeWaitRecord& r) {
  return r.state == State::FinWait2 ? "fin-wait-2" : "time-wait";
}

}  // namespace

TimeWaitTable::~TimeWaitTable() {
  // Keep the host's gauges right when the host itself goes (as ~Connection does).
  for (const TimeWaitRecord& r : fifo_) count(r, -1);
  for (const TimeWaitRecord& r : fin_wait_2_) count(r, -1);
  for (const TimeWaitRecord& r : lingering_) count(r, -1);
}

// The host's gauges for one record: a FIN-WAIT-2 connection is current (as a Connection in
// that state counts), a TIME-WAIT one is not.
void TimeWaitTable::count(const TimeWaitRecord& r, int delta) {
  auto d = static_cast<uint64_t>(static_cast<int64_t>(delta));
  if (r.state == State::FinWait2) {
    ctx_.stats.connections_current += d;
    ctx_.stats.fin_wait_2_records += d;
  } else {
    ctx_.stats.connections_time_wait += d;
    ctx_.stats.time_wait_records += d;
  }
}

void TimeWaitTable::add(const TimeWaitRecord& record) {
  if (record.state == State::TimeWait) make_room();
  // 2 MSL (or the --fin-timeout) is constant, so the newest record expires last and goes at
  // the back; walking back over later expiries keeps the order even if a record came with an
  // earlier deadline.
  Fifo& fifo = fifo_of(record);
  auto at = fifo.end();
  while (at != fifo.begin() && due(*std::prev(at)) > due(record)) --at;
  index_.insert(fifo.insert(at, record));
  count(record, +1);
}

// Moves `node` (already in `fifo`, at the back) to its place by due(), walking back over later ones.
void TimeWaitTable::insert_ordered(Fifo& fifo, Fifo::iterator node) {
  auto at = node;
  while (at != fifo.begin() && due(*std::prev(at)) > due(*node)) --at;
  if (at != node) fifo.splice(at, fifo, node);  // iterators (and the index) stay valid
}

TimeWaitRecord* TimeWaitTable::find(const FourTuple& tuple) {
  auto it = index_.find(tuple);
  return it == index_.end() ? nullptr : &**it;
}

void TimeWaitTable::remove(const FourTuple& tuple) {
  auto it = index_.find(tuple);
  if (it == index_.end()) return;
  Fifo::iterator record = *it;
  index_.erase(it);
  count(*record, -1);
  fifo_of(*record).erase(record);
}

// RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "Restart the 2 MSL time-wait timeout": the record
// moves to the back of the FIFO, where the latest expiry belongs.
void TimeWaitTable::restart(TimeWaitRecord& r) {
  r.expiry = ctx_.now + 2 * ctx_.config.msl;
  fifo_.splice(fifo_.end(), fifo_, *index_.find(r.tuple));  // iterators stay valid
  if (ctx_.tracer.enabled())
    ctx_.tracer.timer(ctx_.now, r.tuple, "time-wait", trace::TimerAction::Armed, r.expiry);
}

void TimeWaitTable::close(TimeWaitRecord& r, std::string_view rule, bool timer_fired) {
  if (ctx_.tracer.enabled()) {
    auto action = timer_fired ? trace::TimerAction::Fired : trace::TimerAction::Cancelled;
    ctx_.tracer.timer(ctx_.now, r.tuple, timer_name(r), action, r.expiry);
    if (r.lingering)  // as Connection::close_connection cancels its linger timer
      ctx_.tracer.timer(ctx_.now, r.tuple, "linger", trace::TimerAction::Cancelled, r.linger_until);
    ctx_.tracer.state_change(ctx_.now, r.tuple, to_string(r.state), to_string(State::Closed), rule);
  }
  FourTuple tuple = r.tuple;  // r goes with the record
  remove(tuple);
}

// Deviation (time-wait-cap), see TcpConfig::max_time_wait: before one more TIME-WAIT record,
// the oldest ones go while --max-time-wait are held.
void TimeWaitTable::make_room() {
  while (!fifo_.empty() && fifo_.size() >= ctx_.config.max_time_wait) {
    ++ctx_.stats.time_wait_evicted;
    close(fifo_.front(), "--max-time-wait records held: the oldest TIME-WAIT ends early", false);
  }
}

void TimeWaitTable::discard(TimeWaitRecord& r) { close(r, kReopenRule, false); }

void TimeWaitTable::abort(TimeWaitRecord& r) { close(r, kAbortRule, false); }

void TimeWaitTable::expire() {
  while (!fifo_.empty() && fifo_.front().expiry <= ctx_.now)
    close(fifo_.front(), "RFC 9293 §3.10.8 (TIME-WAIT: 2 MSL elapsed)", true);
  // Deviation (fin-timeout): as Connection::fin_wait_2_timeout, dropped silently (no RST)
  // after --fin-timeout in FIN-WAIT-2, and counted.
  while (!fin_wait_2_.empty() && fin_wait_2_.front().expiry <= ctx_.now) {
    ++ctx_.stats.fin_timeouts;
    close(fin_wait_2_.front(), kFinTimeoutRule, true);
  }
  // Lingering records: the --fin-timeout first if both are due (Connection::on_timers fires
  // the FIN-WAIT-2 timer before the linger timer), else the linger deadline: RST.
  while (!lingering_.empty() && due(lingering_.front()) <= ctx_.now) {
    TimeWaitRecord& r = lingering_.front();
    if (r.expiry <= ctx_.now) {
      ++ctx_.stats.fin_timeouts;
      close(r, kFinTimeoutRule, true);
    } else {
      linger_over(r);
    }
  }
}

std::optional<Instant> TimeWaitTable::next_expiry() const {
  std::optional<Instant> next;
  for (const Fifo* fifo : {&fifo_, &fin_wait_2_, &lingering_})
    if (!fifo->empty() && (!next || due(fifo->front()) < *next)) next = due(fifo->front());
  return next;
}

void TimeWaitTable::segment_arrives(TimeWaitRecord& r, const wire::TcpSegment& in) {
  trace_segment(r, trace::Direction::In, in, {});
  ack_owed_ = false;
  dsack_.reset();  // RFC 2883: a D-SACK reports the segment that brought the duplicate only
  wire::TcpSegment seg = in;  // may be trimmed to the window
  drop_syn_fin_of_rst(seg);    // as Connection::segment_arrives
  // First (with RFC 7323 §5.3 R1 before it), check the sequence number.
  zero_window_drop_ = {};
  if (!check_paws(r, seg) || !check_sequence(r, seg)) return;
  // RFC 7323 §5.3 R3: TS.Recent from a segment that passed, compared with Last.ACK.sent.
  if (in.options.timestamps)
    r.timestamps.note_arrival(in.options.timestamps->value, in.seq, r.rcv_wup, ctx_.now);
  if (seg.flags.rst) {
    // Second, the RST bit (RFC 5961 §3.2). Only one at exactly RCV.NXT closes.
    if (seg.seq == r.rcv_nxt) {
      ++ctx_.stats.resets_received;
      return close(r, "RFC 9293 §3.10.7.4 second (RST at RCV.NXT)", false);
    }
    send_challenge_ack(r);
    ctx_.drop(DropReason::TcpRstIgnored, "RST in window but not at RCV.NXT: challenge ACK (RFC 5961 §3.2)");
  } else if (seg.flags.syn) {
    // Fourth, the SYN bit (RFC 5961 §4.2); a SYN that may reopen never reaches here (host.cpp).
    send_challenge_ack(r);
    ctx_.drop(DropReason::TcpInvalidInState, "SYN in a synchronized state: challenge ACK (RFC 5961 §4.2)");
  } else if (check_ack(r, seg)) {
    if (!zero_window_drop_.empty()) ctx_.drop(DropReason::TcpTextIgnored, zero_window_drop_);
    // Sixth, URG: ignored. Seventh, text: ignored in TIME-WAIT; in a released FIN-WAIT-2
    // acknowledged and discarded (take_text).
    if (r.state == State::FinWait2) {
      take_text(r, seg);
    } else if (!seg.payload.empty()) {
      ctx_.drop(DropReason::TcpTextIgnored, kTextAfterFinDrop);
    }
    // Eighth, a FIN right at RCV.NXT, as in Connection::check_fin: RCV.NXT moves over it and
    // it is acknowledged, and FIN-WAIT-2 enters TIME-WAIT. In TIME-WAIT it would lie one
    // beyond the peer's first FIN. Deviation (fin-after-fin): not taken, ACKed.
    if (seg.flags.fin && r.state == State::TimeWait) {
      ack_owed_ = true;
      if (seg.payload.empty()) ctx_.drop(DropReason::TcpTextIgnored, kFinAfterFinDrop);
    } else if (seg.flags.fin && seg.seq + static_cast<uint32_t>(seg.payload.size()) == r.rcv_nxt) {
      r.rcv_nxt += 1;
      ack_owed_ = true;
      enter_time_wait(r);
    } else if (seg.flags.fin && r.state == State::FinWait2) {
      // Deviation (fin-beyond-hole), as Connection::check_fin: not taken, duplicate ACK
      // (RFC 5681 §4.2).
      ack_owed_ = true;
      ctx_.drop(DropReason::TcpTextIgnored, kFinBeyondHoleDrop);
    }
  }
  if (ack_owed_) send_ack(r, {});
  dsack_.reset();  // not reported if no ACK went (a rate-limited one), as Connection does
}

// RFC 9293 §3.10.7.4 seventh in FIN-WAIT-2, for a connection nobody reads any more
// (Connection::take_released_text): in-order bytes move RCV.NXT and are thrown away, bytes
// beyond a hole are not kept; either way an ACK goes at once, the buffer staying empty.
// Deviation (released-data-discarded): no RST for them (RFC 9293 §3.6.1, SHLD-3), see there.
void TimeWaitTable::take_text(TimeWaitRecord& r, const wire::TcpSegment& seg) {
  if (seg.payload.empty()) return;
  ack_owed_ = true;
  if (seg.seq != r.rcv_nxt) return ctx_.drop(DropReason::TcpOutOfOrderFull, kReleasedOutOfOrderDrop);
  r.rcv_nxt += static_cast<uint32_t>(seg.payload.size());
  r.bytes_received += seg.payload.size();
  if (ctx_.tracer.enabled()) ctx_.tracer.note(ctx_.now, &r.tuple, kReleasedTextNote);
  if (r.linger_on_data && !r.lingering) start_linger(r);
}

// RFC 9112 §9.6, as Connection::start_linger: the first bytes after a lingering release start
// the deadline (later bytes leave it); the record moves to the lingering FIFO.
void TimeWaitTable::start_linger(TimeWaitRecord& r) {
  ++ctx_.stats.lingering_closes;
  if (ctx_.tracer.enabled()) ctx_.tracer.note(ctx_.now, &r.tuple, kLingerStartNote);
  Fifo::iterator node = *index_.find(r.tuple);
  r.lingering = true;
  r.linger_until = ctx_.now + r.linger;
  lingering_.splice(lingering_.end(), fin_wait_2_, node);
  insert_ordered(lingering_, node);
  if (ctx_.tracer.enabled())
    ctx_.tracer.timer(ctx_.now, r.tuple, "linger", trace::TimerAction::Armed, r.linger_until);
}

// As Connection::linger_timeout in FIN-WAIT-2 (the only state a record lingers in): the peer
// kept its side open for --linger after sending data, so RFC 9293 §3.10.5 ABORT:
// <SEQ=SND.NXT><CTL=RST>, and the record goes.
void TimeWaitTable::linger_over(TimeWaitRecord& r) {
  if (ctx_.tracer.enabled()) {
    ctx_.tracer.timer(ctx_.now, r.tuple, "linger", trace::TimerAction::Fired, r.linger_until);
    ctx_.tracer.note(ctx_.now, &r.tuple, kLingerOverNote);
  }
  ++ctx_.stats.lingering_resets;
  wire::TcpSegment seg;
  seg.source_port = r.tuple.local_port;
  seg.destination_port = r.tuple.remote_port;
  seg.seq = r.snd_nxt;
  seg.flags.rst = true;
  ++ctx_.stats.resets_sent;
  seg.payload = ctx_.emit(r.tuple, seg);
  trace_segment(r, trace::Direction::Out, seg, {});
  // The linger timer has fired: out of the lingering FIFO, so close() cancels only the other.
  Fifo::iterator node = *index_.find(r.tuple);
  r.lingering = false;
  fin_wait_2_.splice(fin_wait_2_.end(), lingering_, node);
  close(r, "RFC 9293 §3.10.5 (ABORT)", false);
}

// RFC 9293 §3.10.7.4 eighth, FIN-WAIT-2: "Enter the TIME-WAIT state. Start the time-wait
// timer, turn off the other timers", with Connection::enter_time_wait's trace lines.
// The record moves to the back of the TIME-WAIT FIFO: its 2 MSL starts now, the latest.
// The lines follow the move, so that what reads the record at the state change (step mode's
// TCB) finds it in TIME-WAIT, as a connection's state is set before its state line.
void TimeWaitTable::enter_time_wait(TimeWaitRecord& r) {
  constexpr std::string_view rule = "RFC 9293 §3.10.7.4 eighth (FIN-WAIT-2: FIN received)";
  const Instant fin_wait_2_expiry = r.expiry;
  const bool was_lingering = r.lingering;
  make_room();
  Fifo::iterator node = *index_.find(r.tuple);
  Fifo& from = fifo_of(r);
  count(r, -1);
  r.state = State::TimeWait;
  r.lingering = false;
  count(r, +1);
  fifo_.splice(fifo_.end(), from, node);  // iterators (and the index) stay valid
  r.expiry = ctx_.now + 2 * ctx_.config.msl;
  if (!ctx_.tracer.enabled()) return;
  ctx_.tracer.state_change(ctx_.now, r.tuple, to_string(State::FinWait2), to_string(State::TimeWait), rule);
  ctx_.tracer.timer(ctx_.now, r.tuple, "fin-wait-2", trace::TimerAction::Cancelled, fin_wait_2_expiry);
  if (was_lingering)
    ctx_.tracer.timer(ctx_.now, r.tuple, "linger", trace::TimerAction::Cancelled, r.linger_until);
  ctx_.tracer.timer(ctx_.now, r.tuple, "time-wait", trace::TimerAction::Armed, r.expiry);
}

void TimeWaitTable::illegal_syn_fin_arrives(TimeWaitRecord& r, const wire::TcpSegment& seg) {
  trace_segment(r, trace::Direction::In, seg, {});
  send_challenge_ack(r);
  ctx_.drop(DropReason::TcpBadFlags, "SYN+FIN in a synchronized state: challenge ACK (RFC 5961 §4.2)");
}

void TimeWaitTable::icmp_error_arrives(TimeWaitRecord&, std::string_view what) {
  // SND.UNA = SND.NXT: no quoted SEG.SEQ can lie in SND.UNA..SND.NXT.
  ctx_.drop_quote_not_in_flight(what);
}

// RFC 7323 §5.3 R1 (PAWS), as Connection::check_paws.
bool TimeWaitTable::check_paws(TimeWaitRecord& r, const wire::TcpSegment& seg) {
  if (!r.timestamps.enabled() || !seg.options.timestamps || seg.flags.rst) return true;
  if (!r.timestamps.paws_rejects(seg.options.timestamps->value, ctx_.now)) return true;
  send_invalid_ack(r, seg, "dup ACK (PAWS)");
  ctx_.drop(DropReason::TcpUnacceptableSegment, "PAWS: SEG.TSval older than TS.Recent (RFC 7323 §5.3 R1)");
  return false;
}

// RFC 9293 §3.10.7.4 first, as Connection::check_sequence with its late-bare-ack and
// zero-window allowances, reject_unacceptable and trim_to_window. The retransmitted FIN that
// TIME-WAIT exists for lies before RCV.NXT, so it lands in the "not acceptable" branch.
bool TimeWaitTable::check_sequence(TimeWaitRecord& r, wire::TcpSegment& seg) {
  uint32_t rcv_wnd = advertised_window(r);
  bool late_bare_ack = seg.length() == 0 && !seg.flags.rst && seq_in_closed(r.rcv_wup, seg.seq, r.rcv_nxt);
  bool acceptable = segment_acceptable(seg.length(), rcv_wnd, seg.seq, r.rcv_nxt) || late_bare_ack;
  bool zero_window_ack =
      !acceptable && rcv_wnd == 0 && seg.length() > 0 && seg.seq == r.rcv_nxt && !seg.flags.rst;
  if (!acceptable && !zero_window_ack) {
    if (seg.flags.rst) {
      ctx_.drop(DropReason::TcpRstIgnored, "RST outside the window (RFC 5961 §3.2)");
      return false;
    }
    if (seg.flags.fin && r.state == State::TimeWait) {
      // RFC 9293 §3.10.7.4 eighth, TIME-WAIT: the peer did not get our ACK of its FIN.
      restart(r);
      send_invalid_ack(r, seg, "ACK of retransmitted FIN");
      ctx_.drop(DropReason::TcpUnacceptableSegment, kRetransmittedFinDrop);
      return false;
    }
    // RFC 2883 §4: text entirely below RCV.NXT is a duplicate; the ACK reports it.
    Seq end = seg.seq + static_cast<uint32_t>(seg.payload.size());
    if (!seg.payload.empty() && end <= r.rcv_nxt) note_duplicate(r, seg.seq, seg.payload.size());
    send_invalid_ack(r, seg, "dup ACK");
    ctx_.drop(DropReason::TcpUnacceptableSegment, "outside the receive window (RFC 9293 §3.10.7.4)");
    return false;
  }
  if (seg.flags.rst) return true;
  if (zero_window_ack) {
    zero_window_drop_ = seg.payload.empty() ? kZeroWindowFinDrop : kZeroWindowTextDrop;  // as Connection
    seg.payload = {};
    seg.flags.fin = false;
    ack_owed_ = true;
    return true;
  }
  if (auto cut = trim_front(seg, r.rcv_nxt); cut.trimmed) {
    note_duplicate(r, cut.seq, cut.payload);  // RFC 2883 §4: the repeated part, as a D-SACK
    ack_owed_ = true;
  }
  if (trim_back(seg, r.rcv_nxt + rcv_wnd)) ack_owed_ = true;
  return true;
}

// RFC 9293 §3.10.7.4 fifth, as Connection::check_ack. SND.UNA = SND.NXT: nothing is left to
// acknowledge, only the send window can still move.
bool TimeWaitTable::check_ack(TimeWaitRecord& r, const wire::TcpSegment& seg) {
  if (!seg.flags.ack) {
    ctx_.drop(DropReason::TcpNoAckFlag, "no ACK bit (RFC 9293 §3.10.7.4 fifth)");
    return false;
  }
  if (seg.ack > r.snd_nxt) {
    send_invalid_ack(r, seg, "ACK to an ACK of unsent data");
    ctx_.drop(DropReason::TcpAckUnacceptable, "ACK of data never sent (RFC 9293 §3.10.7.4 fifth)");
    return false;
  }
  if (seg.ack < r.snd_nxt - r.max_snd_wnd) {
    send_invalid_ack(r, seg, "ACK to an old ACK");
    ctx_.drop(DropReason::TcpAckUnacceptable, "ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5.2)");
    return false;
  }
  if (seg.ack != r.snd_nxt) return true;
  take_sack_blocks(r, seg);
  if (r.snd_wl1 < seg.seq || (r.snd_wl1 == seg.seq && r.snd_wl2 <= seg.ack)) {
    r.snd_wnd = uint32_t{seg.window} << r.snd_wscale;  // RFC 7323 §2.3
    r.snd_wl1 = seg.seq;
    r.snd_wl2 = seg.ack;
    r.max_snd_wnd = std::max(r.max_snd_wnd, r.snd_wnd);
  }
  return true;
}

// As Connection::take_sack_blocks: RFC 2883 §4, a first block at or below the cumulative ACK
// is a D-SACK (the peer received data twice); RFC 2018 §3, every other block lies outside
// SND.UNA..SND.NXT, which is empty in TIME-WAIT, and is ignored.
void TimeWaitTable::take_sack_blocks(const TimeWaitRecord& r, const wire::TcpSegment& seg) {
  if (!r.sack_ok || seg.options.sack_blocks == 0 || !ctx_.tracer.enabled()) return;
  size_t n = std::min<size_t>(seg.options.sack_blocks, wire::kMaxSackBlocks);
  std::span blocks(seg.options.sack.data(), n);
  if (SackScoreboard::first_is_dsack(blocks, seg.ack)) {
    ctx_.tracer.note(ctx_.now, &r.tuple,
                     "D-SACK " + std::to_string(seq_distance(r.iss, blocks[0].left)) + ":" +
                         std::to_string(seq_distance(r.iss, blocks[0].right)) +
                         " (RFC 2883: the peer received these bytes twice; not new SACK "
                         "information, not reneging)");
    blocks = blocks.subspan(1);
  }
  if (!blocks.empty())
    ctx_.tracer.note(
        ctx_.now, &r.tuple,
        "SACK block outside SND.UNA..SND.NXT ignored (our reading of RFC 2018 §3: a block "
        "reports data received, so it must lie in data in flight)");
}

// As Connection::note_duplicate: RFC 2883 §4, bytes [seq, seq + length) repeat what we hold.
// A record holds no out-of-order data, so only the part below RCV.NXT can be a duplicate.
void TimeWaitTable::note_duplicate(const TimeWaitRecord& r, Seq seq, size_t length) {
  if (!r.sack_ok || length == 0 || dsack_ || !(seq < r.rcv_nxt)) return;
  Seq end = seq + static_cast<uint32_t>(length);
  dsack_ = wire::SackBlock{seq, std::min(end, r.rcv_nxt)};
  if (ctx_.tracer.enabled())
    ctx_.tracer.note(ctx_.now, &r.tuple,
                     "D-SACK " + std::to_string(seq_distance(r.irs, dsack_->left)) + ":" +
                         std::to_string(seq_distance(r.irs, dsack_->right)) +
                         " (RFC 2883 §4: these bytes arrived twice; our ACK reports them first)");
}

// The ACK to an unacceptable segment, within the per-connection limit, as Connection's.
void TimeWaitTable::send_invalid_ack(TimeWaitRecord& r, const wire::TcpSegment& seg, std::string_view note) {
  if (invalid_ack_allowed(ctx_, r.tuple, seg, note, r.invalid_ack_clock)) send_ack(r, note);
}

// RFC 5961 §7: challenge ACKs are rate-limited per connection, as Connection's are.
void TimeWaitTable::send_challenge_ack(TimeWaitRecord& r) {
  if (challenge_ack_allowed(ctx_, r.tuple, r.challenge_ack_clock)) send_ack(r, "challenge ACK");
}

// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with the window Connection::window_to_advertise would
// give: the receive buffer is empty (records are made only then), so receiver SWS avoidance
// (RFC 9293 §3.8.6.2.2) may open the right edge to the whole buffer; it never moves it left
// (§3.8.6, SHLD-14: a receiver SHOULD NOT shrink the window), not even by the rounding of a
// scaled window that RFC 7323 §2.4 allows for: an empty buffer always has the headroom.
void TimeWaitTable::send_ack(TimeWaitRecord& r, std::string_view note) {
  wire::TcpSegment seg;
  seg.source_port = r.tuple.local_port;
  seg.destination_port = r.tuple.remote_port;
  seg.seq = r.snd_nxt;
  seg.flags.ack = true;
  seg.ack = r.rcv_nxt;
  // RFC 7323 §3.2: TSopt on every non-RST segment once negotiated. No SACK blocks but a
  // D-SACK: no out-of-order data is held (RFC 2018 §4, RFC 2883 §4).
  if (r.timestamps.enabled())
    seg.options.timestamps = wire::TcpTimestamps{r.timestamps.value(ctx_.now), r.timestamps.recent()};
  if (dsack_) {
    seg.options.sack[0] = *dsack_;
    seg.options.sack_blocks = 1;
    dsack_.reset();
  }
  size_t capacity = ctx_.config.receive_buffer;
  size_t threshold = std::min(capacity / 2, size_t{r.mss});
  size_t room = capacity + scaling_headroom(r.rcv_wscale);
  uint16_t field = receive_window_field({advertised_window(r), capacity, room, threshold, r.rcv_wscale});
  Seq right = r.rcv_nxt + (uint32_t{field} << r.rcv_wscale);
  if (right > r.rcv_adv) r.rcv_adv = right;
  seg.window = field;
  seg.payload = ctx_.emit(r.tuple, seg);
  r.rcv_wup = r.rcv_nxt;
  ack_owed_ = false;
  trace_segment(r, trace::Direction::Out, seg, note);
}

void TimeWaitTable::trace_segment(const TimeWaitRecord& r, trace::Direction dir, const wire::TcpSegment& seg,
                                  std::string_view note) {
  if (!ctx_.tracer.enabled()) return;
  ctx_.tracer.segment(ctx_.now, trace::SegmentEvent{dir, r.tuple, seg, true, r.iss, r.irs, note});
}

void TimeWaitTable::append_info(std::vector<ConnectionInfo>& out) const {
  for (const TimeWaitRecord& r : fin_wait_2_) out.push_back(info(r));
  for (const TimeWaitRecord& r : lingering_) out.push_back(info(r));
  for (const TimeWaitRecord& r : fifo_) out.push_back(info(r));
}

ConnectionInfo TimeWaitTable::info(const TimeWaitRecord& r) {
  ConnectionInfo i;
  i.tuple = r.tuple;
  i.state = r.state;
  i.snd_una = seq_distance(r.iss, r.snd_nxt);
  i.snd_nxt = i.snd_una;
  i.rcv_nxt = seq_distance(r.irs, r.rcv_nxt);
  i.snd_wnd = r.snd_wnd;
  i.rcv_wnd = advertised_window(r);
  i.srtt = microseconds(r.srtt_us);
  i.rto = microseconds(r.rto_us);
  i.bytes_received = r.bytes_received;
  i.bytes_sent = r.bytes_sent;
  i.retransmissions = r.retransmissions;
  i.buffer_bytes = 0;
  return i;
}

TcbSnapshot TimeWaitTable::snapshot(const TimeWaitRecord& r) {
  TcbSnapshot s;
  s.tuple = r.tuple;
  s.state = r.state;
  s.iss = r.iss;
  s.irs = r.irs;
  s.snd_una = r.snd_nxt;
  s.snd_nxt = r.snd_nxt;
  s.rcv_nxt = r.rcv_nxt;
  s.snd_wnd = r.snd_wnd;
  s.rcv_wnd = advertised_window(r);
  s.rto = microseconds(r.rto_us);
  s.srtt = microseconds(r.srtt_us);
  s.congestion_kept = false;  // nothing is left to send
  s.cwnd = 0;
  s.ssthresh = 0;
  s.send_mss = r.send_mss;
  s.timers.push_back({timer_name(r), r.expiry});
  if (r.lingering) s.timers.push_back({"linger", r.linger_until});
  return s;
}

}  // namespace tcplab::tcp
