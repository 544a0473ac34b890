// Tests for stack/wire/tcp: golden Linux segments, options, flags, checksum, round trips.
#include <doctest/doctest.h>

#include <array>

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;
using namespace tcplab::wire;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_checksum;

namespace {
const Ipv4Address kClient{0xC0000201u};  // 192.0.2.1
const Ipv4Address kServer{0xC0000202u};  // 192.0.2.2

// A bare 20-byte header + given options + payload with a correct checksum, built naively.
std::vector<std::byte> segment_with_options(std::vector<std::byte> options, uint8_t flags = 0x02,
                                            size_t payload = 0) {
  while (options.size() % 4) options.push_back(std::byte{0});
  std::vector<std::byte> s(20);
  s[0] = std::byte{0x9c};
  s[1] = std::byte{0x40};  // port 40000
  s[3] = std::byte{80};
  s[7] = std::byte{1};  // seq 1
  s[12] = std::byte((20 + options.size()) / 4 << 4);
  s[13] = std::byte{flags};
  s[14] = std::byte{0xff};  // window 0xff00
  s.insert(s.end(), options.begin(), options.end());
  for (size_t i = 0; i < payload; ++i) s.push_back(std::byte('a' + i % 26));
  // Checksum via the naive pseudo-header sum, laid out as an IPv4 packet.
  std::vector<std::byte> ip(20);
  ip[0] = std::byte{0x45};
  ip[2] = std::byte((20 + s.size()) >> 8);
  ip[3] = std::byte((20 + s.size()) & 0xff);
  ip[9] = std::byte{6};
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = std::byte(kClient.value >> (24 - 8 * i));
    ip[16 + i] = std::byte(kServer.value >> (24 - 8 * i));
  }
  ip.insert(ip.end(), s.begin(), s.end());
  uint16_t c = test::naive_tcp_checksum(ip);
  s[16] = std::byte(c >> 8);
  s[17] = std::byte(c & 0xff);
  return s;
}

// Builds options field by field (designated initializers trip -Wmissing-field-initializers).
TcpOptions make_options(std::optional<uint16_t> mss, std::optional<uint8_t> wscale, bool sack,
                        std::optional<TcpTimestamps> ts) {
  TcpOptions o;
  o.mss = mss;
  o.window_scale = wscale;
  o.sack_permitted = sack;
  o.timestamps = ts;
  return o;
}

Parsed<TcpSegment> parse_opts(std::string_view options_hex) {
  static std::vector<std::byte> keep;  // parsed payload spans point into this
  keep = segment_with_options(hex(options_hex));
  return parse_tcp(keep, kClient, kServer);
}
}  // namespace

TEST_CASE("tcp: golden Linux SYN parses to exact fields") {
  auto p = hex(test::kLinuxSyn);
  REQUIRE(test::naive_tcp_checksum(p) == 0);  // the captured segment really verifies
  auto ip = parse_ipv4(p);
  REQUIRE(ip.ok());
  auto r = parse_tcp(ip->payload, ip->header.source, ip->header.destination);
  REQUIRE(r.ok());
  const auto& s = *r;
  CHECK(s.source_port == 36270);
  CHECK(s.destination_port == 80);
  CHECK(s.seq.raw() == 0x1ffe7653u);
  CHECK(s.ack.raw() == 0u);
  CHECK(s.flags.to_string() == "S");
  CHECK(s.flags.syn);
  CHECK_FALSE(s.flags.ack);
  CHECK(s.window == 64240);
  CHECK(s.urgent_pointer == 0);
  CHECK(s.options.mss == 1460);
  CHECK(s.options.sack_permitted);
  REQUIRE(s.options.timestamps);
  CHECK(s.options.timestamps->value == 2056514899u);
  CHECK(s.options.timestamps->echo_reply == 0u);
  CHECK(s.options.window_scale == 10);
  CHECK(s.options.sack_blocks == 0);
  CHECK(s.payload.empty());
  CHECK(s.length() == 1);
  CHECK(s.options.to_string() == "<mss 1460,sackOK,TS val 2056514899 ecr 0,nop,wscale 10>");
  CHECK(s.options.emitted_length() == 20);
}

TEST_CASE("tcp: emit reproduces the captured Linux segments byte for byte") {
  for (auto text : {test::kLinuxSyn, test::kLinuxRstAck}) {
    auto p = hex(text);
    auto ip = parse_ipv4(p);
    REQUIRE(ip.ok());
    auto r = parse_tcp(ip->payload, ip->header.source, ip->header.destination);
    REQUIRE(r.ok());
    std::vector<std::byte> out(60);
    size_t n = emit_tcp(*r, ip->header.source, ip->header.destination, out);
    REQUIRE(n == ip->payload.size());
    CHECK(std::equal(out.begin(), out.begin() + static_cast<long>(n), ip->payload.begin()));
  }
}

TEST_CASE("tcp: golden Linux RST+ACK") {
  auto p = hex(test::kLinuxRstAck);
  auto ip = parse_ipv4(p);
  REQUIRE(ip.ok());
  auto r = parse_tcp(ip->payload, ip->header.source, ip->header.destination);
  REQUIRE(r.ok());
  CHECK(r->flags.to_string() == "R.");
  CHECK(r->ack.raw() == 0xb8e8c6bbu);
  CHECK(r->window == 0);
  CHECK(r->options.to_string() == "");
  CHECK(r->options.emitted_length() == 0);
  CHECK(r->length() == 0);
}

TEST_CASE("tcp: checksum mismatch and the pseudo-header") {
  auto p = hex(test::kLinuxSyn);
  auto ip = parse_ipv4(p);
  REQUIRE(ip.ok());
  std::vector<std::byte> seg(ip->payload.begin(), ip->payload.end());
  SUBCASE("a flipped payload/header bit") {
    seg[5] ^= std::byte{0x01};
    CHECK(parse_tcp(seg, kClient, kServer).error() == DropReason::TcpBadChecksum);
    CHECK(parse_tcp(seg, kClient, kServer, /*verify_checksum=*/false).ok());
  }
  SUBCASE("wrong addresses in the pseudo-header") {
    CHECK(parse_tcp(seg, kServer, kClient).ok());  // swapping is invisible to a sum
    CHECK(parse_tcp(seg, kClient, Ipv4Address{0xC0000203u}).error() == DropReason::TcpBadChecksum);
  }
  SUBCASE("length is part of the pseudo-header") {
    std::vector<std::byte> longer = seg;
    longer.push_back(std::byte{0});
    longer.push_back(std::byte{0});  // two zero bytes change only the length field
    CHECK(parse_tcp(longer, kClient, kServer).error() == DropReason::TcpBadChecksum);
  }
}

TEST_CASE("tcp: header length checks") {
  auto seg = segment_with_options({});
  for (size_t n = 0; n < 20; ++n)
    CHECK(parse_tcp(std::span(seg).first(n), kClient, kServer).error() == DropReason::TcpTruncated);
  for (uint8_t off = 0; off < 5; ++off) {
    auto s = seg;
    s[12] = std::byte(off << 4);
    CHECK(parse_tcp(s, kClient, kServer, false).error() == DropReason::TcpBadDataOffset);
  }
  auto s = seg;
  s[12] = std::byte{0x60};  // 24-byte header in 20 bytes
  CHECK(parse_tcp(s, kClient, kServer, false).error() == DropReason::TcpBadDataOffset);
}

TEST_CASE("tcp: options") {
  SUBCASE("EOL stops parsing; what follows is padding") {
    auto r = parse_opts("00 020405b4");  // an MSS after EOL is not an option
    REQUIRE(r.ok());
    CHECK_FALSE(r->options.mss);
  }
  SUBCASE("NOPs anywhere") {
    auto r = parse_opts("01 01 01 020405b4");
    REQUIRE(r.ok());
    CHECK(r->options.mss == 1460);
  }
  SUBCASE("window scale above 14 is kept as sent, not rejected (the connection takes 14, RFC 7323 §2.3)") {
    auto r = parse_opts("01 03030f");
    REQUIRE(r.ok());
    CHECK(r->options.window_scale == 15);
    CHECK(r->options.to_string() == "<nop,wscale 15>");
    r = parse_opts("01 0303ff");
    REQUIRE(r.ok());
    CHECK(r->options.window_scale == 255);
    r = parse_opts("01 030300");
    REQUIRE(r.ok());
    CHECK(r->options.window_scale == 0);
  }
  SUBCASE("SACK blocks are kept (RFC 2018 §3)") {
    auto r = parse_opts("0101 050a 0000000100000002");
    REQUIRE(r.ok());
    CHECK(r->options.sack_blocks == 1);
    CHECK(r->options.sack[0] == SackBlock{Seq(1), Seq(2)});
    CHECK(r->options.to_string() == "<nop,nop,sack 1:2>");
    CHECK(r->options.to_string(Seq(1)) == "<nop,nop,sack 0:1>");
    r = parse_opts("0101 051a 000000010000000200000003000000040000000500000006");
    REQUIRE(r.ok());
    CHECK(r->options.sack_blocks == 3);
    CHECK(r->options.sack[2] == SackBlock{Seq(5), Seq(6)});
    CHECK(r->options.to_string() == "<nop,nop,sack 1:2 3:4 5:6>");
  }
  SUBCASE("unknown kinds are skipped by their length") {
    auto r = parse_opts("1e06aabbccdd 020405b4 fe04beef");  // MPTCP-ish kind 30, kind 254
    REQUIRE(r.ok());
    CHECK(r->options.mss == 1460);
  }
  SUBCASE("timestamps") {
    auto r = parse_opts("0101 080a 0000000a 0000000b");
    REQUIRE(r.ok());
    REQUIRE(r->options.timestamps);
    CHECK(r->options.timestamps->value == 10u);
    CHECK(r->options.timestamps->echo_reply == 11u);
    CHECK(r->options.to_string() == "<nop,nop,TS val 10 ecr 11>");
  }
  SUBCASE("malformed options are TcpBadOption, with the rule they broke") {
    struct Bad {
      const char* options;
      std::string_view rule;
    };
    for (const Bad& bad : {
             Bad{"0200", "option length below 2 (it counts the kind and length bytes)"},
             Bad{"0201", "option length below 2 (it counts the kind and length bytes)"},
             Bad{"1e01", "option length below 2 (it counts the kind and length bytes)"},
             Bad{"010101 02", "option kind without its length byte at the end of the header"},
             Bad{"080a0000", "option runs past the end of the header"},  // 10 bytes claimed, 4 left
             Bad{"020305", "MSS option length is not 4"},                // 3
             Bad{"02050000000000", "MSS option length is not 4"},        // 5
             Bad{"0304050000", "window scale option length is not 3"},
             Bad{"0402 0403000000", "SACK-permitted option length is not 2"},
             Bad{"0502", "SACK option without blocks"},
             Bad{"050b 0000000100000002 00", "SACK option length is not 2 + 8n"},
             Bad{"0808 000000010000", "timestamps option length is not 10"},
             Bad{"01 1e0a 0000", "option runs past the end of the header"},  // unknown kind
         }) {
      CAPTURE(bad.options);
      auto r = parse_opts(bad.options);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == DropReason::TcpBadOption);
      CHECK(r.detail() == bad.rule);
    }
  }
}

TEST_CASE("tcp: flags") {
  CHECK(TcpFlags{.syn = true}.to_string() == "S");
  CHECK(TcpFlags{.syn = true, .ack = true}.to_string() == "S.");
  CHECK(TcpFlags{.psh = true, .ack = true}.to_string() == "P.");
  CHECK(TcpFlags{.fin = true, .ack = true}.to_string() == "F.");
  CHECK(TcpFlags{.rst = true}.to_string() == "R");
  CHECK(TcpFlags{.rst = true, .ack = true}.to_string() == "R.");
  CHECK(TcpFlags{.fin = true, .psh = true, .ack = true}.to_string() == "FP.");
  CHECK(TcpFlags{.ack = true}.to_string() == ".");
  CHECK(TcpFlags{.syn = true, .ece = true, .cwr = true}.to_string() == "SEW");
  CHECK(TcpFlags{}.to_string() == "none");
  for (unsigned b = 0; b < 256; ++b) CHECK(TcpFlags::from_byte(static_cast<uint8_t>(b)).to_byte() == b);
  CHECK(TcpFlags::from_byte(0x12) == TcpFlags{.syn = true, .ack = true});

  for (uint8_t bad : {0x03 /*SYN+FIN*/, 0x06 /*SYN+RST*/, 0x05 /*RST+FIN*/, 0x07, 0x17, 0xff}) {
    CAPTURE(bad);
    auto seg = segment_with_options({}, bad);
    CHECK(parse_tcp(seg, kClient, kServer).error() == DropReason::TcpBadFlags);
  }
  // FlagCheck::Host lets SYN+FIN, RST+FIN and SYN+RST (with or without ACK) through: the TCP
  // host checks the RST bit before the SYN and the FIN (RFC 9293 §3.10.7.3-4).
  for (uint8_t bits : {0x03, 0x13, 0x1b, 0x05, 0x15, 0x1d, 0x06, 0x16, 0x07, 0x17, 0xff}) {
    CAPTURE(bits);
    auto seg = segment_with_options({}, bits);
    auto r = parse_tcp(seg, kClient, kServer, true, FlagCheck::Host);
    REQUIRE(r.ok());
    CHECK(r->flags.to_byte() == bits);
  }
  for (uint8_t good : {0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x12, 0x14, 0x18, 0x19, 0xc2}) {
    CAPTURE(good);
    auto seg = segment_with_options({}, good);
    auto r = parse_tcp(seg, kClient, kServer);
    REQUIRE(r.ok());
    CHECK(r->flags.to_byte() == good);
  }
}

TEST_CASE("tcp: emit/parse round trips with payload") {
  std::array<std::byte, 1400> payload{};
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = std::byte(i * 7 & 0xff);

  TcpOptions variants[] = {
      {},
      make_options(1460, {}, false, {}),
      make_options(536, 7, true, {}),
      make_options(1460, 0, true, TcpTimestamps{1, 0}),
      make_options({}, {}, false, TcpTimestamps{0xffffffffu, 0x12345678u}),
      make_options({}, 14, false, {}),
      make_options({}, {}, true, {}),
  };
  for (const auto& opts : variants) {
    for (size_t len : {0u, 1u, 3u, 1400u}) {
      TcpSegment s;
      s.source_port = 80;
      s.destination_port = 40000;
      s.seq = Seq(0xfffffff0u);
      s.ack = Seq(12345);
      s.flags = TcpFlags{.psh = len > 0, .ack = true};
      s.window = 502;
      s.urgent_pointer = 0;
      s.options = opts;
      s.payload = std::span(payload).first(len);
      std::vector<std::byte> out(60 + len);
      size_t n = emit_tcp(s, kServer, kClient, out);
      CAPTURE(opts.to_string());
      CAPTURE(len);
      REQUIRE(n == 20 + opts.emitted_length() + len);
      CHECK(opts.emitted_length() % 4 == 0);
      auto r = parse_tcp(std::span(out).first(n), kServer, kClient);
      REQUIRE(r.ok());
      CHECK(r->source_port == 80);
      CHECK(r->destination_port == 40000);
      CHECK(r->seq == s.seq);
      CHECK(r->ack == s.ack);
      CHECK(r->flags == s.flags);
      CHECK(r->window == 502);
      CHECK(r->options == opts);
      REQUIRE(r->payload.size() == len);
      CHECK(std::equal(r->payload.begin(), r->payload.end(), payload.begin()));
      CHECK(r->length() == len);
    }
  }
}

TEST_CASE("tcp: options to_string in packetdrill syntax") {
  CHECK(TcpOptions{}.to_string() == "");
  CHECK(make_options(1460, {}, false, {}).to_string() == "<mss 1460>");
  CHECK(make_options(1460, 7, true, {}).to_string() == "<mss 1460,nop,nop,sackOK,nop,wscale 7>");
  CHECK(make_options(1460, 7, true, TcpTimestamps{1, 0}).to_string() ==
        "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>");
  CHECK(make_options(1460, 7, true, {}).emitted_length() == 12);
}

TEST_CASE("tcp: SACK blocks are emitted as far as they fit beside the other options (RFC 2018 §3)") {
  TcpOptions o;
  o.sack_blocks = 4;
  for (uint32_t b = 0; b < 4; ++b) o.sack[b] = SackBlock{Seq(1000 * b + 1), Seq(1000 * b + 501)};
  CHECK(o.emitted_sack_blocks() == 4);  // 2 NOPs + 2 + 4 * 8 = 36 bytes
  CHECK(o.emitted_length() == 36);
  o.timestamps = TcpTimestamps{7, 9};
  CHECK(o.emitted_sack_blocks() == 3);  // 12 for timestamps + 28: three blocks
  CHECK(o.emitted_length() == 40);
  std::vector<std::byte> out(kTcpMaxHeaderLength);
  TcpSegment s;
  s.flags.ack = true;
  s.options = o;
  size_t n = emit_tcp(s, Ipv4Address{0xC0000201}, Ipv4Address{0xC0000202}, out);
  CHECK(n == 60);
  auto r = parse_tcp(std::span(out).first(n), Ipv4Address{0xC0000201}, Ipv4Address{0xC0000202});
  REQUIRE(r.ok());
  CHECK(r->options.sack_blocks == 3);
  CHECK(r->options.sack[2] == o.sack[2]);
  CHECK(r->options.timestamps == o.timestamps);
  CHECK(r->options.to_string() == "<nop,nop,TS val 7 ecr 9,nop,nop,sack 1:501 1001:1501 2001:2501>");
}

TEST_CASE("tcp: SYN+FIN is rejected even with a correct checksum; SEG.LEN counts SYN and FIN") {
  TcpSegment s;
  s.flags = TcpFlags{.fin = true, .ack = true};
  std::array<std::byte, 2> two{};
  s.payload = two;
  CHECK(s.length() == 3);
}
