// The Internet checksum (RFC 1071): a one's-complement sum that can be built up piece by piece.
#include "stack/wire/checksum.hpp"

#include <array>

namespace tcplab::wire {

void ChecksumAccumulator::add(ConstBytes bytes) {
  size_t i = 0;
  // A byte left over from the previous piece was summed as the high half of a 16-bit word;
  // this piece's first byte is that word's low half (RFC 1071 §2: the sum is byte-order
  // independent only word-wise, so the pairing must follow the concatenated stream).
  if (odd_ && !bytes.empty()) {
    sum_ += static_cast<uint8_t>(bytes[0]);
    odd_ = false;
    i = 1;
  }
  // Deferred carries (RFC 1071 §2(C)): a 64-bit accumulator cannot overflow on any packet
  // size we handle, so folding happens once, in finish().
  for (; i + 1 < bytes.size(); i += 2) sum_ += read_u16(bytes, i);
  if (i < bytes.size()) {
    // RFC 1071 §4.1: an odd trailing byte is padded with a zero low byte.
    sum_ += uint64_t{static_cast<uint8_t>(bytes[i])} << 8;
    odd_ = true;
  }
}

void ChecksumAccumulator::add_u16(uint16_t value) {
  std::array<std::byte, 2> b{std::byte(value >> 8), std::byte(value & 0xff)};
  add(b);
}

void ChecksumAccumulator::add_u32(uint32_t value) {
  add_u16(static_cast<uint16_t>(value >> 16));
  add_u16(static_cast<uint16_t>(value & 0xffff));
}

uint16_t ChecksumAccumulator::finish() const {
  uint64_t sum = sum_;
  // RFC 1071 §4.1: fold the carries back into the low 16 bits until none remain.
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t internet_checksum(ConstBytes bytes) {
  ChecksumAccumulator acc;
  acc.add(bytes);
  return acc.finish();
}

}  // namespace tcplab::wire
