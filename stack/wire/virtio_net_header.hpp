// The 10-byte virtio-net header (struct virtio_net_hdr, virtio spec v1.2 §5.1.6) that a TUN
// opened with IFF_VNET_HDR puts before every packet, both ways. It tells the other side that a
// packet is a GSO super-packet to cut into gso_size pieces, or that its transport checksum is
// still partial. Unlike every other header here its 16-bit fields are little-endian (virtio's
// byte order on a little-endian host, which is what the TUN uses), not network order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "stack/wire/bytes.hpp"

namespace tcplab::wire {

constexpr size_t kVirtioNetHeaderLength = 10;

// flags: the checksum from csum_start to the end is partial; the field at csum_start +
// csum_offset holds the folded pseudo-header sum, the rest is the receiver's to finish.
constexpr uint8_t kVirtioNeedsChecksum = 1;
// flags: the sender already verified the checksum (a packet that came from a wire).
constexpr uint8_t kVirtioDataValid = 2;

enum class VirtioGso : uint8_t { None = 0, TcpV4 = 1, UdpV4 = 3, TcpV6 = 4, UdpL4 = 5 };
constexpr uint8_t kVirtioGsoEcn = 0x80;  // gso_type bit: the super-packet carries CWR (ECN)

struct VirtioNetHeader {
  uint8_t flags = 0;
  uint8_t gso_type = 0;       // a VirtioGso, possibly with kVirtioGsoEcn
  uint16_t header_length = 0;  // hdr_len: IP + transport header bytes of a super-packet
  uint16_t gso_size = 0;       // payload bytes per segment the super-packet is cut into
  uint16_t checksum_start = 0;
  uint16_t checksum_offset = 0;

  bool needs_checksum() const { return (flags & kVirtioNeedsChecksum) != 0; }
  VirtioGso gso() const { return static_cast<VirtioGso>(gso_type & ~kVirtioGsoEcn); }
  bool operator==(const VirtioNetHeader&) const = default;
};

// Reads the first 10 bytes; nothing if there are fewer.
std::optional<VirtioNetHeader> parse_virtio_net_header(ConstBytes bytes);
// Writes 10 bytes into out[0..10); returns 10.
size_t emit_virtio_net_header(const VirtioNetHeader& header, MutableBytes out);

// Whether a NEEDS_CSUM header's offsets lie inside a packet of `size` bytes (the checksum
// field included).
bool partial_checksum_in_bounds(const VirtioNetHeader& header, size_t size);
// What the receiver of a NEEDS_CSUM packet does (virtio spec v1.2 §5.1.6.4.2): sums the bytes
// from checksum_start to the end (the field holding the pseudo-header sum included) and stores
// the complement at checksum_start + checksum_offset, so the packet verifies like any other.
// False, packet untouched, when the offsets do not lie inside the packet.
bool complete_partial_checksum(const VirtioNetHeader& header, MutableBytes packet);

}  // namespace tcplab::wire
