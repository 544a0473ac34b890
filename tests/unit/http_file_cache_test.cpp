// Tests for http/file_cache: small --root files are served from memory; every change on disk
// (content, size, replacement, removal) is served once the revalidation interval has passed,
// and not a system call before; large files are not cached.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "http/file_cache.hpp"
#include "http/site.hpp"

using namespace tcplab::http;

namespace {

struct TempRoot {
  std::string dir;
  TempRoot() {
    char tmpl[] = "/tmp/tcplab-cache-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempRoot() { std::system(("rm -rf '" + dir + "'").c_str()); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir + "/" + name) << text;
  }
  // Moves the file's modification time, as an editor saving the same length would.
  void touch(const std::string& name, long seconds) const {
    timespec times[2] = {{seconds, 0}, {seconds, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (dir + "/" + name).c_str(), times, 0) == 0);
  }
};

std::string get(Site& site, const std::string& target, int* status = nullptr) {
  Request r;
  r.method = "GET";
  r.target = target;
  Response resp = site.respond(r);
  if (status) *status = resp.head.status;
  std::string out;
  char buf[8192];
  while (resp.body) {
    size_t n = resp.body->read(std::span<char>(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

// A clock the test moves by hand.
struct SteppedClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>();
  FileCache::Clock fn() const {
    return [now = now] { return *now; };
  }
  void pass(std::chrono::milliseconds d) const { *now += d; }
};

}  // namespace

TEST_CASE("a cached file is served again, and every change on disk is seen after the interval") {
  TempRoot root;
  SteppedClock clock;
  root.write("a.txt", "first");
  Site site(root.dir, {}, clock.fn());
  CHECK(get(site, "/a.txt") == "first");
  CHECK(get(site, "/a.txt") == "first");

  root.write("a.txt", "second, longer");  // another size
  clock.pass(kFileRevalidateAfter);
  CHECK(get(site, "/a.txt") == "second, longer");

  root.write("a.txt", "third!, longer");  // the same size: only the time tells
  root.touch("a.txt", 1000000000);
  clock.pass(kFileRevalidateAfter);
  CHECK(get(site, "/a.txt") == "third!, longer");

  // Replaced by another file (a new inode), as `mv new a.txt` does.
  root.write("b.txt", "replaced");
  REQUIRE(::rename((root.dir + "/b.txt").c_str(), (root.dir + "/a.txt").c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  CHECK(get(site, "/a.txt") == "replaced");

  REQUIRE(::unlink((root.dir + "/a.txt").c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  int status = 0;
  get(site, "/a.txt", &status);
  CHECK(status == 404);
}

TEST_CASE("within the revalidation interval the cached copy is served without asking the disk") {
  TempRoot root;
  SteppedClock clock;
  root.write("a.txt", "old");
  Site site(root.dir, {}, clock.fn());
  CHECK(get(site, "/a.txt") == "old");
  REQUIRE(::unlink((root.dir + "/a.txt").c_str()) == 0);
  // Still inside the interval: no stat(), so the removal is not seen yet. This is the price
  // of one system call per second instead of one per request.
  clock.pass(kFileRevalidateAfter - std::chrono::milliseconds(1));
  int status = 0;
  CHECK(get(site, "/a.txt", &status) == "old");
  CHECK(status == 200);
  clock.pass(std::chrono::milliseconds(1));
  get(site, "/a.txt", &status);
  CHECK(status == 404);
}

TEST_CASE("a cached file keeps the content type of its name") {
  TempRoot root;
  root.write("page.html", "<p>hi</p>");
  Site site(root.dir, {});
  for (int i = 0; i < 2; ++i) {  // loaded, then from the cache
    Request r;
    r.method = "GET";
    r.target = "/page.html";
    Response resp = site.respond(r);
    CHECK(resp.head.status == 200);
    CHECK(resp.head.content_type == mime_type_for("page.html"));
  }
}

TEST_CASE("the cache keeps small files only and serves large ones from disk") {
  TempRoot root;
  const std::string small(kMaxCachedFileBytes, 's');
  const std::string large(kMaxCachedFileBytes + 1, 'l');
  root.write("small", small);
  root.write("large", large);
  FileCache cache;
  auto s = cache.load("/small", root.dir + "/small", "text/plain");
  REQUIRE(s);
  CHECK(*s->bytes == small);
  CHECK_FALSE(cache.load("/large", root.dir + "/large", "text/plain"));
  CHECK(cache.entries() == 1);
  REQUIRE(cache.lookup("/small"));
  CHECK_FALSE(cache.lookup("/large"));

  Site site(root.dir, {});
  CHECK(get(site, "/large") == large);
  CHECK(get(site, "/small") == small);
}

TEST_CASE("refused paths never reach the cache") {
  TempRoot root;
  root.write("a.txt", "x");
  Site site(root.dir, {});
  int status = 0;
  get(site, "/../a.txt", &status);
  CHECK(status == 400);
  get(site, "/missing", &status);
  CHECK(status == 404);
  CHECK(get(site, "/a.txt", &status) == "x");
  CHECK(status == 200);
}
