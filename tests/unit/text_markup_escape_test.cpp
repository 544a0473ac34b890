#include <doctest/doctest.h>

#include "stack/text/markup_escape.hpp"

using tcplab::text::markup_escape;

TEST_CASE("markup_escape: the five markup characters become entities") {
  CHECK(markup_escape("<a&\"b>") == "&lt;a&amp;&quot;b&gt;");
  CHECK(markup_escape("it's") == "it&apos;s");
}

TEST_CASE("markup_escape: plain text and tabs pass through, other control bytes become '?'") {
  CHECK(markup_escape("Linux kernel TCP") == "Linux kernel TCP");
  CHECK(markup_escape("a\tb") == "a\tb");
  CHECK(markup_escape(std::string_view("a\x01\nb", 4)) == "a??b");
}
