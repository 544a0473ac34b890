// Segment classification for targeted faults (see fault_classifier.hpp).
#include "stack/link/fault_classifier.hpp"

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::link {

SegmentClassifier::Connection& SegmentClassifier::lookup(const FourTuple& tuple, Instant now) {
  auto it = connections_.find(tuple);
  if (it != connections_.end()) return it->second;
  if (connections_.size() >= kMaxTrackedConnections) {
    // Bounded memory under a connection flood: forget connections idle for a while. A
    // forgotten connection that comes back is counted afresh.
    std::erase_if(connections_,
                  [&](const auto& entry) { return now - entry.second.last_seen >= kTrackedConnectionIdle; });
    if (connections_.size() >= kMaxTrackedConnections) connections_.clear();
  }
  return connections_[tuple];
}

SegmentClass SegmentClassifier::classify(trace::Direction direction, wire::ConstBytes ipv4, Instant now) {
  SegmentClass result;
  auto ip = wire::parse_ipv4(ipv4);
  if (!ip || ip->header.protocol != static_cast<uint8_t>(wire::IpProtocol::Tcp)) return result;
  // The checksum is the stack's and the kernel's business; we only need the header fields.
  auto seg = wire::parse_tcp(ip->payload, ip->header.source, ip->header.destination, false);
  if (!seg) return result;
  result.tcp = true;
  const bool in = direction == trace::Direction::In;
  result.tuple =
      in ? FourTuple{ip->header.destination, seg->destination_port, ip->header.source, seg->source_port}
         : FourTuple{ip->header.source, seg->source_port, ip->header.destination, seg->destination_port};
  Connection* c = &lookup(result.tuple, now);
  const auto& f = seg->flags;
  const bool syn_only = f.syn && !f.ack;
  Side* self = &c->sides[in ? 0 : 1];
  // A SYN with a new ISN on a known 4-tuple is a new incarnation of the connection (a port
  // reused after TIME-WAIT): count it from the start. A retransmitted SYN keeps counting.
  if (syn_only && self->syn_seq && *self->syn_seq != seg->seq) {
    connections_.erase(result.tuple);
    c = &lookup(result.tuple, now);
    self = &c->sides[in ? 0 : 1];
  }
  c->last_seen = now;
  const Side& other = c->sides[in ? 1 : 0];
  const bool has_data = !seg->payload.empty();
  const bool pure_ack = f.ack && !f.syn && !f.fin && !f.rst && !has_data;

  auto mark = [&](SegmentKind k) {
    auto i = static_cast<size_t>(k);
    result.nth[i] = ++self->count[i];
  };
  mark(SegmentKind::Any);
  if (syn_only) mark(SegmentKind::Syn);
  if (f.syn && f.ack) mark(SegmentKind::SynAck);
  if (pure_ack) mark(SegmentKind::Ack);
  // RFC 9293 §3.5: the third step of the handshake acknowledges the SYN-ACK's ISN + 1. Once
  // this side has sent data or a FIN, a pure ACK with that number is a window update instead.
  if (pure_ack && other.synack_end && seg->ack == *other.synack_end && !self->sent_data_or_fin)
    mark(SegmentKind::AckOfSynAck);
  if (has_data && !f.syn) mark(SegmentKind::Data);
  if (f.fin) mark(SegmentKind::Fin);
  if (f.rst) mark(SegmentKind::Rst);
  // RFC 9293 §3.6: a FIN occupies one sequence number; the ACK of it acknowledges FIN seq + 1.
  if (f.ack && !f.syn && !f.fin && !f.rst && other.fin_end && seg->ack == *other.fin_end)
    mark(SegmentKind::AckOfFin);

  if (f.syn) self->syn_seq = seg->seq;
  if (f.syn && f.ack) self->synack_end = seg->seq + 1;
  if (f.fin) self->fin_end = seg->seq + seg->length();
  if (has_data || f.fin) self->sent_data_or_fin = true;
  return result;
}

}  // namespace tcplab::link
