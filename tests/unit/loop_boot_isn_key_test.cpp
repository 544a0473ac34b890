// Tests for stack/loop/boot_isn_key.*: one key per boot, shared by every run, kept private, and a
// fresh per-process key when the file cannot be used.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "stack/loop/boot_isn_key.hpp"

using tcplab::loop::boot_isn_key;

namespace {

// A private scratch directory that holds the key directory; removed with everything in it.
struct ScratchDirectory {
  std::string path;
  ScratchDirectory() {
    char name[] = "/tmp/tcplab-boot-key-test.XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~ScratchDirectory() { std::system(("rm -rf '" + path + "'").c_str()); }
};

mode_t mode_of(const std::string& path) {
  struct stat st{};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("boot isn key: the first run creates a private file, later runs read the same key") {
  ScratchDirectory scratch;
  const std::string dir = scratch.path + "/tcplab";
  std::string error;
  auto first = boot_isn_key(dir, error);
  REQUIRE(first.has_value());
  CHECK(first->shared);
  CHECK(first->why_fresh.empty());
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir + "/isn-key") == 0600);
  auto second = boot_isn_key(dir, error);
  REQUIRE(second.has_value());
  CHECK(second->shared);
  CHECK(second->bytes == first->bytes);
  // No temporary file is left beside the key.
  CHECK(std::system(("test \"$(ls -A '" + dir + "')\" = isn-key").c_str()) == 0);
}

TEST_CASE("boot isn key: a key others could read is not used; the run gets a fresh key of its own") {
  ScratchDirectory scratch;
  const std::string dir = scratch.path + "/tcplab";
  std::string error;
  auto first = boot_isn_key(dir, error);
  REQUIRE(first.has_value());
  REQUIRE(::chmod((dir + "/isn-key").c_str(), 0644) == 0);
  auto second = boot_isn_key(dir, error);
  REQUIRE(second.has_value());
  CHECK_FALSE(second->shared);
  CHECK(second->why_fresh.find("only its owner") != std::string::npos);
  CHECK(second->bytes != first->bytes);
}

TEST_CASE("boot isn key: a directory we cannot use means a fresh per-process key") {
  ScratchDirectory scratch;
  // A regular file where the directory should be.
  const std::string not_a_directory = scratch.path + "/tcplab";
  int fd = ::open(not_a_directory.c_str(), O_WRONLY | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::string error;
  auto a = boot_isn_key(not_a_directory, error);
  auto b = boot_isn_key(not_a_directory, error);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK_FALSE(a->shared);
  CHECK_FALSE(a->why_fresh.empty());
  CHECK(a->bytes != b->bytes);
}

TEST_CASE("boot isn key: a FIFO in the key's place is refused at once, not waited on") {
  ScratchDirectory scratch;
  const std::string dir = scratch.path + "/tcplab";
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  REQUIRE(::mkfifo((dir + "/isn-key").c_str(), 0600) == 0);
  std::string error;
  auto key = boot_isn_key(dir, error);  // opening a FIFO without a writer used to block here
  REQUIRE(key.has_value());
  CHECK_FALSE(key->shared);
  CHECK_FALSE(key->why_fresh.empty());
}
