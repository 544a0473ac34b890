// Non-blocking open of a regular file, with the failure sorted by cause.
#include "http/open_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace tcplab::http {

namespace {
OpenFailure failure_for(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case ENXIO:  // a device without its driver, or a socket
    case ENODEV:
      return OpenFailure::NotFound;
    case EACCES:
    case EPERM:
      return OpenFailure::Forbidden;
    case EMFILE:
    case ENFILE:
      return OpenFailure::OutOfDescriptors;
    default:
      return OpenFailure::Other;
  }
}
}  // namespace

OpenedFile open_regular_file(const std::string& path) {
  OpenedFile f;
  // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer, and is refused below.
  // O_NOCTTY: a terminal swapped in never becomes our controlling terminal.
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    f.failure = failure_for(errno);
    return f;
  }
  if (::fstat(fd, &f.st) != 0 || !S_ISREG(f.st.st_mode)) {
    ::close(fd);
    f.failure = OpenFailure::NotFound;
    return f;
  }
  // O_NONBLOCK stays: reads of a regular file never wait on it, so clearing it would cost two
  // system calls per open for nothing.
  f.fd = fd;
  return f;
}

int status_for(OpenFailure failure) {
  switch (failure) {
    case OpenFailure::None:
      return 200;
    case OpenFailure::NotFound:
      return 404;
    case OpenFailure::Forbidden:
      return 403;
    case OpenFailure::OutOfDescriptors:
      return 503;
    case OpenFailure::Other:
      break;
  }
  return 500;
}

}  // namespace tcplab::http
