// The datagram an ICMP error quotes (RFC 792: "Internet Header + 64 bits of Original Data
// Datagram"), read as far as a transport layer needs it to find its connection. The quote
// is cut short by design, so it is not a whole packet for parse_ipv4.
#pragma once
#include <cstdint>

#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/result.hpp"

namespace tcplab::wire {

struct IcmpQuote {
  Ipv4Address source;  // the sender of the quoted datagram: us, for an error about ours
  Ipv4Address destination;
  uint8_t protocol = 0;
  uint16_t total_length = 0;  // of the quoted datagram as it was sent (RFC 1191 §5 uses it)
  // The first 8 transport bytes: ports (TCP and UDP alike), and for TCP the SEG.SEQ.
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  uint32_t tcp_seq = 0;
};

// Needs version 4, a header length of at least 20 bytes within the quote, and 8 bytes of
// transport header after it; otherwise icmp-bad-quote.
Parsed<IcmpQuote> parse_icmp_quote(ConstBytes body);

}  // namespace tcplab::wire
