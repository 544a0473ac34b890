#include "stack/text/note_buffer.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace tcplab::text {

std::string_view NoteBuffer::format(const char* pattern, ...) {
  va_list args;
  va_start(args, pattern);
  // vsnprintf returns the length the whole text would have had, or a negative number.
  int wanted = std::vsnprintf(text_, sizeof text_, pattern, args);
  va_end(args);
  length_ = wanted < 0 ? 0 : std::min(static_cast<size_t>(wanted), kCapacity);
  return view();
}

}  // namespace tcplab::text
