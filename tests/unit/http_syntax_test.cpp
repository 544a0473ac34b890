// Tests for http/syntax: the one field-line split both the request and the response parser use,
// each fault named the way the request parser's 400 detail says it.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "http/syntax.hpp"

using namespace tcplab::http::syntax;

TEST_CASE("split_field_line: name and OWS-trimmed value, or the first fault found") {
  std::string_view name, value;
  CHECK(split_field_line("Host: \t example.org \t", name, value) == FieldLineFault::None);
  CHECK(name == "Host");
  CHECK(value == "example.org");
  CHECK(split_field_line("X-Empty:", name, value) == FieldLineFault::None);
  CHECK(value.empty());
  CHECK(split_field_line("Obs: fold\x80", name, value) == FieldLineFault::None);  // obs-text is allowed
  CHECK(split_field_line(" folded: x", name, value) == FieldLineFault::ObsFold);
  CHECK(split_field_line("\tfolded", name, value) == FieldLineFault::ObsFold);
  CHECK(split_field_line("no colon", name, value) == FieldLineFault::NoColon);
  CHECK(split_field_line("", name, value) == FieldLineFault::NoColon);
  CHECK(split_field_line("Host : x", name, value) == FieldLineFault::BadName);
  CHECK(split_field_line(": x", name, value) == FieldLineFault::BadName);
  CHECK(split_field_line("Connection: close\x7f", name, value) == FieldLineFault::ControlByte);
  CHECK(split_field_line(std::string_view("Connection: close\0", 18), name, value) ==
        FieldLineFault::ControlByte);
  CHECK(split_field_line("Tab:\tinside\tkept\t", name, value) == FieldLineFault::None);
  CHECK(value == "inside\tkept");
}

TEST_CASE("is_chunk_ext: nothing, or ;name[=value] by RFC 9112 §7.1.1, whitespace only before ; and =") {
  for (std::string_view ok :
       {"", ";a", ";a=b", " ;a", "\t; a = b", ";a=\"x y\"", ";a=\"q\\\"\";b", ";a;b=1"}) {
    INFO("'" << ok << "'");
    CHECK(is_chunk_ext(ok));
  }
  for (std::string_view bad : {" ", "\t", ";", "x", " x", ";\x01", ";a=", ";a=\"open", ";a=\"\x01\"", ";a b",
                               ";a ", ";a=b c", "=b"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(is_chunk_ext(bad));
  }
}

TEST_CASE("describe: the words of a request's 400 detail") {
  CHECK(std::string_view(describe(FieldLineFault::ObsFold)) == "obs-fold (line folding)");
  CHECK(std::string_view(describe(FieldLineFault::NoColon)) == "field line without colon");
  CHECK(std::string_view(describe(FieldLineFault::BadName)) == "bad field name");
  CHECK(std::string_view(describe(FieldLineFault::ControlByte)) == "control character in field value");
}

TEST_CASE("the byte tables agree with the RFC grammar for all 256 byte values") {
  // RFC 9110 §5.6.2 tchar, and CTL but HTAB (RFC 5234 B.1) for a field value (RFC 9110 §5.5),
  // spelled out one byte at a time here to check the tables built at compile time.
  const std::string_view tchar_punctuation = "!#$%&'*+-.^_`|~";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool alnum = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
    const bool tchar = alnum || (b != 0 && tchar_punctuation.find(c) != std::string_view::npos);
    const bool control = (b < 0x20 && b != '\t') || b == 0x7f;
    INFO("byte " << b);
    CHECK(is_tchar(c) == tchar);
    CHECK(has_control_byte(std::string_view(&c, 1)) == control);
    // Anywhere in a value, not only first.
    const std::string value = std::string("ok ") + c + " ok";
    CHECK(has_control_byte(value) == control);
  }
}
