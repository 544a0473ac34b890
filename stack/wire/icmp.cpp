// ICMP message parse and emit (RFC 792): the 8-byte header, the body, and the checksum.
#include "stack/wire/icmp.hpp"

#include <cassert>
#include <cstring>

#include "stack/wire/checksum.hpp"

namespace tcplab::wire {

namespace {
constexpr size_t kIcmpHeaderLength = 8;  // type, code, checksum, 4 bytes "rest of header"
}

Parsed<IcmpMessage> parse_icmp(ConstBytes bytes) {
  if (bytes.size() < kIcmpHeaderLength) return DropReason::IcmpTruncated;
  // RFC 792: the checksum covers the whole ICMP message, header and data.
  if (internet_checksum(bytes) != 0) return DropReason::IcmpBadChecksum;
  IcmpMessage m;
  m.type = read_u8(bytes, 0);
  m.code = read_u8(bytes, 1);
  m.checksum = read_u16(bytes, 2);
  m.rest = read_u32(bytes, 4);
  m.body = bytes.subspan(kIcmpHeaderLength);
  return m;
}

size_t emit_icmp(uint8_t type, uint8_t code, uint32_t rest, ConstBytes body, MutableBytes out) {
  assert(out.size() >= kIcmpHeaderLength + body.size());  // caller's buffer, not network input
  write_u8(out, 0, type);
  write_u8(out, 1, code);
  write_u16(out, 2, 0);
  write_u32(out, 4, rest);
  // memmove, not copy: a reply may be built in place over the request it answers.
  if (!body.empty()) std::memmove(out.data() + kIcmpHeaderLength, body.data(), body.size());
  size_t length = kIcmpHeaderLength + body.size();
  write_u16(out, 2, internet_checksum(out.first(length)));
  return length;
}

}  // namespace tcplab::wire
