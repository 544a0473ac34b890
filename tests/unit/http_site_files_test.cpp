// Tests for serving files under --root when the disk misbehaves: a FIFO never blocks the
// event loop, failed opens get the status their cause deserves (403, 503 with a warning),
// the Content-Type follows the URL, and the small protocol rules around files: If-None-Match,
// "/sub%2f", /bytes/ with percent-encoded digits.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "http/body_source.hpp"
#include "http/open_file.hpp"
#include "http/response.hpp"
#include "http/site.hpp"
#include "http/static_root.hpp"
#include "tests/unit/http_site_fixture.hpp"

using namespace tcplab::http;
using namespace tcplab::testing;

// Without O_NONBLOCK, open() of a FIFO waits for a writer. The thread below becomes that
// writer after a while, so a blocking open shows as a slow one instead of hanging the test.
TEST_CASE("opening a FIFO in a file's place returns at once and refuses it") {
  TempRoot root;
  const std::string fifo = root.dir + "/x.txt";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto opens_fast = [&](auto open_it) {
    std::thread writer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      // Succeeds only if a reader is waiting in open(); it is closed straight away.
      int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
    });
    const auto start = std::chrono::steady_clock::now();
    const bool refused = open_it();
    const auto took = std::chrono::steady_clock::now() - start;
    writer.join();
    CHECK(refused);
    CHECK(took < std::chrono::milliseconds(400));
  };
  opens_fast([&] {
    OpenedFile f = open_regular_file(fifo);
    if (f.fd >= 0) ::close(f.fd);
    return f.failure == OpenFailure::NotFound;
  });
  opens_fast([&] { return FileBody::open(fifo) == nullptr; });
}

TEST_CASE("a file that shrinks while it is sent: its body ends where the file does, never padded") {
  // Over 64 KiB, so read from disk as the socket drains (not from the small-file cache). The
  // session sees the early end and closes the connection (http_session_test, RFC 9112 §8).
  TempRoot root;
  std::string text(200'000, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  root.write("big.bin", text);
  Site site(root.dir, {});
  const std::string path = root.dir + "/big.bin";
  Response whole = ask(site, "GET", "/big.bin");
  Response range = ask(site, "GET", "/big.bin", {{"Range", "bytes=1000-149999"}});
  REQUIRE(whole.head.status == 200);
  REQUIRE(range.head.status == 206);
  CHECK(whole.body->length() == 200'000u);  // as promised in Content-Length...
  CHECK(range.body->length() == 149'000u);
  REQUIRE(::truncate(path.c_str(), 50'000) == 0);
  CHECK(body_of(whole) == text.substr(0, 50'000));  // ...but only what is on disk, no zeros
  CHECK(body_of(range) == text.substr(1000, 49'000));
}

TEST_CASE("failed opens: 403 for a file the server may not read, 404 for a FIFO") {
  TempRoot root;
  root.write("secret.txt", "hidden");
  REQUIRE(::chmod((root.dir + "/secret.txt").c_str(), 0) == 0);
  REQUIRE(::mkfifo((root.dir + "/pipe").c_str(), 0644) == 0);
  Site site(root.dir, {});
  // As root every open succeeds: ask as nobody (seteuid is undone below).
  const bool as_root = ::geteuid() == 0;
  if (as_root) REQUIRE(::seteuid(65534) == 0);
  Response r = ask(site, "GET", "/secret.txt");
  if (as_root) REQUIRE(::seteuid(0) == 0);
  CHECK(r.head.status == 403);
  CHECK(body_of(r).find("hidden") == std::string::npos);
  CHECK(ask(site, "GET", "/pipe").head.status == 404);
}

TEST_CASE("a path that cannot be resolved: 403 where the server may not enter, else 404") {
  CHECK(status_for_resolve_error(EACCES) == 403);
  CHECK(status_for_resolve_error(EPERM) == 403);
  CHECK(status_for_resolve_error(ENOENT) == 404);
  CHECK(status_for_resolve_error(ENOTDIR) == 404);
  CHECK(status_for_resolve_error(ELOOP) == 404);
  CHECK(status_for_resolve_error(ENAMETOOLONG) == 404);
}

TEST_CASE("a directory the server may not enter: 403 for what is in it and for its index") {
  TempRoot root;
  REQUIRE(::mkdir((root.dir + "/locked").c_str(), 0755) == 0);
  root.write("locked/a.txt", "locked away");
  root.write("locked/index.html", "locked index");
  REQUIRE(::mkdir((root.dir + "/open").c_str(), 0755) == 0);
  root.write("open/index.html", "open index");
  REQUIRE(::chmod((root.dir + "/locked").c_str(), 0) == 0);
  Site site(root.dir, {});
  // As root realpath() enters every directory: ask as nobody (seteuid is undone below).
  const bool as_root = ::geteuid() == 0;
  if (as_root) REQUIRE(::seteuid(65534) == 0);
  Response file = ask(site, "GET", "/locked/a.txt");
  Response index = ask(site, "GET", "/locked/");
  const int missing = ask(site, "GET", "/missing.txt").head.status;
  const int not_a_directory = ask(site, "GET", "/open/index.html/x").head.status;
  const int open_index = ask(site, "GET", "/open/").head.status;
  if (as_root) REQUIRE(::seteuid(0) == 0);
  REQUIRE(::chmod((root.dir + "/locked").c_str(), 0755) == 0);  // so that TempRoot can remove it
  CHECK(file.head.status == 403);
  CHECK(body_of(file) == "403 Forbidden\n");
  CHECK(index.head.status == 403);
  CHECK(body_of(index).find("locked index") == std::string::npos);
  CHECK(missing == 404);          // ENOENT
  CHECK(not_a_directory == 404);  // ENOTDIR
  CHECK(open_index == 200);
}

TEST_CASE("out of file descriptors: 503 with Retry-After, and one warning line per interval") {
  TempRoot root;
  root.write("a.txt", "a");
  root.write("b.txt", "b");
  std::vector<std::string> warnings;
  int counted = 0;
  SiteHooks hooks;
  hooks.warn = [&](const std::string& line) { warnings.push_back(line); };
  // Every 503 is counted for /stats, not only the ones that warned.
  hooks.out_of_descriptors = [&] { ++counted; };
  auto now = std::make_shared<std::chrono::steady_clock::time_point>();
  Site site(root.dir, hooks, [now] { return *now; });
  // The lowest free descriptor becomes the limit, so the next open() fails with EMFILE.
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  int lowest = ::dup(0);
  REQUIRE(lowest >= 0);
  ::close(lowest);
  rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(lowest);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  Response first = ask(site, "GET", "/a.txt");
  Response second = ask(site, "GET", "/b.txt");
  *now += kWarnEvery;
  Response third = ask(site, "GET", "/a.txt");
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
  CHECK(first.head.status == 503);
  CHECK(second.head.status == 503);
  CHECK(third.head.status == 503);
  CHECK(field(first, "Retry-After") == "1");
  CHECK(counted == 3);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("out of file descriptors") != std::string::npos);
  CHECK(warnings[1].find("so far: 3.") != std::string::npos);
  // With descriptors back, the same file is served.
  Response after = ask(site, "GET", "/a.txt");
  CHECK(after.head.status == 200);
  CHECK(body_of(after) == "a");
}

TEST_CASE("the Content-Type comes from the URL's name, not from a symlink's target") {
  TempRoot root;
  root.write("page", "<b>x</b>");
  REQUIRE(::symlink("page", (root.dir + "/page.html").c_str()) == 0);
  REQUIRE(::symlink("page.html", (root.dir + "/raw").c_str()) == 0);
  Site site(root.dir, {});
  for (int i = 0; i < 2; ++i) {  // loaded, then from the cache
    CHECK(ask(site, "GET", "/page.html").head.content_type == mime_type_for("x.html"));
    CHECK(ask(site, "GET", "/raw").head.content_type == "application/octet-stream");
  }
}

TEST_CASE("If-None-Match: * on an existing resource: 304 for GET and HEAD, 412 for POST") {
  TempRoot root;
  root.write("a.txt", "abc");
  Site site(root.dir, {});
  const std::vector<Header> any = {{"If-None-Match", "*"}};  // as the parser hands it over, OWS trimmed
  for (const char* method : {"GET", "HEAD"}) {
    Response r = ask(site, method, "/a.txt", any);
    CHECK(r.head.status == 304);
    CHECK_FALSE(r.body);
    CHECK(ask(site, method, "/bytes/10", any).head.status == 304);
  }
  CHECK(ask(site, "GET", "/missing", any).head.status == 404);
  CHECK(ask(site, "POST", "/echo", any).head.status == 412);
  // An entity-tag that is not the file's does not match: the request is served as usual.
  CHECK(ask(site, "GET", "/a.txt", {{"If-None-Match", "\"x\""}}).head.status == 200);
  // RFC 9110 §15.4.5: no content, and no Content-Length that would not be the 200's.
  ResponseHead head;
  head.status = 304;
  head.content_length = 0;
  auto text = render_head(head, {true, ConnectionHeader::None, false, 0, CloseCause::None}, "", 5);
  CHECK(text.find("304 Not Modified") != std::string::npos);
  CHECK(text.find("Content-Length") == std::string::npos);
  CHECK(text.find("Transfer-Encoding") == std::string::npos);
}

TEST_CASE("an encoded slash does not name a directory: /sub%2f is redirected like /sub") {
  TempRoot root;
  REQUIRE(::mkdir((root.dir + "/sub").c_str(), 0755) == 0);
  root.write("sub/index.html", "sub index");
  root.write("a.txt", "a");
  Site site(root.dir, {});
  Response served = ask(site, "GET", "/sub/");  // cached under "/sub/" first
  CHECK(served.head.status == 200);
  for (const char* target : {"/sub%2f", "/sub%2F"}) {
    Response r = ask(site, "GET", target);
    CHECK(r.head.status == 301);
    CHECK(field(r, "Location") == std::string(target) + "/");
  }
  Response through = ask(site, "GET", "/sub%2f/");
  CHECK(through.head.status == 200);
  CHECK(body_of(through) == "sub index");
  CHECK(ask(site, "GET", "/sub/%2e").head.status == 200);
  CHECK(ask(site, "GET", "/a.txt%2f").head.status == 404);
}

TEST_CASE("/bytes/N reads N after percent-decoding (RFC 3986 §2.3)") {
  Site site(std::nullopt, {});
  Response r = ask(site, "GET", "/bytes/%31%30");
  CHECK(r.head.status == 200);
  CHECK(body_of(r).size() == 10);
  CHECK(ask(site, "GET", "/bytes/%3").head.status == 400);
  CHECK(ask(site, "GET", "/bytes/1%00").head.status == 400);
}
