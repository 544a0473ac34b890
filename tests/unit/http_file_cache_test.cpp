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

#include "http/conditional.hpp"
#include "http/file_cache.hpp"
#include "http/open_file.hpp"
#include "http/site.hpp"
#include "tests/unit/allocation_counter.hpp"
#include "tests/unit/http_site_fixture.hpp"

using namespace tcplab::http;
using namespace tcplab::testing;

namespace {

std::string get(Site& site, const std::string& target, int* status = nullptr) {
  Response resp = ask(site, "GET", target);
  if (status) *status = resp.head.status;
  return body_of(resp);
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
  root.set_mtime("a.txt", 1000000000);
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

TEST_CASE("every spelling of one URL shares one cache entry") {
  TempRoot root;
  root.write("a.txt", "same");
  Site site(root.dir, {});
  for (std::string target : {"/a.txt", "/./a.txt", "//a.txt", "/%61.txt", "/%2e/a.txt", "/././/a.txt"}) {
    int status = 0;
    CHECK(get(site, target, &status) == "same");
    CHECK(status == 200);
  }
  CHECK(site.file_cache().entries() == 1);
}

TEST_CASE("the cache's budget counts the keys, so empty files cannot grow it without bound") {
  TempRoot root;
  root.write("empty", "");
  FileCache cache;
  OpenedFile f = open_regular_file(root.dir + "/empty");
  REQUIRE(f.failure == OpenFailure::None);
  const std::string long_key = "/" + std::string(8000, 'k');
  REQUIRE(cache.store(long_key, root.dir + "/empty", "text/plain", f.fd, f.st, Validators{}));
  ::close(f.fd);
  CHECK(cache.bytes_used() >= long_key.size());
  CHECK(cache.bytes_used() <= kFileCacheBudgetBytes);
}

// Revalidation resolves the URL again: what the name points at now, not the old target.
TEST_CASE("revalidation sees a symlink re-pointed, removed, or pointed outside the root") {
  TempRoot root;
  SteppedClock clock;
  root.write("a.txt", "target a");
  root.write("b.txt", "target b");
  std::ofstream(root.dir + ".outside") << "outside";
  const std::string link = root.dir + "/link.txt";
  REQUIRE(::symlink("a.txt", link.c_str()) == 0);
  Site site(root.dir, {}, clock.fn());
  CHECK(get(site, "/link.txt") == "target a");

  REQUIRE(::unlink(link.c_str()) == 0);
  REQUIRE(::symlink("b.txt", link.c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  CHECK(get(site, "/link.txt") == "target b");

  REQUIRE(::unlink(link.c_str()) == 0);
  REQUIRE(::symlink((root.dir + ".outside").c_str(), link.c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  int status = 0;
  get(site, "/link.txt", &status);
  CHECK(status == 404);

  REQUIRE(::unlink(link.c_str()) == 0);
  REQUIRE(::symlink("a.txt", link.c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  CHECK(get(site, "/link.txt", &status) == "target a");
  REQUIRE(::unlink(link.c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  get(site, "/link.txt", &status);
  CHECK(status == 404);
  ::unlink((root.dir + ".outside").c_str());
}

TEST_CASE("revalidation sees a directory symlink removed") {
  TempRoot root;
  SteppedClock clock;
  REQUIRE(::mkdir((root.dir + "/d").c_str(), 0755) == 0);
  root.write("d/index.html", "dir index");
  REQUIRE(::symlink("d", (root.dir + "/dl").c_str()) == 0);
  Site site(root.dir, {}, clock.fn());
  CHECK(get(site, "/dl/") == "dir index");
  REQUIRE(::unlink((root.dir + "/dl").c_str()) == 0);
  clock.pass(kFileRevalidateAfter);
  int status = 0;
  get(site, "/dl/", &status);
  CHECK(status == 404);
}

// Permissions: as root every open succeeds, so the check runs with the effective uid of
// nobody (seteuid is undone at the end; root keeps its saved uid).
TEST_CASE("revalidation sees a cached file made unreadable: 403") {
  TempRoot root;
  SteppedClock clock;
  REQUIRE(::chmod(root.dir.c_str(), 0755) == 0);
  root.write("sol.txt", "answer key");
  REQUIRE(::chmod((root.dir + "/sol.txt").c_str(), 0644) == 0);
  const bool as_root = ::geteuid() == 0;
  if (as_root) REQUIRE(::seteuid(65534) == 0);
  Site site(root.dir, {}, clock.fn());
  int status = 0;
  CHECK(get(site, "/sol.txt", &status) == "answer key");
  if (as_root) REQUIRE(::seteuid(0) == 0);
  REQUIRE(::chmod((root.dir + "/sol.txt").c_str(), 0) == 0);
  if (as_root) REQUIRE(::seteuid(65534) == 0);
  clock.pass(kFileRevalidateAfter);
  const std::string body = get(site, "/sol.txt", &status);
  if (as_root) REQUIRE(::seteuid(0) == 0);
  CHECK(status == 403);
  CHECK(body.find("answer key") == std::string::npos);
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
  auto store = [&](const std::string& name) {
    OpenedFile f = open_regular_file(root.dir + "/" + name);
    REQUIRE(f.failure == OpenFailure::None);
    auto entry = cache.store("/" + name, root.dir + "/" + name, "text/plain", f.fd, f.st, Validators{});
    ::close(f.fd);
    return entry;
  };
  auto s = store("small");
  REQUIRE(s);
  CHECK(*s->bytes == small);
  CHECK_FALSE(store("large"));
  CHECK(cache.entries() == 1);
  REQUIRE(cache.lookup("/small"));
  CHECK_FALSE(cache.lookup("/large"));

  Site site(root.dir, {});
  CHECK(get(site, "/large") == large);
  CHECK(get(site, "/small") == small);
}

TEST_CASE("checking an unchanged file again keeps its validators and allocates nothing") {
  TempRoot root;
  root.write("a.txt", "abc");
  FileCache cache;
  OpenedFile f = open_regular_file(root.dir + "/a.txt");
  REQUIRE(f.failure == OpenFailure::None);
  const std::string path = root.dir + "/a.txt";
  const Validators as_of_now = validators_for(f.st, f.st.st_mtim.tv_sec + 10);
  const CachedFile* first = cache.store("/a.txt", path, "text/plain", f.fd, f.st, as_of_now);
  REQUIRE(first);
  const std::shared_ptr<const Validators> kept = first->validators;
  REQUIRE(kept);
  CHECK(*kept == as_of_now);
  const CachedFile* again = nullptr;
  [[maybe_unused]] size_t allocated = 0;  // counted only without AddressSanitizer
  {
    tcplab::testing::AllocationScope scope;
    again = cache.store("/a.txt", path, "text/plain", f.fd, f.st, as_of_now);
    allocated = scope.made();
  }
  REQUIRE(again);
  CHECK(again->validators == kept);
#if !TCPLAB_TEST_ASAN
  CHECK(allocated == 0);
#endif
  // Validators that differ replace the entry's;
  // a response in flight keeps the ones it holds.
  Validators later = as_of_now;
  later.etag = "\"other\"";
  const CachedFile* changed = cache.store("/a.txt", path, "text/plain", f.fd, f.st, later);
  ::close(f.fd);
  REQUIRE(changed);
  CHECK(*changed->validators == later);
  CHECK(*kept == as_of_now);
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
