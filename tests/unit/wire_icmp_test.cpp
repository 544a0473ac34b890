// Tests for stack/wire/icmp: parse checks and emit with checksum.
#include <doctest/doctest.h>

#include <array>

#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;
using namespace tcplab::wire;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_checksum;

TEST_CASE("icmp: golden echo request parses") {
  auto p = hex(test::kPingRequest);
  auto ip = parse_ipv4(p);
  REQUIRE(ip.ok());
  REQUIRE(naive_checksum(ip->payload) == 0);
  auto m = parse_icmp(ip->payload);
  REQUIRE(m.ok());
  CHECK(m->type == static_cast<uint8_t>(IcmpType::EchoRequest));
  CHECK(m->code == 0);
  CHECK(m->checksum == 0x8a13);
  CHECK(m->identifier() == 0x2000);
  CHECK(m->sequence() == 1);
  CHECK(m->body.size() == 56);
  CHECK(static_cast<int>(m->body[16]) == 0x01);
  CHECK(static_cast<int>(m->body[17]) == 0x02);
}

TEST_CASE("icmp: emitting the reply to the captured request matches Linux's reply") {
  auto req = hex(test::kPingReply);  // Linux's reply, used as the expected output
  auto ip = parse_ipv4(req);
  REQUIRE(ip.ok());
  auto m = parse_icmp(ip->payload);
  REQUIRE(m.ok());
  CHECK(m->type == 0);
  CHECK(m->identifier() == 0x1f02);
  std::vector<std::byte> out(8 + m->body.size());
  CHECK(emit_icmp(0, 0, m->rest, m->body, out) == out.size());
  CHECK(std::equal(out.begin(), out.end(), ip->payload.begin(), ip->payload.end()));
}

TEST_CASE("icmp: emit then parse round trip, odd body length") {
  std::vector<std::byte> body{std::byte{1}, std::byte{2}, std::byte{3}};
  std::vector<std::byte> out(11);
  REQUIRE(emit_icmp(8, 0, 0x12345678u, body, out) == 11);
  CHECK(naive_checksum(out) == 0);
  auto m = parse_icmp(out);
  REQUIRE(m.ok());
  CHECK(m->type == 8);
  CHECK(m->identifier() == 0x1234);
  CHECK(m->sequence() == 0x5678);
  CHECK(m->body.size() == 3);
  CHECK(static_cast<int>(m->body[2]) == 3);
}

TEST_CASE("icmp: in-place reply (body aliasing the output) stays intact") {
  auto p = hex(test::kPingRequest);
  std::span<std::byte> icmp = std::span(p).subspan(20);
  std::vector<std::byte> expected(icmp.begin() + 8, icmp.end());
  emit_icmp(0, 0, 0x20000001u, icmp.subspan(8), icmp);
  auto m = parse_icmp(icmp);
  REQUIRE(m.ok());
  CHECK(std::equal(expected.begin(), expected.end(), m->body.begin(), m->body.end()));
}

TEST_CASE("icmp: rejections") {
  auto p = hex(test::kPingRequest);
  std::vector<std::byte> icmp(p.begin() + 20, p.end());
  for (size_t n = 0; n < 8; ++n)
    CHECK(parse_icmp(std::span(icmp).first(n)).error() == DropReason::IcmpTruncated);
  auto bad = icmp;
  bad[40] ^= std::byte{0x10};  // a payload byte: the checksum covers the data too
  CHECK(parse_icmp(bad).error() == DropReason::IcmpBadChecksum);
  CHECK(parse_icmp(std::span(icmp).first(63)).error() == DropReason::IcmpBadChecksum);
}

TEST_CASE("icmp: golden Linux port unreachable parses, quotes the datagram, and emits back") {
  auto p = hex(test::kPortUnreachable);
  auto ip = parse_ipv4(p);
  REQUIRE(ip.ok());
  CHECK(ip->header.tos == 0xc0);  // Linux sends ICMP errors as DSCP CS6 (network control)
  CHECK_FALSE(ip->header.dont_fragment);
  REQUIRE(naive_checksum(ip->payload) == 0);
  auto m = parse_icmp(ip->payload);
  REQUIRE(m.ok());
  CHECK(m->type == static_cast<uint8_t>(IcmpType::DestinationUnreachable));
  CHECK(m->code == static_cast<uint8_t>(UnreachableCode::Port));
  CHECK(m->rest == 0u);
  // The body is the offending IPv4 datagram: it parses, and names the UDP port we refused.
  auto quoted = parse_ipv4(m->body);
  REQUIRE(quoted.ok());
  CHECK(quoted->header.protocol == static_cast<uint8_t>(IpProtocol::Udp));
  CHECK(quoted->header.source.to_string() == "192.0.2.1");
  CHECK(static_cast<int>(quoted->payload[2]) * 256 + static_cast<int>(quoted->payload[3]) == 9999);
  // Emitting type 3 code 3 with the same quote reproduces Linux's message byte for byte.
  std::vector<std::byte> out(8 + m->body.size());
  REQUIRE(emit_icmp(3, 3, 0, m->body, out) == out.size());
  CHECK(std::equal(out.begin(), out.end(), ip->payload.begin(), ip->payload.end()));
  // And the IPv4 header of the reply emits back byte for byte too.
  std::array<std::byte, 20> header{};
  emit_ipv4_header(ip->header, ip->payload.size(), header);
  CHECK(std::equal(header.begin(), header.end(), p.begin()));
}
