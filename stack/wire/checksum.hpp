// The Internet checksum (RFC 1071): one's-complement sum of 16-bit words, used by IPv4,
// ICMP and TCP (the latter over a pseudo-header, RFC 9293 §3.1).
#pragma once
#include <cstdint>

#include "stack/wire/bytes.hpp"

namespace tcplab::wire {

class ChecksumAccumulator {
 public:
  // Bytes are summed as if concatenated with everything added before, so an odd-length
  // piece followed by another piece gives the same result as one contiguous buffer.
  void add(ConstBytes bytes);
  void add_u16(uint16_t value);
  void add_u32(uint32_t value);
  // The one's complement of the folded sum: the value to store in a checksum field.
  // Over data that already contains a correct checksum it returns 0.
  uint16_t finish() const;

 private:
  uint64_t sum_ = 0;
  bool odd_ = false;  // an odd byte is pending from the previous add()
};

uint16_t internet_checksum(ConstBytes bytes);

}  // namespace tcplab::wire
