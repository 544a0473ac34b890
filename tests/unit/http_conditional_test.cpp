// Tests for conditional requests on files under --root (RFC 9110 §13): the three HTTP-date
// forms, entity-tag lists, the order in which preconditions are evaluated, and what the site
// answers: ETag and Last-Modified on a 200, 304 with the ETag, 412.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "http/conditional.hpp"
#include "http/response.hpp"
#include "http/site.hpp"
#include "tests/unit/http_site_fixture.hpp"

using namespace tcplab::http;
using namespace tcplab::testing;

namespace {

// 1994-11-06 08:49:37 UTC, RFC 9110's own example.
constexpr std::time_t kExample = 784111777;
// "Now" for the parsing tests: 2026-11-30 00:00:00 UTC.
constexpr std::time_t kNow = 1795996800;

Request request_with(std::vector<Header> headers) {
  Request r;
  r.method = "GET";
  r.target = "/a.txt";
  r.headers = std::move(headers);
  return r;
}

Validators example_validators() {
  Validators v;
  v.etag = "\"abc\"";
  v.last_modified = kExample;
  v.last_modified_text = format_http_date(kExample);
  return v;
}

}  // namespace

TEST_CASE("an HTTP-date is read in all three forms RFC 9110 §5.6.7 names") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", kNow) == kExample);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow) == kExample);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994", kNow) == kExample);
  CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", kNow) == 0);
  // A leap year's 29 February, and a leap second.
  CHECK(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT", kNow) == 1709208000);
  CHECK(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT", kNow) == 1483228800);
  // What we send reads back as the same second.
  CHECK(parse_http_date(format_http_date(kNow), kNow) == kNow);
}

TEST_CASE("an RFC 850 date's two-digit year is never more than 50 years ahead") {
  // In 2026, "76" is 2076 (50 years ahead) and "77" is 1977 (51 would be too far).
  CHECK(parse_http_date("Wednesday, 01-Jan-76 00:00:00 GMT", kNow) == 3345062400);
  CHECK(parse_http_date("Saturday, 01-Jan-77 00:00:00 GMT", kNow) == 220924800);
  CHECK(parse_http_date("Monday, 30-Nov-26 00:00:00 GMT", kNow) == kNow);
}

TEST_CASE("anything else is not a date, and is ignored rather than guessed at") {
  for (const char* bad :
       {"", "yesterday", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT ", "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun Nov 06 08:49:37 1994 GMT", "Sun Nov 6 08:49:37 1994", "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT"})
    CHECK_MESSAGE(!parse_http_date(bad, kNow), bad);
}

TEST_CASE("an entity-tag list matches by the strong or the weak comparison") {
  CHECK(entity_tag_list_matches("\"abc\"", "\"abc\"", false));
  CHECK(entity_tag_list_matches("*", "\"abc\"", false));
  CHECK(entity_tag_list_matches(" \"x\" , \"abc\"", "\"abc\"", false));
  CHECK(entity_tag_list_matches(",, \"x\",,\"abc\",", "\"abc\"", true));  // empty elements are ignored
  CHECK(entity_tag_list_matches("\"a,b\"", "\"a,b\"", false));            // a comma inside the quotes
  CHECK_FALSE(entity_tag_list_matches("\"abcd\"", "\"abc\"", true));
  CHECK_FALSE(entity_tag_list_matches("", "\"abc\"", true));
  // RFC 9110 §8.8.3.2: W/ is ignored by the weak comparison and fails the strong one.
  CHECK(entity_tag_list_matches("W/\"abc\"", "\"abc\"", true));
  CHECK_FALSE(entity_tag_list_matches("W/\"abc\"", "\"abc\"", false));
  // Malformed: no quotes, an unclosed quote, a missing comma, "*" in a list.
  for (const char* bad : {"abc", "\"abc", "\"x\" \"abc\"", "*, \"abc\"", "w/\"abc\""})
    CHECK_MESSAGE(!entity_tag_list_matches(bad, "\"abc\"", true), bad);
}

TEST_CASE("OPTIONS, CONNECT and TRACE ignore the conditional fields (RFC 9110 §13.2.1)") {
  const Validators v = example_validators();
  for (const char* method : {"OPTIONS", "CONNECT", "TRACE"}) {
    CAPTURE(method);
    const std::vector<Header> fields{{"If-Match", "\"other\""},
                                     {"If-None-Match", "*"},
                                     {"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}};
    for (const Header& field : fields) {
      CAPTURE(field.name);
      Request r = request_with({field});
      r.method = method;
      CHECK(evaluate_preconditions(r, &v, kNow) == Precondition::Serve);
    }
  }
}

TEST_CASE("preconditions are evaluated in RFC 9110 §13.2.2's order") {
  const Validators v = example_validators();
  const std::string same = format_http_date(kExample);
  const std::string later = format_http_date(kExample + 1);
  const std::string earlier = format_http_date(kExample - 1);
  using P = Precondition;
  CHECK(evaluate_preconditions(request_with({}), &v, kNow) == P::Serve);
  // If-None-Match: a match means the client's copy is current.
  CHECK(evaluate_preconditions(request_with({{"If-None-Match", "\"abc\""}}), &v, kNow) == P::NotModified);
  CHECK(evaluate_preconditions(request_with({{"If-None-Match", "\"old\""}}), &v, kNow) == P::Serve);
  // Several field lines are one list (RFC 9110 §5.3).
  CHECK(evaluate_preconditions(request_with({{"If-None-Match", "\"old\""}, {"if-none-match", "\"abc\""}}), &v,
                               kNow) == P::NotModified);
  // If-Modified-Since: not modified after the date (equal counts as not modified).
  CHECK(evaluate_preconditions(request_with({{"If-Modified-Since", same}}), &v, kNow) == P::NotModified);
  CHECK(evaluate_preconditions(request_with({{"If-Modified-Since", later}}), &v, kNow) == P::NotModified);
  CHECK(evaluate_preconditions(request_with({{"If-Modified-Since", earlier}}), &v, kNow) == P::Serve);
  // §13.1.3: ignored when If-None-Match is present, when it is no date, when it is in the
  // future, and for a method other than GET and HEAD.
  CHECK(evaluate_preconditions(request_with({{"If-None-Match", "\"old\""}, {"If-Modified-Since", same}}), &v,
                               kNow) == P::Serve);
  CHECK(evaluate_preconditions(request_with({{"If-Modified-Since", "not a date"}}), &v, kNow) == P::Serve);
  CHECK(evaluate_preconditions(request_with({{"If-Modified-Since", format_http_date(kNow + 60)}}), &v,
                               kNow) == P::Serve);
  Request post = request_with({{"If-Modified-Since", same}});
  post.method = "POST";
  CHECK(evaluate_preconditions(post, &v, kNow) == P::Serve);
  // If-Match and If-Unmodified-Since guard against a changed file: false is 412, and they
  // come before If-None-Match.
  CHECK(evaluate_preconditions(request_with({{"If-Match", "\"abc\""}}), &v, kNow) == P::Serve);
  CHECK(evaluate_preconditions(request_with({{"If-Match", "W/\"abc\""}}), &v, kNow) == P::Failed);
  CHECK(evaluate_preconditions(request_with({{"If-Match", "\"old\""}, {"If-None-Match", "\"abc\""}}), &v,
                               kNow) == P::Failed);
  CHECK(evaluate_preconditions(request_with({{"If-Unmodified-Since", earlier}}), &v, kNow) == P::Failed);
  CHECK(evaluate_preconditions(request_with({{"If-Unmodified-Since", same}}), &v, kNow) == P::Serve);
  // If-Unmodified-Since is ignored when If-Match is there (§13.1.4).
  CHECK(evaluate_preconditions(request_with({{"If-Match", "*"}, {"If-Unmodified-Since", earlier}}), &v,
                               kNow) == P::Serve);
}

TEST_CASE("a file's 200 carries ETag and Last-Modified; a client holding it gets 304 with the ETag") {
  TempRoot root;
  root.write("a.txt", "hello");
  root.set_mtime("a.txt", kExample);
  Site site(root.dir, {});
  // Not cached: each conditional request is the first a fresh server sees, so it opens and stores
  // the file and answers from what it just read; cached: one server that has served it before.
  for (bool cached : {false, true}) {
    CAPTURE(cached);
    auto asked = [&](const std::string& method, std::vector<Header> headers) {
      if (cached) return ask(site, method, "/a.txt", std::move(headers));
      Site first_time(root.dir, {});
      return ask(first_time, method, "/a.txt", std::move(headers));
    };
    Response r = ask(site, "GET", "/a.txt");
    REQUIRE(r.head.status == 200);
    const std::string etag = field(r, "ETag");
    CHECK(etag.size() > 2);
    CHECK(etag.front() == '"');
    CHECK(field(r, "Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT");

    Response again = asked("GET", {{"If-None-Match", etag}});
    CHECK(again.head.status == 304);
    CHECK_FALSE(again.body);
    CHECK(field(again, "ETag") == etag);
    CHECK(field(again, "Last-Modified").empty());  // §15.4.5: the ETag is enough
    CHECK(again.head.content_type.empty());
    CHECK(asked("HEAD", {{"If-None-Match", "W/" + etag}}).head.status == 304);
    CHECK(asked("GET", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).head.status == 304);
    CHECK(asked("GET", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).head.status == 200);
    Response failed = asked("GET", {{"If-Match", "\"something else\""}});
    CHECK(failed.head.status == 412);
  }
}

TEST_CASE("an edited file gets a new ETag, so the client's copy is no longer current") {
  TempRoot root;
  root.write("a.txt", "first");
  auto now = std::make_shared<std::chrono::steady_clock::time_point>();
  Site site(root.dir, {}, [now] { return *now; });
  const std::string first = field(ask(site, "GET", "/a.txt"), "ETag");
  root.write("a.txt", "edit!");  // the same size
  root.set_mtime("a.txt", kExample);
  *now += kFileRevalidateAfter;
  Response r = ask(site, "GET", "/a.txt", {{"If-None-Match", first}});
  CHECK(r.head.status == 200);
  CHECK(field(r, "ETag") != first);
}

TEST_CASE("a modification time in the future is sent as now, never later than the Date") {
  TempRoot root;
  root.write("a.txt", "from the future");
  const std::time_t before = std::time(nullptr);
  root.set_mtime("a.txt", before + 3600);
  Site site(root.dir, {});
  Response r = ask(site, "GET", "/a.txt");
  auto sent = parse_http_date(field(r, "Last-Modified"), before);
  REQUIRE(sent);
  CHECK(*sent >= before);
  CHECK(*sent <= std::time(nullptr));
}

TEST_CASE("the built-in pages have no validators: only \"*\" holds or fails, a list never matches") {
  Site site(std::nullopt, {});
  Response r = ask(site, "GET", "/");
  CHECK(r.head.status == 200);
  CHECK(field(r, "ETag").empty());
  CHECK(field(r, "Last-Modified").empty());
  CHECK(ask(site, "GET", "/", {{"If-Modified-Since", format_http_date(std::time(nullptr))}}).head.status ==
        200);
  CHECK(ask(site, "GET", "/", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).head.status == 200);
  CHECK(ask(site, "GET", "/", {{"If-None-Match", "*"}}).head.status == 304);
  CHECK(ask(site, "GET", "/", {{"If-None-Match", "\"x\""}}).head.status == 200);
  // RFC 9110 §13.1.1: If-Match is false unless a listed tag matches, and nothing here has one.
  for (const char* target : {"/", "/bytes/10", "/style.css"}) {
    CAPTURE(target);
    CHECK(ask(site, "GET", target, {{"If-Match", "\"x\""}}).head.status == 412);
    CHECK(ask(site, "GET", target, {{"If-Match", "*"}}).head.status == 200);
  }
  // A missing page stays 404 whatever its preconditions say (§13.2.1).
  CHECK(ask(site, "GET", "/missing", {{"If-Match", "\"x\""}}).head.status == 404);
}

TEST_CASE("POST /echo is not performed when a precondition is false") {
  Site site(std::nullopt, {});
  auto post = [&](std::vector<Header> headers) {
    Request r;
    r.method = "POST";
    r.target = "/echo";
    r.body = "abc";
    r.headers = std::move(headers);
    return site.respond(r).head.status;
  };
  CHECK(post({}) == 200);
  CHECK(post({{"If-Match", "\"nope\""}}) == 412);
  CHECK(post({{"If-Match", "*"}}) == 200);
  CHECK(post({{"If-None-Match", "*"}}) == 412);
  CHECK(post({{"If-None-Match", "\"x\""}}) == 200);
}

TEST_CASE("a file too large for the cache answers its preconditions before it is read") {
  TempRoot root;
  root.write("big.bin", std::string(kMaxCachedFileBytes + 1000, 'x'));
  root.set_mtime("big.bin", kExample);
  Site site(root.dir, {});
  for (int round = 0; round < 2; ++round) {  // never cached: every answer opens the file
    CAPTURE(round);
    Response r = ask(site, "GET", "/big.bin");
    REQUIRE(r.head.status == 200);
    const std::string etag = field(r, "ETag");
    CHECK(site.file_cache().entries() == 0);
    Response again = ask(site, "GET", "/big.bin", {{"If-None-Match", etag}});
    CHECK(again.head.status == 304);
    CHECK(field(again, "ETag") == etag);
    CHECK_FALSE(again.body);
    CHECK(ask(site, "GET", "/big.bin", {{"If-Modified-Since", format_http_date(kExample)}}).head.status ==
          304);
    CHECK(ask(site, "GET", "/big.bin", {{"If-Match", "\"other\""}}).head.status == 412);
  }
}
