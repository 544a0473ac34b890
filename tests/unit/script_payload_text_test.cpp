// Payload texts in scenario scripts (tcplab extension, docs/scenarios.md): "..." with C
// escapes on '<' lines (the bytes sent) and '>' lines (a prefix of the bytes expected),
// seq:*(*) for any length, quote_text() for showing payloads, and comments around texts.
#include <doctest/doctest.h>

#include <string>

#include "stack/script/script.hpp"

using namespace tcplab::scenario;

namespace {

ParseResult parse(const std::string& body) {
  return parse_script("t.pkt", "0 < S 0:0(0) win 65535\n+0 > S. 0:0(0) ack 1\n" + body);
}

// The segment of the script's third line (the first one `body` adds).
const SegmentSpec& third(const ParseResult& r) { return r.script->lines.at(2).segment; }

bool error_says(const ParseResult& r, const std::string& text) {
  return r.error && r.error->message.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("payload text: escapes become their bytes and the count must equal len") {
  auto r = parse("+0 < P. 1:9(8) ack 1 \"a\\r\\n\\t\\\\\\\"\\x00\\xff\"\n");
  REQUIRE(r.script);
  REQUIRE(third(r).text);
  CHECK(*third(r).text == std::string("a\r\n\t\\\"\0\xff", 8));
  CHECK(third(r).len == 8);

  auto longer = parse("+0 < P. 1:11(10) ack 1 \"GET /\\r\\n\"\n");
  REQUIRE(longer.error);
  CHECK(error_says(longer, "the payload text is 7 bytes but seq:end(len) says 10"));
  CHECK(longer.error->line == 3);
  CHECK(longer.error->column == 24);  // the opening quote
}

TEST_CASE("payload text: unknown escapes, bad \\x and a missing closing quote are script errors") {
  CHECK(error_says(parse("+0 < P. 1:2(1) ack 1 \"\\q\"\n"), "unknown escape"));
  CHECK(error_says(parse("+0 < P. 1:2(1) ack 1 \"\\x4\"\n"), "unknown escape"));
  CHECK(error_says(parse("+0 < P. 1:2(1) ack 1 \"\\xZZ\"\n"), "unknown escape"));
  auto open = parse("+0 < P. 1:2(1) ack 1 \"a\n");
  REQUIRE(open.error);
  CHECK(error_says(open, "unterminated string"));
  CHECK(open.error->column == 22);
  // An escaped quote does not close the text.
  CHECK(error_says(parse("+0 < P. 1:2(1) ack 1 \"a\\\"\n"), "unterminated string"));
  CHECK(error_says(parse("+0 < P. 1:3(2) ack 1 \"a\" \"b\"\n"), "payload text given twice"));
}

TEST_CASE("payload text: '//' and '/*' inside a text are text, and a comment may follow it") {
  auto r = parse("+0 < P. 1:24(23) ack 1 \"GET HTTP://h/* HTTP/1.1\" // a comment \"x\"\n");
  REQUIRE(r.script);
  CHECK(*third(r).text == "GET HTTP://h/* HTTP/1.1");
  // A block comment after the text is still a comment.
  auto block = parse("+0 < P. 1:2(1) ack 1 \"a\" /* note */ win 100\n");
  REQUIRE(block.script);
  CHECK(*third(block).win == 100);
  // A quote inside a '//' comment opens nothing: the block comment after it still counts.
  auto quoted = parse("// say \"hi\n/* a\nblock */ +0 < P. 1:2(1) ack 1 \"b\"\n");
  REQUIRE(quoted.script);
  CHECK(*quoted.script->lines.at(2).segment.text == "b");
}

TEST_CASE("payload text on '>' lines: a prefix, with seq:*(*) for any length") {
  auto any = parse("+0 > P. 1:*(*) ack 1 \"HTTP/1.1 400 \"\n");
  REQUIRE(any.script);
  CHECK(third(any).len_any);
  CHECK(third(any).seq == 1);
  CHECK(*third(any).text == "HTTP/1.1 400 ");

  auto exact = parse("+0 > P. 1:101(100) ack 1 \"HTTP/1.1\"\n");
  REQUIRE(exact.script);
  CHECK_FALSE(third(exact).len_any);
  CHECK(third(exact).len == 100);

  // A prefix longer than the segment could never match.
  CHECK(error_says(parse("+0 > P. 1:3(2) ack 1 \"abc\"\n"), "could never match"));
  // Any length is for expected segments only; both parts must be '*'.
  CHECK(error_says(parse("+0 < P. 1:*(*) ack 1 \"abc\"\n"), "needs its real length"));
  CHECK(parse("+0 > P. 1:*(3) ack 1\n").error);
}

TEST_CASE("quote_text shows payload bytes as a script writes them, cut at the limit") {
  CHECK(quote_text(std::string("HTTP/1.1 200 OK\r\n", 17), 64) == "\"HTTP/1.1 200 OK\\r\\n\"");
  CHECK(quote_text(std::string("a\"b\\c\t\x01\x80", 8), 64) == "\"a\\\"b\\\\c\\t\\x01\\x80\"");
  CHECK(quote_text("abcdef", 3) == "\"abc\"...");
  CHECK(quote_text("", 3) == "\"\"");
}
