// Big-endian field access for stack/wire only: nothing outside stack/wire reads a byte offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcplab::wire {

using ConstBytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

inline uint8_t read_u8(ConstBytes b, size_t at) { return static_cast<uint8_t>(b[at]); }
inline uint16_t read_u16(ConstBytes b, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned>(b[at]) << 8) | static_cast<unsigned>(b[at + 1]));
}
inline uint32_t read_u32(ConstBytes b, size_t at) {
  return (uint32_t{read_u16(b, at)} << 16) | read_u16(b, at + 2);
}
inline void write_u8(MutableBytes b, size_t at, uint8_t v) { b[at] = std::byte{v}; }
inline void write_u16(MutableBytes b, size_t at, uint16_t v) {
  b[at] = std::byte(v >> 8);
  b[at + 1] = std::byte(v & 0xff);
}
inline void write_u32(MutableBytes b, size_t at, uint32_t v) {
  write_u16(b, at, static_cast<uint16_t>(v >> 16));
  write_u16(b, at + 2, static_cast<uint16_t>(v & 0xffff));
}

}  // namespace tcplab::wire
