// Field-by-field dumps of IPv4, ICMP and TCP headers, one "name: value" line per field, for
// the verbose trace and for students comparing a packet with the RFC's header diagram.
#pragma once
#include <string>

#include "stack/wire/bytes.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::wire {

// Each function appends lines of the form "  <layer>.<field>: <value>\n" (indent then the
// field name in RFC terms), so the output of several calls reads as one block.
void dump_ipv4_header(const Ipv4Header& header, std::string& out);
void dump_icmp(const IcmpMessage& message, std::string& out);
// Shows the data offset emit_tcp would write; the checksum is not part of TcpSegment (parse
// verifies it, emit computes it), so only dump_packet shows it, as read off the wire.
void dump_tcp(const TcpSegment& segment, std::string& out);

// A whole IPv4 datagram, every layer it can parse. Safe on any bytes: a layer that fails
// to parse prints its drop reason ("  ipv4: refused (ipv4-bad-checksum)") and the first bytes.
std::string dump_packet(ConstBytes ip_datagram);

}  // namespace tcplab::wire
