#include "tools/tcplab/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tcplab::cli {

bool read_input_file(const std::string& path, std::string& out, std::string& error) {
  // "-" is standard input, as for most Unix tools: `tshark -w - | tcplab ladder -`.
  const bool from_stdin = path == "-";
  const int fd = from_stdin ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read " + input_name(path) + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = "cannot read " + input_name(path) + ": it is a directory (give one capture or trace file)";
    return false;
  }
  out.clear();
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      out.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      error = "cannot read " + input_name(path) + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

std::string input_name(const std::string& path) { return path == "-" ? "standard input" : path; }

}  // namespace tcplab::cli
