// What the tests of the site and its files share: a directory to serve that is removed
// afterwards, a request in one call, and the parts of a response a test looks at.
#pragma once
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "http/site.hpp"

namespace tcplab::testing {

struct TempRoot {
  std::string dir;
  TempRoot() {
    char tmpl[] = "/tmp/tcplab-site-XXXXXX";
    dir = ::mkdtemp(tmpl);
    ::chmod(dir.c_str(), 0755);
  }
  ~TempRoot() { std::system(("rm -rf '" + dir + "'").c_str()); }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir + "/" + name) << text;
  }
  // Sets the file's modification time, as an editor saving or `touch -d` would.
  void set_mtime(const std::string& name, std::time_t seconds) const {
    timespec times[2] = {{seconds, 0}, {seconds, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (dir + "/" + name).c_str(), times, 0) == 0);
  }
};

inline http::Response ask(http::Site& site, const std::string& method, const std::string& target,
                          std::vector<http::Header> headers = {}) {
  http::Request r;
  r.method = method;
  r.target = target;
  r.headers = std::move(headers);
  return site.respond(r);
}

// The first extra field called `name` (ETag, Content-Range, ...), or empty.
inline std::string field(const http::Response& r, const std::string& name) {
  return std::string(r.head.field(name));
}

// The whole body, read `chunk` bytes at a time (small chunks read a body in many pieces).
inline std::string body_of(http::Response& r, size_t chunk = 8192) {
  std::string out;
  std::vector<char> buf(chunk);
  while (r.body) {
    size_t n = r.body->read(std::span<char>(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

}  // namespace tcplab::testing
