// Segment emission into the outbox, and drop accounting, shared by host and connections.
#include "stack/tcp/host_context.hpp"

#include <string>

#include "stack/text/note_buffer.hpp"

namespace tcplab::tcp {

void HostContext::drop(DropReason reason, std::string_view detail) {
  drops.count(reason);
  if (tracer.enabled()) tracer.drop(now, reason, current_packet, detail);
}

void HostContext::drop_quote_not_in_flight(std::string_view what) {
  // The detail is only words for the trace: forged errors are dropped without building it.
  text::NoteBuffer detail;
  drop(DropReason::IcmpSeqNotInFlight,
       tracer.enabled() ? detail.format("%.*s: quoted SEG.SEQ not in SND.UNA..SND.NXT (RFC 5927 §4.1)",
                                        static_cast<int>(what.size()), what.data())
                        : std::string_view());
}

wire::ConstBytes HostContext::emit(const FourTuple& tuple, wire::TcpSegment segment, const SendBuffer* data,
                                   size_t offset, size_t length, bool dont_fragment) {
  constexpr size_t kIp = wire::kIpv4MinHeaderLength;
  auto& buffer = outbox.start_packet();
  // The outbox reuses its buffers as they were left, so after warm-up this resize neither
  // allocates nor zero-fills; every byte kept below is written by emit_tcp.
  buffer.resize(kIp + wire::kTcpMaxHeaderLength + length);
  wire::MutableBytes all(buffer);
  if (data != nullptr && length > 0) {
    // Put the payload where emit_tcp will want it; emit_tcp's move onto itself is a no-op.
    auto at = all.subspan(kIp + wire::kTcpMinHeaderLength + segment.options.emitted_length(), length);
    data->copy_out(offset, at);
    segment.payload = at;
  }
  size_t tcp_length =
      wire::emit_tcp(segment, local_address, tuple.remote_ip, all.subspan(kIp), checksum_fill);
  buffer.resize(kIp + tcp_length);

  wire::Ipv4Header header;
  // RFC 1191: DF on every segment, so a router with a smaller next hop says so (path MTU
  // discovery). RFC 6864 §4.1: with DF set the identification has no meaning; a counter
  // still helps students tell packets apart in a capture (and serves when DF is off).
  header.identification = ip_identification++;
  header.dont_fragment = dont_fragment;
  header.ttl = config.ttl;
  header.protocol = static_cast<uint8_t>(wire::IpProtocol::Tcp);
  header.source = local_address;
  header.destination = tuple.remote_ip;
  wire::emit_ipv4_header(header, tcp_length, wire::MutableBytes(buffer));
  ++stats.segments_sent;
  return segment.payload;
}

void HostContext::note_window_scale_above_14(const FourTuple& tuple, uint8_t shift) {
  if (shift <= 14 || !tracer.enabled()) return;
  tracer.note(now, &tuple,
              "window scale " + std::to_string(shift) + " above 14: taken as 14 (RFC 7323 §2.3)");
}

}  // namespace tcplab::tcp
