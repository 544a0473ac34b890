#include <doctest/doctest.h>

#include <string>

#include "stack/text/note_buffer.hpp"

using tcplab::text::NoteBuffer;

TEST_CASE("NoteBuffer: formats as printf and holds the text") {
  NoteBuffer note;
  CHECK(note.view().empty());
  CHECK(note.format("icmp echo reply to %s id %u, %zu data bytes", "192.0.2.2", 7u, size_t{56}) ==
        "icmp echo reply to 192.0.2.2 id 7, 56 data bytes");
  CHECK(note.view() == "icmp echo reply to 192.0.2.2 id 7, 56 data bytes");
}

TEST_CASE("NoteBuffer: a new text replaces the old one") {
  NoteBuffer note;
  note.format("%s", "a long first note");
  CHECK(note.format("id %d", 3) == "id 3");
}

TEST_CASE("NoteBuffer: a text longer than the buffer is cut at its capacity") {
  NoteBuffer note;
  std::string long_text(NoteBuffer::kCapacity + 40, 'x');
  std::string_view cut = note.format("%s!", long_text.c_str());
  CHECK(cut.size() == NoteBuffer::kCapacity);
  CHECK(cut == std::string(NoteBuffer::kCapacity, 'x'));
  CHECK(note.format("%.*s", static_cast<int>(NoteBuffer::kCapacity), long_text.c_str()).size() ==
        NoteBuffer::kCapacity);
}
