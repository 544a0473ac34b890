// Writing the status report file atomically (write a sibling, then rename(2)).
#include "tools/tcplab/status_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tcplab::cli {

namespace {

// A new sibling of `path` to write a report into: a fresh, unpredictable name made with
// O_EXCL (mkstemp), so a link planted under a guessable name (serve runs as root, perhaps
// in a directory others can write to) is never followed. Readable by all, like the report.
std::FILE* open_sibling(const std::string& path, std::string& name) {
  name = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return nullptr;
  ::fchmod(fd, 0644);
  std::FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    const int saved = errno;
    ::close(fd);
    ::unlink(name.c_str());
    errno = saved;
  }
  return f;
}

}  // namespace

std::optional<std::string> status_file_problem(const std::string& path, const std::string& source) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    // A new file: its directory must be there, or every report would fail later.
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat d {};
    if (::stat(dir.c_str(), &d) != 0 || !S_ISDIR(d.st_mode))
      return source + " " + path + ": the directory " + dir + " does not exist";
    return std::nullopt;
  }
  if (S_ISREG(st.st_mode)) return std::nullopt;
  const char* what = S_ISLNK(st.st_mode)   ? "a symbolic link"
                     : S_ISDIR(st.st_mode) ? "a directory"
                     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                   : "not a regular file";
  return source + " " + path + " is " + what +
         ": each report replaces the file whole, so name a regular file or a new one";
}

std::optional<std::string> status_file_refused_at_start(const std::string& path, const std::string& source) {
  if (auto problem = status_file_problem(path, source)) return problem;
  // Each report is written beside the file, then renamed over it: what must be writable is the
  // directory. Trying it now says so at start, not in a warning when the run is over.
  std::string temporary;
  std::FILE* f = open_sibling(path, temporary);
  if (f == nullptr) return source + " " + path + ": cannot write there: " + std::strerror(errno);
  std::fclose(f);
  std::remove(temporary.c_str());
  return std::nullopt;
}

bool write_status_file(const std::string& path, const std::string& text, std::string& error) {
  if (auto problem = status_file_problem(path)) {
    error = *problem;
    return false;
  }
  std::string temporary;
  std::FILE* f = open_sibling(path, temporary);
  if (f == nullptr) {
    error = "cannot write the status file " + path + ": " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    error = "cannot write the status file " + path + ": " + std::strerror(errno);
    std::remove(temporary.c_str());
    return false;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot replace the status file " + path + ": " + std::strerror(errno);
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace tcplab::cli
