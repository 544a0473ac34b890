// Names for drop reasons, as shown in traces and /stats.
#include "stack/drop_reason.hpp"

namespace tcplab {

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::Ipv4Truncated:
      return "ipv4-truncated";
    case DropReason::Ipv4BadVersion:
      return "ipv4-bad-version";
    case DropReason::Ipv4BadHeaderLength:
      return "ipv4-bad-header-length";
    case DropReason::Ipv4BadTotalLength:
      return "ipv4-bad-total-length";
    case DropReason::Ipv4BadChecksum:
      return "ipv4-bad-checksum";
    case DropReason::Ipv4NotForUs:
      return "ipv4-not-for-us";
    case DropReason::Ipv4BadSource:
      return "ipv4-bad-source";
    case DropReason::Ipv4BadOption:
      return "ipv4-bad-option";
    case DropReason::FragmentBadLength:
      return "fragment-bad-length";
    case DropReason::FragmentTooBig:
      return "fragment-too-big";
    case DropReason::FragmentOverlap:
      return "fragment-overlap";
    case DropReason::FragmentDuplicate:
      return "fragment-duplicate";
    case DropReason::FragmentNoRoom:
      return "fragment-no-room";
    case DropReason::FragmentTimeout:
      return "fragment-timeout";
    case DropReason::IcmpTruncated:
      return "icmp-truncated";
    case DropReason::IcmpBadChecksum:
      return "icmp-bad-checksum";
    case DropReason::IcmpUnhandledType:
      return "icmp-unhandled-type";
    case DropReason::IcmpBadQuote:
      return "icmp-bad-quote";
    case DropReason::IcmpNoConnection:
      return "icmp-no-connection";
    case DropReason::IcmpSeqNotInFlight:
      return "icmp-seq-not-in-flight";
    case DropReason::IcmpSoftError:
      return "icmp-soft-error";
    case DropReason::UdpTruncated:
      return "udp-truncated";
    case DropReason::UdpBadLength:
      return "udp-bad-length";
    case DropReason::UdpBadChecksum:
      return "udp-bad-checksum";
    case DropReason::TcpTruncated:
      return "tcp-truncated";
    case DropReason::TcpBadDataOffset:
      return "tcp-bad-data-offset";
    case DropReason::TcpBadChecksum:
      return "tcp-bad-checksum";
    case DropReason::TcpBadOption:
      return "tcp-bad-option";
    case DropReason::TcpBadFlags:
      return "tcp-bad-flags";
    case DropReason::TcpNoConnection:
      return "tcp-no-connection";
    case DropReason::TcpListenQueueFull:
      return "tcp-listen-queue-full";
    case DropReason::TcpUnacceptableSegment:
      return "tcp-unacceptable-segment";
    case DropReason::TcpRstIgnored:
      return "tcp-rst-ignored";
    case DropReason::TcpAckUnacceptable:
      return "tcp-ack-unacceptable";
    case DropReason::TcpOutOfOrderFull:
      return "tcp-out-of-order-full";
    case DropReason::TcpNoAckFlag:
      return "tcp-no-ack-flag";
    case DropReason::TcpInvalidInState:
      return "tcp-invalid-in-state";
    case DropReason::TcpAckInListen:
      return "tcp-ack-in-listen";
    case DropReason::TcpSynQueueEvicted:
      return "tcp-syn-queue-evicted";
    case DropReason::TcpTextIgnored:
      return "tcp-text-ignored";
    case DropReason::FaultInjected:
      return "fault-injected";
    case DropReason::IcmpErrorRateLimited:
      return "icmp-error-rate-limited";
    case DropReason::Count_:
      break;
  }
  return "unknown";
}

}  // namespace tcplab
