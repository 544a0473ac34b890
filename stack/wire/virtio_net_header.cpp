// The virtio-net header: little-endian fields, and finishing a partial checksum.
#include "stack/wire/virtio_net_header.hpp"

#include "stack/wire/checksum.hpp"

namespace tcplab::wire {
namespace {

uint16_t read_le16(ConstBytes b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned>(b[at]) | (static_cast<unsigned>(b[at + 1]) << 8));
}

void write_le16(MutableBytes b, size_t at, uint16_t v) {
  b[at] = std::byte(v & 0xff);
  b[at + 1] = std::byte(v >> 8);
}

}  // namespace

std::optional<VirtioNetHeader> parse_virtio_net_header(ConstBytes bytes) {
  if (bytes.size() < kVirtioNetHeaderLength) return std::nullopt;
  VirtioNetHeader h;
  h.flags = read_u8(bytes, 0);
  h.gso_type = read_u8(bytes, 1);
  h.header_length = read_le16(bytes, 2);
  h.gso_size = read_le16(bytes, 4);
  h.checksum_start = read_le16(bytes, 6);
  h.checksum_offset = read_le16(bytes, 8);
  return h;
}

size_t emit_virtio_net_header(const VirtioNetHeader& header, MutableBytes out) {
  write_u8(out, 0, header.flags);
  write_u8(out, 1, header.gso_type);
  write_le16(out, 2, header.header_length);
  write_le16(out, 4, header.gso_size);
  write_le16(out, 6, header.checksum_start);
  write_le16(out, 8, header.checksum_offset);
  return kVirtioNetHeaderLength;
}

bool partial_checksum_in_bounds(const VirtioNetHeader& header, size_t size) {
  const size_t start = header.checksum_start;
  return start < size && start + header.checksum_offset + 2 <= size;
}

bool complete_partial_checksum(const VirtioNetHeader& header, MutableBytes packet) {
  if (!partial_checksum_in_bounds(header, packet.size())) return false;
  const size_t start = header.checksum_start;
  const size_t field = start + header.checksum_offset;
  ChecksumAccumulator sum;
  sum.add(ConstBytes(packet).subspan(start));
  write_u16(packet, field, sum.finish());
  return true;
}

}  // namespace tcplab::wire
