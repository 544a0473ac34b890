// TcpHost: demultiplexing by 4-tuple, listeners with a SYN queue and an accept queue,
// RFC 9293 §3.10.7.1 (CLOSED) and §3.10.7.2 (LISTEN), active opens with ephemeral ports,
// timers of every connection, destruction of closed connections at safe points, and
// TIME-WAIT (and FIN-WAIT-2 once the application let go) held as compact records
// (time_wait.hpp) instead of whole connections.
#include "stack/tcp/host.hpp"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_map>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/host_context.hpp"
#include "stack/tcp/syn_cookie.hpp"
#include "stack/tcp/time_wait.hpp"

namespace tcplab::tcp {
namespace {

// RFC 6335 §6: the dynamic (ephemeral) port range, which Linux also uses by default half of.
constexpr uint16_t kEphemeralFirst = 49152;
constexpr uint16_t kEphemeralLast = 65535;

struct Listener {
  uint16_t port = 0;
  AcceptHandler* handler = nullptr;
  size_t backlog = 0;
  std::deque<Connection*> syn_queue;     // SYN-RECEIVED, oldest first
  std::deque<Connection*> accept_queue;  // ESTABLISHED, not yet accepted, oldest first
};

void remove_from(std::deque<Connection*>& queue, const Connection* c) {
  auto it = std::find(queue.begin(), queue.end(), c);
  if (it != queue.end()) queue.erase(it);
}

// RFC 9293 §3.6.1 (MAY-2; was RFC 1122 §4.2.2.13): a new SYN may reopen a connection in
// TIME-WAIT, if a listener will take it. The RFC's conditions are on our new ISN
// (Connection::open_passive) and on going back to TIME-WAIT if the SYN was an old duplicate
// (Impl::reopened). Which SYN is new is RFC 6191 §2's test: where both incarnations use
// timestamps, a TSval above the old TS.Recent (or equal to it, with a higher sequence
// number); otherwise a sequence number above RCV.NXT, so old duplicates cannot be confused
// with the new connection's numbers. A SYN that fails it is answered as TIME-WAIT answers any
// unacceptable segment (an ACK, RFC 9293 §3.10.7.4), and any other state answers it itself.
bool reopens_time_wait(State state, const wire::TcpSegment& seg, Seq rcv_nxt, const Timestamps& old,
                       bool timestamps_on, bool listener_takes_it, Instant now) {
  if (state != State::TimeWait || !seg.flags.syn || seg.flags.ack || seg.flags.rst || !listener_takes_it)
    return false;
  const bool seq_above = seg.seq > rcv_nxt;
  const bool new_uses_timestamps = timestamps_on && seg.options.timestamps.has_value();
  if (!new_uses_timestamps) return seq_above;
  // RFC 6191 §2: the old incarnation had no timestamps, the new one will: honoured (Linux
  // uses the sequence test here instead). Old duplicates carry no option for PAWS to test,
  // but the new keyed ISN (RFC 6528) keeps the new window far from their numbers.
  if (!old.enabled()) return true;
  const uint32_t tsval = seg.options.timestamps->value;
  if (old.paws_rejects(tsval, now)) return false;  // older than TS.Recent: an old duplicate
  return tsval != old.recent() || seq_above;
}

}  // namespace

struct TcpHost::Impl final : ConnectionOwner {
  Impl(const TcpConfig& cfg, wire::Ipv4Address local, trace::Tracer& tracer, Outbox& outbox,
       DropCounters& drops)
      : config(cfg),
        ctx{config,
            local,
            tracer,
            outbox,
            drops,
            stats,
            *this,
            IsnGenerator(config.isn_key, config.fixed_isn),
            Instant{},
            0,
            wire::ConstBytes{},
            TimerQueue{}},
        cookies(config.isn_key),
        time_wait(ctx) {}

  TcpConfig config;
  TcpStats stats;
  HostContext ctx;
  std::unordered_map<uint16_t, Listener> listeners;
  std::unordered_map<FourTuple, std::unique_ptr<Connection>, FourTupleHash> connections;
  std::vector<FourTuple> turn_end_ack_scratch;  // finish_turn's copy of ctx.acks_at_turn_end
  std::vector<Connection*> finished_list;  // closed, to destroy at the next safe point
  std::vector<uint16_t> acceptable_ports;  // on_acceptable calls owed to listeners
  std::vector<Connection*> due;            // scratch for advance(), reused
  std::vector<FourTuple> released_list;    // let go by their application, to compact if they can
  std::vector<FourTuple> compact_scratch;  // connections whose timers fired, to compact if they can
  uint16_t next_ephemeral = kEphemeralFirst;
  SynCookies cookies;
  std::optional<Instant> last_cookie_sent;  // auto mode checks ACKs only while cookies may be out
  TimeWaitTable time_wait;                  // TIME-WAIT connections whose Connection is freed
  // RFC 9293 §3.6.1 (MAY-2) condition (2): a SYN that reopened TIME-WAIT may be an old
  // duplicate, which the peer answers with RST instead of completing the handshake. Until the
  // new connection is ESTABLISHED or gone, the record it replaced is kept here; after that RST,
  // it goes back into the table with the time it had left (`restore`, at the next reap).
  std::unordered_map<FourTuple, TimeWaitRecord, FourTupleHash> reopened;
  std::vector<FourTuple> restore;

  // --- ConnectionOwner ---
  bool accept_queue_has_room(const Connection& c) const override {
    auto it = listeners.find(c.tuple().local_port);
    return it == listeners.end() || !accept_queue_full(it->second);
  }
  void established(Connection& c) override {
    if (!reopened.empty()) reopened.erase(c.tuple());  // the SYN was a new connection's, not old
    auto it = listeners.find(c.tuple().local_port);
    if (it == listeners.end()) return;
    remove_from(it->second.syn_queue, &c);
    it->second.accept_queue.push_back(&c);
    acceptable_ports.push_back(it->first);
    if (ctx.tracer.enabled()) ctx.tracer.note(ctx.now, &c.tuple(), "connection queued for accept");
  }
  void finished(Connection& c) override { finished_list.push_back(&c); }
  void reset_in_syn_received(Connection& c) override {
    if (reopened.count(c.tuple()) != 0) restore.push_back(c.tuple());
  }
  void released(Connection& c) override { released_list.push_back(c.tuple()); }

  // Pops queue heads that no longer stand for their connection's earliest timer (re-armed
  // later, cancelled, connection gone) and re-queues the real one, until the head is exact.
  // Each pop either removes an entry or replaces it by a later one, so this ends.
  void settle_timers() {
    while (const TimerQueue::Entry* head = ctx.timers.top()) {
      TimerQueue::Entry e = *head;
      auto it = connections.find(e.tuple);
      Connection* c = it == connections.end() ? nullptr : it->second.get();
      bool mine = c != nullptr && c->queued_deadline() == e.deadline;
      if (mine && !c->finished() && c->next_deadline() == e.deadline) return;
      ctx.timers.pop();
      if (mine) {
        c->timer_entry_removed();
        if (!c->finished()) c->queue_timers();
      }
    }
  }

  // The start of an ICMP error's entry point: the 4-tuple of the segment it quotes, which went
  // from us to the peer, so its source is our side.
  FourTuple enter_for_icmp(const wire::IcmpQuote& quote, wire::ConstBytes packet, Instant now) {
    ctx.now = now;
    ctx.current_packet = packet;
    reap();
    return FourTuple{quote.source, quote.source_port, quote.destination, quote.destination_port};
  }

  // The connection on `tuple` if it is still open (a finished one waits to be reaped).
  Connection* live_connection(const FourTuple& tuple) {
    auto it = connections.find(tuple);
    return it == connections.end() || it->second->finished() ? nullptr : it->second.get();
  }

  // Destroys closed connections and compacts released ones. Only called at the start and
  // end of host entry points, never while a connection or the application is in the middle
  // of something.
  void reap() {
    for (const FourTuple& tuple : released_list) hold_compactly(tuple);
    released_list.clear();
    for (Connection* c : finished_list) {
      auto it = connections.find(c->tuple());
      if (it == connections.end() || it->second.get() != c) continue;
      if (c->origin() == Connection::Origin::Passive) {
        auto l = listeners.find(c->tuple().local_port);
        if (l != listeners.end()) {
          remove_from(l->second.syn_queue, c);
          remove_from(l->second.accept_queue, c);
        }
      }
      const FourTuple tuple = c->tuple();
      connections.erase(it);
      if (!reopened.empty()) end_reopened(tuple);
    }
    finished_list.clear();
    restore.clear();
  }

  // A connection on `tuple` is gone: if it had reopened TIME-WAIT, the record it replaced goes
  // back into the table after an old duplicate's RST (reset_in_syn_received), and is dropped
  // after any other ending.
  void end_reopened(const FourTuple& tuple) {
    auto kept = reopened.extract(tuple);
    if (kept.empty() || std::find(restore.begin(), restore.end(), tuple) == restore.end()) return;
    if (ctx.tracer.enabled())
      ctx.tracer.note(ctx.now, &tuple,
                      "RST answers the reopening SYN's SYN,ACK: the SYN was an old duplicate, back to "
                      "TIME-WAIT (RFC 9293 §3.6.1)");
    time_wait.add(kept.mapped());
  }

  // RFC 9293 §3.10.7.4's TIME-WAIT rules read only a few numbers: once a connection is in
  // TIME-WAIT and its application is done, a compact record takes its place and the
  // Connection (buffers, timers, congestion and SACK state) is freed. The record answers
  // every later segment as the connection would have, with the same trace lines. So does a
  // FIN-WAIT-2 connection its application let go of (Socket::release).
  void hold_compactly(Connection& c) {
    std::optional<TimeWaitRecord> record;
    if (config.compact_time_wait) record = c.time_wait_record();
    if (!record && config.compact_fin_wait_2) record = c.fin_wait_2_record();
    if (!record) return;
    auto l = listeners.find(record->tuple.local_port);
    if (c.origin() == Connection::Origin::Passive && l != listeners.end()) {
      remove_from(l->second.syn_queue, &c);
      remove_from(l->second.accept_queue, &c);
    }
    connections.erase(record->tuple);  // its TimerQueue entry goes stale: settle_timers drops it
    time_wait.add(*record);
  }
  void hold_compactly(const FourTuple& tuple) {
    auto it = connections.find(tuple);
    if (it != connections.end() && !it->second->finished()) hold_compactly(*it->second);
  }

  // End of an entry point: tell listeners about new connections, then destroy the dead.
  void finish_entry() {
    for (size_t i = 0; i < acceptable_ports.size(); ++i) {
      auto it = listeners.find(acceptable_ports[i]);
      if (it != listeners.end() && it->second.handler != nullptr)
        it->second.handler->on_acceptable(it->first);
    }
    acceptable_ports.clear();
    reap();
  }

  void trace_unconnected(trace::Direction dir, const FourTuple& tuple, const wire::TcpSegment& seg,
                         std::string_view note = {}) {
    if (!ctx.tracer.enabled()) return;
    ctx.tracer.segment(ctx.now, trace::SegmentEvent{dir, tuple, seg, false, Seq(), Seq(), note});
  }

  void send_reset(const FourTuple& tuple, Seq seq, std::optional<Seq> ack) {
    wire::TcpSegment rst;
    rst.source_port = tuple.local_port;
    rst.destination_port = tuple.remote_port;
    rst.seq = seq;
    rst.flags.rst = true;
    if (ack) {
      rst.flags.ack = true;
      rst.ack = *ack;
    }
    ctx.emit(tuple, rst);
    ++stats.resets_sent;
    trace_unconnected(trace::Direction::Out, tuple, rst);
  }

  // RFC 9293 §3.10.7.1: no TCB and no listener.
  void closed_arrives(const FourTuple& tuple, const wire::TcpSegment& seg) {
    trace_unconnected(trace::Direction::In, tuple, seg);
    // "An incoming segment containing a RST is discarded."
    if (seg.flags.rst) return ctx.drop(DropReason::TcpNoConnection, "RST for no connection");
    ctx.drop(DropReason::TcpNoConnection, "no connection: answered with RST (RFC 9293 §3.10.7.1)");
    if (!seg.flags.ack) {
      // "<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
      send_reset(tuple, Seq(0), seg.seq + seg.length());
    } else {
      // "<SEQ=SEG.ACK><CTL=RST>"
      send_reset(tuple, seg.ack, std::nullopt);
    }
  }

  // RFC 9293 §3.10.7.2: LISTEN.
  // iss_above: SND.NXT of the TIME-WAIT incarnation this SYN reopens (RFC 9293 §3.6.1).
  bool accept_queue_full(const Listener& l) const { return l.accept_queue.size() >= l.backlog; }
  // RFC 4987 §3.6: with --syn-cookies always, or auto and the SYN queue full, a SYN gets a
  // cookie instead of a TCB.
  bool answers_with_cookie(const Listener& l) const {
    using Mode = TcpConfig::SynCookieMode;
    return config.syn_cookies == Mode::Always ||
           (config.syn_cookies == Mode::Auto && l.syn_queue.size() >= config.syn_backlog);
  }

  void listen_arrives(Listener& l, const FourTuple& tuple, const wire::TcpSegment& seg,
                      std::optional<Seq> iss_above = std::nullopt) {
    if (seg.flags.ack && !seg.flags.syn && !seg.flags.rst && cookie_ack_arrives(l, tuple, seg)) return;
    trace_unconnected(trace::Direction::In, tuple, seg);
    // First, check for a RST: "An incoming RST segment could not be valid ... ignore it".
    if (seg.flags.rst)
      return ctx.drop(DropReason::TcpInvalidInState, "RST in LISTEN is ignored (RFC 9293 §3.10.7.2)");
    // Second, check for an ACK: "<SEQ=SEG.ACK><CTL=RST>".
    if (seg.flags.ack) {
      ctx.drop(DropReason::TcpAckInListen, "ACK in LISTEN: answered with RST (RFC 9293 §3.10.7.2)");
      return send_reset(tuple, seg.ack, std::nullopt);
    }
    // Fourth, "other text or control": drop it.
    if (!seg.flags.syn) return ctx.drop(DropReason::TcpInvalidInState, "LISTEN: no SYN");
    // Third, the SYN. Deviation (accept-queue-full-syn): a full accept queue refuses the SYN
    // silently so the client retries later, as Linux does; a RST would make it give up.
    if (accept_queue_full(l)) return ctx.drop(DropReason::TcpListenQueueFull, "accept queue full");
    // A SYN that reopens TIME-WAIT gets a TCB even when cookies are on or the SYN queue is
    // full, as on Linux: a cookie's ISS could not be kept above the old SND.NXT, nor go back to
    // TIME-WAIT (RFC 9293 §3.6.1 conditions (1) and (2)); the peer has shown itself real (it
    // finished a connection), so it neither evicts a half-open connection nor waits for room.
    if (!iss_above && answers_with_cookie(l)) {
      send_cookie(tuple, seg);
      return syn_data_not_queued(seg);
    }
    if (!iss_above && l.syn_queue.size() >= config.syn_backlog) {
      // RFC 4987 §3.4 ("dropping the oldest half-open connection"), with SYN cookies off: a
      // flood of spoofed SYNs fills the SYN queue with entries that never complete; evicting
      // the oldest keeps room for real clients instead of locking them out.
      Connection* oldest = l.syn_queue.front();
      l.syn_queue.pop_front();
      oldest->discard("RFC 4987 §3.4 (SYN queue full: oldest half-open connection dropped)");
      ctx.drop(DropReason::TcpSynQueueEvicted,
               "SYN queue full: oldest half-open connection dropped (RFC 4987)");
    }
    auto owned = std::make_unique<Connection>(ctx, tuple, Connection::Origin::Passive);
    Connection* c = owned.get();
    connections.emplace(tuple, std::move(owned));
    l.syn_queue.push_back(c);
    c->open_passive(seg, iss_above);
    syn_data_not_queued(seg);
  }
  // Deviation (syn-data-not-queued), for a SYN answered with a TCB or with a cookie.
  void syn_data_not_queued(const wire::TcpSegment& syn) {
    if (!syn.payload.empty()) ctx.drop(DropReason::TcpTextIgnored, kSynDataDrop);
  }

  // SYN+FIN opens and closes at once. RFC 5961 §4.2: "If the SYN bit is set, irrespective
  // of the sequence number, TCP MUST send an ACK (also referred to as challenge ACK)" in a
  // synchronized state.
  // Deviation (syn-fin-dropped): for anything else (no connection, LISTEN, SYN-SENT,
  // SYN-RECEIVED) it is refused and counted as tcp-bad-flags, with no answer. RFC 9293
  // §3.10.7.1 answers a segment for no connection with a RST, and §3.10.7.2 would take the SYN
  // in LISTEN and queue the FIN; no stack opens a connection with SYN+FIN (port scanners
  // probe with it), and Linux too discards it at a listener.
  void syn_fin_arrives(Connection* c, const wire::TcpSegment& seg) {
    if (c != nullptr && !c->finished() && is_synchronized(c->state())) {
      ++stats.segments_received;
      c->illegal_syn_fin_arrives(seg);
    } else {
      ctx.drop(DropReason::TcpBadFlags, "SYN+FIN for no synchronized connection");
    }
    finish_entry();
  }

  // RFC 4987 §3.6: answer the SYN statelessly; the ISN is the cookie (syn_cookie.hpp). The
  // MSS always survives; window scale and SACK-permitted only when the SYN carried
  // timestamps, in our TSval's low bits. An option not offered back is simply off (RFC 7323
  // §2.2 and §3.2, RFC 2018 §2), as when the SYN did not offer it.
  void send_cookie(const FourTuple& tuple, const wire::TcpSegment& syn) {
    // RFC 9293 §3.7.1: without an MSS option the peer takes 536.
    uint16_t mss = std::min<uint16_t>(syn.options.mss.value_or(536), config.mss);
    SynCookieOptions options;
    if (config.timestamps && syn.options.timestamps) {
      options.timestamps = true;
      if (config.window_scaling && syn.options.window_scale) {
        options.window_shift = *syn.options.window_scale;
        ctx.note_window_scale_above_14(tuple, *syn.options.window_scale);
      }
      options.sack_permitted = config.sack && syn.options.sack_permitted;
      options = options.normalised();  // a shift above 14 is kept as 14 (RFC 7323 §2.3)
    }
    wire::TcpSegment synack;
    synack.source_port = tuple.local_port;
    synack.destination_port = tuple.remote_port;
    synack.seq = cookies.make(tuple, syn.seq, mss, options, ctx.now);
    synack.ack = syn.seq + 1;
    synack.flags.syn = true;
    synack.flags.ack = true;
    // Unscaled as in every SYN; open_from_cookie assumes the same value.
    synack.window = static_cast<uint16_t>(std::min<size_t>(config.receive_buffer, 65535));
    // The options the connection's own SYN-ACK would carry (Connection::send_syn).
    synack.options.mss = config.mss;
    if (options.window_shift)
      synack.options.window_scale = Connection::window_shift_for(config.receive_buffer);
    synack.options.sack_permitted = options.sack_permitted;
    if (options.timestamps)
      synack.options.timestamps =
          wire::TcpTimestamps{SynCookies::tsval(synack.seq, options, ctx.now), syn.options.timestamps->value};
    ++stats.syn_cookies_sent;
    last_cookie_sent = ctx.now;
    if (ctx.tracer.enabled()) {
      SynCookieContents kept{kSynCookieMssTable[SynCookies::mss_index(mss)], options};
      ctx.tracer.note(ctx.now, &tuple,
                      "SYN cookie sent (RFC 4987 §3.6), no SYN-queue entry: " + describe(kept));
    }
    synack.payload = ctx.emit(tuple, synack);
    // No TCB, but both ISNs are known (the cookie is ours, the SYN's seq the peer's): the line
    // reads "S. 0:0(0) ack 1" like a SYN-ACK from the SYN queue, and so do the later lines of a
    // connection the cookie's ACK makes.
    if (ctx.tracer.enabled())
      ctx.tracer.segment(ctx.now, trace::SegmentEvent{trace::Direction::Out, tuple, synack, true, synack.seq,
                                                      syn.seq, "SYN cookie"});
  }

  // RFC 4987 §3.6: an ACK for no connection may be the end of a cookie handshake. True if it
  // was one (a connection now exists, or the full accept queue dropped it); false leaves it
  // to RFC 9293 §3.10.7.2 (RST).
  bool cookie_ack_arrives(Listener& l, const FourTuple& tuple, const wire::TcpSegment& seg) {
    using Mode = TcpConfig::SynCookieMode;
    if (config.syn_cookies == Mode::Never) return false;
    // In auto mode, only while a cookie we sent could still be valid: otherwise no ACK is
    // checked, so blind guessing of cookies gets nowhere when no flood is on.
    if (config.syn_cookies == Mode::Auto &&
        (!last_cookie_sent || ctx.now - *last_cookie_sent > kSynCookiePeriod * (kSynCookieMaxAge + 1)))
      return false;
    std::optional<uint32_t> tsecr;
    if (seg.options.timestamps) tsecr = seg.options.timestamps->echo_reply;
    auto checked = cookies.check(tuple, seg.seq - 1, seg.ack - 1, tsecr, ctx.now);
    if (!checked.contents) {
      ++stats.syn_cookies_rejected;
      if (ctx.tracer.enabled())
        ctx.tracer.note(ctx.now, &tuple,
                        "SYN cookie refused (RFC 4987 §3.6): " + std::string(checked.refusal));
      return false;
    }
    if (l.accept_queue.size() >= l.backlog) {
      // Like Linux: no connection and no answer; the client's retransmission (its request,
      // or the ACK again) may find room.
      trace_unconnected(trace::Direction::In, tuple, seg);
      ctx.drop(DropReason::TcpListenQueueFull, "accept queue full: ACK of a SYN cookie dropped");
      return true;
    }
    ++stats.syn_cookies_validated;
    if (ctx.tracer.enabled())
      ctx.tracer.note(ctx.now, &tuple,
                      "connection from a SYN cookie (RFC 4987 §3.6): " + describe(*checked.contents));
    auto owned = std::make_unique<Connection>(ctx, tuple, Connection::Origin::Passive);
    Connection* c = owned.get();
    connections.emplace(tuple, std::move(owned));
    c->open_from_cookie(seg, seg.ack - 1, *checked.contents);
    return true;
  }

  bool port_in_use(uint16_t port, wire::Ipv4Address remote, uint16_t remote_port) const {
    if (listeners.contains(port)) return true;
    return tuple_in_use(FourTuple{ctx.local_address, port, remote, remote_port});
  }
  bool tuple_in_use(const FourTuple& tuple) const {
    return connections.contains(tuple) || time_wait.contains(tuple);
  }
};

TcpHost::TcpHost(const TcpConfig& config, wire::Ipv4Address local_address, trace::Tracer& tracer,
                 Outbox& outbox, DropCounters& drops)
    : impl_(std::make_unique<Impl>(config, local_address, tracer, outbox, drops)) {}

TcpHost::~TcpHost() = default;

void TcpHost::packet_arrives(const wire::Ipv4Packet& packet, Instant now, bool verify_checksum) {
  Impl& h = *impl_;
  h.ctx.now = now;
  h.ctx.current_packet =
      wire::ConstBytes(packet.header_bytes.data(), packet.header_bytes.size() + packet.payload.size());
  h.reap();
  // RFC 9293 §3.1: checksum over the pseudo-header; malformed headers and options refused.
  // SYN+FIN is kept by the parser only so that syn_fin_arrives can look for its connection;
  // RST+FIN and SYN+RST are RSTs everywhere (RFC 9293 §3.10.7.2-4: the RST bit is checked
  // before the SYN and the FIN; drop_syn_fin_of_rst).
  auto parsed = wire::parse_tcp(packet.payload, packet.header.source, packet.header.destination,
                                verify_checksum, wire::FlagCheck::Host);
  if (!parsed) {
    h.ctx.drop(parsed.error(), parsed.detail());
    return;
  }
  const wire::TcpSegment& seg = parsed.value();
  FourTuple tuple{packet.header.destination, seg.destination_port, packet.header.source, seg.source_port};
  auto it = h.connections.find(tuple);
  TimeWaitRecord* record = it == h.connections.end() ? h.time_wait.find(tuple) : nullptr;
  if (seg.flags.syn && seg.flags.fin && !seg.flags.rst) {
    if (record != nullptr) {
      ++h.stats.segments_received;
      h.time_wait.illegal_syn_fin_arrives(*record, seg);
      return h.finish_entry();
    }
    h.syn_fin_arrives(it == h.connections.end() ? nullptr : it->second.get(), seg);
    return;
  }
  ++h.stats.segments_received;
  auto listener = h.listeners.find(seg.destination_port);
  // A full accept queue would drop the SYN: TIME-WAIT then answers it itself (a challenge ACK).
  bool reopenable = listener != h.listeners.end() && !h.accept_queue_full(listener->second);

  std::optional<Seq> reopened_snd_nxt;
  if (record != nullptr) {
    if (!reopens_time_wait(record->state, seg, record->rcv_nxt, record->timestamps, h.config.timestamps,
                           reopenable, now)) {
      h.time_wait.segment_arrives(*record, seg);
      return h.finish_entry();
    }
    if (h.ctx.tracer.enabled())
      h.ctx.tracer.note(now, &tuple, "new SYN reopens a TIME-WAIT connection (RFC 9293 §3.6.1)");
    reopened_snd_nxt = record->snd_nxt;
    h.reopened[tuple] = *record;
    h.time_wait.discard(*record);
  } else if (it != h.connections.end() && !it->second->finished()) {
    Connection& c = *it->second;
    // A TIME-WAIT connection whose application has not read all it was sent is still its
    // socket: a SYN gets the TIME-WAIT answer, not a new connection in its place.
    bool reopen =
        !c.held_by_application() && reopens_time_wait(c.state(), seg, c.tcb().rcv_nxt, c.timestamps(),
                                                      h.config.timestamps, reopenable, now);
    if (!reopen) {
      c.segment_arrives(seg);
      h.hold_compactly(c);
      h.finish_entry();
      return;
    }
    if (h.ctx.tracer.enabled())
      h.ctx.tracer.note(now, &tuple, "new SYN reopens a TIME-WAIT connection (RFC 9293 §3.6.1)");
    reopened_snd_nxt = c.tcb().snd_nxt;
    auto kept = c.time_wait_for_reopen();
    c.discard(kReopenRule);
    h.reap();
    if (kept) h.reopened[tuple] = *kept;  // after reap(), which would end it with the old connection
  }
  if (listener != h.listeners.end()) {
    h.listen_arrives(listener->second, tuple, seg, reopened_snd_nxt);
  } else {
    h.closed_arrives(tuple, seg);
  }
  h.finish_entry();
}

void TcpHost::fragmentation_needed(const wire::IcmpQuote& quote, uint16_t next_hop_mtu,
                                   wire::ConstBytes packet, Instant now) {
  Impl& h = *impl_;
  const FourTuple tuple = h.enter_for_icmp(quote, packet, now);
  if (TimeWaitRecord* record = h.time_wait.find(tuple)) {
    h.time_wait.icmp_error_arrives(*record, "fragmentation needed");
  } else if (Connection* c = h.live_connection(tuple)) {
    c->fragmentation_needed(Seq(quote.tcp_seq), next_hop_mtu, quote.total_length);
  } else {
    h.ctx.drop(DropReason::IcmpNoConnection, "fragmentation needed for no connection");
  }
  h.finish_entry();
}

void TcpHost::icmp_error(const wire::IcmpQuote& quote, uint8_t type, uint8_t code, wire::Ipv4Address from,
                         wire::ConstBytes packet, Instant now) {
  Impl& h = *impl_;
  const FourTuple tuple = h.enter_for_icmp(quote, packet, now);
  const std::string_view what = icmp_error_kind(type);
  if (TimeWaitRecord* record = h.time_wait.find(tuple)) {
    h.time_wait.icmp_error_arrives(*record, what);
  } else if (Connection* c = h.live_connection(tuple)) {
    c->icmp_error(Seq(quote.tcp_seq), type, code, from);
  } else {
    h.ctx.drop(DropReason::IcmpNoConnection, "ICMP error for no connection");
  }
  h.finish_entry();
}

void TcpHost::advance(Instant now) {
  Impl& h = *impl_;
  h.ctx.now = now;
  h.reap();
  // Records leave in order of expiry: O(1) each, however many there are.
  h.time_wait.expire();
  // Collect first: timers may open connections (application callbacks) and so change the map.
  h.due.clear();
  for (h.settle_timers(); h.ctx.timers.top() && h.ctx.timers.top()->deadline <= now; h.settle_timers()) {
    Connection* c = h.connections.find(h.ctx.timers.top()->tuple)->second.get();  // exact after settle
    h.ctx.timers.pop();
    c->timer_entry_removed();
    h.due.push_back(c);
  }
  h.compact_scratch.clear();
  for (Connection* c : h.due) {
    if (!c->finished()) c->on_timers();
    // Timers armed before and not yet due need their entry back.
    if (!c->finished()) c->queue_timers();
    // A timer that fired (a delayed ACK, a keep-alive's last no-op) may have been all that
    // kept a released FIN-WAIT-2 connection whole.
    if (!c->finished()) h.compact_scratch.push_back(c->tuple());
  }
  for (const FourTuple& tuple : h.compact_scratch) h.hold_compactly(tuple);
  h.finish_entry();
}

uint64_t TcpHost::abort_all(Instant now) {
  Impl& h = *impl_;
  h.ctx.now = now;
  h.reap();
  // Collect first: abort() calls the application back, which may touch the map.
  h.due.clear();
  for (auto& [tuple, c] : h.connections)
    if (!c->finished()) h.due.push_back(c.get());
  const uint64_t resets_before = h.stats.resets_sent;
  for (Connection* c : h.due)
    if (!c->finished()) c->abort();
  h.finish_entry();
  return h.stats.resets_sent - resets_before;
}

bool TcpHost::abort_time_wait(const FourTuple& tuple, Instant now) {
  Impl& h = *impl_;
  h.ctx.now = now;
  h.reap();
  bool deleted = false;
  TimeWaitRecord* record = h.time_wait.find(tuple);
  if (record != nullptr && record->state == State::TimeWait) {
    h.time_wait.abort(*record);
    deleted = true;
  } else if (Connection* c = h.live_connection(tuple); c != nullptr && c->state() == State::TimeWait) {
    c->abort();
    deleted = true;
  }
  h.finish_entry();
  return deleted;
}

void TcpHost::finish_turn() {
  Impl& h = *impl_;
  if (h.ctx.acks_at_turn_end.empty()) return;
  h.turn_end_ack_scratch.swap(h.ctx.acks_at_turn_end);
  for (const FourTuple& tuple : h.turn_end_ack_scratch) {
    auto it = h.connections.find(tuple);
    if (it == h.connections.end() || it->second->finished()) continue;
    Connection& c = *it->second;
    c.send_turn_end_ack();
    // That ACK (and its delayed-ACK timer, now cancelled) may have been all that kept a
    // released FIN-WAIT-2 connection whole.
    if (!c.finished()) h.hold_compactly(c);
  }
  h.turn_end_ack_scratch.clear();
  h.finish_entry();
}

std::optional<Instant> TcpHost::next_deadline() const {
  // The queue is tidied here too (impl_ is not const), so the answer is exact, not early.
  impl_->settle_timers();
  const TimerQueue::Entry* head = impl_->ctx.timers.top();
  std::optional<Instant> record = impl_->time_wait.next_expiry();
  if (!head) return record;
  if (record && *record < head->deadline) return record;
  return head->deadline;
}

bool TcpHost::listen(uint16_t port, AcceptHandler* handler, size_t backlog) {
  Impl& h = *impl_;
  if (port == 0 || h.listeners.contains(port)) return false;
  Listener l;
  l.port = port;
  l.handler = handler;
  l.backlog = backlog == 0 ? h.config.backlog : backlog;
  h.listeners.emplace(port, std::move(l));
  return true;
}

bool TcpHost::stop_listening(uint16_t port, Instant now) {
  Impl& h = *impl_;
  h.ctx.now = now;
  h.reap();
  auto it = h.listeners.find(port);
  if (it == h.listeners.end()) return false;
  // Collect first: the listener goes before its children are aborted, so none of them can be
  // queued for accept again on the way.
  std::vector<Connection*> children(it->second.syn_queue.begin(), it->second.syn_queue.end());
  children.insert(children.end(), it->second.accept_queue.begin(), it->second.accept_queue.end());
  h.listeners.erase(it);
  if (h.ctx.tracer.enabled())
    h.ctx.tracer.note(now, nullptr,
                      "listener on port " + std::to_string(port) +
                          " closed (RFC 9293 §3.10.4 CLOSE in LISTEN), " + std::to_string(children.size()) +
                          " not yet accepted reset");
  for (Connection* c : children)
    if (!c->finished()) c->abort();
  h.finish_entry();
  return true;
}

Socket* TcpHost::accept(uint16_t port) {
  auto it = impl_->listeners.find(port);
  if (it == impl_->listeners.end()) return nullptr;
  auto& queue = it->second.accept_queue;
  while (!queue.empty()) {
    Connection* c = queue.front();
    queue.pop_front();
    // One that was reset while waiting is skipped; reap() destroys it later.
    if (!c->finished() && c->state() != State::Closed) return c;
  }
  return nullptr;
}

Socket* TcpHost::connect(wire::Ipv4Address remote, uint16_t remote_port, SocketHandler* handler,
                         uint16_t local_port) {
  Impl& h = *impl_;
  if (local_port == 0) {
    // Try each ephemeral port at most once.
    for (int tries = 0; tries <= kEphemeralLast - kEphemeralFirst; ++tries) {
      uint16_t candidate = h.next_ephemeral;
      h.next_ephemeral = candidate == kEphemeralLast ? kEphemeralFirst : candidate + 1;
      if (!h.port_in_use(candidate, remote, remote_port)) {
        local_port = candidate;
        break;
      }
    }
    if (local_port == 0) return nullptr;
  } else if (h.tuple_in_use(FourTuple{h.ctx.local_address, local_port, remote, remote_port})) {
    return nullptr;
  }
  FourTuple tuple{h.ctx.local_address, local_port, remote, remote_port};
  auto owned = std::make_unique<Connection>(h.ctx, tuple, Connection::Origin::Active);
  Connection* c = owned.get();
  h.connections.emplace(tuple, std::move(owned));
  c->open_active();  // first: a handler attached to a CLOSED TCB would see it as finished
  c->set_handler(handler);
  return c;
}

std::vector<ConnectionInfo> TcpHost::connections() const {
  std::vector<ConnectionInfo> out;
  out.reserve(impl_->connections.size() + impl_->time_wait.size());
  for (const auto& [tuple, c] : impl_->connections) {
    if (!c->finished()) out.push_back(c->info());
  }
  impl_->time_wait.append_info(out);
  return out;
}

std::optional<TcbSnapshot> TcpHost::snapshot(const FourTuple& tuple) const {
  if (const TimeWaitRecord* record = impl_->time_wait.find(tuple)) return TimeWaitTable::snapshot(*record);
  auto it = impl_->connections.find(tuple);
  if (it == impl_->connections.end() || it->second->finished()) return std::nullopt;
  return it->second->snapshot();
}

const TcpStats& TcpHost::stats() const { return impl_->stats; }
const DropCounters& TcpHost::drops() const { return impl_->ctx.drops; }
const TcpConfig& TcpHost::config() const { return impl_->config; }
void TcpHost::set_checksum_fill(wire::TcpChecksumFill fill) { impl_->ctx.checksum_fill = fill; }
wire::TcpChecksumFill TcpHost::checksum_fill() const { return impl_->ctx.checksum_fill; }

}  // namespace tcplab::tcp
