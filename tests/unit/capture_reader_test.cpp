// Tests for the capture readers (stack/capture/): classic pcap in both byte orders and both
// timestamp units, pcapng sections, interfaces, packet blocks and comments, every link type
// we unwrap, and clear errors for cut or corrupt files.
#include <doctest/doctest.h>

#include "stack/capture/capture.hpp"
#include "stack/ladder/input.hpp"
#include "stack/ladder/ladder.hpp"
#include "stack/ladder/render.hpp"
#include "tests/unit/capture_test_files.hpp"

using namespace tcplab;
using namespace tcplab::capture;
using namespace tcplab::capture::test;

namespace {

const Bytes kSyn = ipv4_tcp({});
const Bytes kSynAck = ipv4_tcp({.to_server = false, .flags = 0x12, .seq = 5000, .ack = 1});

const CapturedPacket& only(const CaptureResult& r, size_t index = 0) {
  REQUIRE_MESSAGE(r.capture, r.error);
  REQUIRE(r.capture->packets.size() > index);
  return r.capture->packets[index];
}

}  // namespace

TEST_CASE("capture: classic pcap, little-endian, microseconds, LINKTYPE_RAW") {
  auto file =
      pcap_file(0xa1b2c3d4, false, kLinktypeRaw, {{1700000000, 250000, kSyn}, {1700000001, 7, kSynAck}});
  CHECK(looks_like_pcap(file));
  CHECK_FALSE(looks_like_pcapng(file));
  auto r = parse_capture(file);
  REQUIRE(r.capture);
  CHECK(r.capture->format == Format::Pcap);
  CHECK_FALSE(r.capture->big_endian);
  CHECK_FALSE(r.capture->nanosecond);
  REQUIRE(r.capture->packets.size() == 2);
  CHECK(only(r, 0).time_ns == 1700000000'250000000LL);
  CHECK(only(r, 1).time_ns == 1700000001'000007000LL);
  CHECK(only(r, 0).linktype == kLinktypeRaw);
  CHECK(only(r, 0).data == kSyn);
  CHECK(only(r, 1).original_length == kSynAck.size());
}

TEST_CASE("capture: classic pcap, big-endian, nanoseconds") {
  auto file = pcap_file(0xa1b23c4d, true, kLinktypeRaw, {{1700000000, 123456789, kSyn}});
  auto r = parse_pcap(file);
  REQUIRE(r.capture);
  CHECK(r.capture->big_endian);
  CHECK(r.capture->nanosecond);
  CHECK(only(r).time_ns == 1700000000'123456789LL);
  CHECK(only(r).data == kSyn);
}

TEST_CASE("capture: the same packet in every link type unwraps to the same IPv4 bytes") {
  struct Case {
    const char* name;
    uint32_t linktype;
    Bytes frame;
  };
  const Case cases[] = {
      {"raw (101)", kLinktypeRaw, kSyn},
      {"DLT_RAW 12", kDltRawBsd, kSyn},
      {"DLT_RAW 14", kDltRawOpenBsd, kSyn},
      {"IPv4 (228)", kLinktypeIpv4, kSyn},
      {"Ethernet (1)", kLinktypeEthernet, ethernet(kSyn)},
      {"Ethernet with an 802.1Q tag", kLinktypeEthernet, ethernet(kSyn, true)},
      {"Linux cooked SLL (113)", kLinktypeLinuxSll, sll(kSyn)},
      {"Linux cooked SLL2 (276)", kLinktypeLinuxSll2, sll2(kSyn)},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    for (bool big : {false, true}) {
      auto r = parse_capture(pcap_file(0xa1b2c3d4, big, c.linktype, {{1, 0, c.frame}}));
      auto ip = ipv4_in_frame(only(r).linktype, only(r).data);
      REQUIRE(ip);
      CHECK(Bytes(ip->begin(), ip->end()) == kSyn);
      auto input = ladder::from_capture(*r.capture);
      REQUIRE(input.events.size() == 1);
      CHECK(input.skipped == 0);
      const auto& s = std::get<ladder::SegmentInput>(input.events[0]);
      CHECK(s.src.to_string() == "192.0.2.1:40000");
      CHECK(s.dst.to_string() == "192.0.2.2:80");
      CHECK(s.flags.syn);
    }
  }
}

TEST_CASE("capture: frames that are not IPv4 TCP are skipped and counted") {
  Bytes ipv6(40, std::byte{0});
  ipv6[0] = std::byte{0x60};
  Bytes icmp = kSyn;
  icmp[9] = std::byte{1};  // protocol ICMP (checksum no longer matters: the IP layer checks it)
  auto file = pcap_file(0xa1b2c3d4, false, kLinktypeEthernet,
                        {{1, 0, ethernet(kSyn, false, 0x0806)},  // ARP
                         {1, 1, ethernet(ipv6, false, 0x86dd)},
                         {1, 2, Bytes(6, std::byte{0})},  // shorter than an Ethernet header
                         {1, 3, ethernet(kSyn)}});
  auto r = parse_capture(file);
  REQUIRE(r.capture);
  auto input = ladder::from_capture(*r.capture);
  CHECK(input.events.size() == 1);
  CHECK(input.skipped == 3);
  CHECK_FALSE(ipv4_in_frame(kLinktypeLinuxSll, sll(kSyn, 0x86dd)));
  CHECK_FALSE(ipv4_in_frame(kLinktypeLinuxSll2, sll2(kSyn, 0x0806)));
  CHECK_FALSE(ipv4_in_frame(kLinktypeRaw, ipv6));
  CHECK_FALSE(ipv4_in_frame(999, kSyn));
}

TEST_CASE("capture: a link type we cannot unwrap is named in the ladder's summary") {
  CHECK(linktype_supported(kLinktypeLinuxSll2));
  CHECK_FALSE(linktype_supported(105));
  CHECK(unsupported_linktype_text(105) ==
        "link type 105 (IEEE 802.11) is not supported; tcplab reads raw IP (101, 12, 14, 228), Ethernet (1) "
        "and Linux cooked capture (113, 276)");
  CHECK(unsupported_linktype_text(147).starts_with("link type 147 (user-defined, DLT_USER0) is not"));
  CHECK(unsupported_linktype_text(4242).starts_with("link type 4242 is not supported"));

  // One interface we read and one we cannot: the segments are drawn, the rest named.
  Writer w{false, {}};
  section_header(w);
  interface(w, kLinktypeRaw);
  interface(w, 105);
  enhanced_packet(w, 0, 1, kSyn);
  enhanced_packet(w, 1, 2, kSynAck);
  enhanced_packet(w, 1, 3, kSynAck);
  auto r = parse_capture(w.out);
  REQUIRE_MESSAGE(r.capture, r.error);
  auto input = ladder::from_capture(*r.capture);
  CHECK(input.events.size() == 1);
  CHECK(input.skipped == 2);
  CHECK(input.unsupported_linktypes == std::map<uint32_t, uint64_t>{{105, 2}});
  std::string summary = ladder::summary_line(ladder::build_ladder(input));
  CHECK(summary.find("; 2 packets skipped: link type 105 (IEEE 802.11) is not supported") !=
        std::string::npos);
  CHECK(summary.find("not TCP over IPv4") == std::string::npos);

  // BSD loopback only: nothing is read, and the reason is the link type.
  auto loopback = parse_capture(pcap_file(0xa1b2c3d4, false, 0, {{1, 0, kSyn}}));
  REQUIRE(loopback.capture);
  auto none = ladder::from_capture(*loopback.capture);
  CHECK(none.events.empty());
  CHECK(none.unsupported_linktypes == std::map<uint32_t, uint64_t>{{0, 1}});
}

TEST_CASE("capture: cut or corrupt pcap files are errors that say where") {
  auto good = pcap_file(0xa1b2c3d4, false, kLinktypeRaw, {{1, 0, kSyn}, {2, 0, kSynAck}});
  SUBCASE("cut inside the last packet") {
    Bytes cut(good.begin(), good.end() - 3);
    auto r = parse_capture(cut);
    CHECK_FALSE(r.capture);
    CHECK(r.error.find("truncated packet record at byte") != std::string::npos);
  }
  SUBCASE("cut inside a record header") {
    Bytes cut(good.begin(), good.begin() + 24 + 16 + static_cast<long>(kSyn.size()) + 5);
    auto r = parse_capture(cut);
    CHECK_FALSE(r.capture);
    CHECK(r.error.find("truncated packet record header") != std::string::npos);
  }
  SUBCASE("cut inside the file header") {
    Bytes cut(good.begin(), good.begin() + 10);
    CHECK(parse_capture(cut).error.find("truncated pcap file header") != std::string::npos);
  }
  SUBCASE("microseconds out of range") {
    Bytes bad = good;
    bad[24 + 7] = std::byte{0x7f};
    CHECK(parse_capture(bad).error == "corrupt packet record at byte 24");
  }
  SUBCASE("not a capture at all") {
    Bytes text{std::byte{'h'}, std::byte{'i'}, std::byte{'!'}, std::byte{'\n'}};
    CHECK(parse_capture(text).error.find("unknown magic") != std::string::npos);
  }
  SUBCASE("a header only is an empty capture") {
    auto r = parse_capture(pcap_file(0xa1b2c3d4, false, kLinktypeRaw, {}));
    REQUIRE(r.capture);
    CHECK(r.capture->packets.empty());
  }
}

TEST_CASE("capture: pcapng in both byte orders with if_tsresol and comments") {
  for (bool big : {false, true}) {
    CAPTURE(big);
    Writer w{big, {}};
    section_header(w);
    interface(w, kLinktypeRaw, 9);  // nanoseconds
    enhanced_packet(w, 0, 1700000000'123456789ULL, kSyn, {"LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2)"});
    block(w, 4, Bytes(8, std::byte{0}));  // a name resolution block: skipped
    enhanced_packet(w, 0, 1700000000'200000000ULL, kSynAck, {"first", "second"});
    CHECK(looks_like_pcapng(w.out));
    auto r = parse_capture(w.out);
    REQUIRE_MESSAGE(r.capture, r.error);
    CHECK(r.capture->format == Format::Pcapng);
    CHECK(r.capture->big_endian == big);
    CHECK(r.capture->nanosecond);
    REQUIRE(r.capture->packets.size() == 2);
    CHECK(only(r, 0).time_ns == 1700000000'123456789LL);
    CHECK(only(r, 0).data == kSyn);
    CHECK(only(r, 0).comments == std::vector<std::string>{"LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2)"});
    CHECK(only(r, 1).comments == std::vector<std::string>{"first", "second"});
    CHECK(only(r, 1).data == kSynAck);
  }
}

TEST_CASE("capture: pcapng timestamp resolutions and several interfaces") {
  Writer w{false, {}};
  section_header(w);
  interface(w, kLinktypeRaw);                                // default: microseconds
  interface(w, kLinktypeEthernet, 0x80 | 10);                // 2^-10 s
  interface(w, kLinktypeLinuxSll, 3);                        // milliseconds
  enhanced_packet(w, 0, 1'500000, kSyn);                     // 1.5 s
  enhanced_packet(w, 1, 3 * 1024 + 512, ethernet(kSynAck));  // 3.5 s
  enhanced_packet(w, 2, 4250, sll(kSyn));                    // 4.25 s
  auto r = parse_capture(w.out);
  REQUIRE_MESSAGE(r.capture, r.error);
  REQUIRE(r.capture->packets.size() == 3);
  CHECK(only(r, 0).time_ns == 1'500000000LL);
  CHECK(only(r, 1).time_ns == 3'500000000LL);
  CHECK(only(r, 1).linktype == kLinktypeEthernet);
  CHECK(only(r, 2).time_ns == 4'250000000LL);
  CHECK(ladder::from_capture(*r.capture).events.size() == 3);
}

TEST_CASE("capture: a second pcapng section starts a new interface list and may change byte order") {
  Writer w{false, {}};
  section_header(w);
  interface(w, kLinktypeRaw);
  enhanced_packet(w, 0, 1, kSyn);
  Writer second{true, {}};
  section_header(second);
  interface(second, kLinktypeEthernet);
  enhanced_packet(second, 0, 2, ethernet(kSynAck));
  w.bytes(second.out);
  auto r = parse_capture(w.out);
  REQUIRE_MESSAGE(r.capture, r.error);
  REQUIRE(r.capture->packets.size() == 2);
  CHECK(only(r, 1).linktype == kLinktypeEthernet);
  CHECK(only(r, 1).time_ns == 2000);
}

TEST_CASE("capture: pcapng simple packet blocks") {
  Writer w{false, {}};
  section_header(w);
  interface(w, kLinktypeRaw);
  Writer b{false, {}};
  b.u32(static_cast<uint32_t>(kSyn.size()));
  b.bytes(kSyn);
  block(w, 3, b.out);
  auto r = parse_capture(w.out);
  CHECK(only(r).data == kSyn);
  CHECK(only(r).time_ns == 0);
}

TEST_CASE("capture: cut or corrupt pcapng files are errors that say where") {
  Writer w{false, {}};
  section_header(w);
  interface(w, kLinktypeRaw);
  size_t packet_at = w.out.size();
  enhanced_packet(w, 0, 1, kSyn);
  SUBCASE("cut inside a block") {
    Bytes cut(w.out.begin(), w.out.end() - 6);
    auto r = parse_capture(cut);
    CHECK_FALSE(r.capture);
    CHECK(r.error == "truncated block at byte " + std::to_string(packet_at) + " (file cut short?)");
  }
  SUBCASE("trailing length differs from the leading one") {
    Bytes bad = w.out;
    bad[bad.size() - 4] = std::byte{0x10};
    CHECK(parse_capture(bad).error ==
          "corrupt block at byte " + std::to_string(packet_at) + " (lengths differ)");
  }
  SUBCASE("a packet for an interface nobody declared") {
    Writer x{false, {}};
    section_header(x);
    enhanced_packet(x, 0, 1, kSyn);
    CHECK(parse_capture(x.out).error.find("names interface 0") != std::string::npos);
  }
  SUBCASE("a block length that is not a multiple of 4") {
    Bytes bad = w.out;
    bad[packet_at + 4] = std::byte{0x0d};
    CHECK(parse_capture(bad).error.find("corrupt block length") != std::string::npos);
  }
  SUBCASE("bad byte-order magic") {
    Bytes bad = w.out;
    bad[8] = std::byte{0};
    CHECK(parse_capture(bad).error.find("bad byte-order magic") != std::string::npos);
  }
}

TEST_CASE("capture: mutated and cut files never crash the readers or the ladder") {
  // Deterministic mutations of valid files (run under ASan/UBSan too): every result is either
  // a capture or an error text, and whatever parses can be drawn.
  Writer w{false, {}};
  section_header(w);
  interface(w, kLinktypeEthernet, 9);
  enhanced_packet(w, 0, 5, ethernet(kSyn), {"LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2)"});
  enhanced_packet(w, 0, 6, ethernet(kSynAck), {"retransmission"});
  auto pcap = pcap_file(0xa1b2c3d4, true, kLinktypeLinuxSll2, {{1, 0, sll2(kSyn)}, {2, 0, sll2(kSynAck)}});
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  for (const Bytes* original : {&w.out, &pcap}) {
    for (int round = 0; round < 3000; ++round) {
      Bytes b = *original;
      int edits = 1 + static_cast<int>(next() % 4);
      for (int e = 0; e < edits; ++e) b[next() % b.size()] = std::byte(static_cast<uint8_t>(next()));
      if (round % 3 == 0) b.resize(next() % (b.size() + 1));
      std::string error;
      auto input = ladder::read_input(b, error);
      if (!input) {
        CHECK_FALSE(error.empty());
        continue;
      }
      auto l = ladder::build_ladder(*input);
      CHECK(ladder::render_text(l).size() > 0);
      CHECK(ladder::render_svg(l).size() > 0);
    }
  }
}
