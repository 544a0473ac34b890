// A scripted remote peer for TCP unit tests: builds IPv4/TCP packets with wire::emit_* (a
// random ISN each run, shown with every failure and replayable with TCPLAB_TEST_ISN=N), hands
// them to a tcplab::Stack on a virtual clock, and reads back what the stack sent, parsed, so
// tests assert exact segments. History is printed on failure.
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::testing {

struct Sent {
  wire::TcpFlags flags;
  Seq seq, ack;
  uint16_t window = 0;
  wire::TcpOptions options;
  std::string payload;
  uint16_t source_port = 0, destination_port = 0;
};

// Records application callbacks.
struct RecordingHandler : tcp::SocketHandler {
  int connected = 0, readable = 0, writable = 0, peer_fin = 0, closed = 0;
  std::optional<tcp::CloseReason> reason;
  std::string received;
  bool read_on_readable = true;
  void on_connected(tcp::Socket&) override { ++connected; }
  void on_readable(tcp::Socket& s) override {
    ++readable;
    if (!read_on_readable) return;
    std::byte buf[4096];
    while (size_t n = s.receive(buf)) received.append(reinterpret_cast<const char*>(buf), n);
  }
  void on_writable(tcp::Socket&) override { ++writable; }
  void on_peer_fin(tcp::Socket&) override { ++peer_fin; }
  void on_closed(tcp::Socket&, tcp::CloseReason r) override {
    ++closed;
    reason = r;
  }
};

struct RecordingAccept : tcp::AcceptHandler {
  int calls = 0;
  void on_acceptable(uint16_t) override { ++calls; }
};

inline wire::ConstBytes bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline StackConfig default_stack_config() {
  StackConfig c;
  c.tcp.isn_key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  return c;
}

// The peer's ISN: TCPLAB_TEST_ISN (decimal or 0x hex) if set, to replay a failure; otherwise
// random, so the tests cover sequence numbers that wrap at every point over many runs.
inline Seq draw_peer_isn() {
  if (const char* text = std::getenv("TCPLAB_TEST_ISN")) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(text, &end, 0);
    REQUIRE_MESSAGE((*text != '\0' && *end == '\0' && v <= 0xffffffffULL),
                    "TCPLAB_TEST_ISN must be a 32-bit number, got '" << std::string(text) << "'");
    return Seq(static_cast<uint32_t>(v));
  }
  std::random_device rd;
  return Seq(static_cast<uint32_t>(rd()));
}

// Adds "peer ISN N (replay: TCPLAB_TEST_ISN=N ...)" to the report of every failure while the
// Peer lives: doctest's INFO, held for the Peer's lifetime instead of one block's.
struct PeerIsnInfo {
  const Seq* isn;
  void operator()(std::ostream* out) const {
    *out << "peer ISN " << isn->raw() << " (replay: TCPLAB_TEST_ISN=" << isn->raw() << " build/unit-tests)";
  }
};

class Peer {
 public:
  explicit Peer(StackConfig config = default_stack_config(), uint16_t port = 40000)
      : stack(config, tracer), isn(draw_peer_isn()), port_(port) {}
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  trace::Tracer tracer;
  Stack stack;
  Instant now{std::chrono::seconds(1000)};
  wire::Ipv4Address ip{0xC0000201};  // 192.0.2.1
  Seq isn;                           // the peer's ISN (random each run, or TCPLAB_TEST_ISN)
  std::vector<std::string> history;

  uint16_t port() const { return port_; }
  void set_port(uint16_t p) { port_ = p; }

  // Sends one segment from the peer to the stack. `rel_seq` is relative to the peer's ISN.
  void inject(wire::TcpSegment seg, uint16_t to_port, bool corrupt = false) {
    std::vector<std::byte> packet;
    build_packet(seg, to_port, packet, corrupt);
    history.push_back("< " + seg.flags.to_string() + " seq " + std::to_string(seg.seq - isn) + " ack " +
                      std::to_string(seg.ack.raw()) + " len " + std::to_string(seg.payload.size()));
    stack.receive(packet, now);
  }

  // The IPv4 packet carrying `seg` from the peer to `to_port`, written into `packet` (which
  // allocates nothing once it has held a packet this large).
  void build_packet(wire::TcpSegment seg, uint16_t to_port, std::vector<std::byte>& packet,
                    bool corrupt = false) const {
    seg.source_port = port_;
    seg.destination_port = to_port;
    packet.resize(20 + 60 + seg.payload.size());
    size_t n = wire::emit_tcp(seg, ip, stack.config().address, wire::MutableBytes(packet).subspan(20));
    if (corrupt) packet[20 + 16] ^= std::byte{0x55};
    wire::Ipv4Header h;
    h.protocol = 6;
    h.source = ip;
    h.destination = stack.config().address;
    wire::emit_ipv4_header(h, n, wire::MutableBytes(packet));
    packet.resize(20 + n);
  }

  // The next segment of a client that keeps its own send sequence `nxt` (window 65535, MSS
  // 1460 on a SYN), built into `packet`; `nxt` moves past its data and SYN or FIN.
  void build_next(const std::string& flags, Seq& nxt, Seq ack, const std::string& data, uint16_t to_port,
                  std::vector<std::byte>& packet) const {
    wire::TcpSegment seg = make(flags, nxt, ack, 65535, std::as_bytes(std::span(data.data(), data.size())));
    if (seg.flags.syn) seg.options.mss = 1460;
    build_packet(seg, to_port, packet);
    nxt += static_cast<uint32_t>(data.size()) + (seg.flags.syn || seg.flags.fin ? 1u : 0u);
  }

  // A segment with flags, absolute seq/ack, window and optional payload.
  static wire::TcpSegment make(const std::string& flags, Seq seq, Seq ack, uint16_t window,
                               wire::ConstBytes payload = {}) {
    wire::TcpSegment s;
    for (char c : flags) {
      if (c == 'S') s.flags.syn = true;
      if (c == 'F') s.flags.fin = true;
      if (c == 'R') s.flags.rst = true;
      if (c == 'P') s.flags.psh = true;
      if (c == '.') s.flags.ack = true;
    }
    s.seq = seq;
    s.ack = ack;
    s.window = window;
    s.payload = payload;
    return s;
  }

  void advance(Duration d) {
    now += d;
    history.push_back("advance to +" + std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) +
                      "ms");
    stack.advance(now);
  }

  // Everything the stack sent since the last call, parsed.
  std::vector<Sent> take() {
    std::vector<Sent> out;
    stack.finish_turn();  // the test's turn as the application is over
    auto& box = stack.outbox();
    for (size_t i = 0; i < box.size(); ++i) {
      auto ip4 = wire::parse_ipv4(box.packet(i));
      REQUIRE(ip4.ok());
      auto tcp = wire::parse_tcp(ip4->payload, ip4->header.source, ip4->header.destination);
      REQUIRE(tcp.ok());
      Sent s{tcp->flags,
             tcp->seq,
             tcp->ack,
             tcp->window,
             tcp->options,
             std::string(reinterpret_cast<const char*>(tcp->payload.data()), tcp->payload.size()),
             tcp->source_port,
             tcp->destination_port};
      history.push_back("> " + s.flags.to_string() + " seq " + std::to_string(s.seq.raw()) + " ack " +
                        std::to_string(s.ack - isn) + " len " + std::to_string(s.payload.size()));
      out.push_back(std::move(s));
    }
    box.clear();
    return out;
  }

  std::string dump() const {
    std::string s;
    for (const auto& h : history) s += "  " + h + "\n";
    return s;
  }

 private:
  uint16_t port_;
  doctest::detail::ContextScope<PeerIsnInfo> isn_info_{PeerIsnInfo{&isn}};
};

// Drives the common prologue: listener on `server_port`, SYN, SYN-ACK, ACK, accept.
struct Established {
  explicit Established(StackConfig config = default_stack_config(), uint16_t window = 65535,
                       std::optional<uint8_t> wscale = std::nullopt, uint16_t server_port = 80,
                       uint16_t peer_mss = 1460)
      : peer(config), port(server_port) {
    REQUIRE(peer.stack.tcp().listen(port, &acceptor));
    auto syn = Peer::make("S", peer.isn, Seq(0), window);
    syn.options.mss = peer_mss;
    syn.options.window_scale = wscale;
    peer.inject(syn, port);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    synack = out[0];
    iss = synack.seq;
    peer_nxt = peer.isn + 1;
    our_nxt = iss + 1;
    peer.inject(Peer::make(".", peer_nxt, our_nxt, window), port);
    REQUIRE(peer.take().empty());
    socket = peer.stack.tcp().accept(port);
    REQUIRE(socket != nullptr);
    socket->set_handler(&app);
  }
  // Injects data (or flags) from the peer at peer_nxt and advances peer_nxt.
  void peer_sends(const std::string& flags, const std::string& data, uint16_t window = 65535) {
    auto seg = Peer::make(flags, peer_nxt, our_nxt, window, bytes_of(data));
    peer.inject(seg, port);
    peer_nxt += static_cast<uint32_t>(seg.length());
  }
  void peer_acks(Seq ack, uint16_t window = 65535) {
    peer.inject(Peer::make(".", peer_nxt, ack, window), port);
  }

  Peer peer;
  uint16_t port;
  RecordingAccept acceptor;
  RecordingHandler app;
  Sent synack;
  Seq iss, peer_nxt, our_nxt;
  tcp::Socket* socket = nullptr;
};

// A connection whose peer takes 65,495-byte segments (a 64 KiB MTU), so that a test can move
// 4 GiB through it in well under a second and see sequence numbers wrap (RFC 9293 §3.4).
struct JumboEstablished : Established {
  static constexpr uint16_t kMss = 65495;
  JumboEstablished() : Established(jumbo_config(), 65535, std::nullopt, 80, kMss) {}
  static StackConfig jumbo_config() {
    auto config = default_stack_config();
    config.mtu = 65535;
    config.tcp.mss = kMss;
    return config;
  }
  // Writes n bytes (at most one segment; 0: nothing new, the next queued segment goes), checks
  // that one segment leaves at our_nxt with them, and has the peer acknowledge it.
  void send_one_and_ack(size_t n) {
    if (n > 0) REQUIRE(socket->send(bytes_of(segment.substr(0, n))) == n);
    auto out = peer.take();
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].seq == our_nxt);
    REQUIRE(out[0].payload.size() == (n > 0 ? n : segment.size()));
    our_nxt += static_cast<uint32_t>(out[0].payload.size());
    peer_acks(our_nxt);
    peer.history.clear();  // two lines a segment, 65,000 segments: keep only the end
  }
  const std::string segment = std::string(kMss, 'x');
};

// A connection whose receive window is shut: a 4,096-byte buffer the peer has filled and the
// application has not read, the zero window already advertised.
struct ZeroWindowEstablished : Established {
  ZeroWindowEstablished() : Established(small_buffer()) {
    app.read_on_readable = false;
    peer_sends(".", std::string(4096, 'a'));
    peer.advance(milliseconds(200));
    auto out = peer.take();
    INFO(peer.dump());
    REQUIRE(!out.empty());
    REQUIRE(out.back().window == 0);
  }
  static StackConfig small_buffer() {
    auto config = default_stack_config();
    config.tcp.receive_buffer = 4096;
    return config;
  }
};

}  // namespace tcplab::testing
