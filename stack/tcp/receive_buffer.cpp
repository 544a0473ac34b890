// In-order delivery plus reassembly in place: out-of-order bytes are written where they
// belong in the ring, so filling a hole costs no extra copy.
#include "stack/tcp/receive_buffer.hpp"

namespace tcplab::tcp {

ReceiveBuffer::InsertResult ReceiveBuffer::insert(size_t offset, wire::ConstBytes data) {
  if (data.empty()) return {Stored::InOrder, 0};
  if (offset == 0) {
    // Overwriting parked bytes with the same sequence numbers is harmless: a correct peer
    // sends the same bytes for the same numbers.
    ring_.write_after_end(0, data);
    size_t advanced = data.size() + reassembly_.advance(data.size());
    ring_.grow(advanced);
    return {Stored::InOrder, advanced};
  }
  size_t held = reassembly_.bytes();
  if (held + data.size() > max_out_of_order_) return {Stored::Refused, 0};
  if (!reassembly_.add(offset, offset + data.size())) return {Stored::Refused, 0};
  ring_.write_after_end(offset, data);
  return {Stored::OutOfOrder, 0};
}

size_t ReceiveBuffer::read(wire::MutableBytes out) {
  size_t n = std::min(out.size(), ring_.size());
  ring_.copy_out(0, out.first(n));
  ring_.pop(n);
  // Parked out-of-order bytes are addressed from the head, so only rewind when none wait.
  if (reassembly_.empty()) ring_.release_if_empty();
  return n;
}

}  // namespace tcplab::tcp
