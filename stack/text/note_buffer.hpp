// A trace note or drop detail formatted into a fixed buffer, so building one on a per-packet
// path allocates nothing.
#pragma once

#include <cstddef>
#include <string_view>

namespace tcplab::text {

class NoteBuffer {
 public:
  static constexpr size_t kCapacity = 159;  // characters, plus one for snprintf's NUL

  // Formats as std::printf would, replacing what the buffer held. A longer text is cut at
  // kCapacity characters, never written or read past the buffer; an encoding error leaves
  // it empty. The text stays valid until the next format() or the buffer's end.
  [[gnu::format(printf, 2, 3)]] std::string_view format(const char* pattern, ...);
  std::string_view view() const { return {text_, length_}; }

 private:
  char text_[kCapacity + 1];
  size_t length_ = 0;
};

}  // namespace tcplab::text
