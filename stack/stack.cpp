// The sans-IO stack: IPv4 input (verify, check addresses, reassemble fragments), dispatch by
// protocol to ICMP and TCP, and the ICMP answers the IP layer gives itself (RFC 791, RFC 792,
// RFC 1122 §3.2), rate-limited when they are errors (RFC 1812 §4.3.2.8).
#include "stack/stack.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "stack/ip/icmp_responder.hpp"
#include "stack/ip/ipv4_input.hpp"
#include "stack/text/note_buffer.hpp"
#include "stack/wire/icmp_quote.hpp"
#include "stack/wire/udp.hpp"

namespace tcplab {
namespace {

// One source of truth for what both layers need: RFC 9293 §3.7.1 MSS = MTU - 20 (IPv4
// header) - 20 (TCP header), never more than the link carries whatever the TCP config says;
// and the TTL (--ttl) for TCP segments as for ICMP replies.
StackConfig consistent(StackConfig config) {
  constexpr uint16_t kHeaders = 40;
  if (config.mtu > kHeaders) config.tcp.mss = std::min<uint16_t>(config.tcp.mss, config.mtu - kHeaders);
  config.tcp.ttl = config.ttl;
  return config;
}

void append_address(char* out, size_t size, wire::Ipv4Address a) {
  std::snprintf(out, size, "%u.%u.%u.%u", a.value >> 24, (a.value >> 16) & 0xff, (a.value >> 8) & 0xff,
                a.value & 0xff);
}

}  // namespace

Stack::Stack(const StackConfig& config, trace::Tracer& tracer)
    : config_(consistent(config)),
      tracer_(tracer),
      tcp_(config_.tcp, config_.address, tracer_, outbox_, drops_),
      ip_output_(config_.address, config_.ttl, config_.mtu),
      reassembler_(config_.reassembly),
      icmp_error_limiter_(config_.icmp_errors) {}

void Stack::drop(DropReason reason, std::span<const std::byte> packet, Instant now, std::string_view detail,
                 uint64_t count) {
  drops_.count(reason, count);
  if (tracer_.enabled()) tracer_.drop(now, reason, packet, detail);
}

void Stack::count_sent(size_t packets) {
  ip_stats_.packets_sent += packets;
  if (packets > 1) ip_stats_.fragments_sent += packets;
}

void Stack::receive(std::span<const std::byte> packet, Instant now, TcpChecksum tcp_checksum) {
  ++ip_stats_.packets_received;
  // RFC 791 / RFC 1122 §3.2.1.1-3.2.1.8: version, header length, total length and checksum
  // are verified by the parser, and the options walked (RFC 791 §3.1); each failure is a
  // named reason, and a malformed option's detail names the rule it broke.
  auto parsed = wire::parse_ipv4(packet);
  if (!parsed) return drop(parsed.error(), packet, now, parsed.detail());
  const wire::Ipv4Packet& ip = parsed.value();
  // Addresses first: a fragment that is not for us is not ours to reassemble either.
  if (auto refusal = ip::check_addresses(ip.header, config_.address, config_.link_prefix))
    return drop(refusal->reason, packet, now, refusal->detail);
  // A reassembled datagram is verified whatever its fragments were.
  if (ip.header.is_fragment()) return fragment_arrives(ip, packet, now);
  datagram_arrives(ip, packet, now, tcp_checksum);
}

void Stack::fragment_arrives(const wire::Ipv4Packet& fragment, std::span<const std::byte> raw, Instant now) {
  // RFC 1122 §3.3.2: a host MUST reassemble. Only a whole datagram goes up, so no layer
  // above (nor an ICMP error, RFC 1122 §3.2.2) ever sees a non-initial fragment.
  ++ip_stats_.fragments_received;
  auto outcome = reassembler_.add(fragment, now);
  for (const auto& evicted : reassembler_.evicted()) {
    text::NoteBuffer note;
    drop(DropReason::FragmentNoRoom, {}, now,
         note.format("id %u protocol %u: %zu fragments (%zu bytes) of the oldest incomplete datagram "
                     "dropped to make room for a new one",
                     evicted.header.identification, evicted.header.protocol, evicted.fragments,
                     evicted.bytes),
         evicted.fragments);
  }
  using Kind = ip::Reassembler::Outcome::Kind;
  if (outcome.kind == Kind::Held) return;
  if (outcome.kind == Kind::Refused) {
    // The counter counts every fragment dropped; the trace has one line, which says so.
    std::string_view detail = outcome.detail;
    text::NoteBuffer with_held;
    if (outcome.fragments_dropped > 1 && tracer_.enabled()) {
      const size_t held = outcome.fragments_dropped - 1;
      detail = with_held.format("%.*s; %zu held fragment%s of the datagram dropped with it",
                                static_cast<int>(detail.size()), detail.data(), held, held == 1 ? "" : "s");
    }
    return drop(outcome.reason, raw, now, detail, outcome.fragments_dropped);
  }
  ++ip_stats_.datagrams_reassembled;
  auto whole = wire::parse_ipv4(outcome.datagram);
  if (!whole) return drop(whole.error(), outcome.datagram, now);  // cannot happen: we built it
  if (tracer_.enabled()) {
    text::NoteBuffer note;
    tracer_.note(now, nullptr,
                 note.format("reassembled datagram id %u, %zu bytes", whole->header.identification,
                             outcome.datagram.size()));
  }
  datagram_arrives(*whole, outcome.datagram, now);
}

void Stack::datagram_arrives(const wire::Ipv4Packet& ip, std::span<const std::byte> packet, Instant now,
                             TcpChecksum tcp_checksum) {
  switch (ip.header.protocol) {
    case static_cast<uint8_t>(wire::IpProtocol::Icmp):
      return icmp_arrives(ip, packet, now);
    case static_cast<uint8_t>(wire::IpProtocol::Tcp):
      return tcp_.packet_arrives(ip, now, tcp_checksum == TcpChecksum::Verify);
    case static_cast<uint8_t>(wire::IpProtocol::Udp): {
      // RFC 1122 §4.1.3.4: a datagram with a bad checksum is silently discarded, so only a
      // well-formed one is answered.
      auto udp = wire::parse_udp(ip.payload, ip.header.source, ip.header.destination);
      if (!udp) return drop(udp.error(), packet, now, udp.detail());
      // RFC 1122 §3.2.2.1: a host SHOULD send port unreachable when the transport protocol
      // has no listener; we have no UDP at all, so every port is closed.
      return send_unreachable(wire::UnreachableCode::Port, ip, packet, now);
    }
    default:
      // RFC 1122 §3.2.2.1: protocol unreachable when "the designated transport protocol is
      // not supported".
      return send_unreachable(wire::UnreachableCode::Protocol, ip, packet, now);
  }
}

void Stack::icmp_arrives(const wire::Ipv4Packet& ip, std::span<const std::byte> raw, Instant now) {
  auto parsed = wire::parse_icmp(ip.payload);
  if (!parsed) return drop(parsed.error(), raw, now);
  const wire::IcmpMessage& message = parsed.value();
  if (message.type == static_cast<uint8_t>(wire::IcmpType::DestinationUnreachable)) {
    if (message.code == static_cast<uint8_t>(wire::UnreachableCode::FragmentationNeeded))
      return fragmentation_needed_arrives(message, raw, now);
    return icmp_error_arrives(message, ip.header.source, raw, now);
  }
  // RFC 1122 §3.2.2.4 and §3.2.2.5: time exceeded and parameter problem "MUST be passed to the
  // transport layer" (TCP keeps them as soft errors, §4.2.3.9).
  if (message.type == static_cast<uint8_t>(wire::IcmpType::TimeExceeded) ||
      message.type == static_cast<uint8_t>(wire::IcmpType::ParameterProblem))
    return icmp_error_arrives(message, ip.header.source, raw, now);
  if (message.type != static_cast<uint8_t>(wire::IcmpType::EchoRequest)) {
    // RFC 1122 §3.2.2: never answer an ICMP error with an ICMP error, and echo is the only
    // query we serve; everything else (replies, timestamps, redirects...) is only counted.
    return drop(DropReason::IcmpUnhandledType, raw, now, "not an echo request");
  }
  // A reply bigger than the MTU (to a reassembled request) leaves in fragments.
  count_sent(ip_output_.send(outbox_, wire::IpProtocol::Icmp, ip.header.source,
                             ip::kIcmpHeaderLength + message.body.size(),
                             [&](wire::MutableBytes out) { return ip::build_echo_reply(message, out); }));
  ++ip_stats_.echo_replies;
  if (tracer_.enabled()) {
    char to[16];
    append_address(to, sizeof to, ip.header.source);
    text::NoteBuffer note;
    tracer_.note(now, nullptr,
                 note.format("icmp echo reply to %s id %u seq %u, %zu data bytes", to, message.identifier(),
                             message.sequence(), message.body.size()));
  }
}

// RFC 1191 §4: a router that had to fragment a datagram with DF set (every TCP segment of
// ours) says so with the next-hop MTU; the connection the quote names lowers its MSS. The
// quote must be of a TCP segment we sent; the rest (4-tuple, RFC 5927 §4.1's sequence
// check) is TCP's to judge. Never answered: it is an ICMP error (RFC 1122 §3.2.2).
void Stack::fragmentation_needed_arrives(const wire::IcmpMessage& message, std::span<const std::byte> raw,
                                         Instant now) {
  auto quote = quote_of_our_tcp(message, "fragmentation needed", raw, now);
  if (!quote) return;
  tcp_.fragmentation_needed(*quote, static_cast<uint16_t>(message.rest & 0xffff), raw, now);
}

// RFC 1122 §4.2.3.9: any other destination unreachable, time exceeded or parameter problem
// goes to the connection the quote names, which tells a hard error (protocol or port
// unreachable, for our SYN) from a soft one. Like fragmentation needed, the quote must be of a
// TCP segment we sent; never answered.
void Stack::icmp_error_arrives(const wire::IcmpMessage& message, wire::Ipv4Address from,
                               std::span<const std::byte> raw, Instant now) {
  auto quote = quote_of_our_tcp(message, tcp::icmp_error_kind(message.type), raw, now);
  if (!quote) return;
  tcp_.icmp_error(*quote, message.type, message.code, from, raw, now);
}

// The quote of an ICMP error, if it is of a TCP segment we sent (RFC 5927 §4.1 starts there);
// otherwise the error is dropped as icmp-bad-quote (or the quote's own reason), `what` naming it.
std::optional<wire::IcmpQuote> Stack::quote_of_our_tcp(const wire::IcmpMessage& message,
                                                       std::string_view what, std::span<const std::byte> raw,
                                                       Instant now) {
  auto quote = wire::parse_icmp_quote(message.body);
  text::NoteBuffer detail;
  if (!quote) {
    drop(quote.error(), raw, now,
         detail.format("%.*s: quote unreadable", static_cast<int>(what.size()), what.data()));
    return std::nullopt;
  }
  if (quote->source != config_.address || quote->protocol != static_cast<uint8_t>(wire::IpProtocol::Tcp)) {
    drop(DropReason::IcmpBadQuote, raw, now,
         detail.format("%.*s: not about a TCP segment of ours", static_cast<int>(what.size()), what.data()));
    return std::nullopt;
  }
  return *quote;
}

void Stack::send_unreachable(wire::UnreachableCode code, const wire::Ipv4Packet& ip,
                             std::span<const std::byte> raw, Instant now) {
  // The RFC 1122 §3.2.2 "MUST NOT send an ICMP error" cases are already gone by now: ICMP
  // errors never reach here, broadcast/multicast destinations failed check_addresses,
  // only whole datagrams get here (fragments are reassembled first), and sources that do not
  // name one host (the link prefix's broadcast among them) were refused as Ipv4BadSource.
  // RFC 1812 §4.3.2.8: the rate of ICMP errors is limited (a token bucket, icmp_rate_limit.hpp),
  // so a flood of bad packets is not answered with a flood of errors. The packet that would
  // have had the answer is counted as dropped for that reason.
  if (!icmp_error_limiter_.allow(now))
    return drop(
        DropReason::IcmpErrorRateLimited, raw, now,
        code == wire::UnreachableCode::Port ? "port unreachable not sent" : "protocol unreachable not sent");
  auto quote = ip::icmp_error_quote(raw, ip);
  count_sent(
      ip_output_.send(outbox_, wire::IpProtocol::Icmp, ip.header.source, ip::kIcmpHeaderLength + quote.size(),
                      [&](wire::MutableBytes out) { return ip::build_unreachable(code, quote, out); }));
  ++ip_stats_.unreachables_sent;
  if (tracer_.enabled()) {
    char to[16];
    append_address(to, sizeof to, ip.header.source);
    text::NoteBuffer note;
    tracer_.note(
        now, nullptr,
        note.format("icmp %s unreachable to %s (ip protocol %u)",
                    code == wire::UnreachableCode::Port ? "port" : "protocol", to, ip.header.protocol));
  }
}

void Stack::reassembly_timed_out(const ip::Reassembler::Expired& expired, Instant now) {
  // RFC 1122 §3.3.2: a datagram not complete within the reassembly timeout is dropped, all
  // its fragments counted, and if fragment zero had arrived the source SHOULD get an ICMP
  // time exceeded, code 1 (RFC 792) - an error, so rate-limited like the others.
  auto waited = std::chrono::duration_cast<seconds>(reassembler_.limits().timeout).count();
  text::NoteBuffer note;
  drop(DropReason::FragmentTimeout, {}, now,
       note.format("id %u protocol %u: %zu fragments (%zu bytes) incomplete after %llds",
                   expired.header.identification, expired.header.protocol, expired.fragments, expired.bytes,
                   static_cast<long long>(waited)),
       expired.fragments);
  if (expired.quote.empty()) return;
  if (!icmp_error_limiter_.allow(now))
    return drop(DropReason::IcmpErrorRateLimited, {}, now, "time exceeded (reassembly) not sent");
  count_sent(ip_output_.send(
      outbox_, wire::IpProtocol::Icmp, expired.header.source, ip::kIcmpHeaderLength + expired.quote.size(),
      [&](wire::MutableBytes out) { return ip::build_reassembly_time_exceeded(expired.quote, out); }));
  ++ip_stats_.time_exceeded_sent;
  if (tracer_.enabled()) {
    char to[16];
    append_address(to, sizeof to, expired.header.source);
    tracer_.note(
        now, nullptr,
        note.format("icmp time exceeded (reassembly) to %s, id %u", to, expired.header.identification));
  }
}

void Stack::advance(Instant now) {
  for (const auto& expired : reassembler_.expire(now)) reassembly_timed_out(expired, now);
  tcp_.advance(now);
}

void Stack::leave_tcp_checksums_to_link(bool on) {
  // A packet built one way and written the other would leave with a wrong checksum.
  assert(outbox_.empty() || on == tcp_checksums_left_to_link());
  tcp_.set_checksum_fill(on ? wire::TcpChecksumFill::LeftToLink : wire::TcpChecksumFill::Complete);
}

bool Stack::tcp_checksums_left_to_link() const {
  return tcp_.checksum_fill() == wire::TcpChecksumFill::LeftToLink;
}

std::optional<Instant> Stack::next_deadline() const {
  auto tcp = tcp_.next_deadline();
  auto fragments = reassembler_.next_deadline();
  if (!tcp) return fragments;
  if (!fragments) return tcp;
  return std::min(*tcp, *fragments);
}

}  // namespace tcplab
