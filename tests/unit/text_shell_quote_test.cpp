#include <doctest/doctest.h>

#include "stack/text/shell_quote.hpp"

using tcplab::text::shell_quote;

TEST_CASE("shell_quote: plain words stay as they are") {
  CHECK(shell_quote("--seed") == "--seed");
  CHECK(shell_quote("tests/scenarios/passive-open.pkt") == "tests/scenarios/passive-open.pkt");
  CHECK(shell_quote("in:5%") == "in:5%");
}

TEST_CASE("shell_quote: spaces, quotes and shell characters go in single quotes") {
  CHECK(shell_quote("drop in syn") == "'drop in syn'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$HOME;rm *") == "'$HOME;rm *'");
  CHECK(shell_quote("") == "''");
}
