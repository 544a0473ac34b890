// The TCP segments in a capture's IPv4 packets, as a ladder draws them: a segment the snap
// length cut short keeps its real length (from the IPv4 total length), and the fragments of
// a datagram are put back together when the capture holds them all (bounded, as the stack's
// own reassembly is). What cannot be drawn is counted under its own reason.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "stack/ip/reassembly.hpp"
#include "stack/wire/bytes.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::ladder {

struct CapturedTcp {
  wire::Ipv4Header ip;
  wire::TcpSegment tcp;           // its payload is the captured part only; valid until the next add()
  uint32_t payload_length = 0;    // as sent: from the IPv4 total length
  uint32_t captured_payload = 0;  // as captured: less than payload_length when cut
  size_t fragments = 0;           // 0: sent whole; else how many IPv4 fragments carried it
};

// Why a packet holds no segment to draw.
struct SkippedPackets {
  uint64_t not_tcp = 0;     // not TCP over IPv4 at all, or a header that does not parse
  uint64_t header_cut = 0;  // TCP over IPv4, but the snap length cut into the IP or TCP header
  uint64_t fragments = 0;   // IPv4 fragments whose datagram could not be put back together
  uint64_t fragments_cut = 0;  // IPv4 fragments the snap length cut: their bytes are not all there
  uint64_t total() const { return not_tcp + header_cut + fragments + fragments_cut; }
};

class CapturedTcpReader {
 public:
  // One IPv4 packet of the capture, at capture time `time_ns`; `cut` when the capture holds
  // fewer bytes of it than were sent. Gives the segment it completes, if any.
  std::optional<CapturedTcp> add(wire::ConstBytes ipv4, int64_t time_ns, bool cut);
  // At the end of the capture: the fragments of datagrams still incomplete are counted.
  void finish();
  const SkippedPackets& skipped() const { return skipped_; }

 private:
  std::optional<CapturedTcp> segment(const wire::Ipv4Packet& packet, size_t fragments);
  void fragment(const wire::Ipv4Packet& packet, int64_t time_ns, std::optional<CapturedTcp>& out);
  void count_expired(const std::vector<ip::Reassembler::Expired>& expired);

  ip::Reassembler reassembler_;
  SkippedPackets skipped_;
};

}  // namespace tcplab::ladder
