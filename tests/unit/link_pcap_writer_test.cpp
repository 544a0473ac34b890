// Tests for the pcap tap (stack/link/pcap_writer.*). Classic pcap: the global header and
// records byte by byte, timestamps from the clock mapping, truncation at the snap length,
// flushing, errors. pcapng: the block structure and the packet comments.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "stack/link/pcap_writer.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

using namespace tcplab;
using tcplab::link::PcapWriter;

namespace {

// A unique path under $TMPDIR (or /tmp), removed when the test ends.
class TempPath {
 public:
  TempPath() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/tcplab-pcap-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    REQUIRE(fd >= 0);
    close(fd);
    path_ = buf.data();
  }
  ~TempPath() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}
uint16_t le16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}

std::vector<std::byte> bytes(size_t n, uint8_t first) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(first + i));
  return v;
}

const Instant t0 = Instant{} + seconds(10);
const auto wall0 = std::chrono::system_clock::time_point{} + seconds(1700000000);

}  // namespace

TEST_CASE("pcap: the global header says pcap 2.4, microseconds, raw IPv4") {
  TempPath tmp;
  PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
  REQUIRE(w.ok());
  CHECK(w.error().empty());
  // Written at construction and flushed: an empty capture is already a valid file.
  auto b = read_all(tmp.path());
  REQUIRE(b.size() == 24);
  CHECK(std::vector<uint8_t>(b.begin(), b.begin() + 4) == std::vector<uint8_t>{0xd4, 0xc3, 0xb2, 0xa1});
  CHECK(le16(b, 4) == 2);
  CHECK(le16(b, 6) == 4);
  CHECK(le32(b, 8) == 0);
  CHECK(le32(b, 12) == 0);
  CHECK(le32(b, 16) == 65535);
  CHECK(le32(b, 20) == 101);  // LINKTYPE_RAW
}

TEST_CASE("pcap: records carry wall-clock timestamps, lengths and the bytes") {
  TempPath tmp;
  {
    PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
    REQUIRE(w.ok());
    w.set_origin(t0, wall0);
    auto p1 = bytes(40, 0x45);
    auto p2 = bytes(60, 0x10);
    w.packet(t0 + microseconds(1500000), trace::Direction::In, p1);
    w.packet(t0 + microseconds(2999999), trace::Direction::Out, p2);
    CHECK(w.packets_written() == 2);
  }
  auto b = read_all(tmp.path());
  REQUIRE(b.size() == 24 + 16 + 40 + 16 + 60);
  size_t r = 24;
  CHECK(le32(b, r) == 1700000001u);
  CHECK(le32(b, r + 4) == 500000u);
  CHECK(le32(b, r + 8) == 40u);
  CHECK(le32(b, r + 12) == 40u);
  CHECK(b[r + 16] == 0x45);
  CHECK(b[r + 16 + 39] == static_cast<uint8_t>(0x45 + 39));
  r += 16 + 40;
  CHECK(le32(b, r) == 1700000002u);
  CHECK(le32(b, r + 4) == 999999u);
  CHECK(le32(b, r + 8) == 60u);
  CHECK(le32(b, r + 12) == 60u);
  CHECK(b[r + 16] == 0x10);
  CHECK(b.back() == static_cast<uint8_t>(0x10 + 59));
}

TEST_CASE("pcap: packets beyond the snap length are cut, their length kept") {
  TempPath tmp;
  {
    PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
    w.set_origin(t0, wall0);
    auto big = bytes(70000, 0);
    w.packet(t0, trace::Direction::In, big);
  }
  auto b = read_all(tmp.path());
  REQUIRE(b.size() == 24 + 16 + 65535);
  CHECK(le32(b, 24 + 8) == 65535u);
  CHECK(le32(b, 24 + 12) == 70000u);
}

TEST_CASE("pcap: the file can be read while running, within the flush interval") {
  TempPath tmp;
  PcapWriter w(tmp.path(), link::PcapFormat::Pcap);
  w.set_origin(t0, wall0);
  auto p = bytes(40, 0x45);
  // The first packet after a quiet spell is on disk at once.
  w.packet(t0, trace::Direction::In, p);
  CHECK(read_all(tmp.path()).size() == 24 + 56);
  CHECK_FALSE(w.next_flush_deadline().has_value());
  // A burst collects in the buffer: no write per packet...
  w.packet(t0 + milliseconds(10), trace::Direction::Out, p);
  w.packet(t0 + milliseconds(20), trace::Direction::In, p);
  CHECK(read_all(tmp.path()).size() == 24 + 56);
  REQUIRE(w.next_flush_deadline().has_value());
  CHECK(*w.next_flush_deadline() == t0 + link::kPcapFlushInterval);
  CHECK(w.next_deadline() == w.next_flush_deadline());  // the event loop's view
  w.flush_due(t0 + link::kPcapFlushInterval - microseconds(1));
  CHECK(read_all(tmp.path()).size() == 24 + 56);
  // ...and is on disk once the interval has passed.
  w.advance(t0 + link::kPcapFlushInterval);
  CHECK(read_all(tmp.path()).size() == 24 + 3 * 56);
  CHECK_FALSE(w.next_flush_deadline().has_value());
}

TEST_CASE("pcap: an unwritable path is a clear error, not a crash") {
  PcapWriter w("/nonexistent-dir-for-tcplab/capture.pcap", link::PcapFormat::Pcap);
  CHECK_FALSE(w.ok());
  CHECK(w.error().find("/nonexistent-dir-for-tcplab/capture.pcap") != std::string::npos);
  CHECK(w.error().find("No such file") != std::string::npos);
  auto p = bytes(40, 0x45);
  w.packet(t0, trace::Direction::In, p);  // ignored
  w.flush();
  CHECK(w.packets_written() == 0);
}

// ---------------------------------------------------------------- pcapng

namespace {

struct Block {
  uint32_t type = 0;
  std::vector<uint8_t> body;  // between the leading length and the trailing one
};

// Splits a pcapng file into blocks, checking that each block's two length fields agree, are
// a multiple of 4 and that the file ends exactly after the last block.
std::vector<Block> blocks_of(const std::vector<uint8_t>& b) {
  std::vector<Block> out;
  size_t at = 0;
  while (at < b.size()) {
    REQUIRE(at + 12 <= b.size());
    uint32_t len = le32(b, at + 4);
    REQUIRE(len % 4 == 0);
    REQUIRE(len >= 12);
    REQUIRE(at + len <= b.size());
    CHECK(le32(b, at + len - 4) == len);
    out.push_back({le32(b, at), std::vector<uint8_t>(b.begin() + at + 8, b.begin() + at + len - 4)});
    at += len;
  }
  return out;
}

struct Option {
  uint16_t code;
  std::string value;
};
// The options starting at `at` in a block body, up to and including opt_endofopt.
std::vector<Option> options_of(const std::vector<uint8_t>& body, size_t at) {
  std::vector<Option> out;
  while (at + 4 <= body.size()) {
    uint16_t code = le16(body, at), len = le16(body, at + 2);
    REQUIRE(at + 4 + len <= body.size());
    out.push_back({code, std::string(body.begin() + at + 4, body.begin() + at + 4 + len)});
    if (code == 0) break;
    at += 4 + ((len + 3u) & ~3u);
  }
  return out;
}

struct Epb {
  uint64_t ns = 0;
  uint32_t captured = 0, original = 0, flags = 0;
  std::vector<uint8_t> data;
  std::vector<std::string> comments;
};
std::vector<Epb> packets_of(const std::vector<uint8_t>& file) {
  std::vector<Epb> out;
  for (const auto& blk : blocks_of(file)) {
    if (blk.type != 6) continue;
    Epb e;
    REQUIRE(le32(blk.body, 0) == 0);  // the one interface
    e.ns = uint64_t{le32(blk.body, 4)} << 32 | le32(blk.body, 8);
    e.captured = le32(blk.body, 12);
    e.original = le32(blk.body, 16);
    e.data.assign(blk.body.begin() + 20, blk.body.begin() + 20 + e.captured);
    for (const auto& o : options_of(blk.body, 20 + ((e.captured + 3u) & ~3u))) {
      if (o.code == 1) e.comments.push_back(o.value);
      if (o.code == 2) {
        REQUIRE(o.value.size() == 4);
        e.flags = le32(std::vector<uint8_t>(o.value.begin(), o.value.end()), 0);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

const wire::Ipv4Address kPeer{0xC0000201}, kUs{0xC0000202};

// A TCP segment from the peer (in) or from us (out) on 192.0.2.2:80 <> 192.0.2.1:40000.
std::vector<std::byte> tcp_packet(bool in, bool syn, bool ack, uint32_t seq, size_t payload = 0,
                                  uint32_t ack_number = 1, uint16_t window = 1000, bool fin = false) {
  wire::TcpSegment s;
  s.source_port = in ? 40000 : 80;
  s.destination_port = in ? 80 : 40000;
  s.flags.syn = syn;
  s.flags.ack = ack;
  s.flags.fin = fin;
  s.seq = Seq(seq);
  s.ack = Seq(ack_number);
  s.window = window;
  std::vector<std::byte> data(payload, std::byte{'d'});
  s.payload = data;
  std::vector<std::byte> p(20 + 60 + payload);
  size_t n = wire::emit_tcp(s, in ? kPeer : kUs, in ? kUs : kPeer, wire::MutableBytes(p).subspan(20));
  wire::Ipv4Header h;
  h.protocol = 6;
  h.source = in ? kPeer : kUs;
  h.destination = in ? kUs : kPeer;
  wire::emit_ipv4_header(h, n, p);
  p.resize(20 + n);
  return p;
}

const FourTuple kConnection{kUs, 80, kPeer, 40000};

// The segment event the stack emits when it builds `packet`, one of ours on kConnection.
void built(trace::Tracer& tracer, Instant t, const std::vector<std::byte>& packet, std::string_view note = {},
           bool retransmission = false) {
  auto ip = wire::parse_ipv4(packet);
  auto seg = wire::parse_tcp(ip->payload, kUs, kPeer);
  REQUIRE(seg);
  tracer.segment(t,
                 {trace::Direction::Out, kConnection, *seg, true, Seq(5000), Seq(100), note, retransmission});
}

}  // namespace

TEST_CASE("pcapng: section header and one raw-IPv4 interface with nanosecond timestamps") {
  TempPath tmp;
  PcapWriter w(tmp.path());  // pcapng is the default
  REQUIRE(w.ok());
  CHECK(w.format() == link::PcapFormat::Pcapng);
  auto b = read_all(tmp.path());  // on disk at once: an empty capture is a valid file
  auto blocks = blocks_of(b);
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0].type == 0x0A0D0D0Au);
  CHECK(le32(blocks[0].body, 0) == 0x1A2B3C4Du);  // byte-order magic, little-endian
  CHECK(le16(blocks[0].body, 4) == 1);
  CHECK(le16(blocks[0].body, 6) == 0);
  CHECK(le32(blocks[0].body, 8) == 0xFFFFFFFFu);  // section length unknown
  CHECK(le32(blocks[0].body, 12) == 0xFFFFFFFFu);
  auto shb = options_of(blocks[0].body, 16);
  REQUIRE(shb.size() == 2);
  CHECK(shb[0].code == 4);  // shb_userappl
  CHECK(shb[0].value == "tcplab");
  CHECK(blocks[1].type == 1u);
  CHECK(le16(blocks[1].body, 0) == 101);  // LINKTYPE_RAW
  CHECK(le32(blocks[1].body, 4) == 65535u);
  bool tsresol = false;
  for (const auto& o : options_of(blocks[1].body, 8)) {
    if (o.code == 9) tsresol = o.value == std::string(1, '\x09');  // 10^-9 s
  }
  CHECK(tsresol);
}

TEST_CASE("pcapng: packets carry the state change, retransmission, drop and fault they stand for") {
  TempPath tmp;
  auto syn = tcp_packet(true, true, false, 100);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    // 1. The peer's SYN; processing it moves the connection (the pcap tap sees the packet
    // first, the state change after: the record waits for it).
    tracer.packet(t0, trace::Direction::In, syn);
    tracer.state_change(t0, kConnection, "LISTEN", "SYN-RECEIVED", "RFC 9293 §3.10.7.2 (SYN in LISTEN)");
    // 2. Our SYN-ACK: built (segment event) before it reaches the tap.
    auto synack = tcp_packet(false, true, true, 5000);
    auto synack_ip = wire::parse_ipv4(synack);
    auto synack_seg = wire::parse_tcp(synack_ip->payload, kUs, kPeer);
    REQUIRE(synack_seg);
    tracer.segment(
        t0, {trace::Direction::Out, kConnection, *synack_seg, true, Seq(5000), Seq(100), "retransmission"});
    tracer.packet(t0 + microseconds(1), trace::Direction::Out, synack);
    // 3. A packet the stack refuses; 4. a packet the fault injector drops before the stack.
    auto bad = tcp_packet(true, false, true, 101, 10);
    tracer.packet(t0 + microseconds(2), trace::Direction::In, bad);
    tracer.drop(t0 + microseconds(2), DropReason::TcpBadChecksum, bad, "");
    auto lost = tcp_packet(true, false, true, 111, 20);
    tracer.fault(t0 + microseconds(3), trace::Direction::In, "dropped (drop in data#2)", lost);
    // 5. A timer's state change at a later time does not stick to the last packet.
    tracer.state_change(t0 + seconds(1), kConnection, "TIME-WAIT", "CLOSED",
                        "RFC 9293 §3.10.8 (TIME-WAIT: 2 MSL elapsed)");
    // 6. An outbound packet the injector drops: the tap saw it, the fault follows.
    auto data = tcp_packet(false, false, true, 5001, 30);
    tracer.packet(t0 + seconds(2), trace::Direction::Out, data);
    tracer.fault(t0 + seconds(2), trace::Direction::Out, "dropped (drop out data#1)", data);
    CHECK(w.next_flush_deadline() == t0 + seconds(2));  // the pending record is due at once
    w.flush();
    CHECK(w.packets_written() == 5);
    CHECK(w.comments_written() == 5);
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 5);
  CHECK(p[0].ns == 1700000000ull * 1000000000ull);
  CHECK(p[0].captured == syn.size());
  CHECK(p[0].original == syn.size());
  CHECK(p[0].flags == 1);  // inbound
  CHECK(p[0].data[0] == 0x45);
  REQUIRE(p[0].comments.size() == 1);
  CHECK(p[0].comments[0] == "LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2 (SYN in LISTEN))");
  CHECK(p[1].ns == 1700000000ull * 1000000000ull + 1000);
  CHECK(p[1].flags == 2);  // outbound
  CHECK(p[1].comments == std::vector<std::string>{"retransmission"});
  CHECK(p[2].comments == std::vector<std::string>{"dropped by the stack: tcp-bad-checksum"});
  CHECK(p[3].comments == std::vector<std::string>{"fault injector: dropped (drop in data#2)"});
  CHECK(p[3].flags == 1);
  CHECK(p[3].captured == 60u);
  CHECK(p[4].comments == std::vector<std::string>{"fault injector: dropped (drop out data#1)"});
  CHECK(p[4].ns == 1700000002ull * 1000000000ull);
}

TEST_CASE("pcapng: a note on one of a turn's pure ACKs goes on that ACK, not the one before it") {
  TempPath tmp;
  // Three pure ACKs built in one turn, all with SEQ 5001 and no data: a dup ACK (ack 101), the
  // ACK of the segments the turn read (ack 301, noted), and a window update (ack 301, a
  // larger window, noted). They reach the tap after all three were built.
  auto dup = tcp_packet(false, false, true, 5001, 0, 101, 1000);
  auto turn_ack = tcp_packet(false, false, true, 5001, 0, 301, 1000);
  auto update = tcp_packet(false, false, true, 5001, 0, 301, 4000);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    built(tracer, t0, dup);
    built(tracer, t0, turn_ack, "ACK for the segments read this turn");
    built(tracer, t0, update, "window update");
    for (const auto* packet : {&dup, &turn_ack, &update})
      tracer.packet(t0 + microseconds(1), trace::Direction::Out, *packet);
    w.flush();
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 3);
  CHECK(p[0].comments.empty());
  CHECK(p[1].comments == std::vector<std::string>{"ACK for the segments read this turn"});
  CHECK(p[2].comments == std::vector<std::string>{"window update"});
}

TEST_CASE("pcapng: inbound faults are marked when the packet reaches the stack") {
  TempPath tmp;
  auto first = tcp_packet(true, false, true, 200, 5);
  auto second = tcp_packet(true, false, true, 205, 5);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    // The injector reports at decision time; the packets reach the tap later.
    tracer.fault(t0, trace::Direction::In, "duplicated (dup in data#1)", first);
    tracer.fault(t0, trace::Direction::In, "delayed 2000 ms (delay in data#2 2000)", second);
    CHECK(w.packets_written() == 0);
    tracer.packet(t0, trace::Direction::In, first);
    tracer.packet(t0, trace::Direction::In, first);
    tracer.packet(t0 + seconds(2), trace::Direction::In, second);
    tracer.packet(t0 + seconds(3), trace::Direction::In, first);  // a third copy: no fault of ours
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 4);
  CHECK(p[0].comments == std::vector<std::string>{"fault injector: duplicated (dup in data#1), copy 1 of 2"});
  CHECK(p[1].comments == std::vector<std::string>{"fault injector: duplicated (dup in data#1), copy 2 of 2"});
  CHECK(p[2].comments == std::vector<std::string>{"fault injector: delayed 2000 ms (delay in data#2 2000)"});
  CHECK(p[3].comments.empty());
}

TEST_CASE("pcapng: both copies of a corrupted duplicate carry both faults, numbered 1 and 2") {
  // The injector corrupts, then duplicates, and reports each at the same moment with the
  // corrupted bytes; the two notes belong to the one decision and to both copies.
  TempPath tmp;
  auto corrupted = tcp_packet(true, false, true, 300, 5);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    tracer.fault(t0, trace::Direction::In, "corrupted: bit 156 flipped (random --corrupt)", corrupted);
    tracer.fault(t0, trace::Direction::In, "duplicated (random --dup)", corrupted);
    tracer.packet(t0, trace::Direction::In, corrupted);
    tracer.packet(t0, trace::Direction::In, corrupted);
    tracer.packet(t0 + seconds(1), trace::Direction::In, corrupted);  // no fault of ours
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 3);
  CHECK(p[0].comments ==
        std::vector<std::string>{"fault injector: corrupted: bit 156 flipped (random --corrupt)",
                                 "fault injector: duplicated (random --dup), copy 1 of 2"});
  CHECK(p[1].comments ==
        std::vector<std::string>{"fault injector: corrupted: bit 156 flipped (random --corrupt)",
                                 "fault injector: duplicated (random --dup), copy 2 of 2"});
  CHECK(p[2].comments.empty());
}

TEST_CASE("pcapng: a state change from a user call goes on the segment it sends") {
  TempPath tmp;
  auto sent = tcp_packet(false, false, true, 7000, 0, 1, 1000, /*fin=*/true);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    tracer.state_change(t0, kConnection, "ESTABLISHED", "FIN-WAIT-1",
                        "RFC 9293 §3.10.4 (CLOSE in ESTABLISHED)");
    auto ip = wire::parse_ipv4(sent);
    auto seg = wire::parse_tcp(ip->payload, kUs, kPeer);
    REQUIRE(seg);
    tracer.segment(t0, {trace::Direction::Out, kConnection, *seg, true, Seq(6000), Seq(100)});
    tracer.packet(t0, trace::Direction::Out, sent);
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 1);
  CHECK(p[0].comments ==
        std::vector<std::string>{"ESTABLISHED -> FIN-WAIT-1 (RFC 9293 §3.10.4 (CLOSE in ESTABLISHED))"});
}

TEST_CASE("pcapng: a CLOSE's state change goes on the FIN, after the data queued before it") {
  // A Connection: close response longer than one segment: CLOSE comes with the response, the
  // data segments leave first, and the FIN leaves later still (when the window allows).
  TempPath tmp;
  auto data = tcp_packet(false, false, true, 7000, 100);
  auto fin = tcp_packet(false, false, true, 7100, 0, 1, 1000, /*fin=*/true);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    tracer.state_change(t0, kConnection, "ESTABLISHED", "FIN-WAIT-1",
                        "RFC 9293 §3.10.4 (CLOSE in ESTABLISHED)");
    built(tracer, t0, data);
    tracer.packet(t0, trace::Direction::Out, data);
    built(tracer, t0 + milliseconds(40), fin);
    tracer.packet(t0 + milliseconds(40), trace::Direction::Out, fin);
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 2);
  CHECK(p[0].comments.empty());
  CHECK(p[1].comments ==
        std::vector<std::string>{"ESTABLISHED -> FIN-WAIT-1 (RFC 9293 §3.10.4 (CLOSE in ESTABLISHED))"});
}

TEST_CASE("pcapng: a valid SYN cookie's state change goes on the ACK that carried it") {
  TempPath tmp;
  auto ack = tcp_packet(true, false, true, 101);
  auto answer = tcp_packet(false, false, true, 5001, 50);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    tracer.packet(t0, trace::Direction::In, ack);
    tracer.state_change(t0, kConnection, "LISTEN", "SYN-RECEIVED", "RFC 4987 §3.6 (valid SYN cookie)");
    built(tracer, t0, answer);
    tracer.packet(t0, trace::Direction::Out, answer);
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 2);
  CHECK(p[0].comments ==
        std::vector<std::string>{"LISTEN -> SYN-RECEIVED (RFC 4987 §3.6 (valid SYN cookie))"});
  CHECK(p[1].comments.empty());
}

TEST_CASE("pcapng: of a segment and its retransmission built in one turn, the note goes on the second") {
  // A rescue retransmission of a segment first sent in the same turn: alike in every field.
  TempPath tmp;
  auto segment = tcp_packet(false, false, true, 9000, 100);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    built(tracer, t0, segment);
    built(tracer, t0, segment, "rescue retransmission", true);
    tracer.packet(t0, trace::Direction::Out, segment);
    tracer.packet(t0, trace::Direction::Out, segment);
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 2);
  CHECK(p[0].comments.empty());
  CHECK(p[1].comments == std::vector<std::string>{"rescue retransmission"});
}

TEST_CASE("pcapng: flush_complete() writes all but the packet whose comments are still coming") {
  // Step mode pauses while a packet is processed: the capture is flushed there, and the
  // packet being processed must not be written before the state change it causes.
  TempPath tmp;
  auto syn = tcp_packet(true, true, false, 100);
  auto ack = tcp_packet(true, false, true, 101);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    tracer.packet(t0, trace::Direction::In, syn);
    tracer.state_change(t0, kConnection, "LISTEN", "SYN-RECEIVED", "RFC 9293 §3.10.7.2 (SYN in LISTEN)");
    tracer.packet(t0 + microseconds(1), trace::Direction::In, ack);
    w.flush_complete();  // the pause at the ACK, before it is processed
    CHECK(w.packets_written() == 1);
    CHECK(packets_of(read_all(tmp.path())).size() == 1);
    tracer.state_change(t0 + microseconds(1), kConnection, "SYN-RECEIVED", "ESTABLISHED",
                        "RFC 9293 §3.10.7.4 fifth (SYN-RECEIVED: our SYN acknowledged)");
    w.flush();
  }
  auto p = packets_of(read_all(tmp.path()));
  REQUIRE(p.size() == 2);
  CHECK(p[0].comments ==
        std::vector<std::string>{"LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2 (SYN in LISTEN))"});
  CHECK(p[1].comments ==
        std::vector<std::string>{
            "SYN-RECEIVED -> ESTABLISHED (RFC 9293 §3.10.7.4 fifth (SYN-RECEIVED: our SYN acknowledged))"});
}

TEST_CASE("pcapng: flush_complete() at an Out step writes the inbound packet that led to it") {
  // Step mode pauses at each segment the stack builds, before it reaches the tap: the packet
  // whose processing built it, and the segment sent at the step before, are whole by then,
  // so Wireshark opened at the pause shows them with their comments.
  TempPath tmp;
  auto syn = tcp_packet(true, true, false, 100);
  auto syn_ack = tcp_packet(false, true, true, 5000);
  {
    PcapWriter w(tmp.path());
    w.set_origin(t0, wall0);
    trace::Tracer tracer;
    tracer.add(&w);
    tracer.packet(t0, trace::Direction::In, syn);
    tracer.state_change(t0, kConnection, "LISTEN", "SYN-RECEIVED", "RFC 9293 §3.10.7.2 (SYN in LISTEN)");
    auto ip = wire::parse_ipv4(syn_ack);
    auto seg = wire::parse_tcp(ip->payload, kUs, kPeer);
    REQUIRE(seg);
    tracer.segment(t0, {trace::Direction::Out, kConnection, *seg, false, Seq(5000), Seq(100)});
    w.flush_complete();  // the pause at the SYN-ACK, built but not sent
    CHECK(w.packets_written() == 1);
    auto shown = packets_of(read_all(tmp.path()));
    REQUIRE(shown.size() == 1);
    CHECK(shown[0].comments ==
          std::vector<std::string>{"LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2 (SYN in LISTEN))"});
    tracer.packet(t0, trace::Direction::Out, syn_ack);  // the turn ends: the SYN-ACK is sent
    w.flush_complete();  // the next pause: the SYN-ACK is whole (it waits for no event)
    CHECK(packets_of(read_all(tmp.path())).size() == 2);
  }
  CHECK(packets_of(read_all(tmp.path())).size() == 2);
}
