// Tests for the event loop with a virtio-net header on the link (--offload), over a
// SOCK_SEQPACKET socketpair standing in for the TUN: a partial checksum is finished before
// the stack sees the packet, a header that cannot be honoured is a counted refusal, and what
// the loop writes starts with a zero header.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "stack/loop/event_loop.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/checksum.hpp"
#include "stack/wire/virtio_net_header.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab;

namespace {

struct VnetLink {
  int stack_side = -1, test_side = -1;
  VnetLink() {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    stack_side = fds[0];
    test_side = fds[1];
  }
  ~VnetLink() {
    close(stack_side);
    close(test_side);
  }
  void send(const wire::VirtioNetHeader& header, std::vector<std::byte> packet) const {
    std::vector<std::byte> frame(wire::kVirtioNetHeaderLength);
    wire::emit_virtio_net_header(header, frame);
    frame.insert(frame.end(), packet.begin(), packet.end());
    REQUIRE(write(test_side, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
  }
};

// The ping with its ICMP checksum left partial, as a sender with TUN_F_CSUM leaves it: ICMP
// has no pseudo-header, so the field holds zero.
std::vector<std::byte> partial_ping() {
  auto ping = wire::test::hex(wire::test::kPingRequest);
  wire::write_u16(ping, 22, 0);
  return ping;
}

wire::VirtioNetHeader needs_checksum_at(uint16_t start, uint16_t offset) {
  wire::VirtioNetHeader h;
  h.flags = wire::kVirtioNeedsChecksum;
  h.checksum_start = start;
  h.checksum_offset = offset;
  return h;
}

}  // namespace

TEST_CASE("loop with vnet header: a partial checksum is finished and the ping answered") {
  VnetLink link;
  trace::Tracer tracer;
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_vnet_header(true);
  link.send(needs_checksum_at(20, 2), partial_ping());
  for (int i = 0; i < 10 && loop.stats().packets_written < 1; ++i)
    loop.run_once(std::chrono::milliseconds(200));
  CHECK(loop.stats().checksums_completed == 1);
  CHECK(loop.stats().vnet_refused == 0);
  CHECK(loop.stats().link_writes == 1);
  CHECK(stack.ip_stats().echo_replies == 1);
  std::vector<std::byte> reply(2000);
  ssize_t n = read(link.test_side, reply.data(), reply.size());
  REQUIRE(n == static_cast<ssize_t>(wire::kVirtioNetHeaderLength + partial_ping().size()));
  auto header = wire::parse_virtio_net_header(reply);
  REQUIRE(header);
  CHECK(*header == wire::VirtioNetHeader{});  // the stack's own checksums are complete
  std::span<const std::byte> ip(reply.data() + wire::kVirtioNetHeaderLength, partial_ping().size());
  CHECK(wire::read_u8(ip, 20) == 0);  // echo reply
  CHECK(wire::internet_checksum(ip.subspan(20)) == 0);
}

TEST_CASE("loop with vnet header: a header the packet cannot honour is refused and counted") {
  VnetLink link;
  trace::Tracer tracer;
  Stack stack(StackConfig{}, tracer);
  SteadyClock clock;
  loop::EventLoop loop(link.stack_side, stack, tracer, clock);
  loop.set_vnet_header(true);
  const auto ping = partial_ping();
  link.send(needs_checksum_at(static_cast<uint16_t>(ping.size()), 2), ping);  // beyond the end
  const std::byte stub[4] = {};  // shorter than a virtio-net header
  REQUIRE(write(link.test_side, stub, sizeof stub) == 4);
  for (int i = 0; i < 10 && loop.stats().packets_read < 2; ++i) loop.run_once(std::chrono::milliseconds(50));
  CHECK(loop.stats().packets_read == 2);
  CHECK(loop.stats().vnet_refused == 2);
  CHECK(stack.ip_stats().packets_received == 0);
  CHECK(loop.stats().link_writes == 0);
}
