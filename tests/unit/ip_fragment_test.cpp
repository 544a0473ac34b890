// Tests for IPv4 fragments (stack/ip/reassembly + stack/stack.cpp + stack/ip/ipv4_output):
// reassembly in and out of order, overlaps, duplicates, the timeout on the virtual clock,
// every memory limit, datagrams going up to ICMP, UDP and TCP, and echo replies fragmented
// at the MTU. Fragments are built byte by byte here, and replies are put back together by
// the test's own code, so neither side is checked with the code under test.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "stack/stack.hpp"
#include "stack/trace/format.hpp"
#include "tests/unit/ip_test_packets.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;
using namespace tcplab::ip::test;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_checksum;

namespace {

using Packet = std::vector<std::byte>;

struct DropSink : trace::Sink {
  std::vector<std::pair<DropReason, std::string>> drops;
  std::vector<std::string> notes;
  void drop(Instant, DropReason r, std::span<const std::byte>, std::string_view detail) override {
    drops.emplace_back(r, std::string(detail));
  }
  void note(Instant, const FourTuple*, std::string_view text) override { notes.emplace_back(text); }
};

struct Fixture {
  trace::Tracer tracer;
  DropSink sink;
  Stack stack;
  Instant now{};
  explicit Fixture(StackConfig c = {}) : stack((tracer.add(&sink), c), tracer) {}
  void receive(const Packet& p) { stack.receive(p, now); }
  uint64_t drops(DropReason r) const { return stack.drops().get(r); }
  std::vector<Packet> take() {
    std::vector<Packet> out;
    for (size_t i = 0; i < stack.outbox().size(); ++i) {
      auto p = stack.outbox().packet(i);
      out.emplace_back(p.begin(), p.end());
    }
    stack.outbox().clear();
    return out;
  }
};

// Cuts `payload` (a whole transport message) into fragments at the given byte offsets, in
// order; every piece but the last must be a multiple of 8 bytes for a valid set.
std::vector<Packet> fragments(const std::vector<std::byte>& payload, std::vector<size_t> cuts,
                              PacketSpec spec = {}) {
  std::vector<Packet> out;
  cuts.push_back(payload.size());
  size_t begin = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    size_t end = cuts[i];
    PacketSpec s = spec;
    bool last = i + 1 == cuts.size();
    s.flags_fragment = static_cast<uint16_t>((last ? 0 : 0x2000) | (begin / 8));
    out.push_back(ipv4_packet(s, std::span(payload).subspan(begin, end - begin)));
    begin = end;
  }
  return out;
}

// The test's own reassembly of what the stack sent: checks every fragment's header (RFC 791
// §3.2) and returns the datagram's payload.
struct Reassembled {
  std::vector<std::byte> payload;
  size_t fragments = 0;
};
Reassembled put_together(const std::vector<Packet>& packets, size_t mtu) {
  Reassembled r;
  REQUIRE(!packets.empty());
  uint16_t id = get16(packets[0], 4);
  bool seen_last = false;
  std::map<size_t, std::vector<std::byte>> pieces;
  for (const auto& p : packets) {
    CAPTURE(r.fragments);
    REQUIRE(p.size() >= 20);
    CHECK(p.size() <= mtu);
    CHECK(get16(p, 2) == p.size());
    CHECK(get16(p, 4) == id);            // one identification for all fragments
    CHECK((get16(p, 6) & 0x4000) == 0);  // DF clear: it was fragmented
    CHECK(naive_checksum(std::span(p).first(20)) == 0);
    bool more = (get16(p, 6) & 0x2000) != 0;
    size_t offset = size_t{get16(p, 6) & 0x1fffu} * 8;
    std::vector<std::byte> data(p.begin() + 20, p.end());
    if (more) CHECK(data.size() % 8 == 0);
    if (!more) seen_last = true;
    pieces[offset] = data;
    ++r.fragments;
  }
  CHECK(seen_last);
  for (const auto& [offset, data] : pieces) {
    REQUIRE(offset == r.payload.size());  // contiguous, no overlap
    r.payload.insert(r.payload.end(), data.begin(), data.end());
  }
  return r;
}

// An echo request (id 0x4242, sequence 7) with n bytes of data.
std::vector<std::byte> echo_request(size_t n) { return icmp_message(8, 0, 0x42420007, pattern(n, 3)); }

// Checks that `reply` is the echo reply to `request` (RFC 792): type 0, same rest, same data.
void check_echo_reply(const std::vector<std::byte>& reply, const std::vector<std::byte>& request) {
  REQUIRE(reply.size() == request.size());
  CHECK(static_cast<uint8_t>(reply[0]) == 0);
  CHECK(naive_checksum(reply) == 0);
  CHECK(std::equal(reply.begin() + 4, reply.end(), request.begin() + 4));
}

}  // namespace

TEST_CASE("fragments in order: the reassembled ping is answered, the reply fragmented at the MTU") {
  Fixture f;
  auto request = echo_request(4000);  // ping -s 4000: 4008 bytes of ICMP
  auto frags = fragments(request, {1480, 2960});
  for (size_t i = 0; i + 1 < frags.size(); ++i) {
    f.receive(frags[i]);
    CHECK(f.stack.outbox().empty());
  }
  f.receive(frags.back());
  auto out = f.take();
  REQUIRE(out.size() == 3);  // 4008 bytes of ICMP in 1480-byte pieces
  auto reply = put_together(out, 1500);
  check_echo_reply(reply.payload, request);
  CHECK(get16(out[0], 6) == 0x2000);          // MF, offset 0
  CHECK(get16(out[1], 6) == (0x2000 | 185));  // MF, offset 1480 / 8
  CHECK(get16(out[2], 6) == 370);             // last, offset 2960 / 8
  CHECK(f.stack.drops().total() == 0);
  CHECK(f.stack.ip_stats().fragments_received == 3);
  CHECK(f.stack.ip_stats().datagrams_reassembled == 1);
  CHECK(f.stack.ip_stats().fragments_sent == 3);
  CHECK(f.stack.ip_stats().echo_replies == 1);
  CHECK(std::any_of(f.sink.notes.begin(), f.sink.notes.end(), [](const std::string& n) {
    return n.find("reassembled datagram") != std::string::npos;
  }));
  CHECK_FALSE(f.stack.next_deadline().has_value());  // nothing held
}

TEST_CASE("fragments out of order, every order of four: the same answer") {
  auto request = echo_request(3000);
  auto frags = fragments(request, {800, 1600, 2400});
  std::vector<size_t> order = {0, 1, 2, 3};
  int orders = 0;
  do {
    CAPTURE(order[0] * 1000 + order[1] * 100 + order[2] * 10 + order[3]);
    Fixture f;
    for (size_t i : order) f.receive(frags[i]);
    auto reply = put_together(f.take(), 1500);
    check_echo_reply(reply.payload, request);
    CHECK(f.stack.drops().total() == 0);
    ++orders;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(orders == 24);
}

TEST_CASE("ping -s 8000 arrives as six fragments and is answered in six") {
  Fixture f;
  auto request = echo_request(8000);
  auto frags = fragments(request, {1480, 2960, 4440, 5920, 7400});
  std::reverse(frags.begin(), frags.end());
  for (const auto& p : frags) f.receive(p);
  auto out = f.take();
  CHECK(out.size() == 6);
  check_echo_reply(put_together(out, 1500).payload, request);
}

TEST_CASE("a reply is fragmented at the configured MTU in multiples of 8 bytes") {
  StackConfig config;
  config.mtu = 576;
  Fixture f(config);
  auto request = echo_request(1200);  // 1208 bytes: 552 + 552 + 104
  for (const auto& p : fragments(request, {552, 1104})) f.receive(p);
  auto out = f.take();
  REQUIRE(out.size() == 3);
  CHECK(out[0].size() == 20 + 552);  // (576 - 20) rounded down to a multiple of 8
  CHECK(out[2].size() == 20 + 104);
  check_echo_reply(put_together(out, 576).payload, request);
}

TEST_CASE("a reply that fits the MTU is one packet: not a fragment, and no DF") {
  Fixture f;
  auto request = echo_request(1472);  // 1480 bytes of ICMP: exactly 1500 with the header
  for (const auto& p : fragments(request, {800})) f.receive(p);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].size() == 1500);
  CHECK(get16(out[0], 6) == 0x0000);  // DF, MF and offset all clear: a router may still cut it
  check_echo_reply({out[0].begin() + 20, out[0].end()}, request);
  CHECK(f.stack.ip_stats().fragments_sent == 0);
}

TEST_CASE("overlapping fragments drop the whole datagram (RFC 5722's reasoning)") {
  auto request = echo_request(2000);
  auto frags = fragments(request, {1000});  // [0,1000) MF, [1000,2008)
  SUBCASE("a fragment that overlaps one held") {
    Fixture f;
    f.receive(frags[0]);
    PacketSpec spec;
    spec.flags_fragment = 0x2000 | (992 / 8);  // [992, 1008): 8 bytes over the first
    f.receive(ipv4_packet(spec, pattern(16)));
    CHECK(f.drops(DropReason::FragmentOverlap) == 2);  // the held fragment and the new one
    // One line in the trace for the two: it says the held one went too.
    REQUIRE(f.sink.drops.size() == 1);
    CHECK(f.sink.drops[0].second ==
          "overlaps a fragment already held; 1 held fragment of the datagram dropped with it");
    // The datagram is gone: its last fragment alone completes nothing.
    f.receive(frags[1]);
    CHECK(f.stack.outbox().empty());
    CHECK(f.stack.next_deadline().has_value());  // the last fragment waits, as a new datagram
  }
  SUBCASE("three held, then an overlap: four counted, one trace line naming the three") {
    auto three = fragments(echo_request(4000), {1000, 2000, 3000});
    Fixture f;
    for (size_t i = 0; i < 3; ++i) f.receive(three[i]);
    PacketSpec spec;
    spec.flags_fragment = 0x2000 | (1496 / 8);  // [1496, 1512): inside the second
    f.receive(ipv4_packet(spec, pattern(16)));
    CHECK(f.drops(DropReason::FragmentOverlap) == 4);
    REQUIRE(f.sink.drops.size() == 1);
    CHECK(f.sink.drops[0].second ==
          "overlaps a fragment already held; 3 held fragments of the datagram dropped with it");
  }
  SUBCASE("a fragment inside one held") {
    Fixture f;
    f.receive(frags[0]);
    PacketSpec spec;
    spec.flags_fragment = 0x2000 | 1;
    f.receive(ipv4_packet(spec, pattern(8)));
    CHECK(f.drops(DropReason::FragmentOverlap) == 2);
  }
  SUBCASE("data beyond the end the last fragment named") {
    Fixture f;
    f.receive(frags[1]);  // the end is 2008
    PacketSpec spec;
    spec.flags_fragment = 0x2000 | (2008 / 8);
    f.receive(ipv4_packet(spec, pattern(8)));
    CHECK(f.drops(DropReason::FragmentOverlap) == 2);
  }
  SUBCASE("two last fragments with different ends") {
    Fixture f;
    f.receive(frags[1]);
    PacketSpec spec;
    spec.flags_fragment = 1000 / 8;  // last again, but ending at 1016
    f.receive(ipv4_packet(spec, pattern(16)));
    CHECK(f.drops(DropReason::FragmentOverlap) == 2);
    CHECK(f.sink.drops[0].second ==
          "a second last fragment with another end; 1 held fragment of the datagram dropped with it");
  }
}

TEST_CASE("an exact copy of a held fragment is dropped alone; the datagram still completes") {
  Fixture f;
  auto request = echo_request(2000);
  auto frags = fragments(request, {1000});
  f.receive(frags[0]);
  f.receive(frags[0]);
  CHECK(f.drops(DropReason::FragmentDuplicate) == 1);
  f.receive(frags[1]);
  check_echo_reply(put_together(f.take(), 1500).payload, request);
}

TEST_CASE("a complete datagram says how many fragments carried it; a copy is not one of them") {
  // What a reader of captures (the ladder) reports as "reassembled from N IPv4 fragments".
  ip::Reassembler reassembler;
  const Instant now{};
  auto add = [&](const Packet& p) {
    auto fragment = wire::parse_ipv4(p);
    REQUIRE(fragment);
    return reassembler.add(*fragment, now);
  };
  using Kind = ip::Reassembler::Outcome::Kind;
  auto frags = fragments(echo_request(40), {16, 32});
  REQUIRE(frags.size() == 3);
  CHECK(add(frags[2]).kind == Kind::Held);
  CHECK(add(frags[0]).kind == Kind::Held);
  CHECK(add(frags[0]).kind == Kind::Refused);
  auto outcome = add(frags[1]);
  REQUIRE(outcome.kind == Kind::Complete);
  CHECK(outcome.fragments == 3);
}

TEST_CASE("fragments from different sources or with different ids are different datagrams") {
  Fixture f;
  auto request = echo_request(2000);
  PacketSpec other_id;
  other_id.identification = 0x9999;
  auto a = fragments(request, {1000});
  auto b = fragments(request, {1000}, other_id);
  f.receive(a[0]);
  f.receive(b[1]);
  CHECK(f.stack.outbox().empty());
  f.receive(a[1]);
  CHECK(f.take().size() == 2);  // the first datagram's reply, in two fragments
  f.receive(b[0]);
  CHECK(f.take().size() == 2);
  CHECK(f.stack.drops().total() == 0);
}

TEST_CASE("reassembly timeout: 30 s after the first fragment, on the stack's clock") {
  Fixture f;
  auto request = echo_request(3000);
  auto frags = fragments(request, {1000, 2000});
  f.now = Instant{} + seconds(100);
  f.receive(frags[0]);
  f.now += seconds(10);
  f.receive(frags[2]);
  REQUIRE(f.stack.next_deadline().has_value());
  CHECK(*f.stack.next_deadline() == Instant{} + seconds(130));  // from the first, not the latest
  f.stack.advance(Instant{} + seconds(130) - milliseconds(1));
  CHECK(f.drops(DropReason::FragmentTimeout) == 0);
  f.stack.advance(Instant{} + seconds(130));
  CHECK(f.drops(DropReason::FragmentTimeout) == 2);  // both held fragments
  REQUIRE(f.sink.drops.size() == 1);
  CHECK(f.sink.drops[0].first == DropReason::FragmentTimeout);
  CHECK(f.sink.drops[0].second.find("2 fragments") != std::string::npos);
  CHECK_FALSE(f.stack.next_deadline().has_value());
  // Fragment zero had arrived, so the source hears about it (RFC 1122 §3.3.2, RFC 792):
  // time exceeded, code 1, quoting fragment zero's header and first 8 data bytes.
  auto out = f.take();
  REQUIRE(out.size() == 1);
  const auto& icmp = out[0];
  REQUIRE(icmp.size() == 20 + 8 + 20 + 8);
  CHECK(get32(icmp, 16) == kHost);
  CHECK(static_cast<uint8_t>(icmp[20]) == 11);
  CHECK(static_cast<uint8_t>(icmp[21]) == 1);
  CHECK(get32(icmp, 24) == 0);
  CHECK(naive_checksum(std::span(icmp).subspan(20)) == 0);
  CHECK(std::equal(icmp.begin() + 28, icmp.end(), frags[0].begin()));
  CHECK(f.stack.ip_stats().time_exceeded_sent == 1);
  // The missing middle now arrives too late: alone, it completes nothing.
  f.now = Instant{} + seconds(131);
  f.receive(frags[1]);
  CHECK(f.stack.outbox().empty());
}

TEST_CASE("reassembly timeout without fragment zero, or of an ICMP error: no time exceeded") {
  SUBCASE("fragment zero never came") {
    Fixture f;
    f.receive(fragments(echo_request(3000), {1000, 2000})[2]);
    f.stack.advance(Instant{} + seconds(30));
    CHECK(f.drops(DropReason::FragmentTimeout) == 1);
    CHECK(f.stack.outbox().empty());
  }
  SUBCASE("the datagram was an ICMP error itself (RFC 1122 §3.2.2)") {
    Fixture f;
    auto unreachable = icmp_message(3, 3, 0, pattern(1200));
    f.receive(fragments(unreachable, {600})[0]);
    f.stack.advance(Instant{} + seconds(30));
    CHECK(f.drops(DropReason::FragmentTimeout) == 1);
    CHECK(f.stack.outbox().empty());
  }
  SUBCASE("rate-limited like every ICMP error") {
    StackConfig config;
    config.icmp_errors.burst = 1;
    config.icmp_errors.interval = seconds(100);
    Fixture f(config);
    for (uint16_t id = 1; id <= 2; ++id) {
      PacketSpec spec;
      spec.identification = id;
      f.receive(fragments(echo_request(2000), {1000}, spec)[0]);
    }
    f.stack.advance(Instant{} + seconds(30));
    CHECK(f.take().size() == 1);
    CHECK(f.drops(DropReason::IcmpErrorRateLimited) == 1);
  }
}

TEST_CASE("the timeout is a StackConfig setting, and the deadline joins TCP's") {
  StackConfig config;
  config.reassembly.timeout = seconds(5);
  Fixture f(config);
  f.receive(fragments(echo_request(2000), {1000})[0]);
  REQUIRE(f.stack.next_deadline().has_value());
  CHECK(*f.stack.next_deadline() == Instant{} + seconds(5));
  f.stack.advance(Instant{} + seconds(5));
  CHECK(f.drops(DropReason::FragmentTimeout) == 1);
}

TEST_CASE("limits: datagrams at once, bytes held, fragments per datagram, 65,535 bytes") {
  SUBCASE("at most max_datagrams in reassembly") {
    StackConfig config;
    config.reassembly.max_datagrams = 4;
    Fixture f(config);
    for (uint16_t id = 1; id <= 5; ++id) {
      PacketSpec spec;
      spec.identification = id;
      f.receive(fragments(echo_request(100), {56}, spec)[0]);
    }
    // The fifth makes room by dropping the oldest, whose fragment is counted and named.
    CHECK(f.drops(DropReason::FragmentNoRoom) == 1);
    CHECK(f.sink.drops.back().second ==
          "id 1 protocol 1: 1 fragments (56 bytes) of the oldest incomplete datagram dropped to make room "
          "for a new one");
    // The evicted one cannot complete; the newest (held) still can.
    PacketSpec first;
    first.identification = 1;
    f.receive(fragments(echo_request(100), {56}, first)[1]);
    CHECK(f.take().empty());
    PacketSpec fifth;
    fifth.identification = 5;
    f.receive(fragments(echo_request(100), {56}, fifth)[1]);
    CHECK(f.take().size() == 1);
  }
  SUBCASE("a full table of leftovers does not lock out new datagrams (a lossy path, ping -s 8000)") {
    Fixture f;  // the default limits: 16 datagrams
    for (uint16_t id = 1; id <= 40; ++id) {
      PacketSpec spec;
      spec.identification = id;
      f.receive(fragments(echo_request(4000), {1480, 2960}, spec)[0]);  // the rest is lost
    }
    PacketSpec whole;
    whole.identification = 100;
    for (const auto& p : fragments(echo_request(4000), {1480, 2960}, whole)) f.receive(p);
    CHECK(f.take().size() == 3);  // answered, in three fragments
    CHECK(f.drops(DropReason::FragmentNoRoom) == 40 - 16 + 1);
  }
  SUBCASE("at most max_bytes_held, all datagrams together") {
    StackConfig config;
    config.reassembly.max_bytes_held = 3000;
    Fixture f(config);
    auto a = fragments(echo_request(4000), {1480, 2960});
    f.receive(a[0]);
    f.receive(a[1]);  // 2960 held
    CHECK(f.drops(DropReason::FragmentNoRoom) == 0);
    PacketSpec other;
    other.identification = 7;
    f.receive(fragments(echo_request(100), {56}, other)[0]);
    // The new datagram's 56 bytes do not fit: the oldest (a, 2 fragments) makes room.
    CHECK(f.drops(DropReason::FragmentNoRoom) == 2);
    CHECK(f.sink.drops.back().second.find(": 2 fragments (2960 bytes) of the oldest") != std::string::npos);
    f.receive(a[2]);  // a was dropped: its last fragment starts a datagram that cannot complete
    CHECK(f.take().empty());
    // One datagram alone larger than the memory: refused, nothing older to drop.
    StackConfig tiny;
    tiny.reassembly.max_bytes_held = 2000;
    Fixture g(tiny);
    auto big = fragments(echo_request(4000), {1480, 2960});
    g.receive(big[0]);
    g.receive(big[1]);
    CHECK(g.drops(DropReason::FragmentNoRoom) == 1);
    CHECK(g.sink.drops.back().second == "reassembly memory full");
    g.stack.advance(Instant{} + seconds(30));
    CHECK(g.drops(DropReason::FragmentTimeout) == 1);
  }
  SUBCASE("a copy or an overlap refused at the memory limit costs no other datagram its place") {
    StackConfig config;
    config.reassembly.max_bytes_held = 4200;  // one whole 4,008-byte datagram, not two
    Fixture f(config);
    PacketSpec one, two;
    one.identification = 1;
    two.identification = 2;
    auto a = fragments(echo_request(4000), {1480, 2960}, one);
    auto b = fragments(echo_request(4000), {1480, 2960}, two);
    f.receive(a[0]);
    f.receive(b[0]);  // 2960 held
    f.receive(b[0]);  // a copy: dropped alone, nothing evicted
    CHECK(f.drops(DropReason::FragmentDuplicate) == 1);
    CHECK(f.drops(DropReason::FragmentNoRoom) == 0);
    f.receive(a[1]);  // datagram 1 goes on: 1480 more would pass 4200, so 2 (the other) goes
    CHECK(f.drops(DropReason::FragmentNoRoom) == 1);
    f.receive(a[2]);
    CHECK(f.take().size() == 3);  // datagram 1 completed and was answered
    // A new datagram's fragment that alone is larger than the memory is refused, not held.
    StackConfig tiny;
    tiny.reassembly.max_bytes_held = 1000;
    Fixture g(tiny);
    g.receive(fragments(echo_request(4000), {1480, 2960})[0]);
    CHECK(g.drops(DropReason::FragmentNoRoom) == 1);
    CHECK(g.sink.drops.back().second == "reassembly memory full");
    g.stack.advance(Instant{} + seconds(30));
    CHECK(g.drops(DropReason::FragmentTimeout) == 0);  // nothing was kept to time out
  }
  SUBCASE("at most max_fragments_per_datagram") {
    StackConfig config;
    config.reassembly.max_fragments_per_datagram = 3;
    Fixture f(config);
    auto frags = fragments(echo_request(100), {16, 32, 48});
    for (const auto& p : frags) f.receive(p);
    CHECK(f.drops(DropReason::FragmentNoRoom) == 1);
    CHECK(f.sink.drops.back().second == "too many fragments for one datagram");
    CHECK(f.stack.outbox().empty());
  }
  SUBCASE("nothing may end past 65,535 bytes (the ping of death)") {
    Fixture f;
    PacketSpec spec;
    spec.flags_fragment = 65512 / 8;           // last fragment at 65,512 + 20 header = 65,532 ...
    f.receive(ipv4_packet(spec, pattern(3)));  // ... + 3 = 65,535: still a datagram
    CHECK(f.drops(DropReason::FragmentTooBig) == 0);
    PacketSpec id2 = spec;
    id2.identification = 2;
    f.receive(ipv4_packet(id2, pattern(4)));  // 65,536: refused
    CHECK(f.drops(DropReason::FragmentTooBig) == 1);
  }
  SUBCASE("a 65,535-byte datagram is reassembled whole") {
    Fixture f;
    PacketSpec spec;
    spec.protocol = 253;  // answered with protocol unreachable quoting the header
    auto payload = pattern(65535 - 20, 1);
    std::vector<size_t> cuts;
    for (size_t at = 1480; at < payload.size(); at += 1480) cuts.push_back(at);
    auto frags = fragments(payload, cuts, spec);
    CHECK(frags.size() == 45);
    for (const auto& p : frags) f.receive(p);
    auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(static_cast<uint8_t>(out[0][20]) == 3);
    CHECK(static_cast<uint8_t>(out[0][21]) == 2);
    CHECK(get16(out[0], 28 + 2) == 65535);  // the quoted header is the whole datagram's
    CHECK(get16(out[0], 28 + 6) == 0);      // no MF, offset 0
    CHECK(f.stack.ip_stats().datagrams_reassembled == 1);
  }
}

TEST_CASE("fragments are checked for their address first, then reassembled") {
  Fixture f;
  PacketSpec elsewhere;
  elsewhere.destination = 0xC0000203;
  f.receive(fragments(echo_request(2000), {1000}, elsewhere)[0]);
  CHECK(f.drops(DropReason::Ipv4NotForUs) == 1);
  CHECK_FALSE(f.stack.next_deadline().has_value());
}

TEST_CASE("a fragmented TCP segment reaches TCP (a SYN to a closed port gets its RST)") {
  Fixture f;
  auto syn = hex(wire::test::kLinuxSyn);  // a whole IPv4 packet: take its TCP segment
  std::vector<std::byte> segment(syn.begin() + 20, syn.end());
  PacketSpec spec;
  spec.protocol = 6;
  spec.identification = get16(syn, 4);
  for (const auto& p : fragments(segment, {16}, spec)) f.receive(p);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(static_cast<uint8_t>(out[0][9]) == 6);
  CHECK(f.drops(DropReason::TcpNoConnection) == 1);
}

TEST_CASE("fragmented UDP gets one port unreachable, quoting the reassembled datagram") {
  Fixture f;
  PacketSpec spec;
  spec.protocol = 17;
  auto udp = udp_datagram(spec, pattern(592, 9));
  for (const auto& p : fragments(udp, {304}, spec)) f.receive(p);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(static_cast<uint8_t>(out[0][21]) == 3);                       // port unreachable
  CHECK(get16(out[0], 28 + 2) == 620);                                // the whole datagram's total length
  CHECK(std::equal(out[0].begin() + 48, out[0].end(), udp.begin()));  // its first 8 bytes
}

TEST_CASE("the trace names a fragment's place, not a transport header it does not have") {
  PacketSpec spec;
  spec.flags_fragment = 0x2000 | 185;
  CHECK(trace::packet_summary(ipv4_packet(spec, pattern(16))) ==
        "192.0.2.1 > 192.0.2.2 frag id 4660 offset 1480 + proto 1 len 16");
  spec.flags_fragment = 185;
  CHECK(trace::packet_summary(ipv4_packet(spec, pattern(16))) ==
        "192.0.2.1 > 192.0.2.2 frag id 4660 offset 1480 proto 1 len 16");
  CHECK(trace::packet_summary({}) == "(datagram in reassembly)");
}

TEST_CASE("an empty fragment's drop says it is empty, not that it is no multiple of 8") {
  for (uint16_t flags : {uint16_t{0x2000 | 185}, uint16_t{251}}) {  // MF at 1480, and a last one at 2008
    CAPTURE(flags);
    Fixture f;
    PacketSpec spec;
    spec.flags_fragment = flags;
    f.receive(ipv4_packet(spec, {}));
    CHECK(f.drops(DropReason::FragmentBadLength) == 1);
    REQUIRE_FALSE(f.sink.drops.empty());
    CHECK(f.sink.drops.back().second == "an empty fragment: nothing to reassemble");
  }
}
