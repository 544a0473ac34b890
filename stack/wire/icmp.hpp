// ICMP messages we read and write (RFC 792): echo request/reply and destination unreachable.
#pragma once
#include <cstdint>

#include "stack/wire/bytes.hpp"
#include "stack/wire/result.hpp"

namespace tcplab::wire {

enum class IcmpType : uint8_t {
  EchoReply = 0,
  DestinationUnreachable = 3,
  EchoRequest = 8,
  TimeExceeded = 11,
  ParameterProblem = 12,
};

// RFC 792 codes of destination unreachable; FragmentationNeeded carries the next-hop MTU in
// the low 16 bits of the "rest" word (RFC 1191 §4).
enum class UnreachableCode : uint8_t { Protocol = 2, Port = 3, FragmentationNeeded = 4 };

struct IcmpMessage {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t checksum = 0;
  uint32_t rest = 0;  // identifier+sequence for echo; next-hop MTU for fragmentation needed
  ConstBytes body;    // echo payload, or the quoted IP header + 8 bytes
  uint16_t identifier() const { return static_cast<uint16_t>(rest >> 16); }
  uint16_t sequence() const { return static_cast<uint16_t>(rest & 0xffff); }
};

// Verifies length (>= 8) and checksum.
Parsed<IcmpMessage> parse_icmp(ConstBytes bytes);

// Writes header + body with a correct checksum; returns 8 + body.size(). out must be big enough.
size_t emit_icmp(uint8_t type, uint8_t code, uint32_t rest, ConstBytes body, MutableBytes out);

}  // namespace tcplab::wire
