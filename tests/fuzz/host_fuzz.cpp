// Fuzz target for the whole sans-IO stack with TCP: the input is a little program of
// operations - raw IPv4 bytes, well-formed TCP segments with valid checksums built from
// fuzzer-chosen fields (so the state machine is reached, not just the parsers), application
// calls, and jumps of a virtual clock. Nothing may crash or leak, every packet the stack
// emits must parse with valid checksums, and the connection gauges must stay consistent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab;

namespace {

constexpr wire::Ipv4Address kPeer{0xC0000201u};  // 192.0.2.1
constexpr uint16_t kPort = 80;

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
  wire::ConstBytes bytes(size_t n) {
    n = std::min(n, n_ - std::min(i_, n_));
    wire::ConstBytes b(reinterpret_cast<const std::byte*>(d_ + i_), n);
    i_ += n;
    return b;
  }

 private:
  const uint8_t* d_;
  size_t n_, i_ = 0;
};

// The application: accepts everything, reads some, writes some, closes or aborts on demand.
struct App final : tcp::AcceptHandler, tcp::SocketHandler {
  tcp::TcpHost* host = nullptr;
  std::vector<tcp::Socket*> sockets;
  bool read_eagerly = true;

  void on_acceptable(uint16_t port) override {
    while (tcp::Socket* s = host->accept(port)) {
      sockets.push_back(s);
      s->set_handler(this);
    }
  }
  void on_readable(tcp::Socket& s) override {
    if (!read_eagerly) return;
    std::byte buf[2048];
    while (s.receive(buf) > 0) {
    }
  }
  void on_closed(tcp::Socket& s, tcp::CloseReason) override {
    sockets.erase(std::remove(sockets.begin(), sockets.end(), &s), sockets.end());
  }
};

struct Harness {
  trace::Tracer tracer;
  Stack stack;
  App app;
  Instant now{seconds(100)};
  Seq peer_base{0x10000000u};  // sequence numbers the fuzzer builds on
  Seq stack_seq{0};            // last sequence number seen from the stack (for plausible ACKs)
  std::vector<std::byte> packet;

  static StackConfig config() {
    StackConfig c;
    c.tcp.receive_buffer = 4096;
    c.tcp.send_buffer = 8192;
    c.tcp.max_out_of_order = 2048;
    c.tcp.backlog = 4;
    c.tcp.syn_backlog = 4;
    c.tcp.msl = seconds(2);
    return c;
  }
  Harness() : stack(config(), tracer) {
    app.host = &stack.tcp();
    stack.tcp().listen(kPort, &app);
    packet.reserve(2048);
  }

  void check_outbox() {
    auto& box = stack.outbox();
    for (size_t i = 0; i < box.size(); ++i) {
      auto ip = wire::parse_ipv4(box.packet(i));
      FUZZ_CHECK(ip.ok());
      if (ip->header.protocol != 6) continue;
      auto seg = wire::parse_tcp(ip->payload, ip->header.source, ip->header.destination, true);
      FUZZ_CHECK(seg.ok());
      stack_seq = seg->seq + seg->length();
    }
    box.clear();
    const auto& st = stack.tcp().stats();
    uint64_t current = 0, time_wait = 0;
    for (const auto& c : stack.tcp().connections()) {
      if (c.state == tcp::State::TimeWait)
        ++time_wait;
      else if (c.state != tcp::State::Closed)
        ++current;
    }
    FUZZ_CHECK(st.connections_current == current);
    FUZZ_CHECK(st.connections_time_wait == time_wait);
  }

  void inject_raw(wire::ConstBytes b) { stack.receive(b, now); }

  void inject_segment(Reader& r) {
    uint8_t flags = r.u8();
    uint8_t which = r.u8();
    wire::TcpSegment s;
    s.source_port = static_cast<uint16_t>(40000 + (which & 3));
    s.destination_port = (which & 4) ? static_cast<uint16_t>(kPort + 1) : kPort;
    s.flags = wire::TcpFlags::from_byte(flags);
    s.seq = peer_base + (r.u16() - 0x100u);
    s.ack = (which & 8) ? stack_seq + (r.u8() - 0x80u) : Seq(r.u32());
    s.window = r.u16();
    if (which & 16) s.options.mss = r.u16();
    if (which & 32) s.options.window_scale = static_cast<uint8_t>(r.u8() % 16);
    s.payload = r.bytes(r.u8() * 8u);
    packet.assign(20 + 60 + s.payload.size(), std::byte{0});
    size_t n = wire::emit_tcp(s, kPeer, stack.config().address, wire::MutableBytes(packet).subspan(20));
    wire::Ipv4Header h;
    h.protocol = 6;
    h.source = kPeer;
    h.destination = stack.config().address;
    wire::emit_ipv4_header(h, n, wire::MutableBytes(packet));
    packet.resize(20 + n);
    stack.receive(packet, now);
  }

  void app_call(Reader& r) {
    uint8_t op = r.u8();
    if (op % 8 == 7) {
      stack.tcp().connect(kPeer, static_cast<uint16_t>(40000 + (op >> 3) % 4), &app);
      return;
    }
    if (app.sockets.empty()) return;
    tcp::Socket* s = app.sockets[r.u8() % app.sockets.size()];
    switch (op % 8) {
      case 0: {
        static const std::byte data[3000] = {};
        s->send(wire::ConstBytes(data, r.u16() % sizeof data));
        break;
      }
      case 1:
        s->close();
        break;
      case 2:
        s->abort();
        break;
      case 3: {
        std::byte buf[512];
        s->receive(buf);
        break;
      }
      case 4:
        app.read_eagerly = !app.read_eagerly;
        break;
      default:
        (void)s->info();
        break;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h;
  Reader r(data, size);
  // Bounded: each operation consumes at least one byte.
  while (!r.empty()) {
    switch (r.u8() % 5) {
      case 0:
        h.inject_raw(r.bytes(r.u8() * 2u));
        break;
      case 1:
      case 2:
        h.inject_segment(r);
        break;
      case 3:
        h.app_call(r);
        break;
      case 4: {
        // Jump the clock: up to ~65 s, so RTO back-off, persist and TIME-WAIT all fire.
        h.now += milliseconds(r.u16());
        h.stack.advance(h.now);
        break;
      }
    }
    h.check_outbox();
    auto next = h.stack.next_deadline();
    FUZZ_CHECK(!next || h.stack.tcp().connections().size() > 0);
  }
  // Let every timer run out: all connections end (TIME-WAIT, give-up) within bounded time.
  for (int i = 0; i < 64 && h.stack.next_deadline(); ++i) {
    h.now = std::max(h.now, *h.stack.next_deadline());
    h.stack.advance(h.now);
    h.check_outbox();
  }
  return 0;
}
