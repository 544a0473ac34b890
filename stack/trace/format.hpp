// Formatting shared by the trace sinks: one segment in packetdrill/tcpdump terms with
// Wireshark-style relative numbers, endpoints in the direction of travel, packet summaries.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "stack/trace/trace.hpp"

namespace tcplab::trace {

// Sequence numbers as a reader of the trace sees them. With relative numbers (the default in
// Wireshark), seq counts from the sender's ISN and ack from the receiver's ISN, so a
// handshake reads "S 0:0(0)", "S. 0:0(0) ack 1", ". 1:1(0) ack 1".
struct SegmentNumbers {
  uint32_t seq = 0;           // first sequence number of the segment
  uint32_t end = 0;           // seq + payload bytes (packetdrill's seq:end(len))
  uint32_t len = 0;           // payload bytes
  uint32_t ack = 0;           // meaningful only when the ACK flag is set
  bool relative_seq = false;  // seq/end counted from the sender's ISN
  bool relative_ack = false;  // ack counted from the receiver's ISN
};

// Without known ISNs (e.relative false: a SYN arriving in LISTEN, a segment to a closed port)
// the numbers are absolute, except that a SYN's own sequence number is its sender's ISN
// (RFC 9293 §3.4), so a SYN always reads "S 0:0(0)", as in Wireshark. `absolute` prints the
// raw numbers on the wire instead (--absolute; Wireshark's "relative sequence numbers" off).
SegmentNumbers segment_numbers(const SegmentEvent& e, bool absolute = false);

// "192.0.2.1:40000 > 192.0.2.2:80": sender first, like tcpdump (In = remote sends to us).
std::string segment_endpoints(Direction direction, const FourTuple& tuple);

// "S. 0:0(0) ack 1 win 65535 <mss 1460,wscale 7>": the packetdrill line without time and
// direction. The note, if any, is not included.
std::string segment_summary(const SegmentEvent& e, bool absolute = false);

// A short description of a raw IPv4 packet for drop lines, robust to any bytes (the packet
// was dropped because something about it is wrong): "192.0.2.1:40000 > 192.0.2.2:80 tcp S
// seq 1234 len 0" when it parses, else "60 bytes: 45 00 00 3c ..." (at most 20 bytes shown).
std::string packet_summary(std::span<const std::byte> ipv4);

// "in" / "out"; text sinks capitalise.
const char* to_string(Direction direction);
// "armed" / "fired" / "cancelled".
const char* to_string(TimerAction action);

}  // namespace tcplab::trace
