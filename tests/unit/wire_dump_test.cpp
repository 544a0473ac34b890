// Tests for stack/wire/dump: every header field appears, named, with its value.
#include <doctest/doctest.h>

#include "stack/wire/dump.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;
using namespace tcplab::wire;
using tcplab::wire::test::hex;

namespace {
bool has_line(const std::string& dump, const std::string& text) {
  return dump.find("  " + text + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("dump: the golden Linux SYN, field by field") {
  auto p = hex(test::kLinuxSyn);
  std::string d = dump_packet(p);
  CAPTURE(d);
  CHECK(d.rfind("IPv4 datagram, 60 bytes\n", 0) == 0);
  CHECK(has_line(d, "ipv4.version: 4"));
  CHECK(has_line(d, "ipv4.ihl: 5 (20 bytes)"));
  CHECK(has_line(d, "ipv4.total_length: 60"));
  CHECK(has_line(d, "ipv4.identification: 0x8442 (33858)"));
  CHECK(has_line(d, "ipv4.flags: DF"));
  CHECK(has_line(d, "ipv4.ttl: 64"));
  CHECK(has_line(d, "ipv4.protocol: 6 (TCP)"));
  CHECK(has_line(d, "ipv4.header_checksum: 0x3276"));
  CHECK(has_line(d, "ipv4.source: 192.0.2.1"));
  CHECK(has_line(d, "ipv4.destination: 192.0.2.2"));
  CHECK(has_line(d, "tcp.source_port: 36270"));
  CHECK(has_line(d, "tcp.destination_port: 80"));
  CHECK(has_line(d, "tcp.sequence_number: 536770131"));
  CHECK(has_line(d, "tcp.acknowledgment_number: 0"));
  CHECK(has_line(d, "tcp.data_offset: 10 (40 bytes)"));
  CHECK(has_line(d, "tcp.flags: 0x02 [S]"));
  CHECK(has_line(d, "tcp.window: 64240"));
  CHECK(has_line(d, "tcp.checksum: 0x3cd1 (verified)"));
  CHECK(has_line(d, "tcp.options: <mss 1460,sackOK,TS val 2056514899 ecr 0,nop,wscale 10>"));
  CHECK(has_line(d, "tcp.data: 0 bytes"));
  CHECK(has_line(d, "tcp.seg_len: 1"));
  // One field per line: every line after the title is indented "  name: value".
  size_t lines = 0;
  for (size_t at = d.find('\n'); at + 1 < d.size(); at = d.find('\n', at + 1)) {
    ++lines;
    CHECK(d.compare(at + 1, 2, "  ") == 0);
  }
  CHECK(lines == 24);  // 12 IPv4 fields (no options) + 12 TCP fields
}

TEST_CASE("dump: ping request") {
  auto p = hex(test::kPingRequest);
  std::string d = dump_packet(p);
  CAPTURE(d);
  CHECK(has_line(d, "ipv4.protocol: 1 (ICMP)"));
  CHECK(has_line(d, "icmp.type: 8 (echo request)"));
  CHECK(has_line(d, "icmp.code: 0"));
  CHECK(has_line(d, "icmp.checksum: 0x8a13"));
  CHECK(has_line(d, "icmp.identifier: 8192"));
  CHECK(has_line(d, "icmp.sequence: 1"));
  CHECK(has_line(d, "icmp.data: 56 bytes"));
}

TEST_CASE("dump: refused layers show their drop reason and raw bytes") {
  auto p = hex(test::kLinuxSyn);
  auto bad_ip = p;
  bad_ip[8] = std::byte{1};  // TTL changed, header checksum now wrong
  std::string d = dump_packet(bad_ip);
  CHECK(has_line(d, "ipv4: refused (ipv4-bad-checksum)"));
  CHECK(d.find("  raw: 45 00 00 3c 84 42") != std::string::npos);

  auto bad_tcp = p;
  bad_tcp[59] = std::byte{9};  // wscale 9: TCP checksum now wrong
  d = dump_packet(bad_tcp);
  CHECK(has_line(d, "ipv4.ttl: 64"));
  CHECK(has_line(d, "tcp: refused (tcp-bad-checksum)"));

  CHECK(has_line(dump_packet({}), "ipv4: refused (ipv4-truncated)"));
}

TEST_CASE("dump: an emitted segment shows the data offset emit would write") {
  TcpSegment s;
  s.source_port = 80;
  s.destination_port = 40000;
  s.flags = TcpFlags::from_byte(0x12);
  s.options.mss = 1460;
  s.options.window_scale = 7;
  std::string d;
  dump_tcp(s, d);
  CAPTURE(d);
  CHECK(has_line(d, "tcp.flags: 0x12 [S.]"));
  CHECK(has_line(d, "tcp.data_offset: 7 (28 bytes)"));
  CHECK(has_line(d, "tcp.options: <mss 1460,nop,wscale 7>"));
  CHECK(d.find("tcp.checksum") == std::string::npos);
}
