// Bounds-checked reads of capture-file fields in either byte order. Capture files say their
// byte order in their magic numbers, unlike packets (always big-endian, stack/wire/bytes.hpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcplab::capture {

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, bool big_endian) : bytes_(bytes), big_endian_(big_endian) {}

  // Callers check has(at, n) first; reads past the end are a programming error.
  bool has(size_t at, size_t n) const { return at <= bytes_.size() && n <= bytes_.size() - at; }
  uint16_t u16(size_t at) const {
    unsigned a = byte(at), b = byte(at + 1);
    return static_cast<uint16_t>(big_endian_ ? (a << 8) | b : (b << 8) | a);
  }
  uint32_t u32(size_t at) const {
    uint32_t a = u16(at), b = u16(at + 2);
    return big_endian_ ? (a << 16) | b : (b << 16) | a;
  }
  uint64_t u64(size_t at) const {
    uint64_t a = u32(at), b = u32(at + 4);
    return big_endian_ ? (a << 32) | b : (b << 32) | a;
  }
  size_t size() const { return bytes_.size(); }
  std::span<const std::byte> slice(size_t at, size_t n) const { return bytes_.subspan(at, n); }

 private:
  unsigned byte(size_t at) const { return static_cast<unsigned>(bytes_[at]); }
  std::span<const std::byte> bytes_;
  bool big_endian_;
};

}  // namespace tcplab::capture
