// Every reason the stack refuses a packet, in one list, so each drop is named in the trace
// and counted (architecture rule 1 and "bad input gets a clear, counted refusal").
// Add new reasons at the end of their group and give them a name in drop_reason.cpp.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcplab {

enum class DropReason : uint8_t {
  // IPv4 (RFC 791, RFC 1122 §3.2.1)
  Ipv4Truncated,        // fewer than 20 bytes
  Ipv4BadVersion,       // version field is not 4
  Ipv4BadHeaderLength,  // IHL < 5 or header longer than the packet
  Ipv4BadTotalLength,   // total length > bytes read, or < header length
  Ipv4BadChecksum,      // header checksum does not verify
  Ipv4NotForUs,         // destination is not the stack's address
  Ipv4BadSource,        // source is broadcast/multicast/ours (RFC 1122 §3.2.1.3)
  Ipv4BadOption,        // an option's length is < 2 or runs past the header (RFC 791 §3.1)
  // IPv4 reassembly (RFC 791 §3.2, RFC 815; stack/ip/reassembly.hpp)
  FragmentBadLength,   // empty, or not a multiple of 8 bytes though more fragments follow
  FragmentTooBig,      // would end past the 65,535-byte limit of a datagram
  FragmentOverlap,     // overlaps another fragment or the end: the whole datagram is dropped
  FragmentDuplicate,   // exactly a fragment already held (the copy is dropped, not the datagram)
  FragmentNoRoom,      // too many datagrams, fragments or bytes held already
  FragmentTimeout,     // a datagram not complete within the reassembly timeout
  // ICMP (RFC 792)
  IcmpTruncated,
  IcmpBadChecksum,
  IcmpUnhandledType,  // not an echo request: nothing to answer
  IcmpBadQuote,       // an error whose quote is too short, not IPv4, or not about our TCP
  IcmpNoConnection,   // an error about a 4-tuple we have no connection for
  IcmpSeqNotInFlight,  // its quoted SEG.SEQ is outside SND.UNA..SND.NXT (RFC 5927 §4.1)
  IcmpSoftError,       // unreachable that does not abort the connection (RFC 1122 §4.2.3.9)
  // UDP (RFC 768, RFC 1122 §4.1.3.4): only a well-formed datagram gets port unreachable
  UdpTruncated,    // shorter than its 8-byte header, or than its length field says
  UdpBadLength,    // a length field below 8
  UdpBadChecksum,  // a non-zero checksum that does not verify: silently discarded
  // TCP wire (RFC 9293 §3.1)
  TcpTruncated,
  TcpBadDataOffset,
  TcpBadChecksum,
  TcpBadOption,  // option length < 2, past the header, or wrong for its kind
  TcpBadFlags,   // SYN+FIN for no synchronized connection (one that is gets a challenge ACK)
  // TCP processing (RFC 9293 §3.10.7)
  TcpNoConnection,         // no listener, no TCB: answered with RST unless it was a RST
  TcpListenQueueFull,      // accept queue full: SYN dropped so the client retries
  TcpUnacceptableSegment,  // failed the §3.10.7.4 sequence check (an ACK is sent)
  TcpRstIgnored,           // RST outside the window (RFC 5961 §3.2)
  TcpAckUnacceptable,      // ACK of something never sent
  TcpOutOfOrderFull,       // reassembly queue full
  TcpNoAckFlag,            // synchronized state, segment without ACK (§3.10.7.4 fifth)
  TcpInvalidInState,       // anything else the RFC says to drop in this state
  TcpAckInListen,          // ACK to a listener: answered with RST (§3.10.7.2)
  TcpSynQueueEvicted,      // SYN queue full: the oldest half-open entry was dropped (RFC 4987)
  TcpTextIgnored,          // text after the peer's FIN or into a zero window, a FIN beyond a hole; ACK taken
  // Fault injection (stack/link) for labs
  FaultInjected,
  // ICMP errors not sent (RFC 1812 §4.3.2.8; stack/ip/icmp_rate_limit.hpp)
  IcmpErrorRateLimited,
  Count_  // keep last
};

constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::Count_);

// A short stable name: "ipv4-bad-checksum". Used in traces, JSON and /stats.
std::string_view to_string(DropReason reason);

// A counter per reason; printed at exit, on SIGUSR1 and in /stats.
class DropCounters {
 public:
  void count(DropReason reason, uint64_t n = 1) { counts_[static_cast<size_t>(reason)] += n; }
  uint64_t get(DropReason reason) const { return counts_[static_cast<size_t>(reason)]; }
  uint64_t total() const {
    uint64_t sum = 0;
    for (auto c : counts_) sum += c;
    return sum;
  }

 private:
  std::array<uint64_t, kDropReasonCount> counts_{};
};

}  // namespace tcplab
