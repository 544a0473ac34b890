// Tests for range requests (RFC 9110 §14): parsing one byte range against a length, the body
// that sends only those bytes, and the site's 206, 416 and If-Range answers.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "http/byte_range.hpp"
#include "http/conditional.hpp"
#include "http/response.hpp"
#include "http/site.hpp"
#include "tests/unit/http_site_fixture.hpp"

using namespace tcplab::http;
using namespace tcplab::testing;

namespace {

bool ignored(const RangeAnswer& a) { return std::holds_alternative<IgnoreRange>(a); }
bool unsatisfiable(const RangeAnswer& a) { return std::holds_alternative<UnsatisfiableRange>(a); }

}  // namespace

TEST_CASE("one byte range is read as RFC 9110 §14.1.2 writes it") {
  CHECK(parse_range("bytes=0-499", 10000) == RangeAnswer{ByteRange{0, 499}});
  CHECK(parse_range("bytes=500-999", 10000) == RangeAnswer{ByteRange{500, 999}});
  CHECK(parse_range("bytes=9500-", 10000) == RangeAnswer{ByteRange{9500, 9999}});
  CHECK(parse_range("bytes=-500", 10000) == RangeAnswer{ByteRange{9500, 9999}});
  CHECK(parse_range("Bytes=0-0", 10000) == RangeAnswer{ByteRange{0, 0}});  // the unit is case-insensitive
  // A last position past the end is the end; a suffix longer than the whole is the whole.
  CHECK(parse_range("bytes=9000-20000", 10000) == RangeAnswer{ByteRange{9000, 9999}});
  CHECK(parse_range("bytes=-20000", 10000) == RangeAnswer{ByteRange{0, 9999}});
  // Positions too large for 64 bits are past every end, not malformed (§14.1.1: 1*DIGIT).
  CHECK(parse_range("bytes=0-99999999999999999999", 10000) == RangeAnswer{ByteRange{0, 9999}});
  CHECK(parse_range("bytes=-99999999999999999999", 10000) == RangeAnswer{ByteRange{0, 9999}});
  CHECK(unsatisfiable(parse_range("bytes=99999999999999999999-", 10000)));
  // Two such positions keep their order: last before first is still invalid, so ignored.
  CHECK(ignored(parse_range("bytes=99999999999999999999-99999999999999999998", 10000)));
  CHECK(unsatisfiable(parse_range("bytes=99999999999999999998-99999999999999999999", 10000)));
  CHECK(parse_range("bytes=0010-0020", 10000) == RangeAnswer{ByteRange{10, 20}});  // leading zeros
}

TEST_CASE("a range past the end is unsatisfiable; a malformed one, or several, are ignored") {
  CHECK(unsatisfiable(parse_range("bytes=10000-", 10000)));
  CHECK(unsatisfiable(parse_range("bytes=20000-30000", 10000)));
  CHECK(unsatisfiable(parse_range("bytes=-0", 10000)));
  for (const char* bad : {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-4", "bytes=1-2-3",
                          "items=0-1", "bytes=0-1,5-6", "bytes=+1-2"})
    CHECK_MESSAGE(ignored(parse_range(bad, 10000)), bad);
  // An empty representation has no byte to give: the whole (empty) answer is sent.
  CHECK(ignored(parse_range("bytes=0-", 0)));
}

TEST_CASE("a range of a file: 206 with Content-Range, only those bytes, and the 200's validators") {
  TempRoot root;
  root.write("a.txt", "0123456789abcdefghij");  // 20 bytes
  Site site(root.dir, {});
  // Not cached: each ranged request is the first a fresh server sees, so it opens and stores the
  // file and answers from what it just read; cached: one server that has served it before.
  for (bool cached : {false, true}) {
    CAPTURE(cached);
    auto asked = [&](const std::string& method, std::vector<Header> headers) {
      if (cached) return ask(site, method, "/a.txt", std::move(headers));
      Site first_time(root.dir, {});
      return ask(first_time, method, "/a.txt", std::move(headers));
    };
    Response whole = ask(site, "GET", "/a.txt");
    CHECK(whole.head.accept_ranges);
    CHECK(render_head(whole.head, {true, ConnectionHeader::None, false, 0, CloseCause::None}, "", 5)
              .find("\r\nAccept-Ranges: bytes\r\n") != std::string::npos);
    Response r = asked("GET", {{"Range", "bytes=5-14"}});
    CHECK(r.head.status == 206);
    CHECK(field(r, "Content-Range") == "bytes 5-14/20");
    CHECK(r.body->length() == 10u);
    CHECK(body_of(r, 7) == "56789abcde");
    CHECK(field(r, "ETag") == field(whole, "ETag"));
    Response tail = asked("GET", {{"Range", "bytes=-3"}});
    CHECK(body_of(tail, 7) == "hij");
    Response past = asked("GET", {{"Range", "bytes=20-"}});
    CHECK(past.head.status == 416);
    CHECK(field(past, "Content-Range") == "bytes */20");
    // HEAD and a list of ranges get the whole 200 (§14.2).
    CHECK(asked("HEAD", {{"Range", "bytes=5-14"}}).head.status == 200);
    CHECK(asked("GET", {{"Range", "bytes=0-1,5-6"}}).head.status == 200);
  }
}

TEST_CASE("a range of a file too large for the cache is read from the file at its offset") {
  TempRoot root;
  std::string content;
  for (size_t i = 0; i < kMaxCachedFileBytes + 5000; ++i) content += static_cast<char>('a' + i % 26);
  root.write("big.txt", content);
  Site site(root.dir, {});
  const std::string total = std::to_string(content.size());
  Response r = ask(site, "GET", "/big.txt", {{"Range", "bytes=65530-65545"}});
  CHECK(r.head.status == 206);
  CHECK(field(r, "Content-Range") == "bytes 65530-65545/" + total);
  CHECK(body_of(r, 7) == content.substr(65530, 16));
  Response tail = ask(site, "GET", "/big.txt", {{"Range", "bytes=-5"}});
  CHECK(body_of(tail, 7) == content.substr(content.size() - 5));
  CHECK(site.file_cache().entries() == 0);
}

TEST_CASE("/bytes/N takes ranges, and its pattern continues where the range starts") {
  Site site(std::nullopt, {});
  Response r = ask(site, "GET", "/bytes/1000", {{"Range", "bytes=600-"}});
  CHECK(r.head.status == 206);
  CHECK(field(r, "Content-Range") == "bytes 600-999/1000");
  const std::string got = body_of(r, 7);
  REQUIRE(got.size() == 400);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == PatternBody::byte_at(600 + i));
  // Pages and a stream of unknown length take none.
  CHECK(ask(site, "GET", "/", {{"Range", "bytes=0-9"}}).head.status == 200);
  CHECK_FALSE(ask(site, "GET", "/").head.accept_ranges);
  CHECK(ask(site, "GET", "/stream/1000", {{"Range", "bytes=0-9"}}).head.status == 200);
}

TEST_CASE("If-Range: the range only if the client's copy is the one on disk, else the whole file") {
  TempRoot root;
  root.write("a.txt", "0123456789");
  const std::time_t old = std::time(nullptr) - 100;
  root.set_mtime("a.txt", old);
  Site site(root.dir, {});
  const std::string etag = field(ask(site, "GET", "/a.txt"), "ETag");
  const std::string date = format_http_date(old);
  auto status = [&](const std::string& if_range) {
    return ask(site, "GET", "/a.txt", {{"Range", "bytes=2-"}, {"If-Range", if_range}}).head.status;
  };
  CHECK(status(etag) == 206);
  CHECK(status(date) == 206);
  // The same second in RFC 850's and asctime's spellings (RFC 9110 §5.6.7) names the same copy.
  std::tm utc{};
  gmtime_r(&old, &utc);
  char rfc850[64], asctime_form[64];
  std::strftime(rfc850, sizeof rfc850, "%A, %d-%b-%y %H:%M:%S GMT", &utc);
  std::strftime(asctime_form, sizeof asctime_form, "%a %b %e %H:%M:%S %Y", &utc);
  CHECK(status(rfc850) == 206);
  CHECK(status(asctime_form) == 206);
  CHECK(status("\"another\"") == 200);
  CHECK(status("W/" + etag) == 200);  // §13.1.5: the strong comparison
  CHECK(status(format_http_date(old - 1)) == 200);
  CHECK(status("not a validator") == 200);
}

TEST_CASE("If-Range with a date fails while the file's time is this very second (a weak validator)") {
  TempRoot root;
  root.write("a.txt", "0123456789");
  const std::time_t now = std::time(nullptr);
  root.set_mtime("a.txt", now + 3600);  // sent as now: an edit later in this second keeps it
  // A cache clock that stands still: every answer below comes from the entry stored first, with
  // the same Last-Modified, however long the test takes.
  const auto frozen = std::chrono::steady_clock::now();
  Site site(root.dir, {}, [frozen] { return frozen; });
  Response r = ask(site, "GET", "/a.txt");
  const std::string sent = field(r, "Last-Modified");
  Request q;
  q.method = "GET";
  q.target = "/a.txt";
  q.headers = {{"Range", "bytes=2-"}, {"If-Range", sent}};
  auto modified = parse_http_date(sent, now);
  REQUIRE(modified);
  CHECK(apply_range(q, ask(site, "GET", "/a.txt"), *modified).head.status == 200);
  CHECK(apply_range(q, ask(site, "GET", "/a.txt"), *modified + 1).head.status == 206);
}
