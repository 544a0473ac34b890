// Tests for Stack::receive (stack/stack.cpp + stack/ip): hand-built packets in, outbox bytes
// and drop counters out. Replies are checked byte by byte against the RFC 792 layout.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/stack.hpp"
#include "tests/unit/ip_test_packets.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;
using namespace tcplab::ip::test;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_checksum;

namespace {

// Remembers every drop and note, so tests see what --trace would print.
struct RecordingSink : trace::Sink {
  std::vector<DropReason> drops;
  std::vector<std::string> details;  // one per drop, "" when it has none
  std::vector<std::string> notes;
  void drop(Instant, DropReason r, std::span<const std::byte>, std::string_view detail) override {
    drops.push_back(r);
    details.emplace_back(detail);
  }
  void note(Instant, const FourTuple*, std::string_view text) override { notes.emplace_back(text); }
};

struct Fixture {
  trace::Tracer tracer;
  RecordingSink sink;
  StackConfig config;
  Stack stack;
  explicit Fixture(StackConfig c = {}) : config(c), stack((tracer.add(&sink), c), tracer) {}

  std::vector<std::byte> only_reply() {
    REQUIRE(stack.outbox().size() == 1);
    auto p = stack.outbox().packet(0);
    return {p.begin(), p.end()};
  }
  void receive(const std::vector<std::byte>& p) { stack.receive(p, Instant{}); }
  uint64_t drops(DropReason r) const { return stack.drops().get(r); }
};

// Checks the IPv4 header of something the stack sent: RFC 791 layout, our address, TTL, and no
// DF (a reply cannot be resent smaller, so a router on a smaller path may fragment it).
void check_reply_header(std::span<const std::byte> r, uint32_t to, uint8_t ttl) {
  REQUIRE(r.size() >= 20);
  CHECK(static_cast<uint8_t>(r[0]) == 0x45);
  CHECK(get16(r, 2) == r.size());
  CHECK((get16(r, 6) & 0x4000) == 0);  // no DF
  CHECK((get16(r, 6) & 0x3fff) == 0);  // not a fragment
  CHECK(static_cast<uint8_t>(r[8]) == ttl);
  CHECK(static_cast<uint8_t>(r[9]) == 1);  // ICMP
  CHECK(get32(r, 12) == kStack);
  CHECK(get32(r, 16) == to);
  CHECK(naive_checksum(r.first(20)) == 0);
  CHECK(naive_checksum(r.subspan(20)) == 0);  // ICMP checksum covers the whole message
}

}  // namespace

TEST_CASE("ip: a captured ping request gets an echo reply with id, sequence and data intact") {
  Fixture f;
  auto request = hex(wire::test::kPingRequest);
  f.receive(request);
  auto reply = f.only_reply();
  REQUIRE(reply.size() == request.size());
  check_reply_header(reply, kHost, 64);
  CHECK(static_cast<uint8_t>(reply[20]) == 0);  // echo reply
  CHECK(static_cast<uint8_t>(reply[21]) == 0);
  // identifier, sequence and data are the request's, byte for byte (RFC 792).
  CHECK(std::equal(reply.begin() + 24, reply.end(), request.begin() + 24));
  CHECK(f.stack.ip_stats().echo_replies == 1);
  CHECK(f.stack.drops().total() == 0);
  REQUIRE(f.sink.notes.size() == 1);
  CHECK(f.sink.notes[0].find("echo reply to 192.0.2.1") != std::string::npos);
}

TEST_CASE("ip: TTL comes from the config and identification counts up") {
  StackConfig config;
  config.ttl = 17;
  Fixture f(config);
  auto echo = icmp_message(8, 0, 0xBEEF0001, pattern(10));
  f.receive(ipv4_packet({}, echo));
  f.receive(ipv4_packet({}, echo));
  REQUIRE(f.stack.outbox().size() == 2);
  auto a = f.stack.outbox().packet(0), b = f.stack.outbox().packet(1);
  check_reply_header(a, kHost, 17);
  CHECK(static_cast<uint16_t>(get16(b, 4) - get16(a, 4)) == 1);
  CHECK(get32(a, 24) == 0xBEEF0001);
}

TEST_CASE("ip: large and empty echo payloads; options skipped; trailing bytes ignored") {
  Fixture f;
  SUBCASE("1400 data bytes (ping -s 1400)") {
    auto data = pattern(1400, 7);
    f.receive(ipv4_packet({}, icmp_message(8, 0, 0x00010002, data)));
    auto r = f.only_reply();
    CHECK(r.size() == 20 + 8 + 1400);
    check_reply_header(r, kHost, 64);
    CHECK(std::equal(r.begin() + 28, r.end(), data.begin()));
  }
  SUBCASE("no data") {
    f.receive(ipv4_packet({}, icmp_message(8, 0, 0x00010002, {})));
    CHECK(f.only_reply().size() == 28);
  }
  SUBCASE("IP options are skipped: the reply has a plain 20-byte header") {
    PacketSpec spec;
    spec.options = {std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0}};  // NOP NOP NOP EOL
    f.receive(ipv4_packet(spec, icmp_message(8, 0, 5, pattern(4))));
    auto r = f.only_reply();
    CHECK(r.size() == 20 + 8 + 4);
    check_reply_header(r, kHost, 64);
  }
  SUBCASE("bytes after total length (link padding) are not echoed") {
    auto p = ipv4_packet({}, icmp_message(8, 0, 5, pattern(6)));
    p.insert(p.end(), 10, std::byte{0xEE});
    f.receive(p);
    auto r = f.only_reply();
    CHECK(r.size() == 20 + 8 + 6);
  }
}

TEST_CASE("ip: an echo request with a malformed IP option is dropped with the rule it broke, not answered") {
  auto options = [](std::initializer_list<uint8_t> bytes) {
    std::vector<std::byte> o;
    for (uint8_t b : bytes) o.push_back(std::byte{b});
    return o;
  };
  struct Case {
    const char* name;
    std::vector<std::byte> options;
    const char* detail;
  };
  for (const Case& c : {Case{"record route, length 0", options({7, 0, 4, 0}), "below 2"},
                        Case{"record route, length 1", options({7, 1, 4, 0}), "below 2"},
                        Case{"loose source route, length 255", options({131, 255, 4, 0}), "past the end"}}) {
    CAPTURE(c.name);
    Fixture f;
    PacketSpec spec;
    spec.options = c.options;
    f.receive(ipv4_packet(spec, icmp_message(8, 0, 5, pattern(4))));
    CHECK(f.stack.outbox().empty());
    CHECK(f.stack.ip_stats().echo_replies == 0);
    CHECK(f.drops(DropReason::Ipv4BadOption) == 1);
    REQUIRE(f.sink.details.size() == 1);
    CHECK(f.sink.details[0].find(c.detail) != std::string::npos);
  }
}

TEST_CASE("ip: the link prefix's broadcast and network addresses get no answer (RFC 1122 §3.2.1.3)") {
  StackConfig config;
  config.link_prefix = ip::Ipv4Cidr{wire::Ipv4Address{kHost}, 24};  // 192.0.2.1/24
  for (uint32_t source : {0xC00002FFu, 0xC0000200u}) {              // 192.0.2.255, 192.0.2.0
    CAPTURE(source);
    PacketSpec spec;
    spec.source = source;
    PacketSpec udp = spec;
    udp.protocol = 17;
    for (const auto& packet :
         {ipv4_packet(spec, icmp_message(8, 0, 1, pattern(4))), ipv4_packet(udp, pattern(8))}) {
      Fixture f(config);
      f.receive(packet);
      CHECK(f.stack.outbox().empty());  // no echo reply, no port unreachable
      CHECK(f.drops(DropReason::Ipv4BadSource) == 1);
      REQUIRE(f.sink.details.size() == 1);
      CHECK(f.sink.details[0].find("link's prefix") != std::string::npos);
    }
  }
  // A host of the prefix is answered as before.
  Fixture f(config);
  f.receive(ipv4_packet({}, icmp_message(8, 0, 1, pattern(4))));
  CHECK(f.stack.ip_stats().echo_replies == 1);
}

TEST_CASE("ip: every malformed packet is dropped with its reason, counted and traced") {
  struct Case {
    const char* name;
    DropReason reason;
    std::vector<std::byte> packet;
  };
  auto good = ipv4_packet({}, icmp_message(8, 0, 1, pattern(8)));
  auto with = [&](auto change) {
    auto p = good;
    change(p);
    return p;
  };
  auto refix = [](std::vector<std::byte>& p, size_t header) {
    put16(p, 10, 0);
    put16(p, 10, naive_checksum(std::span(p).first(header)));
  };
  PacketSpec fragment;
  fragment.flags_fragment = 0x2000;  // MF
  PacketSpec last_possible_fragment;
  last_possible_fragment.flags_fragment = 0x1fff;  // offset 65,528 bytes, no MF
  PacketSpec elsewhere;
  elsewhere.destination = 0xC0000203;
  PacketSpec multicast_source;
  multicast_source.source = 0xE0000001;
  PacketSpec broadcast_source;
  broadcast_source.source = 0xFFFFFFFF;
  PacketSpec loopback_source;
  loopback_source.source = 0x7F000001;
  PacketSpec own_source;
  own_source.source = kStack;
  PacketSpec zero_source;
  zero_source.source = 0;
  auto bad_icmp = icmp_message(8, 0, 1, pattern(8));
  bad_icmp[2] ^= std::byte{0xFF};

  std::vector<Case> cases = {
      {"truncated header", DropReason::Ipv4Truncated,
       std::vector<std::byte>(good.begin(), good.begin() + 19)},
      {"empty", DropReason::Ipv4Truncated, {}},
      {"version 6", DropReason::Ipv4BadVersion, with([&](auto& p) {
         p[0] = std::byte{0x65};
         refix(p, 20);
       })},
      {"IHL 4", DropReason::Ipv4BadHeaderLength, with([&](auto& p) {
         p[0] = std::byte{0x44};
         refix(p, 16);
       })},
      {"IHL past the packet", DropReason::Ipv4BadHeaderLength, with([&](auto& p) {
         p.resize(24);
         p[0] = std::byte{0x4F};
         put16(p, 2, 24);
       })},
      {"total length > bytes", DropReason::Ipv4BadTotalLength, with([&](auto& p) {
         put16(p, 2, static_cast<uint16_t>(p.size() + 1));
         refix(p, 20);
       })},
      {"total length < header", DropReason::Ipv4BadTotalLength, with([&](auto& p) {
         put16(p, 2, 19);
         refix(p, 20);
       })},
      {"bad checksum", DropReason::Ipv4BadChecksum, with([](auto& p) { p[10] ^= std::byte{1}; })},
      // Fragments refused on arrival (the rest of reassembly: ip_fragment_test.cpp).
      {"fragment of 12 bytes with more to follow", DropReason::FragmentBadLength,
       ipv4_packet(fragment, pattern(12))},
      {"empty fragment", DropReason::FragmentBadLength, ipv4_packet(fragment, {})},
      {"fragment ending past 65,535 bytes", DropReason::FragmentTooBig,
       ipv4_packet(last_possible_fragment, pattern(8))},
      {"wrong destination", DropReason::Ipv4NotForUs, ipv4_packet(elsewhere, icmp_message(8, 0, 1, {}))},
      {"multicast source", DropReason::Ipv4BadSource,
       ipv4_packet(multicast_source, icmp_message(8, 0, 1, {}))},
      {"broadcast source", DropReason::Ipv4BadSource,
       ipv4_packet(broadcast_source, icmp_message(8, 0, 1, {}))},
      {"loopback source", DropReason::Ipv4BadSource, ipv4_packet(loopback_source, icmp_message(8, 0, 1, {}))},
      {"our own address as source", DropReason::Ipv4BadSource,
       ipv4_packet(own_source, icmp_message(8, 0, 1, {}))},
      {"0.0.0.0 source", DropReason::Ipv4BadSource, ipv4_packet(zero_source, icmp_message(8, 0, 1, {}))},
      {"icmp bad checksum", DropReason::IcmpBadChecksum, ipv4_packet({}, bad_icmp)},
      {"icmp shorter than 8", DropReason::IcmpTruncated, ipv4_packet({}, pattern(4))},
      {"icmp echo reply", DropReason::IcmpUnhandledType, ipv4_packet({}, icmp_message(0, 0, 1, {}))},
      {"icmp timestamp request", DropReason::IcmpUnhandledType,
       ipv4_packet({}, icmp_message(13, 0, 1, pattern(12)))},
      // RFC 1122 §3.2.2: never an ICMP error about an ICMP error; this one quotes no packet
      // of ours (tcp_unreachable_test.cpp has those).
      {"icmp port unreachable", DropReason::IcmpBadQuote,
       ipv4_packet({}, icmp_message(3, 3, 0, pattern(28)))},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Fixture f;
    f.receive(c.packet);
    CHECK(f.stack.outbox().empty());
    CHECK(f.drops(c.reason) == 1);
    CHECK(f.stack.drops().total() == 1);
    REQUIRE(f.sink.drops.size() == 1);
    CHECK(f.sink.drops[0] == c.reason);
  }
}

TEST_CASE("ip: UDP gets port unreachable quoting the IP header and 8 bytes (RFC 792, RFC 1122 §3.2.2.1)") {
  PacketSpec spec;
  spec.protocol = 17;
  // An 8-byte UDP header and 30 bytes of data, with a checksum and without one (zero).
  for (bool with_checksum : {true, false}) {
    CAPTURE(with_checksum);
    Fixture f;
    auto datagram = ipv4_packet(spec, udp_datagram(spec, pattern(30, 0x40), with_checksum));
    f.receive(datagram);
    auto r = f.only_reply();
    check_reply_header(r, kHost, 64);
    REQUIRE(r.size() == 20 + 8 + 20 + 8);
    CHECK(static_cast<uint8_t>(r[20]) == 3);  // destination unreachable
    CHECK(static_cast<uint8_t>(r[21]) == 3);  // port
    CHECK(get32(r, 24) == 0);                 // unused
    CHECK(std::equal(r.begin() + 28, r.end(), datagram.begin()));
    CHECK(f.stack.ip_stats().unreachables_sent == 1);
    CHECK(f.stack.drops().total() == 0);
  }
}

TEST_CASE("ip: a malformed UDP datagram is dropped with its reason, never answered (RFC 1122 §4.1.3.4)") {
  PacketSpec spec;
  spec.protocol = 17;
  auto good = udp_datagram(spec, pattern(30, 0x40));
  auto with = [&](auto change) {
    auto d = good;
    change(d);
    return d;
  };
  struct Case {
    const char* name;
    DropReason reason;
    std::vector<std::byte> udp;
  };
  const Case cases[] = {
      {"shorter than the header", DropReason::UdpTruncated, pattern(7)},
      {"length field past the datagram", DropReason::UdpTruncated, with([](auto& d) { put16(d, 4, 39); })},
      {"length field below 8", DropReason::UdpBadLength, with([](auto& d) { put16(d, 4, 7); })},
      {"a wrong checksum", DropReason::UdpBadChecksum, with([](auto& d) { d[6] ^= std::byte{1}; })},
      {"a flipped data byte", DropReason::UdpBadChecksum, with([](auto& d) { d[20] ^= std::byte{0x80}; })},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Fixture f;
    f.receive(ipv4_packet(spec, c.udp));
    CHECK(f.stack.outbox().empty());
    CHECK(f.stack.ip_stats().unreachables_sent == 0);
    CHECK(f.drops(c.reason) == 1);
    CHECK(f.stack.drops().total() == 1);
    REQUIRE(f.sink.details.size() == 1);
    CHECK_FALSE(f.sink.details[0].empty());  // the trace line says which rule it broke
  }
}

TEST_CASE("ip: unknown protocol gets protocol unreachable; short payloads and options are quoted whole") {
  Fixture f;
  PacketSpec spec;
  spec.protocol = 253;  // RFC 3692 experimental
  spec.options = {std::byte{1}, std::byte{1}, std::byte{1}, std::byte{1}};
  auto datagram = ipv4_packet(spec, pattern(3));
  f.receive(datagram);
  auto r = f.only_reply();
  check_reply_header(r, kHost, 64);
  REQUIRE(r.size() == 20 + 8 + 24 + 3);
  CHECK(static_cast<uint8_t>(r[20]) == 3);
  CHECK(static_cast<uint8_t>(r[21]) == 2);  // protocol
  CHECK(std::equal(r.begin() + 28, r.end(), datagram.begin()));
}

TEST_CASE("ip: TCP goes to the TCP host, not to ICMP") {
  Fixture f;
  f.receive(hex(wire::test::kLinuxSyn));
  for (size_t i = 0; i < f.stack.outbox().size(); ++i) {
    CHECK(static_cast<uint8_t>(f.stack.outbox().packet(i)[9]) == 6);  // no ICMP answer
  }
  CHECK(f.drops(DropReason::Ipv4NotForUs) == 0);
  CHECK(f.stack.ip_stats().unreachables_sent == 0);
}

TEST_CASE("ip: the configured TTL also applies to TCP segments") {
  StackConfig config;
  config.ttl = 17;
  Fixture f(config);
  f.receive(hex(wire::test::kLinuxSyn));  // to a closed port: the TCP host answers with RST
  REQUIRE(f.stack.outbox().size() == 1);
  auto rst = f.stack.outbox().packet(0);
  CHECK(static_cast<uint8_t>(rst[9]) == 6);
  CHECK(static_cast<uint8_t>(rst[8]) == 17);
}

TEST_CASE("ip: the MSS never exceeds MTU - 40") {
  StackConfig config;
  config.mtu = 1000;
  config.tcp.mss = 1460;
  trace::Tracer tracer;
  Stack stack(config, tracer);
  CHECK(stack.config().tcp.mss == 960);
  CHECK(stack.tcp().config().mss == 960);
}
